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
from collections.abc import Sequence
from pathlib import Path

import platformdirs

from asrtui.cli import build_parser, environment, open_client, resolve_connection
from asrtui.errors import AsrtuiError
from asrtui.redact import redact_text

__all__ = ["launch_console", "main"]

_log = logging.getLogger("asrtui")


def launch_console(args: argparse.Namespace) -> int:
    """Open the interactive console on the resolved connection (demo or real).

    The client is opened in the console's own event loop and closed when the console exits,
    so the connection pool never outlives (or straddles) the loop it belongs to.

    Returns:
        The console's exit code; 2 when the console is not installed.
    """
    connection = resolve_connection(args, environment())
    try:
        from asrtui.ui.app import run_console_async
        from asrtui.ui.settings import ConsoleSettings
    except ImportError:
        print("asrtui: console not available yet; try 'asrtui tasks'", file=sys.stderr)
        return 2
    from asrtui.tasksource import ClientTaskSource

    client = open_client(connection)
    source = ClientTaskSource(
        client, profile_name=connection.profile_name, region=connection.region
    )
    settings = ConsoleSettings(
        refresh_interval=connection.refresh,
        read_only=connection.read_only,
        # The demo remembers nothing; real sessions keep the chosen theme.
        state_path=None if connection.demo else _state_path(),
    )

    async def run() -> int:
        async with client:
            return await run_console_async(source, settings)

    return asyncio.run(run())


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
