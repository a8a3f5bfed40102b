"""The console's record across a restart: the history continues, nothing is reported twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from asrtui.errors import ServerError
from asrtui.events import API_ERROR_BEGAN, API_ERROR_ENDED, SESSION_STARTED
from asrtui.journal import Journal, journal_dir, read_journal
from asrtui.models import Task
from asrtui.record import Recorder

T0 = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def _tasks(*ids: str) -> list[Task]:
    return [Task(task_id=i, tag=f"tag-{i}", mode="live", language="cn") for i in ids]


def test_a_restarted_console_continues_its_history(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "p.jsonl"
    first = Recorder(Journal(path), clock=clock)
    assert first.start().marker is not None
    first.answered(_tasks("asr-a", "asr-b"))
    clock.tick(5)
    first.failed(ServerError("ServiceUnavailable", "down"))
    clock.tick(5)
    first.answered(_tasks("asr-a", "asr-b"))
    clock.tick(5)
    first.answered(_tasks("asr-a"))
    first.close()  # then the console is killed

    clock.tick(60)
    second = Recorder(Journal(path), clock=clock)
    reloaded = second.start()
    kinds = [e.kind for e in reloaded.events]
    assert kinds == [
        SESSION_STARTED,
        "task_appeared",
        "task_appeared",
        API_ERROR_BEGAN,
        API_ERROR_ENDED,
        "task_ended",
    ]
    assert reloaded.running == {"asr-a"}
    assert reloaded.marker is not None
    assert reloaded.marker.detail == {"restarted": True}
    assert "restarted here" in reloaded.marker.message
    # The first answer after the restart: asr-a is not new, asr-c is.
    events = second.answered(_tasks("asr-a", "asr-c"))
    assert [(e.kind, e.task_id) for e in events] == [("task_appeared", "asr-c")]
    second.close()
    assert read_journal(path).problems == []


def test_a_task_that_ended_while_no_console_ran_is_reported_at_the_first_answer(
    tmp_path: Path,
) -> None:
    clock = Clock()
    path = tmp_path / "p.jsonl"
    first = Recorder(Journal(path), clock=clock)
    first.start()
    first.answered(_tasks("asr-a", "asr-b"))
    first.close()
    clock.tick(600)
    second = Recorder(Journal(path), clock=clock)
    second.start()
    events = second.answered(_tasks("asr-b"))
    assert [(e.kind, e.task_id) for e in events] == [("task_ended", "asr-a")]
    assert events[0].detail == {"while_away": True}
    # From then on, plain diffs.
    assert second.answered(_tasks("asr-b")) == []


def test_old_events_are_not_reloaded(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "p.jsonl"
    first = Recorder(Journal(path), clock=clock)
    first.start()
    first.answered(_tasks("asr-a"))
    first.close()
    clock.tick(3 * 86400)
    reloaded = Recorder(Journal(path), clock=clock).start(span=timedelta(hours=24))
    assert reloaded.events == []
    assert reloaded.marker is not None
    assert reloaded.marker.detail == {"restarted": False}


def test_the_demo_records_nothing() -> None:
    recorder = Recorder(None)
    reloaded = recorder.start()
    recorder.answered(_tasks("asr-a"))
    recorder.acted("stop", task_id="asr-a")
    assert reloaded.events == []
    assert not journal_dir().exists()


def test_a_journal_failure_is_told_once(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    recorder = Recorder(Journal(blocker / "p.jsonl"))
    recorder.start()
    recorder.flush()
    first = recorder.journal_failure
    assert first is not None
    assert "Cannot write the journal" in first
    recorder.answered(_tasks("asr-a"))
    recorder.flush()
    assert recorder.journal_failure is None
    recorder.close()


def test_actions_are_journaled(tmp_path: Path) -> None:
    recorder = Recorder(Journal(tmp_path / "p.jsonl"))
    # Told before the session begins (the console reads the journal meanwhile): kept, then
    # written in order once it has begun.
    recorder.acted("export", note="json, 3 tasks")
    recorder.start()
    recorder.acted("stop", task_id="asr-a", ok=False, note="ConfigNotFound")
    recorder.close()
    events = [e for e in read_journal(tmp_path / "p.jsonl").events if e.kind == "action"]
    assert [(e.detail["action"], e.detail["ok"]) for e in events] == [
        ("export", True),
        ("stop", False),
    ]
