"""How the console ends when the process is told to: SIGHUP (the SSH link dropped) and SIGTERM.

Python's default for both is to die on the spot: the terminal stays in the alternate screen with
mouse reporting on, and whatever the app was doing stops mid-way. Routed through the running
event loop instead, a signal asks the app to exit like the ``q`` key does, so Textual restores the
terminal and every worker is cancelled at an ``await`` (files are written atomically, so none is
ever left half-written).

When the terminal itself is gone (a hung-up SSH session) there is nothing left to restore, and
every write to it fails. On SIGHUP with a hung-up terminal the console's output is pointed at
``/dev/null`` first, so the shutdown's writes go nowhere instead of failing, and a watchdog
thread kills the process if it has not ended `HANGUP_GRACE` seconds later: an orphaned console
that nobody can see must never linger, polling the account's shared quota.

A terminal can also go away without a signal reaching the console (the tmux server killed, a
wrapper that took the SIGHUP itself): Textual's input thread then reads end-of-file in a busy
loop, and the orphan would spin at half a core for ever. So while the console runs, the
terminal it started on is checked every `HANGUP_POLL` seconds, and a hang-up found there is
handled exactly as a SIGHUP.

The handlers are the event loop's (``loop.add_signal_handler``), so they run in the loop between
two callbacks, never in the middle of one; where the loop cannot install them (not the main
thread, or a platform without Unix signals) installing does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import signal
import sys
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO

from textual.app import App

__all__ = [
    "ESCALATE_AFTER",
    "EXIT_SIGNALS",
    "HANGUP_GRACE",
    "HANGUP_POLL",
    "exit_code_for",
    "exit_signals",
    "install_exit_signals",
    "silence_dead_terminal",
    "terminal_hung_up",
]

#: Signals that end the console cleanly: the SSH link dropping, and a polite kill.
EXIT_SIGNALS: tuple[signal.Signals, ...] = tuple(
    sig for sig in (getattr(signal, "SIGHUP", None), getattr(signal, "SIGTERM", None)) if sig
)

#: Seconds after a first signal from which another one ends the process the default way. Not
#: at once: on an SSH drop the shell may forward a second SIGHUP right after the kernel's.
ESCALATE_AFTER = 2.0

#: Seconds a console whose terminal has hung up may take to end before it is killed outright.
HANGUP_GRACE = 5.0

#: Seconds between two checks that the console's terminal is still there.
HANGUP_POLL = 2.0

_Handler = Callable[[int, Any], Any] | int | None


class _Exiting(Protocol):
    """What the handlers need of an app: `App` has both."""

    @property
    def is_running(self) -> bool:
        """Whether the app is running (its message loop has not ended)."""
        ...

    @property
    def return_code(self) -> int | None:
        """The exit code once the app has exited (``None`` before)."""
        ...

    def exit(self, result: Any = None, return_code: int = 0, message: Any = None) -> None:
        """Ask the app to exit with ``return_code``."""
        ...


def exit_code_for(signum: int) -> int:
    """The exit code of a process ended by ``signum``: 128 + its number, as shells report it.

    The same convention gives 130 for Ctrl-C, which the headless commands already use.
    """
    return 128 + signum


def terminal_hung_up(fd: int) -> bool:
    """Whether the other end of ``fd`` has gone (``POLLHUP``/``POLLERR``), as after an SSH drop.

    Not ``isatty``: a hung-up terminal no longer answers terminal ioctls, so it is not a tty
    any more by that test; poll still reports the hang-up (a plain file never does).
    """
    try:
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        return any(events & (select.POLLHUP | select.POLLERR) for _, events in poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return False


def silence_dead_terminal(streams: Iterable[TextIO | None] | None = None) -> list[int]:
    """Point the console's output at ``/dev/null`` where the terminal behind it has hung up.

    Args:
        streams: the streams to check; the process's original stdout and stderr by default
            (Textual writes to ``sys.__stderr__``).

    Returns:
        The file descriptors that were redirected.
    """
    redirected: list[int] = []
    for stream in (sys.__stdout__, sys.__stderr__) if streams is None else streams:
        if stream is None:
            continue
        try:
            fd = stream.fileno()
        except (OSError, ValueError):
            continue
        if not terminal_hung_up(fd):
            continue
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, fd)
                redirected.append(fd)
            finally:
                os.close(devnull)
    return redirected


def _kill_self() -> None:
    """End this process at once (the default action of SIGKILL: no handler can stop it)."""
    os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class _Chain:
    """The installations on one loop for one signal: the newest handles it, the rest wait."""

    previous: _Handler
    handlers: list[Callable[[int], None]] = field(default_factory=list)


#: Per loop and signal, the installations in order. The loop holds one handler per signal, so
#: nested installations (the app's own, and a test's or a caller's) take turns through this.
_CHAINS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, _Chain]] = (
    weakref.WeakKeyDictionary()
)


def _dispatch(loop: asyncio.AbstractEventLoop, signum: int) -> None:
    chain = _CHAINS.get(loop, {}).get(signum)
    if chain is not None and chain.handlers:
        chain.handlers[-1](signum)


def _push(loop: asyncio.AbstractEventLoop, signum: int, handler: Callable[[int], None]) -> None:
    """Make ``handler`` the one that handles ``signum`` on ``loop``.

    Raises:
        NotImplementedError, RuntimeError, ValueError, OSError: the loop cannot handle signals.
    """
    chains = _CHAINS.setdefault(loop, {})
    chain = chains.get(signum)
    if chain is None:
        previous = signal.getsignal(signum)
        loop.add_signal_handler(signum, _dispatch, loop, signum)
        chain = chains[signum] = _Chain(previous)
    chain.handlers.append(handler)


def _pop(loop: asyncio.AbstractEventLoop, signum: int, handler: Callable[[int], None]) -> None:
    """Remove ``handler``; the last one out gives the signal back to the previous handler."""
    chains = _CHAINS.get(loop, {})
    chain = chains.get(signum)
    if chain is None:
        return
    if handler in chain.handlers:
        chain.handlers.remove(handler)
    if chain.handlers:
        return
    del chains[signum]
    with contextlib.suppress(RuntimeError, ValueError, OSError):
        loop.remove_signal_handler(signum)
    if chain.previous is not None:
        with contextlib.suppress(RuntimeError, ValueError, OSError):
            signal.signal(signum, chain.previous)


def install_exit_signals(
    app: App[Any] | _Exiting,
    signals: Iterable[int] = EXIT_SIGNALS,
    *,
    loop: asyncio.AbstractEventLoop | None = None,
    clock: Callable[[], float] | None = None,
    hangup_grace: float = HANGUP_GRACE,
    terminal_fds: Iterable[int] | None = None,
    hangup_poll: float = HANGUP_POLL,
) -> Callable[[], None]:
    """Make ``signals`` end ``app`` cleanly (``app.exit``) instead of killing the process.

    Call it with the event loop the app runs in already running (from ``on_mount``, or from
    the coroutine that awaits ``app.run_async()``). The app exits with `exit_code_for` the
    signal as its return code. A signal that arrives after the app has ended, or another one
    `ESCALATE_AFTER` seconds or more after the first while the app is still ending, goes on to
    whatever handled it before (for SIGTERM and SIGHUP by default: the process ends), so a
    console stuck on its way out can still be killed and the handlers never outlive the
    console. Installations nest: the newest handles the signal, and removing it hands the
    signal back to the one before.

    Args:
        app: the app to end.
        signals: the signals to handle; SIGHUP and SIGTERM by default.
        loop: the loop to install on; the running loop by default.
        clock: monotonic seconds for `ESCALATE_AFTER`; the loop's clock by default.
        hangup_grace: seconds after a SIGHUP whose terminal has hung up before the process is
            killed if it has not ended by then.
        terminal_fds: the terminal to watch for a hang-up that came without a SIGHUP; the
            process's stdin and stdout where they are terminals, by default.
        hangup_poll: seconds between two of those checks.

    Returns:
        A function that removes the handlers, restores the previous ones and cancels the
        watchdog; safe to call twice. Where nothing could be installed it does nothing.
    """
    if loop is None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return lambda: None
    running_loop = loop
    now_of = clock or loop.time
    installed: list[int] = []
    watchdog: list[threading.Timer] = []
    asked_at: float | None = None

    polling: list[asyncio.TimerHandle] = []

    def restore() -> None:
        while watchdog:
            watchdog.pop().cancel()
        while polling:
            polling.pop().cancel()
        while installed:
            _pop(running_loop, installed.pop(), on_signal)

    def on_signal(signum: int) -> None:
        nonlocal asked_at
        now = now_of()
        over = not app.is_running and app.return_code is not None
        stuck = asked_at is not None and now - asked_at >= ESCALATE_AFTER
        if over or stuck:
            # Step aside: the console is over, or it was asked to end a while ago and is still
            # running, and a later SIGTERM must still end the process.
            restore()
            _forward(running_loop, signum)
            return
        if asked_at is None:
            asked_at = now
        if signum == getattr(signal, "SIGHUP", None) and silence_dead_terminal() and not watchdog:
            timer = threading.Timer(hangup_grace, _kill_self)
            timer.daemon = True
            timer.start()
            watchdog.append(timer)
        app.exit(return_code=exit_code_for(signum))

    for signum in signals:
        try:
            _push(loop, signum, on_signal)
        except (NotImplementedError, RuntimeError, ValueError, OSError):
            continue
        installed.append(signum)
    hangup = getattr(signal, "SIGHUP", None)
    watched = _terminal_fds() if terminal_fds is None else list(terminal_fds)
    if hangup is not None and hangup in installed and watched:

        def check_terminal() -> None:
            polling.clear()
            if any(terminal_hung_up(fd) for fd in watched):
                # As if the SIGHUP had come, once: its watchdog ends a console that cannot end,
                # after `HANGUP_GRACE`; another check here would escalate at `ESCALATE_AFTER`.
                on_signal(hangup)
            elif installed:
                polling.append(running_loop.call_later(hangup_poll, check_terminal))

        polling.append(loop.call_later(hangup_poll, check_terminal))
    return restore


def _terminal_fds() -> list[int]:
    """The process's stdin and stdout, where they are terminals."""
    fds: list[int] = []
    for stream in (sys.__stdin__, sys.__stdout__):
        with contextlib.suppress(AttributeError, OSError, ValueError):
            fd = stream.fileno()  # type: ignore[union-attr]
            if os.isatty(fd) and fd not in fds:
                fds.append(fd)
    return fds


def _forward(loop: asyncio.AbstractEventLoop, signum: int) -> None:
    """Hand ``signum`` to the installation below, or raise it again for the previous handler."""
    chain = _CHAINS.get(loop, {}).get(signum)
    if chain is not None and chain.handlers:
        chain.handlers[-1](signum)
    else:
        signal.raise_signal(signum)


@contextlib.contextmanager
def exit_signals(app: App[Any] | _Exiting, signals: Iterable[int] = EXIT_SIGNALS) -> Iterator[None]:
    """`install_exit_signals` for the duration of a ``with`` block (around ``run_async``)."""
    restore = install_exit_signals(app, signals)
    try:
        yield
    finally:
        restore()
