"""``asrtui tasks --watch`` as a script reads it: a real process against the emulator on a socket.

Every line of output is parsed on its own (NDJSON, CSV, change events); the watch is ended
with SIGINT as Ctrl-C ends it, and exits 130.
"""

from __future__ import annotations

import csv
import io
import json
import signal
import subprocess
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from asrtui.emulator import EmulatorApp, build_emulator
from asrtui.emulator.faults import FaultPlan
from asrtui.emulator.server import running_server
from asrtui.events import TASK_APPEARED, TASK_ENDED, diff_tasks
from asrtui.models import Task
from asrtui.output import CSV_COLUMNS
from tests.support.cli import ROOT, asrtui_command, demo_env

#: Seconds to wait for a line before the test fails (the machine is loaded).
LINE_TIMEOUT = 60


@pytest.fixture
def served() -> Iterator[tuple[EmulatorApp, str]]:
    pytest.importorskip("uvicorn")
    app = build_emulator(seed=5, tasks=3)
    with running_server(app) as url:
        yield app, url


class Watcher:
    """A ``tasks --watch`` process whose stdout is read one line at a time."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            asrtui_command("tasks", *args),
            cwd=ROOT,
            env=demo_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def line(self) -> str:
        assert self.proc.stdout is not None
        # readline blocks until a whole line arrives; a dead process gives "".
        text = self.proc.stdout.readline()
        assert text.endswith("\n"), f"the watch ended: {self.stop()}"
        return text.rstrip("\n")

    def stop(self) -> tuple[int, str]:
        """Ctrl-C; the exit code and stderr."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            code = self.proc.wait(timeout=LINE_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        assert self.proc.stderr is not None
        return code, self.proc.stderr.read()


@pytest.fixture
def watchers() -> Iterator[list[Watcher]]:
    started: list[Watcher] = []
    yield started
    for watcher in started:
        if watcher.proc.poll() is None:
            watcher.proc.kill()
            watcher.proc.wait()


def _until(watcher: Watcher, check: Any, most: int = 200) -> list[str]:
    """Lines until ``check(line)`` is true (inclusive)."""
    seen: list[str] = []
    for _ in range(most):
        seen.append(watcher.line())
        if check(seen[-1]):
            return seen
    raise AssertionError(f"not seen in {most} lines: {seen[-3:]}")


def test_json_watch_is_one_object_per_round_and_ctrl_c_exits_130(
    served: tuple[EmulatorApp, str], watchers: list[Watcher]
) -> None:
    app, url = served
    ids = set(app.backend.query(None) or {})
    watcher = Watcher("--endpoint", url, "--format", "json", "--watch", "0.2")
    watchers.append(watcher)
    rounds = [json.loads(watcher.line()) for _ in range(3)]
    code, err = watcher.stop()
    assert code == 130
    assert "Traceback" not in err
    assert [r["round"] for r in rounds] == [1, 2, 3]
    for r in rounds:
        assert set(r) == {"time", "round", "tasks"}
        assert datetime.fromisoformat(r["time"]).tzinfo is not None
        assert {t["taskId"] for t in r["tasks"]} == ids
        # Masked as in every other output.
        assert all("auth_key=****" in t["streamUrl"] or not t["streamUrl"] for t in r["tasks"])


def test_json_watch_reports_a_failed_round_as_an_error_object_and_goes_on(
    watchers: list[Watcher],
) -> None:
    pytest.importorskip("uvicorn")
    # Every request fails with a 503 until the first error object is out.
    app = build_emulator(seed=5, tasks=2)
    app.faults = FaultPlan({"503": 1.0})
    with running_server(app) as url:
        watcher = Watcher("--endpoint", url, "--format", "json", "--watch", "0.1")
        watchers.append(watcher)
        lines = [watcher.line()]
        app.faults.clear()
        lines += _until(watcher, lambda line: "tasks" in json.loads(line))
        code, _err = watcher.stop()
    objects = [json.loads(line) for line in lines]
    errors = [o for o in objects if "error" in o]
    assert errors, objects
    for o in errors:
        assert set(o) == {"time", "round", "error"}
        assert o["error"]["code"] == "ServiceUnavailable"
        assert o["error"]["retryable"] is True
    assert [o["round"] for o in objects] == list(range(1, len(objects) + 1))
    assert code == 130


def test_csv_watch_prints_the_header_once(
    served: tuple[EmulatorApp, str], watchers: list[Watcher]
) -> None:
    app, url = served
    count = len(app.backend.query(None) or {})
    watcher = Watcher("--endpoint", url, "--format", "csv", "--watch", "0.2")
    watchers.append(watcher)
    lines = [watcher.line() for _ in range(1 + 3 * count)]
    code, _ = watcher.stop()
    rows = list(csv.reader(io.StringIO("\n".join(lines))))
    assert rows[0] == ["time", "round", *CSV_COLUMNS]
    assert all(row[0] != "time" for row in rows[1:])
    assert [int(row[1]) for row in rows[1:]] == sorted([1] * count + [2] * count + [3] * count)
    assert code == 130


def test_changes_prints_appeared_then_ended(
    served: tuple[EmulatorApp, str], watchers: list[Watcher]
) -> None:
    app, url = served
    ids = set(app.backend.query(None) or {})
    watcher = Watcher("--endpoint", url, "--format", "json", "--watch", "0.2", "--changes")
    watchers.append(watcher)
    first = [json.loads(watcher.line()) for _ in ids]
    assert {e["kind"] for e in first} == {TASK_APPEARED}
    assert {e["task"] for e in first} == ids
    gone = sorted(ids)[0]
    assert app.backend.stop(gone)
    ended = json.loads(watcher.line())
    code, _ = watcher.stop()
    assert (ended["kind"], ended["task"]) == (TASK_ENDED, gone)
    assert code == 130


def test_changes_in_text_is_one_readable_line_per_event(
    served: tuple[EmulatorApp, str], watchers: list[Watcher]
) -> None:
    app, url = served
    ids = set(app.backend.query(None) or {})
    watcher = Watcher("--endpoint", url, "--watch", "0.2", "--changes")
    watchers.append(watcher)
    lines = [watcher.line() for _ in ids]
    code, _ = watcher.stop()
    assert all(TASK_APPEARED in line for line in lines)
    assert {next(i for i in ids if i in line) for line in lines} == ids
    assert code == 130


def test_changes_without_watch_is_a_usage_error() -> None:
    from asrtui.__main__ import main

    assert main(["tasks", "--demo", "--changes"]) == 2


# -- the diff itself, as a table ----------------------------------------------------------------

T0 = datetime.fromisoformat("2026-12-06T10:00:00+00:00")


def _task(task_id: str, **fields: Any) -> Task:
    return Task(**({"task_id": task_id, "mode": "live", "language": "cn"} | fields))


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (None, [_task("a")], [("task_appeared", "a")]),
        ({}, [], []),
        ({"a": _task("a")}, [], [("task_ended", "a")]),
        ({"a": _task("a")}, [_task("a")], []),
        ({"a": _task("a")}, [_task("a", status=0)], [("status_changed", "a")]),
        ({"a": _task("a")}, [_task("a", tag="x")], [("task_changed", "a")]),
        (
            {"a": _task("a"), "b": _task("b")},
            [_task("b", language="en"), _task("c")],
            [("task_appeared", "c"), ("task_changed", "b"), ("task_ended", "a")],
        ),
        # updatedAt moves on its own: no event.
        ({"a": _task("a")}, [_task("a", updated_at=T0)], []),
    ],
)
def test_diff_tasks_table(
    before: dict[str, Task] | None, after: list[Task], expected: list[tuple[str, str]]
) -> None:
    assert [(e.kind, e.task_id) for e in diff_tasks(before, after, T0)] == expected


def test_a_changed_stream_token_never_shows_in_the_event() -> None:
    old = _task("a", stream_url="http://h/s.flv?auth_key=1-0-0-OLDSECRET")
    new = _task("a", stream_url="http://h/s.flv?auth_key=1-0-0-NEWSECRET")
    (event,) = diff_tasks({"a": old}, [new], T0)
    assert event.kind == "task_changed"
    line = event.to_line()
    assert "OLDSECRET" not in line
    assert "NEWSECRET" not in line
    assert "stream_url" in json.loads(line)["detail"]["changes"]
