"""The console's record made off its loop writes the journal `Recorder.answered` writes.

`Recorder.answered_later` leaves a full comparison of two answers (the first answer's
"appeared" events, tasks coming and going, the first answer after a restart) to the journal's
thread, made one event at a time. Random sequences of answers, failures and restarts go through
it and through `answered` side by side; the two journals must match line for line.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from asrtui.errors import ServerError
from asrtui.events import Event, diff_tasks
from asrtui.hooks import HookRunner
from asrtui.journal import Journal
from asrtui.models import Task
from asrtui.record import Recorder, _full_events

T0 = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)
IDS = ("asr-a", "asr-b", "asr-c", "asr-d", "asr-e")


def _variants(task_id: str) -> list[Task]:
    base = Task(
        task_id,
        tag=f"tag {task_id}",
        mode="live",
        language="cn",
        stream_url=f"rtmp://h/app/{task_id}?auth_key=1-0-0-{'a' * 32}",
        created_at=T0 - timedelta(minutes=5),
    )
    return [base, dataclasses.replace(base, tag="changed"), dataclasses.replace(base, status=2)]


POOL = {task_id: _variants(task_id) for task_id in IDS}

_answer = st.lists(st.tuples(st.sampled_from(IDS), st.integers(0, 2)), max_size=7).map(
    lambda picks: tuple(POOL[task_id][variant] for task_id, variant in picks)
)
_step = st.one_of(_answer, st.just("same"), st.just("fail"))


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def _journal_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


@settings(max_examples=150, deadline=None)
@given(earlier=st.one_of(st.none(), _answer), steps=st.lists(_step, min_size=1, max_size=8))
def test_answered_later_writes_what_answered_writes(
    earlier: tuple[Task, ...] | None, steps: list[tuple[Task, ...] | str]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        clock = Clock()
        paths = [Path(folder) / "now.jsonl", Path(folder) / "later.jsonl"]
        if earlier is not None:  # a console ran before: the next first answer is a restart's
            before = Recorder(Journal(paths[0]), clock=clock)
            before.start()
            before.answered(earlier, clock.now)
            before.close()
            paths[1].write_bytes(paths[0].read_bytes())
        clock.now += timedelta(minutes=1)
        now, later = (Recorder(Journal(path), clock=clock) for path in paths)
        for recorder in (now, later):
            recorder.start()
        answer: tuple[Task, ...] = ()
        for step in steps:
            clock.now += timedelta(seconds=5)
            if step == "fail":
                for recorder in (now, later):
                    recorder.failed(ServerError("ServiceUnavailable", "down"), clock.now)
                continue
            if step != "same":
                answer = step  # type: ignore[assignment]
            now.answered(answer, clock.now)
            later.answered_later(answer, clock.now)
        for recorder in (now, later):
            recorder.close()
        assert _journal_lines(paths[1]) == _journal_lines(paths[0])


def test_the_first_answer_is_journaled_whole_and_in_order(tmp_path: Path) -> None:
    recorder = Recorder(Journal(tmp_path / "j.jsonl"), clock=lambda: T0)
    recorder.start()
    many = tuple(Task(f"asr-{n:05d}", tag=f"t{n}") for n in reversed(range(3000)))
    recorder.answered_later(many, T0)
    recorder.close()
    lines = _journal_lines(tmp_path / "j.jsonl")
    assert len(lines) == 1 + 3000  # the session's mark, then one event a task
    ids = [json.loads(line).get("task") for line in lines[1:]]
    assert ids == sorted(task.task_id for task in many)


def test_without_a_journal_or_hooks_nothing_is_made_but_the_state_moves() -> None:
    recorder = Recorder(None, clock=lambda: T0)
    recorder.begin(recorder.load())
    first = (POOL["asr-a"][0], POOL["asr-b"][0])
    recorder.answered_later(first, T0)
    # The next answer is compared with the one taken quietly: one change, nothing else.
    events = recorder.answered((POOL["asr-a"][1], POOL["asr-b"][0]), T0)
    assert [(e.kind, e.task_id) for e in events] == [("task_changed", "asr-a")]


async def test_with_hooks_the_events_are_offered_on_the_loop(tmp_path: Path) -> None:
    offered: list[Event] = []

    class Hook(HookRunner):
        def __init__(self) -> None:  # only `offer` is used here
            pass

        def offer(self, event: Event) -> None:
            offered.append(event)

    recorder = Recorder(Journal(tmp_path / "j.jsonl"), [Hook()], clock=lambda: T0)
    recorder.start()
    recorder.answered_later((POOL["asr-a"][0],), T0)
    assert [e.kind for e in offered] == ["session_started", "task_appeared"]
    recorder.close()


def test_the_journal_writes_them_once_released_and_keeps_the_order(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    recorder = Recorder(Journal(path), clock=lambda: T0)
    recorder.start()
    recorder.answered_later((POOL["asr-b"][0], POOL["asr-a"][0]), T0)
    recorder.acted("stop", task_id="asr-a")
    assert recorder._writer is not None
    recorder._writer.flush()  # what was handed over is written: only the session's mark
    assert [json.loads(line)["kind"] for line in _journal_lines(path)] == ["session_started"]
    recorder.release()
    recorder.flush()
    assert [
        (json.loads(line)["kind"], json.loads(line).get("task")) for line in _journal_lines(path)
    ] == [
        ("session_started", None),
        ("task_appeared", "asr-a"),
        ("task_appeared", "asr-b"),
        ("action", "asr-a"),
    ]
    recorder.close()


@given(last=st.one_of(st.none(), _answer), answer=_answer)
def test_a_full_comparison_made_later_is_diff_tasks(
    last: tuple[Task, ...] | None, answer: tuple[Task, ...]
) -> None:
    before = None if last is None else {task.task_id: task for task in last}
    assert list(_full_events(last, answer, T0)) == diff_tasks(before, answer, T0)
