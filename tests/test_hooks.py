"""Alert hooks: real commands get the events they asked for; a hanging or noisy one is contained."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from asrtui.__main__ import main
from asrtui.emulator import EmulatorApp, build_emulator
from asrtui.emulator.server import running_server
from asrtui.errors import ServerError, SignatureError, ThrottledError
from asrtui.events import (
    API_ERROR_BEGAN,
    TASK_APPEARED,
    TASK_ENDED,
    THROTTLED,
    ErrorEpisodes,
    Event,
)
from asrtui.hooks import MAX_OUTPUT, MAX_PENDING, HookRunner, parse_hook
from asrtui.protocols import ProfileSession
from asrtui.sessionsettings import Settings
from tests.support.cli import ROOT, asrtui_command, demo_env

T0 = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)
PY = sys.executable

#: Appends its stdin and its pid (as "start"/"end" marks) to the file named by argv[1].
RECORDER = """
import os, sys, time
path = sys.argv[1]
with open(path, "a") as out:
    out.write("start %d\\n" % os.getpid()); out.flush()
    data = sys.stdin.read()
    time.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 0)
    out.write("event " + data)
    out.write("end %d\\n" % os.getpid())
"""


def _event(kind: str, n: int = 0, task: str = "asr-1") -> Event:
    return Event(T0, kind, task, {"n": n}, f"{kind} {n}")


def _recorder(tmp_path: Path, pause: float = 0.0) -> tuple[list[str], Path]:
    script = tmp_path / "recorder.py"
    script.write_text(RECORDER)
    out = tmp_path / "out.txt"
    return [PY, str(script), str(out), str(pause)], out


async def test_a_hook_receives_only_the_kinds_it_asked_for(tmp_path: Path) -> None:
    argv, out = _recorder(tmp_path)
    runner = HookRunner(parse_hook(" ".join(argv), kinds=[TASK_ENDED]))
    runner.offer(_event(TASK_APPEARED, 1))
    runner.offer(_event(TASK_ENDED, 2))
    runner.offer(_event(THROTTLED, 3))
    await runner.idle()
    events = [json.loads(line[6:]) for line in out.read_text().splitlines() if line[:6] == "event "]
    assert [(e["kind"], e["detail"]["n"]) for e in events] == [(TASK_ENDED, 2)]
    assert all(r.ok for r in runner.results)


async def test_one_run_at_a_time_in_order(tmp_path: Path) -> None:
    argv, out = _recorder(tmp_path, pause=0.05)
    runner = HookRunner(parse_hook(" ".join(argv), kinds=[TASK_ENDED]))
    for n in range(4):
        runner.offer(_event(TASK_ENDED, n))
    await runner.idle()
    marks = [line.split()[0] for line in out.read_text().splitlines()]
    # Never two starts in a row: each run ended before the next began.
    assert marks == ["start", "event", "end"] * 4
    numbers = [
        json.loads(line[6:])["detail"]["n"]
        for line in out.read_text().splitlines()
        if line.startswith("event ")
    ]
    assert numbers == [0, 1, 2, 3]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie not yet reaped by its parent counts as gone.
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "State:\tZ" in status.read_text())


async def test_a_hanging_hook_and_its_children_are_killed_at_the_timeout(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    # A shell starts in milliseconds even on a loaded machine: it is there before the timeout.
    script = tmp_path / "hang.sh"
    script.write_text(f"sleep 120 &\necho $$ $! > {pids}\nwait\n")
    failures: list[str] = []
    runner = HookRunner(
        parse_hook(f"/bin/sh {script}", kinds=[TASK_ENDED], timeout=2.0), failures.append
    )
    runner.offer(_event(TASK_ENDED))
    await runner.idle()
    (result,) = runner.results
    assert result.timed_out
    assert len(failures) == 1
    assert "timed out after 2 s and was killed" in failures[0]
    hook_pid, child_pid = (int(p) for p in pids.read_text().split())
    for _ in range(200):  # the kill is sent; the kernel takes a moment to finish both
        if not (_alive(hook_pid) or _alive(child_pid)):
            break
        await asyncio.sleep(0.05)
    assert not _alive(hook_pid)
    assert not _alive(child_pid)


async def test_megabytes_of_output_are_capped(tmp_path: Path) -> None:
    code = (
        "import sys; sys.stdin.read(); "
        "sys.stdout.write('x' * 5_000_000); sys.stderr.write('y' * 5_000_000)"
    )
    runner = HookRunner(parse_hook(f"{PY} -c {json.dumps(code)}", kinds=[TASK_ENDED]))
    runner.offer(_event(TASK_ENDED))
    await runner.idle()
    (result,) = runner.results
    assert result.ok
    assert result.truncated
    assert len(result.stdout) == MAX_OUTPUT
    assert len(result.stderr) == MAX_OUTPUT


async def test_failures_are_told_once_until_a_run_succeeds(tmp_path: Path) -> None:
    # Fails for events with an odd number.
    code = "import json, sys; e = json.loads(sys.stdin.read()); sys.exit(e['detail']['n'] % 2)"
    failures: list[str] = []
    runner = HookRunner(
        parse_hook(f"{PY} -c {json.dumps(code)}", kinds=[TASK_ENDED]), failures.append
    )
    for n in (1, 3, 5, 2, 7):
        runner.offer(_event(TASK_ENDED, n))
    await runner.idle()
    assert [r.ok for r in runner.results] == [False, False, False, True, False]
    assert len(failures) == 2
    assert "exited with code 1" in failures[0]


async def test_a_command_that_cannot_start_is_a_failure_not_an_exception(tmp_path: Path) -> None:
    failures: list[str] = []
    runner = HookRunner(parse_hook(str(tmp_path / "no-such-command")), failures.append)
    runner.offer(_event(TASK_ENDED))
    runner.offer(_event(TASK_ENDED))
    await runner.idle()
    assert len(runner.results) == 2
    assert not any(r.ok for r in runner.results)
    assert len(failures) == 1
    assert "could not run" in failures[0]


async def test_a_hook_never_sees_a_credential_variable(tmp_path: Path) -> None:
    out = tmp_path / "env.json"
    code = (
        "import json, os, sys; sys.stdin.read(); "
        f"json.dump(dict(os.environ), open({str(out)!r}, 'w'))"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "SEKRIT",
        "ALICLOUD_ACCESS_KEY": "K",
        "KEEP_ME": "1",
    }
    runner = HookRunner(parse_hook(f"{PY} -c {json.dumps(code)}", kinds=[TASK_ENDED]), env=env)
    runner.offer(_event(TASK_ENDED))
    await runner.idle()
    seen = json.loads(out.read_text())
    assert "KEEP_ME" in seen
    assert not any(name.startswith(("ALIBABA_CLOUD_", "ALICLOUD_")) for name in seen)


async def test_offer_never_waits_and_the_queue_is_bounded(tmp_path: Path) -> None:
    runner = HookRunner(parse_hook(f"{PY} -c 'import time; time.sleep(60)'", timeout=60))
    for n in range(MAX_PENDING + 10):
        runner.offer(_event(TASK_ENDED, n))  # synchronous: returns at once
    assert runner.dropped >= 9
    await runner.aclose()


@pytest.mark.parametrize(
    ("command", "kinds", "timeout", "message"),
    [
        ("", None, None, "empty"),
        ("'unbalanced", None, None, "cannot split"),
        ("true", ["no_such_kind"], None, "unknown event kind"),
        ("true", [], None, "no event kind"),
        ("true", None, 0.0, "timeout"),
    ],
)
def test_bad_hooks_are_refused(
    command: str, kinds: list[str] | None, timeout: float | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        parse_hook(command, kinds, timeout)


def test_a_hook_command_is_never_run_by_a_shell() -> None:
    spec = parse_hook("notify --text '$(rm -rf ~)' ; echo hi")
    assert spec.argv == ("notify", "--text", "$(rm -rf ~)", ";", "echo", "hi")


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (ThrottledError("Throttling.User", "slow down"), THROTTLED),
        (ServerError("ServiceUnavailable", "down"), API_ERROR_BEGAN),
        (SignatureError("SignatureDoesNotMatch", "bad"), "credentials_failing"),
    ],
)
def test_error_episodes_begin_once_and_end_once(error: Exception, kind: str) -> None:
    episodes = ErrorEpisodes()
    began = episodes.failed(error, T0)
    assert began is not None
    assert began.kind == kind
    assert episodes.failed(error, T0) is None
    ended = episodes.succeeded(T0)
    assert ended is not None
    assert ended.kind == "api_error_ended"
    assert episodes.succeeded(T0) is None


def test_hook_options_without_a_command_are_a_usage_error() -> None:
    assert main(["tasks", "--demo", "--watch", "1", "--on-event-kinds", "all"]) == 2
    assert main(["tasks", "--demo", "--on-event", "true"]) == 2
    assert main(["tasks", "--demo", "--watch", "1", "--on-event", "'x"]) == 2


# -- end to end: a watch over a socket pages through a hook -------------------------------------


@pytest.fixture
def served() -> Iterator[tuple[EmulatorApp, str]]:
    pytest.importorskip("uvicorn")
    app = build_emulator(seed=9, tasks=2)
    with running_server(app) as url:
        yield app, url


def test_watch_runs_the_hook_for_a_task_that_ended(
    served: tuple[EmulatorApp, str], tmp_path: Path
) -> None:
    app, url = served
    argv, out = _recorder(tmp_path)
    hook = " ".join(argv)
    watcher = subprocess.Popen(
        asrtui_command(
            "tasks",
            "--endpoint",
            url,
            "--watch",
            "0.2",
            "--format",
            "json",
            "--on-event",
            hook,
            "--on-event-kinds",
            "task_ended",
        ),
        cwd=ROOT,
        env=demo_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert watcher.stdout is not None
        watcher.stdout.readline()  # the first round is in
        gone = sorted(app.backend.query(None) or {})[0]
        assert app.backend.stop(gone)
        deadline = time.monotonic() + 60
        while not (out.exists() and "end " in out.read_text()):
            assert time.monotonic() < deadline, "the hook never ran"
            assert watcher.poll() is None
            time.sleep(0.05)
    finally:
        watcher.send_signal(signal.SIGINT)
        code = watcher.wait(timeout=30)
    events = [json.loads(line[6:]) for line in out.read_text().splitlines() if line[:6] == "event "]
    assert [(e["kind"], e["task"]) for e in events] == [(TASK_ENDED, gone)]
    assert code == 130


# -- the profile setting ----------------------------------------------------------------------


def _session(demo: bool = False, **hook: Any) -> ProfileSession:
    from tests.support.fakes import FakeTaskSource

    source = FakeTaskSource.with_tasks(1, profile="studio")
    return ProfileSession(key="studio", source=source, settings=Settings(**hook), demo=demo)


def test_a_profile_keeps_its_hook_and_the_console_runs_it() -> None:
    from asrtui.__main__ import _RecorderFactory
    from asrtui.credentials import Credentials
    from asrtui.credentials.chain import resolve_connection_settings
    from asrtui.profiles import Profile, ProfileSet, ProfileStore

    profile = Profile(
        "studio",
        credentials=Credentials("FAKE5tExampleKey1", "an-example-secret-value"),
        on_event="page-oncall --team live",
        on_event_kinds=("task_ended", "throttled"),
    )
    store = ProfileStore()
    store.save(ProfileSet({"studio": profile}, default="studio"))
    loaded = store.load().get("studio")
    assert loaded.on_event == "page-oncall --team live"
    assert loaded.on_event_kinds == ("task_ended", "throttled")
    # Resolved with the profile, as the console's session is.
    settings = resolve_connection_settings(
        profile="studio", endpoint=None, region=None, signature=None, env={}
    ).settings
    assert (settings.on_event, settings.on_event_kinds) == (
        "page-oncall --team live",
        ("task_ended", "throttled"),
    )
    hook = {"on_event": settings.on_event, "on_event_kinds": settings.on_event_kinds}
    recorder = _RecorderFactory([])(_session(**hook))
    (runner,) = recorder.hooks
    assert runner.spec.argv == ("page-oncall", "--team", "live")
    assert runner.spec.kinds == {"task_ended", "throttled"}
    assert recorder.journal is not None
    # The demo writes no journal and runs no profile's hook.
    demo = _RecorderFactory([])(_session(demo=True, **hook))
    assert demo.journal is None
    assert demo.hooks == []


def test_a_profile_hook_with_an_unknown_kind_is_said_not_run() -> None:
    from asrtui.__main__ import _RecorderFactory

    session = _session(on_event="page-oncall", on_event_kinds=("no_such_kind",))
    recorder = _RecorderFactory([])(session)
    assert recorder.hooks == []
    (notice,) = recorder.take_notices()
    assert "unknown event kind" in notice


@pytest.mark.parametrize("bad", ["", "'unbalanced"])
def test_a_profile_hook_that_cannot_be_split_is_refused(bad: str) -> None:
    from asrtui.errors import ConfigError
    from asrtui.profiles import Profile

    with pytest.raises(ConfigError, match="on_event"):
        Profile("studio", on_event=bad)


def test_a_bad_console_hook_stops_before_the_console_starts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--demo", "--on-event", "'unbalanced"]) == 2
    assert "--on-event" in capsys.readouterr().err
    assert main(["--demo", "--on-event", "true", "--on-event-kinds", "nope"]) == 2
    assert "unknown event kind" in capsys.readouterr().err
