"""The journal: one JSON line per event, flushed, rotated, masked, read back past damage."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asrtui.__main__ import main
from asrtui.cli.journal import parse_since
from asrtui.emulator import EmulatorApp, build_emulator
from asrtui.emulator.server import running_server
from asrtui.events import (
    ACTION,
    TASK_APPEARED,
    Event,
    action_event,
    diff_tasks,
    error_event,
)
from asrtui.journal import (
    MAX_LINE_CHARS,
    Follower,
    Journal,
    journal_files,
    journal_path,
    read_journal,
)
from asrtui.logs import register_secret
from asrtui.models import Task
from tests.support.cli import ROOT, asrtui_command, demo_env, run_cli

T0 = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)


def _event(n: int, task: str = "asr-1") -> Event:
    return Event(T0 + timedelta(seconds=n), TASK_APPEARED, task, {"n": n}, f"event {n}")


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\n")


# -- writing ------------------------------------------------------------------------------------


def test_each_line_is_flushed_as_it_is_appended(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j" / "p.jsonl")
    for n in range(3):
        assert journal.append(_event(n))
        # Read by another handle while the journal is still open: the line is there.
        assert len(read_journal(journal.path).events) == n + 1
    journal.close()
    assert [json.loads(line)["detail"]["n"] for line in _lines(journal.path) if line] == [0, 1, 2]
    assert (journal.path.stat().st_mode & 0o777) == 0o600


def test_a_half_written_line_is_kept_reported_and_never_merged(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    good = _event(1).to_line() + "\n"
    half = _event(2).to_line()[:25]
    path.write_text(good + half, encoding="utf-8")
    before = path.read_bytes()
    journal = Journal(path)
    assert journal.append(_event(3))
    journal.close()
    # Nothing before was changed: the new line follows a line break after the half one.
    assert path.read_bytes().startswith(before)
    found = read_journal(path)
    assert [e.detail["n"] for e in found.events] == [1, 3]
    assert [(p.line, "half-written" in p.reason) for p in found.problems] == [(2, True)]


@pytest.mark.parametrize(
    ("junk", "reason"),
    [
        (b"{not json", "half-written"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"[1, 2, 3]", "not a JSON object"),
        (b'{"time": "2026-12-06T20:00:00+00:00"}', "needs a time and a kind"),
        (b'{"time": "yesterday", "kind": "x"}', "unreadable time"),
    ],
)
def test_a_damaged_line_is_skipped_with_its_number(
    tmp_path: Path, junk: bytes, reason: str
) -> None:
    path = tmp_path / "p.jsonl"
    path.write_bytes(
        (_event(1).to_line() + "\n").encode() + junk + b"\n" + (_event(2).to_line() + "\n").encode()
    )
    found = read_journal(path)
    assert [e.detail["n"] for e in found.events] == [1, 2]
    assert len(found.problems) == 1
    assert found.problems[0].line == 2
    assert reason in found.problems[0].reason


def _not_an_event(raw: bytes) -> bool:
    try:
        record = json.loads(raw.decode("utf-8"))
        Event.from_json(record)
    except (ValueError, AttributeError, TypeError):
        return True
    return False


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.one_of(
            st.integers(0, 10_000),
            st.binary(max_size=60).map(lambda b: b.replace(b"\n", b"")).filter(_not_an_event),
        ),
        max_size=25,
    )
)
def test_any_mix_of_good_and_damaged_lines_reads_every_good_one(
    tmp_path_factory: pytest.TempPathFactory, items: list[int | bytes]
) -> None:
    path = tmp_path_factory.mktemp("j") / "p.jsonl"
    path.write_bytes(
        b"".join((_event(i).to_line().encode() if isinstance(i, int) else i) + b"\n" for i in items)
    )
    found = read_journal(path)
    assert sorted(e.detail["n"] for e in found.events) == sorted(
        i for i in items if isinstance(i, int)
    )
    junk = [n for n, i in enumerate(items, 1) if isinstance(i, bytes) and i.strip()]
    assert [p.line for p in found.problems] == junk


def test_rotation_keeps_the_newest_files_and_every_line_parses(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "p.jsonl", max_bytes=2_000, backups=3)
    for n in range(400):
        assert journal.append(_event(n))
    journal.close()
    files = journal_files(journal.path, backups=3)
    assert [f.name for f in files] == ["p.jsonl.3", "p.jsonl.2", "p.jsonl.1", "p.jsonl"]
    assert all(f.stat().st_size <= 2_000 + MAX_LINE_CHARS for f in files)
    found = read_journal(journal.path, backups=3)
    assert found.problems == []
    numbers = [e.detail["n"] for e in found.events]
    # The newest events, none lost between the kept files, in order.
    assert numbers == list(range(numbers[0], 400))


def test_a_journal_that_cannot_be_written_never_raises(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    journal = Journal(blocker / "p.jsonl")
    assert not journal.append(_event(1))
    assert journal.failure is not None
    assert "Cannot write the journal" in journal.failure
    assert not journal.append(_event(2))


def test_no_secret_reaches_the_journal(tmp_path: Path) -> None:
    register_secret("REGISTERED-SECRET-VALUE")
    task = Task(
        task_id="asr-1",
        tag="news",
        stream_url="http://h/live/s.flv?auth_key=1700000000-0-0-STREAMTOKEN",
        ali_uid="1119309225474343",
    )
    events = [
        *diff_tasks(None, [task], T0),
        error_event("api_error_began", T0, None, "failed with REGISTERED-SECRET-VALUE in it"),
        action_event("stop", T0, task_id="asr-1", note="auth_key=1-0-0-STREAMTOKEN"),
        Event(T0, ACTION, "asr-1", {"url": task.stream_url, "uid": "x REGISTERED-SECRET-VALUE"}),
    ]
    journal = Journal(tmp_path / "p.jsonl")
    for event in events:
        assert journal.append(event)
    journal.close()
    text = journal.path.read_text(encoding="utf-8")
    for secret in ("REGISTERED-SECRET-VALUE", "STREAMTOKEN", "1119309225474343"):
        assert secret not in text
    assert len(read_journal(journal.path).events) == len(events)


def test_a_huge_event_is_stored_short(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "p.jsonl")
    assert journal.append(Event(T0, ACTION, "asr-1", {"tag": "x" * 100_000}, "m" * 100_000))
    journal.close()
    (line, _) = _lines(journal.path)
    assert len(line) <= MAX_LINE_CHARS
    assert json.loads(line)["truncated"] is True


def test_journal_path_is_one_safe_file_name_per_profile(tmp_path: Path) -> None:
    names = ["prod", "../etc", "a/b", "", ".", "..", "über", "a b"]
    paths = [journal_path(name, tmp_path) for name in names]
    assert len(set(paths)) == len(names)
    assert all(p.parent == tmp_path for p in paths)


KILLED_WRITER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    from pathlib import Path
    from asrtui.events import Event
    from asrtui.journal import Journal

    journal = Journal(Path(sys.argv[1]), max_bytes=200_000, backups=2)
    n = 0
    while True:
        n += 1
        detail = {"n": n, "pad": "x" * 3000}
        journal.append(Event(datetime.now(UTC), "task_changed", "asr-1", detail))
    """
)


def test_a_killed_writer_leaves_a_journal_whose_lines_all_parse(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    child = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(path)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not (path.exists() and path.stat().st_size > 100_000):
            assert time.monotonic() < deadline, "the writer wrote nothing"
            assert child.poll() is None
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    found = read_journal(path, backups=2)
    assert found.problems == []
    numbers = [e.detail["n"] for e in found.events]
    assert len(numbers) > 30
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))


# -- following ----------------------------------------------------------------------------------


def test_follower_reads_appended_lines_across_a_rotation(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "p.jsonl", max_bytes=600, backups=2)
    journal.append(_event(0))
    follower = Follower(journal.path)
    assert follower.poll().events == []
    seen: list[int] = []
    for n in range(1, 20):
        journal.append(_event(n))
        seen += [e.detail["n"] for e in follower.poll().events]
    follower.close()
    journal.close()
    assert seen == list(range(1, 20))


def test_follower_waits_for_the_line_break(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text("")
    follower = Follower(path)
    line = _event(1).to_line()
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line[:10])
        handle.flush()
        assert follower.poll().events == []
        handle.write(line[10:] + "\n")
    (event,) = follower.poll().events
    assert event.detail["n"] == 1
    follower.close()


# -- the command ----------------------------------------------------------------------------------


def _write(profile: str, events: list[Event]) -> Path:
    journal = Journal(journal_path(profile))
    for event in events:
        journal.append(event)
    journal.close()
    return journal.path


def test_journal_command_filters_by_task_and_time(capsys: pytest.CaptureFixture[str]) -> None:
    now = datetime.now(UTC)
    _write(
        "prod",
        [
            Event(now - timedelta(hours=3), TASK_APPEARED, "asr-old", {}, "old"),
            Event(now - timedelta(minutes=30), TASK_APPEARED, "asr-a", {}, "a appeared"),
            Event(now - timedelta(minutes=20), TASK_APPEARED, "asr-b", {}, "b appeared"),
        ],
    )
    assert main(["journal", "--profile", "prod", "--since", "2h", "--format", "json"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["task"] for line in out] == ["asr-a", "asr-b"]
    assert main(["journal", "--profile", "prod", "--task", "asr-b"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert "b appeared" in line


def test_journal_command_reports_a_damaged_line_and_prints_the_rest(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = _write("p", [_event(1), _event(2)])
    with path.open("ab") as handle:
        handle.write(b'{"time": "2026-12-06T20:00:09+00:00", "ki')
    assert main(["journal", "--profile", "p"]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 2
    assert "p.jsonl line 3" in captured.err
    assert "skipped" in captured.err
    assert "Traceback" not in captured.err


def test_journal_command_picks_the_only_journal_without_credentials(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _write("studio", [_event(1)])
    assert main(["journal"]) == 0
    assert "event 1" in capsys.readouterr().out
    _write("other", [_event(2)])
    assert main(["journal"]) == 2
    assert "--profile" in capsys.readouterr().err


def test_the_demo_keeps_no_journal(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["journal", "--demo"]) == 2
    assert "demo keeps no journal" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "back"),
    [("90s", 90), ("30m", 1800), ("2h", 7200), ("1d", 86400), ("1.5h", 5400), (" 2H ", 7200)],
)
def test_since_durations(text: str, back: int) -> None:
    now = datetime(2026, 12, 6, 22, 0, tzinfo=UTC)
    assert parse_since(text, now) == now - timedelta(seconds=back)


def test_since_times_and_refusals() -> None:
    assert parse_since("2026-12-06T20:00+08:00") == datetime.fromisoformat("2026-12-06T20:00+08:00")
    assert parse_since("2026-12-06T20:00").tzinfo is not None
    for bad in ("", "2", "2x", "yesterday", "-1h", "\x1b[2J"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_since(bad)


# -- end to end: the command line journals its actions; --follow over a real process ----------


@pytest.fixture
def served() -> Iterator[tuple[EmulatorApp, str]]:
    pytest.importorskip("uvicorn")
    app = build_emulator(seed=3, tasks=3)
    with running_server(app) as url:
        yield app, url


def test_stop_on_the_command_line_is_journaled_and_followed(
    served: tuple[EmulatorApp, str],
) -> None:
    app, url = served
    target = sorted(app.backend.query(None) or {})[0]
    env = demo_env() | {"XDG_STATE_HOME": os.environ["XDG_STATE_HOME"]}
    follower = subprocess.Popen(
        asrtui_command("journal", "--follow", "--format", "json"),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stopped = run_cli(asrtui_command("stop", target, "--yes", "--endpoint", url), env=env)
        assert stopped.returncode == 0, stopped.stderr
        listed = run_cli(asrtui_command("journal", "--format", "json", "--profile", "env"), env=env)
        assert listed.returncode == 0, listed.stderr
        (record,) = [json.loads(line) for line in listed.stdout.splitlines()]
        assert record["kind"] == ACTION
        assert record["task"] == target
        assert record["detail"]["action"] == "stop"
        assert follower.stdout is not None
        assert json.loads(follower.stdout.readline())["task"] == target
    finally:
        follower.send_signal(signal.SIGINT)
        code = follower.wait(timeout=30)
    assert code == 130


# -- bursts -------------------------------------------------------------------------------------


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    messages=st.lists(st.text(max_size=40), max_size=30),
    cut=st.integers(0, 30),
)
def test_a_burst_writes_what_appending_each_event_writes(
    tmp_path_factory: pytest.TempPathFactory, messages: list[str], cut: int
) -> None:
    register_secret("burst-secret-value-1234")
    events = [
        Event(T0, TASK_APPEARED, f"asr-{n}", {"tag": text}, f"{text} burst-secret-value-1234")
        for n, text in enumerate(messages)
    ]
    directory = tmp_path_factory.mktemp("burst")
    one, many = Journal(directory / "one.jsonl"), Journal(directory / "many.jsonl")
    for event in events:
        assert one.append(event)
    assert many.append_many(events[:cut])
    assert many.append_many(events[cut:])
    one.close()
    many.close()
    written = (directory / "many.jsonl").read_bytes() if events else b""
    assert written == ((directory / "one.jsonl").read_bytes() if events else b"")
    assert b"burst-secret-value-1234" not in written


def test_the_journal_thread_writes_a_burst_whole_and_in_order(tmp_path: Path) -> None:
    from asrtui.record import WRITE_SLICE, Recorder

    journal = Journal(tmp_path / "p.jsonl")
    recorder = Recorder(journal, clock=lambda: T0)
    recorder.begin(recorder.load())
    tasks = [Task(f"asr-{n:04d}", tag=f"t{n}") for n in range(5 * WRITE_SLICE + 3)]
    recorder.answered(tasks, T0)
    recorder.flush()
    appeared = [e.task_id for e in read_journal(journal.path).events if e.kind == TASK_APPEARED]
    assert appeared == [task.task_id for task in tasks]
    # Closing with a burst still queued writes it all.
    recorder.answered(tasks[:-1], T0 + timedelta(seconds=1))
    recorder.close()
    assert len(read_journal(journal.path).events) == len(tasks) + 2  # + started, + one ended


@pytest.mark.parametrize("made", [0, 1, 7, 8, 9, 23])
def test_an_event_that_fails_to_be_made_keeps_the_ones_made_before_it(
    tmp_path: Path, made: int
) -> None:
    """Events the journal's thread makes as it writes: one that fails is said once, the ones
    made before it are written (a whole slice or part of one), and later puts still write."""
    from asrtui.record import _Writer

    def events() -> Iterator[Event]:
        for n in range(made):
            yield Event(T0, TASK_APPEARED, f"asr-{n:03d}", {}, "made")
        raise ValueError("cannot make it")

    journal = Journal(tmp_path / "p.jsonl")
    told: list[str] = []
    writer = _Writer(journal, told.append)
    writer.put_later(events())
    writer.put_later(events())
    writer.put(Event(T0, TASK_APPEARED, "asr-after", {}, "after"))
    writer.flush()
    ids = [event.task_id for event in read_journal(journal.path).events]
    assert ids == [f"asr-{n:03d}" for n in range(made)] * 2 + ["asr-after"]
    assert told == ["Some events were not journaled (ValueError: cannot make it)"]  # said once
    writer.close()
