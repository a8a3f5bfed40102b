"""The entry point: parse arguments, resolve the connection, run a subcommand or the console.

The wiring of credentials, limiter, signing, transport and client is `asrtui.connect`'s; this
module hands the console its `TaskSource` and is the only place allowed to catch every
exception: whatever happens, the user gets one line on stderr and an exit code, never a
traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import gc
import logging
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from asrtui.errors import AsrtuiError, CredentialsError
from asrtui.redact import redact_text

if TYPE_CHECKING:
    from asrtui.connect import Connection
    from asrtui.hooks import HookSpec
    from asrtui.protocols import ProfileSession
    from asrtui.record import Recorder

__all__ = ["launch_console", "main", "run"]

_log = logging.getLogger("asrtui")

# httpx imports its own command-line client (click, pygments, rich.progress) whenever those are
# installed, and next to Textual they are: some 25 ms of every start, for a tool asrtui never
# runs. A module marked absent fails to import, and httpx then puts a stub in its place. So that
# this comes first, the modules that import httpx (the client, the CLI) are imported below, in
# the functions that need them.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def launch_console(args: argparse.Namespace) -> int:
    """Open the interactive console on the resolved connection (demo or real).

    The clients are opened in the console's own event loop and closed when the console exits,
    so no connection pool outlives (or straddles) the loop it belongs to. With nothing
    configured at all (no profile, no environment credentials, no ``--demo``), a terminal
    gets the first-run screen, and anything else (a pipe, cron) the one-line hint saying what
    to run, with exit code 2.

    Returns:
        The console's exit code; 2 when the console is not installed.
    """
    from asrtui.cli.connection import environment, overrides_of, resolve_connection

    env = environment()
    try:
        connection: Connection | None = resolve_connection(args, env)
    except CredentialsError as error:
        if not (_nothing_configured(error) and _interactive()):
            raise
        connection = None
    first_run = connection is None
    from asrtui.tasksource import ClientConnector
    from asrtui.ui.app import FirstAnswer, run_console_async
    from asrtui.ui.settings import ConsoleSettings

    demo = connection is not None and connection.demo
    state_path = None if demo else _state_path()
    if state_path is not None:
        # Checked now: a state directory that cannot hold the theme is a configuration
        # error to fix before the broadcast, not a surprise in the middle of it.
        from asrtui.files import usable_directory

        usable_directory(
            state_path.parent,
            "the state directory",
            "point XDG_STATE_HOME at a writable directory",
        )
    connector = ClientConnector(
        env=env,
        overrides=overrides_of(args),
        demo_only=demo,
        offer_demo=first_run,
    )
    new_recorder = _recorder_factory(args)
    settings = ConsoleSettings(
        # The demo remembers nothing and does not ring; real sessions keep the chosen theme.
        state_path=state_path,
        new_recorder=new_recorder,
        bell=not demo,
    )

    async def run() -> int:
        asyncio.get_running_loop().call_later(GC_PAUSE_SECONDS, gc.enable)
        async with connector:
            if connection is None:
                return await run_console_async(None, settings, connector=connector)
            session = await connector.start(connection)
            # Asked now, the first answer is on its way while Textual starts up.
            first = FirstAnswer(session.source, settings.monotonic)
            recorder = new_recorder(session)
            try:
                return await run_console_async(
                    session.source,
                    replace(
                        settings,
                        refresh_interval=_refresh_of(args) or session.settings.refresh,
                        read_only=session.read_only,
                        recorder=recorder,
                    ),
                    connector=connector,
                    first_answer=first,
                )
            finally:
                first.cancel()
                for made in new_recorder.made:
                    await made.aclose()

    with _gc_paused():
        return asyncio.run(run())


class _RecorderFactory:
    """Makes each console session's record: the profile's journal (none for the demo) and the
    alert hooks of ``--on-event``; keeps them all, to close them when the console exits."""

    def __init__(self, specs: list[HookSpec]) -> None:
        self.specs = specs
        self.made: list[Recorder] = []

    def __call__(self, session: ProfileSession) -> Recorder:
        from asrtui.record import Recorder

        # The journal's and the hooks' code is loaded only for a session that has them: the
        # demo writes no journal, and most sessions run no hook (start-up time).
        demo = session.demo
        journal = None
        if not demo:
            from asrtui.journal import Journal, journal_path

            journal = Journal(journal_path(session.source.profile_name))
        recorder = Recorder(journal)
        specs = list(self.specs)
        chosen = session.settings
        if not demo and chosen.on_event is not None:
            from asrtui.hooks import parse_hook

            try:
                specs.append(parse_hook(chosen.on_event, chosen.on_event_kinds))
            except ValueError as error:
                # Said in the console (once), which runs on without that hook.
                name = session.source.profile_name
                recorder.hook_failed(f"Profile {name!r}: on_event not run: {error}")
        if specs:
            from asrtui.hooks import HookRunner

            recorder.hooks = [HookRunner(spec, recorder.hook_failed) for spec in specs]
        self.made.append(recorder)
        return recorder


def _recorder_factory(args: argparse.Namespace) -> _RecorderFactory:
    """Checked before the console starts: a bad ``--on-event`` is a usage error (exit 2)."""
    from asrtui.cli.hookopts import hook_specs

    return _RecorderFactory(hook_specs(args))


#: Seconds the garbage collector stays off while the console starts (see `_gc_paused`).
GC_PAUSE_SECONDS = 2.0


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Keep the cyclic garbage collector out of the console's start-up.

    Starting the console creates tens of thousands of objects that live as long as it does
    (modules, styles, widgets), and the collector would scan them all several times before the
    first frame: some 50 ms, three times what it costs a bare Textual app. So what exists
    now (the imported modules) is frozen out of every later collection, and collecting is off
    until `GC_PAUSE_SECONDS` into the session (the running console turns it back on), by which
    time the first frame is on screen. Everything is restored on the way out.
    """
    was_enabled = gc.isenabled()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def _refresh_of(args: argparse.Namespace) -> float | None:
    value = getattr(args, "refresh", None)
    return float(value) if isinstance(value, (int, float)) else None


def _nothing_configured(error: CredentialsError) -> bool:
    """Whether ``error`` says there is nothing at all to connect with.

    No option, no variable, no profile: a broken profile file is *something* configured, and
    reported as it is. `resolve_connection` tells, so a start reads the profile files once.
    """
    # Imported here: `asrtui --demo` starts without the profile store (start-up time); an
    # error that says nothing is configured came from it, so it is loaded by now.
    from asrtui.credentials.chain import NothingConfiguredError

    return isinstance(error, NothingConfiguredError)


def _interactive() -> bool:
    """Whether a person is at a terminal (stdin and stdout both TTYs) to fill in a form."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def _state_path() -> Path:
    """Where the console remembers small UI state (the theme) between sessions."""
    import platformdirs

    return platformdirs.user_state_path("asrtui") / "console.json"


def _dispatch(args: argparse.Namespace, *, collect: bool) -> int:
    func = getattr(args, "func", None)
    if func is None:
        return launch_console(args)
    if collect:
        gc.enable()  # see `main`
    return int(func(args))


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - stdout without a file descriptor
        pass


def _crash_report(exc: BaseException) -> str:
    """Write a redacted crash report and say where it is (or why it could not be written)."""
    from asrtui.logs import write_crash_report

    try:
        path = write_crash_report(exc)
    except OSError as error:
        return f"could not write a crash report: {error.strerror or type(error).__name__}"
    return f"a crash report (secrets redacted) is in {path}; please attach it to a bug report"


def _say(text: str) -> None:
    """Print ``asrtui: text`` on stderr as one line, whatever characters ``text`` quotes.

    An error can quote what the user typed or what a server sent: a line break there would
    make two lines of one, an escape sequence would drive the terminal (`printable_line`), and a
    URL in it could carry a token or a password (`redact_text`, the rule of every output).
    """
    from asrtui.printable import printable_line

    print(f"asrtui: {printable_line(redact_text(text))}", file=sys.stderr)


def _start_logging(args: argparse.Namespace) -> None:
    """``--log-level``: a rotating, redacted log file; without it asrtui writes no log."""
    level = getattr(args, "log_level", None)
    if level:
        from asrtui.logs import setup_logging

        setup_logging(level)


def main(argv: Sequence[str] | None = None) -> int:
    """Run asrtui with ``argv`` (``sys.argv[1:]`` by default) and return the exit code.

    Exit codes: 0 success; 1 an API or network failure (one line on stderr); 2 a usage or
    configuration error; 130 interrupted with Ctrl-C.
    """
    # Importing and parsing make many objects and little garbage: the cyclic collector stays
    # off until the command runs (for the console, until it has started: see `_gc_paused`).
    collect = gc.isenabled()
    gc.disable()
    try:
        return _run(argv, collect=collect)
    finally:
        if collect:
            gc.enable()


def _run(argv: Sequence[str] | None, *, collect: bool) -> int:
    from asrtui.cli import build_parser, check_options, console_arguments

    arguments = sys.argv[1:] if argv is None else list(argv)
    try:
        # Opening the console needs no subcommand's parser (nor its modules: start-up time).
        args = console_arguments(arguments)
        if args is None:
            parser = build_parser()
            check_options(parser, arguments)
            args = parser.parse_args(arguments)
    except SystemExit as exc:
        # argparse already printed usage/help/version; keep its code (2 for usage errors).
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    try:
        _start_logging(args)
        return _dispatch(args, collect=collect)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (``asrtui tasks | head``): stop quietly, as other tools do.
        _silence_stdout()
        return 1
    except AsrtuiError as error:
        _say(str(error))
        return error.exit_code
    except Exception as exc:  # the top level: never a traceback
        _log.debug("unexpected error", exc_info=True)
        detail = redact_text(" ".join(str(exc).split())[:200])
        _say(f"unexpected error: {type(exc).__name__}: {detail}")
        _say(_crash_report(exc))
        return 1


def run() -> NoReturn:
    """The ``asrtui`` command (and ``python -m asrtui``): `main`, then `exit_quickly`."""
    exit_quickly(main())


def exit_quickly(code: int) -> NoReturn:
    """End the process with ``code`` without the interpreter's teardown, when nothing needs it.

    Tearing down frees every module and object one by one: 50-60 ms of CPU after a command
    has written its last line, some 15 % of ``asrtui tasks`` at 10,000 tasks, and the same
    after every command run by a script. What the teardown does that matters still happens:
    the ``atexit`` functions run (logging's shutdown, which flushes and closes the log file,
    among them) and the standard streams are flushed. Otherwise the usual exit: while a thread
    other than this one still runs (the usual exit waits for it), or when flushing fails (a
    reader gone away: the usual exit reports it as it always did).
    """
    if threading.active_count() == 1:
        try:
            atexit._run_exitfuncs()
            for stream in (sys.stdout, sys.stderr):
                if stream is not None:
                    stream.flush()
        except Exception:  # whatever it was, the usual exit deals with it
            sys.exit(code)
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    run()
