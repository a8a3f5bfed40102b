"""SIGHUP and SIGTERM end the console cleanly: in process, in tmux, and on a real terminal hang-up.

The in-process tests send the signal to the test process itself, with a harmless Python handler
in place first, so that a broken implementation fails the test instead of killing the run.

The end-to-end tests start the installed ``asrtui --demo`` (the console script next to the
running interpreter), as an operator would, and need the console to call
`asrtui.ui.lifecycle.install_exit_signals` (or ``exit_signals``) while it runs; without that,
the default action kills it with the signal and they fail. They wait by polling with bounded
deadlines, never with fixed sleeps.
"""

from __future__ import annotations

import asyncio
import os
import pty
import select
import shlex
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from asrtui.ui.lifecycle import (
    ESCALATE_AFTER,
    exit_code_for,
    exit_signals,
    install_exit_signals,
    silence_dead_terminal,
    terminal_hung_up,
)
from tests.support.fakes import FakeTaskSource, running_console
from tests.support.tmux import (
    TmuxServer,
    console_env,
    installed_asrtui,
    private_server,
    task_counts,
)

ROOT = Path(__file__).resolve().parent.parent
#: How long the console may take to draw its first screen (a cold start on a busy machine).
START_TIMEOUT = 30.0
#: How soon the console must be gone after the signal.
EXIT_TIMEOUT = 10.0
POLL = 0.05

SIGNALS = [
    pytest.param(signal.SIGHUP, id="SIGHUP"),
    pytest.param(signal.SIGTERM, id="SIGTERM"),
]


@dataclass
class Sentinel:
    """A Python signal handler that only counts, standing in for the process's previous one."""

    calls: list[int] = field(default_factory=list)

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.calls.append(signum)


@pytest.fixture
def sentinel() -> Iterator[Sentinel]:
    """Put a counting handler on SIGHUP and SIGTERM for the test; restore the real ones after."""
    handler = Sentinel()
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGHUP, signal.SIGTERM)}
    for sig in before:
        signal.signal(sig, handler)
    try:
        yield handler
    finally:
        for sig, previous in before.items():
            signal.signal(sig, previous if previous is not None else signal.SIG_DFL)


@dataclass
class StubApp:
    """An app that records exit requests and keeps running (a console stuck on its way out)."""

    is_running: bool = True
    return_code: int | None = None
    exits: list[int] = field(default_factory=list)

    def exit(self, result: Any = None, return_code: int = 0, message: Any = None) -> None:
        self.exits.append(return_code)


async def until(condition: Callable[[], bool], turns: int = 200) -> None:
    """Let the loop run (it reads the signal's wake-up byte) until ``condition`` holds."""
    for _ in range(turns):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("the condition never held")


# -- in process ------------------------------------------------------------------------------


@pytest.mark.parametrize("sig", SIGNALS)
async def test_the_signal_ends_the_console_and_restore_puts_the_old_handler_back(
    sentinel: Sentinel, sig: signal.Signals
) -> None:
    async with running_console(FakeTaskSource.with_tasks(3)) as console:
        app = console.app
        restore = install_exit_signals(app)
        assert signal.getsignal(sig) is not sentinel
        os.kill(os.getpid(), sig)
        await until(lambda: not app.is_running)
    assert app.return_code == exit_code_for(sig) == 128 + sig
    assert sentinel.calls == []
    restore()
    restore()  # twice is harmless
    # The console is over: the next signal reaches the handler that was there before.
    os.kill(os.getpid(), sig)
    await until(lambda: bool(sentinel.calls))
    assert sentinel.calls == [sig]
    assert signal.getsignal(sig) is sentinel


async def test_a_signal_after_the_console_ended_goes_to_the_previous_handler(
    sentinel: Sentinel,
) -> None:
    async with running_console() as console:
        app = console.app
        install_exit_signals(app)  # never restored: the console quits with "q"
        await console.pilot.press("q")
        await until(lambda: not app.is_running)
    assert app.return_code == 0
    os.kill(os.getpid(), signal.SIGTERM)
    await until(lambda: bool(sentinel.calls))
    assert sentinel.calls == [signal.SIGTERM]
    # Handed back for good: the next one goes straight to the previous handler too.
    assert signal.getsignal(signal.SIGTERM) is sentinel
    assert signal.getsignal(signal.SIGHUP) is sentinel


async def test_a_console_stuck_on_its_way_out_is_ended_by_a_later_signal(
    sentinel: Sentinel,
) -> None:
    now = [100.0]
    app = StubApp()
    restore = install_exit_signals(app, clock=lambda: now[0])
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        await until(lambda: len(app.exits) == 1)
        # A second signal right after the first (a shell forwarding the kernel's SIGHUP) only
        # asks again.
        now[0] += ESCALATE_AFTER / 2
        os.kill(os.getpid(), signal.SIGHUP)
        await until(lambda: len(app.exits) == 2)
        assert app.exits == [143, 129]
        assert sentinel.calls == []
        now[0] += ESCALATE_AFTER
        os.kill(os.getpid(), signal.SIGTERM)
        await until(lambda: bool(sentinel.calls))
    finally:
        restore()
    assert sentinel.calls == [signal.SIGTERM]
    assert app.exits == [143, 129]
    assert signal.getsignal(signal.SIGTERM) is sentinel


async def test_nested_installations_take_turns(sentinel: Sentinel) -> None:
    outer, inner = StubApp(), StubApp()
    restore_outer = install_exit_signals(outer, [signal.SIGTERM])
    restore_inner = install_exit_signals(inner, [signal.SIGTERM])
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        await until(lambda: inner.exits == [143])
        restore_inner()
        os.kill(os.getpid(), signal.SIGTERM)
        await until(lambda: outer.exits == [143])
        assert inner.exits == [143]
        # An installation whose app is over steps aside for the one below it.
        inner_again = install_exit_signals(StubApp(is_running=False, return_code=0), [15])
        os.kill(os.getpid(), signal.SIGTERM)
        await until(lambda: len(outer.exits) == 2)
        inner_again()
    finally:
        restore_outer()
    assert sentinel.calls == []
    assert signal.getsignal(signal.SIGTERM) is sentinel


async def test_exit_signals_installs_for_the_block_only(sentinel: Sentinel) -> None:
    app = StubApp()
    with exit_signals(app, [signal.SIGTERM]):
        assert signal.getsignal(signal.SIGTERM) is not sentinel
        assert signal.getsignal(signal.SIGHUP) is sentinel
        os.kill(os.getpid(), signal.SIGTERM)
        await until(lambda: app.exits == [143])
    assert signal.getsignal(signal.SIGTERM) is sentinel


def test_without_a_running_loop_nothing_is_installed(sentinel: Sentinel) -> None:
    restore = install_exit_signals(StubApp())
    assert signal.getsignal(signal.SIGTERM) is sentinel
    restore()
    assert signal.getsignal(signal.SIGTERM) is sentinel


def test_off_the_main_thread_nothing_is_installed(sentinel: Sentinel) -> None:
    outcome: list[BaseException | None] = []

    async def install() -> None:
        install_exit_signals(StubApp())()

    def run() -> None:
        try:
            asyncio.run(install())
        except BaseException as exc:  # reported to the test thread below
            outcome.append(exc)
        else:
            outcome.append(None)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    assert outcome == [None]
    assert signal.getsignal(signal.SIGTERM) is sentinel
    assert signal.getsignal(signal.SIGHUP) is sentinel


class _FdStream:
    """The part of a text stream `silence_dead_terminal` uses."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def fileno(self) -> int:
        return self._fd


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to read an fd")
def test_a_hung_up_terminal_is_detected_and_its_output_silenced(tmp_path: Path) -> None:
    master, slave = os.openpty()
    plain = os.open(tmp_path / "file", os.O_WRONLY | os.O_CREAT)
    try:
        assert not terminal_hung_up(slave)
        assert silence_dead_terminal([_FdStream(slave), _FdStream(plain), None]) == []  # type: ignore[list-item]
        os.close(master)  # the SSH link drops: the terminal's other end is gone
        assert terminal_hung_up(slave)
        assert not terminal_hung_up(plain)
        assert silence_dead_terminal([_FdStream(slave), _FdStream(plain)]) == [slave]  # type: ignore[list-item]
        assert os.readlink(f"/proc/self/fd/{slave}") == os.devnull
        os.write(slave, b"written to nowhere, without an error")
    finally:
        os.close(slave)
        os.close(plain)


# -- end to end ---------------------------------------------------------------------------------


@pytest.fixture
def asrtui_script() -> Path:
    """The installed console script; these tests cannot run without it."""
    return installed_asrtui()


@pytest.fixture
def tmux(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TmuxServer]:
    """A private tmux server with tmux's default configuration, for one test."""
    with private_server("asrtui-signals", tmp_path_factory.mktemp("tmux")) as server:
        yield server


#: Runs the console as a child, reports how it ended, then keeps the pane open so its terminal
#: modes can be read: a negative code means killed by that signal, as `subprocess` reports it.
_WRAPPER = """
import subprocess, sys
pid_file, *argv = sys.argv[1:]
child = subprocess.Popen(argv)
with open(pid_file, "w") as out:
    out.write(str(child.pid))
print(f"EXIT={child.wait()}", flush=True)
sys.stdin.readline()
"""


@pytest.mark.e2e
@pytest.mark.parametrize("sig", SIGNALS)
def test_installed_console_in_tmux_exits_cleanly_on_signal(
    tmux: TmuxServer, asrtui_script: Path, sig: signal.Signals, tmp_path: Path
) -> None:
    pid_file = tmp_path / "console.pid"
    env = [f"{name}={value}" for name, value in console_env("PYTHONPATH").items()]
    command = shlex.join(
        [
            "exec",
            "env",
            "TERM=screen-256color",
            *env,
            sys.executable,
            "-c",
            _WRAPPER,
            str(pid_file),
            str(asrtui_script),
            "--demo",
        ]
    )
    tmux.new_session("sig", command, width=100, height=30, cwd=ROOT)
    tmux.wait_for(
        "sig",
        # The task counts end the status line (``13/13 tasks``, or ``13/13`` when narrow).
        lambda s: task_counts(s) is not None,
        "the console's status line",
        START_TIMEOUT,
    )
    assert tmux.display("sig", "#{alternate_on} #{mouse_any_flag}") == "1 1"
    os.kill(int(pid_file.read_text()), sig)
    tmux.wait_for("sig", lambda s: "EXIT=" in s, "the console to exit", EXIT_TIMEOUT)
    screen = tmux.capture("sig", history=True)
    # Ended by itself with 128 + the signal, not killed by the signal's default action.
    assert f"EXIT={128 + sig}" in screen, screen
    # The terminal is back in its normal state: main screen, no mouse reporting, cursor shown
    # (the console's output precedes the wrapper's line, so tmux has read all of it by now).
    modes = tmux.display("sig", "#{alternate_on} #{mouse_any_flag} #{cursor_flag}")
    assert modes == "0 0 1", screen
    assert "Traceback" not in screen
    assert "Error" not in screen


def _read_until(fd: int, marker: bytes, timeout: float) -> bytes:
    """Read the child's terminal output until ``marker`` shows up (or fail at ``timeout``)."""
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            pytest.fail(f"no {marker!r} within {timeout:g} s; output ends {seen[-300:]!r}")
        ready, _, _ = select.select([fd], [], [], min(left, 0.2))
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                pytest.fail(f"the terminal closed early; output ends {seen[-300:]!r}")
            if not chunk:
                pytest.fail(f"the terminal closed early; output ends {seen[-300:]!r}")
            seen += chunk
    return seen


def _wait_exit(pid: int, timeout: float) -> int:
    """The child's wait status once it has exited; kill it and fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if time.monotonic() >= deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail(f"still running {timeout:g} s after its terminal hung up")
        time.sleep(POLL)


def _spawn_on_a_terminal(argv: list[str]) -> tuple[int, int]:
    """Start ``argv`` as a session leader on a new terminal of 100x30; ``(pid, master fd)``."""
    env = {**console_env("PYTHONPATH"), "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
    pid, master = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.chdir(ROOT)
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    import fcntl
    import struct
    import termios

    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    return pid, master


@pytest.mark.e2e
def test_installed_console_ends_when_its_terminal_hangs_up(asrtui_script: Path) -> None:
    """The SSH link drops: the kernel hangs up the terminal and sends SIGHUP."""
    pid, master = _spawn_on_a_terminal([str(asrtui_script), "--demo"])
    try:
        _read_until(master, b"tasks", START_TIMEOUT)
    finally:
        os.close(master)
    status = _wait_exit(pid, EXIT_TIMEOUT)
    assert not os.WIFSIGNALED(status), f"killed by signal {os.WTERMSIG(status)}"
    assert os.waitstatus_to_exitcode(status) == exit_code_for(signal.SIGHUP)


_STUCK_CONSOLE = """
import asyncio, sys
from asrtui.ui.lifecycle import install_exit_signals

class Stuck:
    is_running = True
    return_code = None
    def exit(self, result=None, return_code=0, message=None):
        pass

async def main():
    install_exit_signals(Stuck(), hangup_grace=0.3)
    print("READY", flush=True)
    while True:
        await asyncio.sleep(3600)

asyncio.run(main())
"""


def test_a_console_that_cannot_end_after_a_hang_up_is_killed() -> None:
    pid, master = _spawn_on_a_terminal([sys.executable, "-c", _STUCK_CONSOLE])
    try:
        _read_until(master, b"READY", START_TIMEOUT)
    finally:
        os.close(master)
    status = _wait_exit(pid, EXIT_TIMEOUT)
    assert os.WIFSIGNALED(status)
    assert os.WTERMSIG(status) == signal.SIGKILL


# -- a terminal that goes away without a signal ---------------------------------------------


async def test_a_terminal_that_hangs_up_without_a_signal_ends_the_console(
    sentinel: Sentinel,
) -> None:
    master, slave = os.openpty()
    app = StubApp()
    restore = install_exit_signals(app, terminal_fds=[slave], hangup_poll=0.01)
    try:
        await asyncio.sleep(0.05)
        assert app.exits == []  # a terminal that is there is left alone
        os.close(master)
        await until(lambda: bool(app.exits), turns=2000)
        assert app.exits == [exit_code_for(signal.SIGHUP)]
    finally:
        restore()
        os.close(slave)
    assert sentinel.calls == []


async def test_no_terminal_to_watch_means_no_polling(sentinel: Sentinel) -> None:
    read_end, write_end = os.pipe()  # not a terminal: nothing to watch
    app = StubApp()
    restore = install_exit_signals(app, terminal_fds=[], hangup_poll=0.01)
    try:
        os.close(write_end)
        await asyncio.sleep(0.05)
        assert app.exits == []
    finally:
        restore()
        os.close(read_end)


_DETACHED_CONSOLE = """
import os, sys
pid = os.fork()
if pid == 0:
    os.setsid()  # its own session: the terminal's hang-up sends it no SIGHUP
    os.execv(sys.argv[2], sys.argv[2:])
open(sys.argv[1], "w").write(str(pid))
os.waitpid(pid, 0)
"""


@pytest.mark.e2e
def test_installed_console_ends_when_its_terminal_goes_away_without_a_sighup(
    asrtui_script: Path, tmp_path: Path
) -> None:
    """The tmux server dies, or a wrapper takes the SIGHUP: the console must not linger."""
    pid_file = tmp_path / "console.pid"
    pid, master = _spawn_on_a_terminal(
        [sys.executable, "-c", _DETACHED_CONSOLE, str(pid_file), str(asrtui_script), "--demo"]
    )
    try:
        _read_until(master, b"cn-shanghai", START_TIMEOUT)
    finally:
        os.close(master)
    _wait_exit(pid, EXIT_TIMEOUT)  # the wrapper, which had the SIGHUP
    console = int(pid_file.read_text())
    deadline = time.monotonic() + EXIT_TIMEOUT
    while Path(f"/proc/{console}").exists():
        state = Path(f"/proc/{console}/stat").read_text().split(")")[-1].split()[0]
        if state == "Z":
            break
        if time.monotonic() >= deadline:
            os.kill(console, signal.SIGKILL)
            pytest.fail(f"the console still ran {EXIT_TIMEOUT:g} s after its terminal went away")
        time.sleep(POLL)


async def test_a_hang_up_found_by_the_watch_is_handled_once(sentinel: Sentinel) -> None:
    master, slave = os.openpty()
    app = StubApp()  # a console that keeps running: only the watchdog may end it
    restore = install_exit_signals(app, terminal_fds=[slave], hangup_poll=0.01, hangup_grace=3600)
    try:
        os.close(master)
        await until(lambda: bool(app.exits), turns=2000)
        await asyncio.sleep(0.1)  # ten more polls' worth: none may escalate to the old handler
        assert app.exits == [exit_code_for(signal.SIGHUP)]
        assert sentinel.calls == []
    finally:
        restore()
        os.close(slave)
