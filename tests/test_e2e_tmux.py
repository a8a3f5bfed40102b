"""End-to-end test: the installed ``asrtui --demo`` driven by keys in a real terminal (tmux).

The console runs as a user would start it: the ``asrtui`` console script next to the running
interpreter, in a tmux pane with a real ``TERM``, on a private tmux server (its own socket and
configuration, killed afterwards; the user's tmux is never touched). The test reads the screen
with ``capture-pane`` and waits by polling with bounded deadlines, never with fixed sleeps.

Every capture is also checked for secrets: no ``auth_key=`` value other than ``****``, and none
of the demo tasks' stream keys or the demo account id, which the test knows because the demo's
emulator is seeded (the same seeded backend is rebuilt here).

Without tmux the test is skipped locally and fails in CI (``CI`` set), where it must run.
"""

from __future__ import annotations

import inspect
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from asrtui.emulator.backend import EmulatorBackend
from asrtui.tasksource import open_demo_client

pytestmark = pytest.mark.e2e

#: The console script of the environment running the tests.
ASRTUI = Path(sys.executable).parent / "asrtui"
#: How long the console may take to draw its first table (a cold start on a busy machine).
START_TIMEOUT = 20.0
#: How long a key may take to show its effect on screen.
KEY_TIMEOUT = 5.0
#: How soon Escape must bring the whole list back.
ESCAPE_TIMEOUT = 1.5
#: Between two captures while waiting.
POLL = 0.05

#: The private server's configuration: no status bar (the pane gets the whole window), and the
#: pane stays after its process exits, so that a failure's last screen can still be read.
TMUX_CONF = """\
set -g status off
set -g remain-on-exit on
set -sg escape-time 10
set -g default-shell /bin/sh
"""

#: The child's environment the test passes through explicitly (isolated by conftest).
PASSED_VARS = (
    "HOME",
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
    "XDG_STATE_HOME",
    "XDG_DATA_HOME",
    "XDG_RUNTIME_DIR",
)

# A table row: optional new/ended marker, the (possibly cut) task id, then a status word.
_ROW = re.compile(r"^ {0,3}[+x]? {0,2}(asr-[0-9a-f][0-9a-f-]*)…? +([a-z]+)\b", re.MULTILINE)
_COUNTS = re.compile(r"(\d+)/(\d+) tasks")
_AUTH_KEY = re.compile(r"auth_key=([^\s│▏]*)")


def _demo_secrets() -> tuple[list[str], list[str]]:
    """The seeded demo tasks' ids and the secret parts of their stream URLs' ``auth_key``."""
    defaults = inspect.signature(open_demo_client).parameters
    backend = EmulatorBackend(
        seed=defaults["seed"].default,
        tasks=defaults["tasks"].default,
        lively=True,
        clock=lambda: datetime(2024, 1, 1, tzinfo=UTC),
    )
    tasks = backend.query() or {}
    ids = sorted(tasks)
    keys = [str(task["streamUrl"]).rsplit("-", 1)[1] for task in tasks.values()]
    return ids, keys


DEMO_IDS, DEMO_KEYS = _demo_secrets()
DEMO_ACCOUNT_UID = "1119309225474343"


def assert_no_secret(screen: str) -> None:
    """Fail if the screen shows a stream key, an unmasked ``auth_key`` or the account id."""
    for value in _AUTH_KEY.findall(screen):
        assert set(value) <= {"*", "…"}, f"auth_key={value} on screen:\n{screen}"
    for key in DEMO_KEYS:
        # Any 8 consecutive characters of a key would be a leak (a wrapped or cut URL).
        for start in range(len(key) - 7):
            assert key[start : start + 8] not in screen, f"stream key {key} on screen:\n{screen}"
    assert DEMO_ACCOUNT_UID not in screen, f"account id on screen:\n{screen}"


def table_rows(screen: str) -> list[tuple[str, str]]:
    """``(task id as shown, status)`` of each table row on the screen."""
    return [(match[0], match[1]) for match in _ROW.findall(screen)]


def task_counts(screen: str) -> tuple[int, int] | None:
    """``(shown, total)`` from the status line, ``None`` before it is drawn."""
    match = _COUNTS.search(status_line(screen))
    return None if match is None else (int(match[1]), int(match[2]))


def status_line(screen: str) -> str:
    """The first line of the screen (the console's status line)."""
    return screen.splitlines()[0] if screen else ""


@dataclass
class Tmux:
    """A private tmux server: its own socket name and configuration file."""

    executable: str
    socket: str
    config: Path

    def run(self, *args: str, check: bool = True) -> str:
        """Run one tmux command on the private server; its stdout (``check``: fail on error)."""
        env = {k: v for k, v in os.environ.items() if k != "TMUX"}
        env["LC_ALL"] = "C.UTF-8"
        done = subprocess.run(
            [self.executable, "-u", "-L", self.socket, "-f", str(self.config), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def capture(self, target: str) -> str:
        """The pane's visible text, checked for secrets."""
        screen = self.run("capture-pane", "-p", "-t", target)
        assert_no_secret(screen)
        return screen

    def display(self, target: str, fmt: str) -> str:
        """A tmux format evaluated for the pane (``#{alternate_on}`` and the like)."""
        return self.run("display-message", "-p", "-t", target, fmt).strip()

    def keys(self, target: str, *keys: str, literal: bool = False) -> None:
        """Type keys into the pane (``literal``: the text as it is, not key names)."""
        self.run("send-keys", "-t", target, *(["-l"] if literal else []), *keys)

    def wait_for(
        self, target: str, check: Callable[[str], bool], what: str, timeout: float = KEY_TIMEOUT
    ) -> str:
        """Capture the pane until ``check`` holds; fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.capture(target)
            if check(screen):
                return screen
            if time.monotonic() >= deadline:
                pytest.fail(f"timed out after {timeout:g} s waiting for {what}; screen:\n{screen}")
            time.sleep(POLL)


@pytest.fixture(scope="module")
def tmux(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tmux]:
    """A tmux server on a private socket, killed at the end of the module."""
    executable = shutil.which("tmux")
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("tmux is not installed: CI must run the end-to-end test (apt install tmux)")
        pytest.skip("tmux is not installed")
    config = tmp_path_factory.mktemp("tmux") / "tmux.conf"
    config.write_text(TMUX_CONF, encoding="utf-8")
    server = Tmux(executable, f"asrtui-e2e-{os.getpid()}", config)
    try:
        yield server
    finally:
        subprocess.run(
            [executable, "-L", server.socket, "kill-server"],
            capture_output=True,
            timeout=10,
            check=False,
        )
        # tmux leaves the socket file behind.
        socket_dir = Path(os.environ.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}"
        (socket_dir / server.socket).unlink(missing_ok=True)


@pytest.fixture
def asrtui_script() -> Path:
    """The installed console script; the test cannot run without it."""
    if not os.access(ASRTUI, os.X_OK):
        pytest.fail(
            f"the asrtui console script is missing at {ASRTUI}: install the project into this "
            "environment first (pip install -e .)"
        )
    return ASRTUI


def console_command(script: Path, term: str) -> str:
    """The pane's shell command: print TERM, run the console, print its exit status.

    The shell then waits for a line, so that the terminal's modes can be read while it runs.
    """
    env = [f"{name}={os.environ[name]}" for name in PASSED_VARS if name in os.environ]
    shell = 'echo "TERM=$TERM"; "$0" --demo; status=$?; echo "EXIT=$status"; read _; exit $status'
    return shlex.join(
        ["env", f"TERM={term}", "LC_ALL=C.UTF-8", *env, "sh", "-c", shell, str(script)]
    )


@pytest.mark.parametrize(
    ("term", "width", "height"),
    [
        ("screen-256color", 80, 24),
        ("screen-256color", 120, 32),
        ("tmux-256color", 80, 24),
        ("tmux-256color", 120, 32),
    ],
)
def test_demo_console_in_tmux(
    tmux: Tmux, asrtui_script: Path, term: str, width: int, height: int
) -> None:
    target = f"{term}-{width}x{height}"
    tmux.run(
        "new-session", "-d", "-s", target, "-x", str(width), "-y", str(height),
        console_command(asrtui_script, term),
    )  # fmt: skip
    try:
        assert tmux.display(target, "#{pane_width}x#{pane_height}") == f"{width}x{height}"

        # The first table: running rows and the status line of the demo profile.
        screen = tmux.wait_for(
            target,
            lambda s: "demo" in status_line(s) and any(st == "running" for _, st in table_rows(s)),
            "the first table",
            timeout=START_TIMEOUT,
        )
        rows = table_rows(screen)
        shown_ids = [task_id for task_id, _ in rows]
        assert any(known.startswith(i) for i in shown_ids for known in DEMO_IDS), (
            "the demo shows none of its seeded tasks, so the secret check would prove nothing"
        )

        # "/" and a few characters of a task id: the table narrows to that task.
        chosen = next(task_id for task_id, status in rows if status == "running")
        fragment = chosen[4:10]
        tmux.keys(target, "/")
        tmux.keys(target, fragment, literal=True)
        screen = tmux.wait_for(
            target,
            lambda s: (
                [i for i, _ in table_rows(s)] == [chosen]
                and (task_counts(s) or (0, 0))[0] == 1
                and f"Filter: {fragment}" in s
            ),
            f"the table to narrow to {chosen} after typing /{fragment}",
        )

        # Escape clears the filter at once: every task is back.
        started = time.monotonic()
        tmux.keys(target, "Escape")
        screen = tmux.wait_for(
            target,
            lambda s: (
                "Filter:" not in s
                and (counts := task_counts(s)) is not None
                and counts[0] == counts[1] > 1
                and len(table_rows(s)) > 1
            ),
            "Escape to clear the filter",
            timeout=ESCAPE_TIMEOUT,
        )
        assert time.monotonic() - started <= ESCAPE_TIMEOUT

        # "?" opens the help with the keys; Escape closes it.
        tmux.keys(target, "?")
        tmux.wait_for(
            target, lambda s: "asrtui keys" in s and "Clear filter" in s, "the help screen"
        )
        tmux.keys(target, "Escape")
        tmux.wait_for(
            target,
            lambda s: "asrtui keys" not in s and len(table_rows(s)) > 1,
            "the help screen to close",
        )

        # "p" pauses the auto-refresh (the status line says so); "p" again resumes it.
        tmux.keys(target, "p")
        tmux.wait_for(target, lambda s: "PAUSED" in status_line(s), "the paused status")
        tmux.keys(target, "p")
        tmux.wait_for(
            target,
            lambda s: "PAUSED" not in status_line(s) and "next" in status_line(s),
            "the refresh to resume",
        )

        # "q" quits with status 0 and gives the terminal back as it was: the screen from before
        # the console (it used the alternate screen and left it), cursor shown, mouse off.
        tmux.keys(target, "q")
        screen = tmux.wait_for(target, lambda s: "EXIT=" in s, "the console to exit")
        lines = [line for line in screen.splitlines() if line.strip()]
        assert lines == [f"TERM={term}", "EXIT=0"], screen
        # Read while the shell still runs (it waits for a line): tmux hides a dead pane's cursor.
        modes = "#{pane_dead} #{alternate_on} #{cursor_flag} #{mouse_any_flag} #{mouse_button_flag}"
        assert tmux.display(target, modes) == "0 0 1 0 0"
    finally:
        tmux.run("kill-session", "-t", target, check=False)
