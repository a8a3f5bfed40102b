"""A real terminal for the end-to-end tests: a private tmux server, its sessions, keys and screens.

The end-to-end tests run the installed console as an operator does, in a tmux pane with a real
``TERM``, and read what it draws with ``capture-pane``. tmux gives them a terminal whose size
they set (and change), whose output it drains and keeps as a screen, and into which they type
keys, with no pty handling of their own.

Every server here is private: its own socket name (``-L``) and configuration file, killed at
the end, so the user's own tmux is never touched and a developer's ``~/.tmux.conf`` changes
nothing. Tests wait by polling the screen with bounded deadlines, never with fixed sleeps.

Without tmux the tests are skipped locally and fail in CI (``CI`` set), where they must run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

#: The console script of the environment running the tests.
ASRTUI = Path(sys.executable).parent / "asrtui"
#: Between two captures while waiting.
POLL = 0.05
#: How long one tmux command may take (a busy machine, never a healthy server).
COMMAND_TIMEOUT = 10.0
#: The variables that point a console under test at the test's own home and XDG directories
#: (made per test by ``tests/conftest.py``), so that it never reads or writes the developer's.
USER_DIR_VARS = (
    "HOME",
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
    "XDG_STATE_HOME",
    "XDG_DATA_HOME",
    "XDG_RUNTIME_DIR",
)


def console_env(*names: str) -> dict[str, str]:
    """The variables a console under test is started with, whatever runs it (tmux, a pty).

    The test's user directories (`USER_DIR_VARS`) and the variables ``names`` when they are
    set, ``PATH``, and a UTF-8 locale (the console draws box and arrow characters).
    """
    env = {name: os.environ[name] for name in (*USER_DIR_VARS, *names) if name in os.environ}
    env.update(PATH=os.environ.get("PATH", "/usr/bin:/bin"), LC_ALL="C.UTF-8")
    return env


def require_tmux() -> str:
    """The tmux executable; skip the test without one, or fail it in CI, where it must run."""
    executable = shutil.which("tmux")
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail(
                "tmux is not installed: CI must run the end-to-end tests (apt install tmux)"
            )
        pytest.skip("tmux is not installed")
    return executable


def installed_asrtui() -> Path:
    """The installed console script; the end-to-end tests cannot run without it."""
    if not os.access(ASRTUI, os.X_OK):
        pytest.fail(
            f"the asrtui console script is missing at {ASRTUI}: install the project into this "
            "environment first (pip install -e .)"
        )
    return ASRTUI


@dataclass
class TmuxServer:
    """A private tmux server: its own socket name and configuration file.

    Attributes:
        executable: the tmux program.
        socket: the server's socket name (``tmux -L``), unique to the test run.
        config: the server's configuration file (``tmux -f``), read when it starts.
        screen_check: called with every captured screen (a test's secret scan, say); it fails
            the test by raising.
    """

    executable: str
    socket: str
    config: Path
    screen_check: Callable[[str], None] | None = None

    def argv(self, *args: str) -> list[str]:
        """The command line of a tmux client of this server running ``args``."""
        return [self.executable, "-u", "-L", self.socket, "-f", str(self.config), *args]

    def run(self, *args: str, check: bool = True) -> str:
        """Run one tmux command on the server; its stdout (``check``: fail on error)."""
        # Outside any tmux, as far as this client knows: the tests may run inside the
        # developer's tmux, whose ``TMUX`` would point this client at it.
        env = {k: v for k, v in os.environ.items() if k != "TMUX"}
        env["LC_ALL"] = "C.UTF-8"
        done = subprocess.run(
            self.argv(*args),
            env=env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def new_session(
        self, name: str, command: str, *, width: int, height: int, cwd: Path | None = None
    ) -> None:
        """Start a detached session ``name`` of ``width`` x ``height`` running ``command``."""
        where = ["-c", str(cwd)] if cwd is not None else []
        self.run(
            "new-session", "-d", "-s", name, "-x", str(width), "-y", str(height), *where, command
        )  # fmt: skip

    def client_argv(self, target: str, term: str) -> list[str]:
        """The command line of a client of this server that attaches to ``target``.

        Run in a pane of the same server, it is a real client on a real terminal, as when an
        operator attaches. ``TMUX`` (which tmux sets in its panes) is removed: with it, tmux
        refuses to attach from inside itself.
        """
        env = ["env", "-u", "TMUX", f"TERM={term}", "LC_ALL=C.UTF-8"]
        return [*env, *self.argv("attach", "-t", target)]

    def capture(self, target: str, *, history: bool = False) -> str:
        """The pane's visible text (``history``: from the start of its history), checked."""
        screen = self.run("capture-pane", "-p", *(["-S", "-"] if history else []), "-t", target)
        if self.screen_check is not None:
            self.screen_check(screen)
        return screen

    def display(self, target: str, fmt: str) -> str:
        """A tmux format evaluated for the pane (``#{alternate_on}`` and the like)."""
        return self.run("display-message", "-p", "-t", target, fmt).strip()

    def keys(self, target: str, *keys: str, literal: bool = False) -> None:
        """Type keys into the pane (``literal``: the text as it is, not key names)."""
        self.run("send-keys", "-t", target, *(["-l"] if literal else []), *keys)

    def resize(self, target: str, width: int, height: int) -> None:
        """Give the window of ``target`` a size of its own, as a resized terminal would.

        ``window-size manual`` first: otherwise tmux sizes the window after its clients (or,
        with none, the session's default size). ``resize-window`` sets it too since tmux 3.1,
        but saying so keeps the meaning plain.
        """
        self.run("set-option", "-w", "-t", target, "window-size", "manual")
        self.run("resize-window", "-t", target, "-x", str(width), "-y", str(height))

    def wait_for(
        self,
        target: str,
        check: Callable[[str], bool],
        what: str,
        timeout: float,
        why: Callable[[str], str] | None = None,
    ) -> str:
        """Capture the pane until ``check`` holds for the screen; fail after ``timeout`` s.

        ``why`` says what is wrong with the last screen, for the failure message.
        """
        deadline = time.monotonic() + timeout
        while True:
            screen = self.capture(target)
            if check(screen):
                return screen
            if time.monotonic() >= deadline:
                reason = f" ({why(screen)})" if why is not None else ""
                pytest.fail(
                    f"timed out after {timeout:g} s waiting for {what}{reason}; screen:\n{screen}"
                )
            time.sleep(POLL)

    def kill_session(self, target: str) -> None:
        """End the session and whatever runs in it (nothing if it is gone already)."""
        self.run("kill-session", "-t", target, check=False)

    def kill(self) -> None:
        """End the server and remove its socket file (tmux leaves it behind)."""
        subprocess.run(
            [self.executable, "-L", self.socket, "kill-server"],
            capture_output=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        socket_dir = Path(os.environ.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}"
        (socket_dir / self.socket).unlink(missing_ok=True)


@contextmanager
def private_server(
    name: str,
    directory: Path,
    config: str = "",
    screen_check: Callable[[str], None] | None = None,
) -> Iterator[TmuxServer]:
    """A tmux server on a private socket with ``config``, killed when the block ends.

    Skips the test without tmux (fails it in CI). The server itself starts with its first
    session, and stays until the block ends even when it has none left.

    Args:
        name: the start of the socket name (the process id and a counter make it unique).
        directory: where the configuration file is written.
        config: the server's configuration (empty: tmux's defaults).
        screen_check: called with every captured screen.
    """
    executable = require_tmux()
    config_file = directory / "tmux.conf"
    # The server outlives its last session (it is killed at the end instead). Otherwise a test
    # that kills its session while it is the only one makes the server exit, and a session
    # started next can reach it while it exits: "server exited unexpectedly", seen on loaded
    # machines (6 in 60 new-session/kill-session pairs on one server here, 0 with this).
    config_file.write_text(f"set -s exit-empty off\n{config}", encoding="utf-8")
    server = TmuxServer(
        executable, f"{name}-{os.getpid()}-{time.monotonic_ns()}", config_file, screen_check
    )
    try:
        yield server
    finally:
        server.kill()


# -- reading the console off the screen ------------------------------------------------------

TMUX_CONF = """\
set -g status off
set -g remain-on-exit on
set -sg escape-time 10
set -g default-shell /bin/sh
"""

# A table row: optional new/ended marker, the (possibly cut) task id, then a status word.
_ROW = re.compile(r"^ {0,3}[+x]? {0,2}(asr-[0-9a-f][0-9a-f-]*)…? +([a-z]+)\b", re.MULTILINE)
# ``12/12 tasks`` at the end of the status line, ``12/12`` in its compact form (80 columns, with
# "bell off" beside it: the demo starts with the bell off).
_COUNTS = re.compile(r"│ (\d+)/(\d+)(?: tasks)?(?:  bell off)?$")
# The data age on the status line: ``↻ 4s``, ``↻ 2m05s``, ``↻ 3h12m``.
_AGE = re.compile(r"↻ (\d+)([dhms])(?:(\d+)([hms]))?")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


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


def data_age(screen: str) -> int | None:
    """Seconds since the last good answer, as the status line says (``None``: not shown)."""
    match = _AGE.search(status_line(screen))
    if match is None:
        return None
    seconds = int(match[1]) * _UNIT_SECONDS[match[2]]
    if match[3] is not None:
        seconds += int(match[3]) * _UNIT_SECONDS[match[4]]
    return seconds


# The detail pane's edge: a rule above it (narrow) or beside it (wide), heavy while it has focus.
_HEAVY = {"━", "┃"}
_LIGHT = {"─", "│"}


@dataclass(frozen=True)
class DetailPane:
    """The detail pane as a capture shows it.

    Attributes:
        focused: its edge is heavy (``━``/``┃``): the pane has the focus, its keys are live.
        lines: its text, top to bottom (right of the rule when wide, below it when narrow).
    """

    focused: bool
    lines: list[str]

    @property
    def first(self) -> str:
        """Its first line: the task id title, until the pane is scrolled."""
        return self.lines[0] if self.lines else ""


def detail_pane(screen: str) -> DetailPane | None:
    """The detail pane on the screen, ``None`` when no edge of one is drawn.

    Below the table: the first line that is a rule across at least 2/5 of the width (toasts
    cover the right part of lower rows, never that much). Beside it: the column of a vertical
    rule on the table's header row, on most rows below.
    """
    lines = screen.split("\n")
    width = max((len(line) for line in lines), default=0)
    for number, line in enumerate(lines[1:-1], 1):
        head = line[: max(1, width * 2 // 5)]
        if head and set(head) <= _HEAVY | _LIGHT and len(set(head)) == 1:
            body = [row.rstrip() for row in lines[number + 1 : -1]]
            return DetailPane(head[0] in _HEAVY, body)
    header = next((line for line in lines[1:4] if re.match(r"^ +ID", line)), None)
    if header is None:
        return None
    column = max(header.find("┃"), header.find("│"))
    if column <= 0:
        return None
    start = lines.index(header)
    body = [row[column + 1 :].rstrip() for row in lines[start:-1]]
    return DetailPane(header[column] in _HEAVY, body)


def key_bar(screen: str) -> str:
    """The last line of the screen (the console's key bar)."""
    lines = screen.rstrip("\n").split("\n")
    return lines[-1] if lines else ""
