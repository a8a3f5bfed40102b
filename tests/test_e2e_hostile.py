"""End-to-end: the installed console against a loopback server that answers with hostile tasks.

The answers mix what was seen to end the console or leak a secret: timestamps at the edges of
the ``datetime`` range, values nested hundreds of levels deep, control and bidi characters, and
marker secrets in every URL-bearing field (as ``auth_key`` values and as URL passwords). The
console runs in tmux (see `tests.support.tmux`) for 20 s while the keys that render data are
pressed; it must stay up, keep showing the tasks, and never show a marker secret except while
``v`` reveals them on purpose. Exports and the copied JSON are checked too.
"""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.hostile import EDGE_TIMESTAMPS, nested
from tests.support.hostile_server import Answer, hostile_server
from tests.support.tmux import TmuxServer, console_env, installed_asrtui, private_server

pytestmark = pytest.mark.e2e

#: How long the console must stay up under the keys.
RUN_FOR = 20.0
START_TIMEOUT = 30.0
KEY_TIMEOUT = 8.0

#: The marker secrets: an ``auth_key`` value, a URL password, a callback token, nested ones.
MARKERS = ("AKMARK5309", "PWMARK8841", "CBMARK2217", "NSMARK7765")
#: Part of a marker is a leak too (a URL cut at the edge of a column, or wrapped).
_FRAGMENTS = tuple({marker[:6] for marker in MARKERS} | {marker[-6:] for marker in MARKERS})

TMUX_CONF = """\
set -g status off
set -g remain-on-exit on
set -sg escape-time 10
set -g default-shell /bin/sh
set -g set-clipboard on
"""

EDGE_ID = "asr-edge-0001"
DEEP_ID = "asr-deep-0002"
CTRL_ID = "asr-ctrl-0003"


def hostile_tasks(tag: str) -> dict[str, Any]:
    """Three tasks: range-edge times, deep nesting, control characters; secrets in every URL."""
    ak, pw, cb, ns = MARKERS
    return {
        EDGE_ID: {
            "taskId": EDGE_ID,
            "status": 1,
            "mode": "live",
            "language": "cn",
            "tag": tag,
            "createdAt": EDGE_TIMESTAMPS[0],
            "updatedAt": EDGE_TIMESTAMPS[1],
            "streamUrl": f"rtmp://pull.example.com/live/s1?auth_key=1715745062-0-0-{ak}",
            "callbackUrl": f"https://hook:{pw}@cb.example.com/asr",
            "aliUid": "1119309225474343",
            "backupUrls": [
                f"rtmp://backup.example.com/live/s1?auth_key={ns}",
                f"rtmp://relay:{ns}@backup.example.com/live/s1",
            ],
        },
        DEEP_ID: {
            "taskId": DEEP_ID,
            "status": 1,
            "mode": "live",
            "language": "en",
            "tag": tag,
            "createdAt": EDGE_TIMESTAMPS[1],
            "updatedAt": EDGE_TIMESTAMPS[0],
            "streamUrl": f"rtmp://live:{pw}@pull.example.com/live/s2",
            "callbackUrl": f"https://cb.example.com/asr?token=1&auth_key={cb}",
            "x": nested(450),
            "deepUrl": nested(
                300, {"playUrl": f"rtmp://h.example.com/a?auth_key={ns}"}, kind="dict"
            ),
        },
        CTRL_ID: {
            "taskId": CTRL_ID,
            "status": "\x1b[2J\x1b]0;pwned\x07",
            "mode": "\u202elive",
            "language": "cn\r\nfake-line",
            "tag": f"{tag}\x1b[31m\u2028\x9b1m",
            "createdAt": "0001-01-01T00:00:00+23:59",
            "updatedAt": "not a time",
            "streamUrl": f"rtmp://u:{pw}@pull.example.com/live/s3?auth_key={ak}",
            "callbackUrl": f"rtmp://cb:{cb}@cb.example.com/x",
            "reportInterval": 10**300,
            "autoTerminateDelay": 1e308,
            "translateEnabled": [None, {"a": []}],
        },
    }


def answer_body(tag: str) -> bytes:
    return json.dumps({"RequestId": "REQ", "RetCode": 2000, "Tasks": hostile_tasks(tag)}).encode()


class SecretWatch:
    """The screen check: no marker secret on any capture, except while revealed on purpose."""

    def __init__(self) -> None:
        self.revealed = False
        self.checked = 0

    def __call__(self, screen: str) -> None:
        if self.revealed:
            return
        self.checked += 1
        for fragment in _FRAGMENTS:
            assert fragment not in screen, f"secret {fragment!r} on screen:\n{screen}"


@pytest.fixture
def watch() -> SecretWatch:
    return SecretWatch()


@pytest.fixture
def tmux(tmp_path: Path, watch: SecretWatch) -> Iterator[TmuxServer]:
    with private_server("asrtui-hostile", tmp_path, TMUX_CONF, watch) as server:
        yield server


def console_command(script: Path, endpoint: str) -> str:
    env = [
        f"{name}={value}"
        for name, value in console_env(
            "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
        ).items()
    ]
    shell = '"$0" --refresh 1 --endpoint "$1"; echo "EXIT=$?"; read _'
    return shlex.join(
        ["env", "TERM=xterm-256color", *env, "sh", "-c", shell, str(script), endpoint]
    )


def alive(screen: str) -> bool:
    """The console is up: its status line and key bar are drawn, no exit and no traceback."""
    lines = [line for line in screen.splitlines() if line.strip()]
    return (
        bool(lines)
        and "EXIT=" not in screen
        and "Traceback" not in screen
        and "tasks" in lines[0]
        and "Help" in lines[-1]
    )


def test_the_console_survives_hostile_answers_without_showing_a_secret(
    tmux: TmuxServer,
    watch: SecretWatch,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "example-secret-value")
    workdir = tmp_path / "work"
    workdir.mkdir()
    answer = Answer(body=answer_body("before"))
    with hostile_server(answer) as endpoint:
        tmux.new_session(
            "main",
            console_command(installed_asrtui(), endpoint),
            width=160,
            height=45,
            cwd=workdir,
        )
        tmux.wait_for(
            "main",
            lambda s: alive(s) and EDGE_ID in s and DEEP_ID in s and CTRL_ID in s,
            "the three hostile tasks in the table",
            START_TIMEOUT,
        )

        def press(*keys: str, until: str | None = None) -> str:
            tmux.keys("main", *keys)
            screen = tmux.wait_for(
                "main",
                lambda s: alive(s) and (until is None or until in s),
                f"the console after {keys}" + (f" to show {until!r}" if until else ""),
                KEY_TIMEOUT,
            )
            assert EDGE_ID in screen or DEEP_ID in screen or CTRL_ID in screen
            return screen

        def reveal_and_hide() -> None:
            watch.revealed = True
            press("v", until="SECRETS SHOWN")
            tmux.keys("main", "v")
            tmux.wait_for(
                "main", lambda s: "SECRETS SHOWN" not in s, "v to hide the secrets", KEY_TIMEOUT
            )
            watch.revealed = False
            tmux.capture("main")  # checked: masked again

        def exports() -> set[tuple[Path, int]]:
            return {(path, path.stat().st_mtime_ns) for path in workdir.glob("asrtui-tasks-*")}

        def dialog_closed(timeout: float) -> bool:
            deadline = time.monotonic() + timeout
            while "task(s) in view" in tmux.capture("main"):
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.05)
            return True

        def export() -> None:
            before = exports()
            # On a loaded machine an Enter typed as the dialog appears can land before the
            # path field has the focus and be lost; then the dialog is closed and opened again.
            for _ in range(3):
                press("E", until="task(s) in view")  # the dialog's title, not an old toast
                tmux.keys("main", "Enter")
                if dialog_closed(KEY_TIMEOUT / 2):
                    break
                tmux.keys("main", "Escape")
                assert dialog_closed(KEY_TIMEOUT), "Escape did not close the export dialog"
            else:
                pytest.fail(f"the export dialog never took Enter:\n{tmux.capture('main')}")
            deadline = time.monotonic() + KEY_TIMEOUT
            while not (written := {path for path, _ in exports() - before}):
                assert time.monotonic() < deadline, f"no export file in {workdir}"
                time.sleep(0.05)
            for path in written:
                text = path.read_text(encoding="utf-8")
                for fragment in _FRAGMENTS:
                    assert fragment not in text, f"secret {fragment!r} in {path.name}"
                if path.suffix == ".json":
                    data = json.loads(text)
                    deep = next(task for task in data if task["taskId"] == DEEP_ID)
                    assert deep["x"] == nested(450)

        def copied_json() -> None:
            # With set-clipboard on, tmux keeps what the console sent (OSC 52) as a buffer;
            # a placeholder first, so that only this copy can satisfy the wait.
            tmux.run("set-buffer", "--", "nothing-copied-yet")
            press("y")
            deadline = time.monotonic() + KEY_TIMEOUT
            while '"taskId"' not in (buffer := tmux.run("show-buffer", check=False)):
                assert time.monotonic() < deadline, f"copied: {buffer[:200]!r}"
                time.sleep(0.05)
            for fragment in _FRAGMENTS:
                assert fragment not in buffer, f"secret {fragment!r} copied"

        steps = [
            lambda: press("J"),
            lambda: press("J"),
            lambda: press("d"),
            lambda: press("d"),
            lambda: press("c", until="Copied task id"),
            lambda: press("u", until="Copied stream URL"),
            copied_json,
            reveal_and_hide,
            export,
            lambda: press("Down"),
            lambda: press("J"),
            lambda: press("e"),
            lambda: press("J"),
            lambda: press("e"),
        ]
        started = time.monotonic()
        requests_at_start = answer.requests
        swapped = False
        step = 0
        while time.monotonic() - started < RUN_FOR or step < len(steps):
            steps[step % len(steps)]()
            step += 1
            if not swapped and time.monotonic() - started > RUN_FOR / 2:
                with answer.lock:
                    answer.body = answer_body("after")
                swapped = True
        assert swapped
        # Still refreshing, and showing what the latest answer says.
        screen = tmux.wait_for(
            "main", lambda s: alive(s) and "after" in s, "the next answer's tag", KEY_TIMEOUT
        )
        assert answer.requests > requests_at_start
        assert watch.checked > len(steps)
        tmux.keys("main", "q")
        tmux.wait_for("main", lambda s: "EXIT=0" in s, "the console to exit with 0", KEY_TIMEOUT)
        assert EDGE_ID in screen or DEEP_ID in screen
