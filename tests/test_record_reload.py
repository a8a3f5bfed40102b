"""The console's reload keeps the journal's last events without gathering them all.

`asrtui.record.recent_of` must keep exactly what gathering every event, sorting by time and
keeping the last ones kept (events, problems, the tasks left running), for any journal: times
out of order, ties, rotated files, damaged lines. And the console reads the journal only once
its first task list is in (or has failed), so that the list is not slowed by it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asrtui.events import SESSION_STARTED, STATUS_CHANGED, TASK_APPEARED, TASK_ENDED, Event
from asrtui.journal import Journal, Problem, read_journal
from asrtui.record import Recorder, Reloaded, recent_of, running_at_end
from asrtui.ui import broadcast
from tests.support.clock import FakeClock
from tests.support.fakes import FakeTaskSource, running_console

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
TASKS = ["asr-a", "asr-b", "asr-c", "asr-d"]


def _gathered(found: list[Event | Problem], most: int) -> Reloaded:
    """What the reload kept before: every event gathered, sorted by time, the last kept."""
    events = sorted((item for item in found if isinstance(item, Event)), key=lambda e: e.time)
    reloaded = Reloaded()
    reloaded.events = events[-most:] if most > 0 else events
    reloaded.problems = [item for item in found if isinstance(item, Problem)]
    reloaded.running = running_at_end(events)
    return reloaded


def _event(seconds: int, kind: str, task: str, to: str = "") -> Event:
    detail = {"to": to} if kind == STATUS_CHANGED else {}
    return Event(T0 + timedelta(seconds=seconds), kind, task, detail, f"{kind} {task} {to}")


_events = st.builds(
    _event,
    st.integers(min_value=0, max_value=20),  # few values: ties and disorder are common
    st.sampled_from([TASK_APPEARED, TASK_ENDED, STATUS_CHANGED, SESSION_STARTED]),
    st.sampled_from(TASKS),
    st.sampled_from(["running", "stopped", "failed"]),
)
_problems = st.builds(
    Problem, st.just(Path("studio.jsonl")), st.integers(1, 99), st.just("damaged")
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_events, _problems), max_size=40), st.integers(-1, 12))
def test_recent_of_keeps_what_gathering_and_sorting_kept(
    found: list[Event | Problem], most: int
) -> None:
    kept = recent_of(iter(found), most)
    expected = _gathered(found, most)
    assert kept.events == expected.events
    assert kept.problems == expected.problems
    assert kept.running == expected.running


@pytest.mark.parametrize("most", [0, 1, 3, 50, 1000])
def test_a_recorder_reloads_a_rotated_journal_as_gathering_did(tmp_path: Path, most: int) -> None:
    path = tmp_path / "studio.jsonl"
    journal = Journal(path, max_bytes=600, backups=5)
    written: list[Event] = []
    for index in range(60):
        task = TASKS[index % len(TASKS)]
        kind = [TASK_APPEARED, STATUS_CHANGED, TASK_ENDED][index % 3]
        # A clock that steps back now and then: the file order is not the time order.
        event = _event(index - 7 * (index % 5 == 0), kind, task, "stopped")
        journal.append(event)
        written.append(event)
    journal.close()
    with path.open("ab") as file:
        file.write(b"{half a line\n")
    assert len(list(tmp_path.iterdir())) > 2  # it rotated

    clock = FakeClock(T0 + timedelta(hours=1))
    recorder = Recorder(Journal(path), clock=clock.now)
    reloaded = recorder.load(most=most)
    recorder.close()
    found = read_journal(path, since=clock.now() - timedelta(hours=24))
    assert found.events  # the rotated files that are left are read
    assert reloaded.events == (found.events[-most:] if most > 0 else found.events)
    assert reloaded.running == running_at_end(found.events)
    assert [str(p) for p in reloaded.problems] == [str(p) for p in found.problems]
    assert reloaded.problems  # the half line


async def test_the_journal_is_read_once_the_first_task_list_is_in(tmp_path: Path) -> None:
    path = tmp_path / "studio.jsonl"
    old = Journal(path)
    old.append(_event(0, TASK_APPEARED, "asr-from-last-session"))
    old.close()
    source = FakeTaskSource.with_tasks(3)
    source.gate = asyncio.Event()  # the first answer is held in flight
    clock = FakeClock(T0 + timedelta(hours=1))
    recorder = Recorder(Journal(path), clock=clock.now)
    read: list[int] = []
    load = recorder.load

    def counted_load(**kwargs: object) -> Reloaded:
        read.append(1)
        return load(**kwargs)  # type: ignore[arg-type]

    recorder.load = counted_load  # type: ignore[method-assign]
    async with running_console(source, clock=clock, recorder=recorder, settled=False) as c:
        for _ in range(20):
            await asyncio.sleep(0.01)
        assert read == []  # not while the task list is on its way
        source.gate.set()
        await c.press()
        for _ in range(200):
            if read:
                break
            await asyncio.sleep(0.01)
        assert len(read) == 1
        await c.press()
        log = "\n".join(line.plain for line in c.screen.event_log.entries)
        assert "asr-from-last-session" in log
    recorder.close()


async def test_without_an_answer_the_journal_is_read_after_the_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(broadcast, "FIRST_ANSWER_WAIT", 0.05)
    path = tmp_path / "studio.jsonl"
    old = Journal(path)
    old.append(_event(0, TASK_APPEARED, "asr-from-last-session"))
    old.close()
    source = FakeTaskSource.with_tasks(3)
    source.gate = asyncio.Event()  # never answered
    clock = FakeClock(T0 + timedelta(hours=1))
    recorder = Recorder(Journal(path), clock=clock.now)
    async with running_console(source, clock=clock, recorder=recorder, settled=False) as c:
        for _ in range(300):
            log = "\n".join(line.plain for line in c.screen.event_log.entries)
            if "asr-from-last-session" in log:
                break
            await asyncio.sleep(0.01)
        assert "asr-from-last-session" in log
        source.gate.set()
    recorder.close()
