"""``asrtui create``: start a new task, or restart one (``--like TASK_ID``), from a shell.

Every value is checked against the documented rules (`asrtui.taskspec`) before anything is
sent; a wrong one is named by its option with the rule, exit 2. A value the service rejects
is shown next to the option it names, exit 1. The settings are shown (masked) and confirmed
unless ``--yes``; read-only refuses before asking.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from asrtui.cli.connection import environment, resolve_connection
from asrtui.cli.journal import record
from asrtui.cli.tasks import confirm, error_code
from asrtui.connect import Connection, open_client
from asrtui.errors import ApiError, AsrtuiError, ConfigError, TaskNotFoundError
from asrtui.events import action_event
from asrtui.printable import printable_line
from asrtui.taskid import normalize_task_id
from asrtui.taskspec import (
    FIELDS,
    LANGUAGES,
    MAINTENANCE_NOTE,
    MODES,
    TaskSpec,
    field_of_error,
    summary_lines,
    validate,
    values_of_task,
)

__all__ = ["register", "run_create"]

_RULES = {rule.key: rule for rule in FIELDS}


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    *,
    parents: Sequence[argparse.ArgumentParser] = (),
) -> None:
    """Add ``create`` to the root parser."""
    sub = subparsers.add_parser(
        "create",
        parents=list(parents),
        help="create a task (CreateRtcAsrTask), or restart one with --like TASK_ID",
        description="Create a real-time ASR task. Every value is checked before it is sent. "
        + MAINTENANCE_NOTE,
        epilog="Examples: asrtui create --mode live --language cn --callback-url default "
        "--stream-url 'http://pull.example.com/live/s.flv?auth_key=...';  "
        "asrtui create --like asr-... (a new task with the same settings; options change them)",
    )
    sub.add_argument(
        "--like", metavar="TASK_ID", help="start from the settings of this task (a restart)"
    )

    def add(key: str, **extra: object) -> None:
        rule = _RULES[key]
        sub.add_argument(rule.option, dest=key, help=f"{rule.api}: {rule.rule}", **extra)  # type: ignore[arg-type]

    add("mode", choices=MODES, metavar="live|rtc")
    add("language", metavar="|".join(LANGUAGES))
    add("callback_url", metavar="URL")
    add("stream_url", metavar="URL")
    add("sdk_app_id", metavar="ID")
    add("channel_id", metavar="ID")
    add("rtc_user_id", metavar="ID")
    add("translate_enabled", action=argparse.BooleanOptionalAction, default=None)
    add("target_languages", metavar="LANGS")
    add("report_interval", metavar="MS")
    add("auto_terminate_enabled", action=argparse.BooleanOptionalAction, default=None)
    add("auto_terminate_delay", metavar="SECONDS")
    sub.add_argument(
        "--auth-key-stdin",
        dest="auth_key_stdin",
        action="store_true",
        help="AuthKey: read it from the first line of standard input (a secret is never an "
        "argument, which every user of the machine can list)",
    )
    sub.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    sub.set_defaults(func=run_create)


def _option_error(key: str, problem: str) -> str:
    rule = _RULES[key]
    return f"{rule.option} ({rule.api}): {problem}"


def run_create(args: argparse.Namespace) -> int:
    """``asrtui create``: check, confirm, send; print the new task's id."""
    connection = resolve_connection(args, environment())
    like = normalize_task_id(args.like) if args.like else None
    verb = "restart" if like else "create"
    if connection.read_only:
        raise connection.read_only.refusal(f"{verb} a task")
    given = {rule.key: getattr(args, rule.key, None) for rule in FIELDS if rule.key != "auth_key"}
    if args.auth_key_stdin:
        given["auth_key"] = sys.stdin.readline().rstrip("\r\n")

    async def base() -> dict[str, object]:
        if like is None:
            return {}
        async with open_client(connection) as client:
            task = await client.get_task(like, priority=True)
        if task is None:
            raise TaskNotFoundError(
                "ConfigNotFound",
                f"Task {printable_line(like)} not found",
                "the API keeps ended tasks only for a while; give every option instead",
            )
        return values_of_task(task)

    values = asyncio.run(base())
    values.update({key: value for key, value in given.items() if value is not None})
    spec, errors = validate(values)
    if spec is None:
        lines = [_option_error(key, problem) for key, problem in errors.items()]
        raise ConfigError(
            "Not sent, " + "; ".join(lines), "correct the values (asrtui create --help)"
        )
    if not args.yes:
        print(f"{'Restart ' + like + ' as a new task' if like else 'Create a task'} with:")
        print("\n".join(summary_lines(spec)))
        if not confirm("Send?"):
            print("Cancelled.", file=sys.stderr)
            return 1
    task_id = _send(connection, spec, verb, like)
    print(task_id)
    return 0


def _send(connection: Connection, spec: TaskSpec, verb: str, like: str | None) -> str:
    now = datetime.now(UTC)

    async def create() -> str:
        async with open_client(connection) as client:
            return await client.create_task(**spec.arguments())

    try:
        task_id = asyncio.run(create())
    except AsrtuiError as error:
        record(
            connection,
            action_event(verb, now, ok=False, note=error_code(error), like=like, **spec.masked()),
        )
        if isinstance(error, ApiError):
            key = field_of_error(error.message)
            if key is not None:
                # The server's words, next to the option they are about.
                error.message = _option_error(key, f"rejected by the service: {error.message}")
        raise
    record(connection, action_event(verb, now, task_id=task_id, like=like, **spec.masked()))
    return task_id
