"""The composition root: parse arguments, resolve the connection, run a subcommand or the console.

This is the only place that wires limiter, signing, transport and client into the `TaskSource`
the console sees, and the only place allowed to catch every exception: whatever happens, the
user gets one line on stderr and an exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import platformdirs

from asrtui.cli import build_parser, environment, resolve_connection
from asrtui.errors import AsrtuiError
from asrtui.profiles import ProfileStore
from asrtui.profiles.env import env_value
from asrtui.redact import redact_text

__all__ = ["launch_console", "main"]

_log = logging.getLogger("asrtui")


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
    env = environment()
    first_run = _nothing_configured(args, env) and _interactive()
    connection = None if first_run else resolve_connection(args, env)
    try:
        from asrtui.ui.app import run_console_async
        from asrtui.ui.settings import ConsoleSettings
    except ImportError:
        print("asrtui: console not available yet; try 'asrtui tasks'", file=sys.stderr)
        return 2
    from asrtui.tasksource import ClientConnector, Overrides

    demo = connection is not None and connection.demo
    connector = ClientConnector(
        env=env,
        overrides=Overrides(
            profile=_option(args, "profile"),
            region=_option(args, "region"),
            endpoint=_option(args, "endpoint"),
            signature=_option(args, "signature"),
        ),
        demo_only=demo,
        offer_demo=first_run,
    )
    settings = ConsoleSettings(
        # The demo remembers nothing; real sessions keep the chosen theme.
        state_path=None if demo else _state_path(),
    )

    async def run() -> int:
        async with connector:
            if connection is None:
                return await run_console_async(None, settings, connector=connector)
            session = await connector.start(connection)
            return await run_console_async(
                session.source,
                replace(
                    settings,
                    refresh_interval=session.refresh_interval,
                    read_only=session.read_only,
                ),
                connector=connector,
            )

    return asyncio.run(run())


def _option(args: argparse.Namespace, name: str) -> str | None:
    value = getattr(args, name, None)
    return value if isinstance(value, str) and value else None


def _nothing_configured(args: argparse.Namespace, env: Mapping[str, str]) -> bool:
    """Whether there is nothing at all to connect with: no option, no variable, no profile.

    A broken profile file is *something* configured: `resolve_connection` reports it.
    """
    if getattr(args, "demo", False) or _option(args, "profile"):
        return False
    if any(env_value(env, name) for name in ("ACCESS_KEY_ID", "ACCESS_KEY_SECRET", "PROFILE")):
        return False
    try:
        return not ProfileStore().load().profiles
    except AsrtuiError:
        return False


def _interactive() -> bool:
    """Whether a person is at a terminal (stdin and stdout both TTYs) to fill in a form."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def _state_path() -> Path:
    """Where the console remembers small UI state (the theme) between sessions."""
    return platformdirs.user_state_path("asrtui") / "console.json"


def _dispatch(args: argparse.Namespace) -> int:
    func = getattr(args, "func", None)
    if func is None:
        return launch_console(args)
    return int(func(args))


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - stdout without a file descriptor
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run asrtui with ``argv`` (``sys.argv[1:]`` by default) and return the exit code.

    Exit codes: 0 success; 1 an API or network failure (one line on stderr); 2 a usage or
    configuration error; 130 interrupted with Ctrl-C.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(None if argv is None else list(argv))
    except SystemExit as exc:
        # argparse already printed usage/help/version; keep its code (2 for usage errors).
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (``asrtui tasks | head``): stop quietly, as other tools do.
        _silence_stdout()
        return 1
    except AsrtuiError as error:
        print(f"asrtui: {error}", file=sys.stderr)
        return error.exit_code
    except Exception as exc:  # the top level: never a traceback
        _log.debug("unexpected error", exc_info=True)
        detail = redact_text(" ".join(str(exc).split())[:200])
        print(f"asrtui: unexpected error: {type(exc).__name__}: {detail}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
