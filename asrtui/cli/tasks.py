"""The ``tasks``, ``stop`` and ``delete`` subcommands: the API from a shell or a script."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TextIO

from asrtui.cli.connection import environment, resolve_connection
from asrtui.cli.hookopts import add_hook_options, hook_specs, hooks_of
from asrtui.cli.journal import record
from asrtui.cli.output import render_table
from asrtui.cli.watch import watch
from asrtui.client import LiveClient
from asrtui.connect import Connection, open_client
from asrtui.errors import AsrtuiError, ConfigError, TaskNotFoundError
from asrtui.events import action_event
from asrtui.models import Task
from asrtui.output import WireJsonRuns, iter_csv, iter_json, iter_wire_json
from asrtui.printable import printable_line
from asrtui.taskid import normalize_task_id
from asrtui.wire import flat_task_objects, parse_tasks
from asrtui.wire.stream import TaskObjectStream

__all__ = ["confirm", "register", "run_delete", "run_stop", "run_tasks"]

#: Awaited between two rounds of ``--watch`` (tests replace it).
watch_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    *,
    parents: Sequence[argparse.ArgumentParser] = (),
) -> None:
    """Add ``tasks``, ``stop`` and ``delete`` to the root parser."""
    tasks = subparsers.add_parser(
        "tasks",
        parents=list(parents),
        help="list running tasks (or one task) and exit",
        description="List the account's running real-time ASR tasks.",
    )
    tasks.add_argument("--task-id", metavar="ID", help="show only this task")
    tasks.add_argument(
        "--format", choices=("table", "json", "csv"), default="table", help="output format"
    )
    tasks.add_argument(
        "--watch",
        metavar="SECONDS",
        type=_non_negative_float,
        help="repeat every SECONDS until Ctrl-C, which exits 130 (0: as fast as the rate limit "
        "allows); with --format json one JSON object per round (NDJSON), with csv the header once",
    )
    tasks.add_argument(
        "--changes",
        action="store_true",
        help="with --watch: print only tasks appeared, ended and changed, one event per line "
        "(a JSON object each with --format json)",
    )
    tasks.add_argument(
        "--reveal-secrets",
        action="store_true",
        help="show stream auth_key tokens and account ids unmasked",
    )
    # Suppressed defaults: given before the subcommand (``asrtui --on-event X tasks``), the
    # root's value stays.
    add_hook_options(tasks, suppress=True)
    tasks.set_defaults(func=run_tasks)

    for name, verb in (("stop", "Stop"), ("delete", "Delete")):
        sub = subparsers.add_parser(
            name,
            parents=list(parents),
            help=f"{name} a task",
            description=f"{verb} a real-time ASR task.",
        )
        sub.add_argument("task_id", metavar="TASK_ID")
        sub.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
        sub.set_defaults(func=run_stop if name == "stop" else run_delete)


def _now() -> datetime:
    return datetime.now(UTC)


def error_code(error: AsrtuiError) -> str:
    """The error's code (``Throttling.User``), else its kind (``ConnectError``)."""
    code = getattr(error, "code", "")
    return code if isinstance(code, str) and code else type(error).__name__


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 86400.0:
        raise argparse.ArgumentTypeError("must be between 0 and 86400 seconds")
    return value


def _render(tasks: Sequence[Task], fmt: str, *, reveal: bool) -> Iterator[str]:
    """The output of one listing in pieces, ending with its newline, to write as they come.

    JSON and CSV are written a few hundred tasks at a time (`asrtui.output.iter_json`), so a
    listing of 100,000 tasks starts at once and is never held whole as text. (``--watch``
    writes its rounds itself: `asrtui.cli.watch`.)
    """
    if fmt == "json":
        yield from iter_json(tasks, reveal=reveal)
        yield "\n"
    elif fmt == "csv":
        yield from iter_csv(tasks, reveal=reveal)  # each row ends with its newline
    else:
        yield render_table(tasks, reveal=reveal) + "\n"


async def _fetch(client: LiveClient, task_id: str | None, *, priority: bool) -> list[Task]:
    if task_id is None:
        return list((await client.list_tasks(priority=priority)).tasks)
    task = await client.get_task(task_id, priority=priority)
    if task is None:
        raise TaskNotFoundError(
            "ConfigNotFound",
            f"Task {task_id} not found",
            "the task does not exist (it may have ended)",
        )
    return [task]


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Keep the cyclic garbage collector out of reading and writing one listing.

    A listing makes a few objects per task that all live until it is written: the collector,
    triggered by every 700 new objects, would walk all of them again and again, a cost that
    grows faster than the task count (a third of the time at 50,000 tasks). They hold no
    cycles, so reference counting frees them; collecting resumes after each listing.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


async def _tasks(args: argparse.Namespace, connection: Connection, out: TextIO) -> int:
    async with open_client(connection) as client:
        if args.watch is not None:

            async def fetch(client: LiveClient, first: bool) -> list[Task]:
                # The first answer is awaited by a person: it goes ahead. Later rounds are
                # background work; as priority requests, a ``--watch 0`` loop would take every
                # slot of the shared quota and starve the consoles of the same account.
                return await _fetch(client, args.task_id, priority=first)

            hooks = hooks_of(args, lambda text: print(f"asrtui: {text}", file=sys.stderr))
            try:
                return await watch(client, fetch, args, out, watch_sleep, hooks=hooks)
            finally:
                for hook in hooks:
                    await hook.aclose()
        with _no_cycle_collection():
            if args.format == "json" and args.task_id is None:
                pieces = await _listing_json(client, reveal=args.reveal_secrets)
            else:
                tasks = await _fetch(client, args.task_id, priority=True)
                pieces = _render(tasks, args.format, reveal=args.reveal_secrets)
            for piece in pieces:
                out.write(piece)
        out.flush()
        return 0


async def _listing_json(client: LiveClient, *, reveal: bool) -> Iterator[str]:
    """``tasks --format json``'s pieces, the usual answer written without parsing its tasks.

    The text is the same either way (`asrtui.output.iter_wire_json`); an answer of another
    shape is parsed as always, with its tolerance and its errors. A large usual answer is
    masked and encoded while it arrives (`asrtui.wire.stream.TaskObjectStream`), and written only
    once it has arrived whole and been checked: an answer that fails prints nothing.
    """
    attempts: list[tuple[TaskObjectStream, WireJsonRuns]] = []

    def body_reader() -> TaskObjectStream:
        runs = WireJsonRuns(reveal=reveal)
        stream = TaskObjectStream(runs.add)
        attempts[:] = [(stream, runs)]  # a retry starts again; the last attempt's answer counts
        return stream

    answer = await client.list_tasks_answer(priority=True, body_reader=body_reader)
    if attempts:
        stream, runs = attempts.pop()
        if stream.finish(answer):
            return _json_pieces(iter(runs.pieces()))
        del stream, runs  # what it built, if anything, is dropped
    objects = flat_task_objects(answer)
    if objects is None:
        return _render(parse_tasks(answer).tasks, "json", reveal=reveal)
    return _json_pieces(iter_wire_json(objects, reveal=reveal))


def _json_pieces(pieces: Iterator[str]) -> Iterator[str]:
    yield from pieces
    yield "\n"


def run_tasks(args: argparse.Namespace) -> int:
    """``asrtui tasks``: print the running tasks; with ``--watch``, until Ctrl-C (exit 130)."""
    if args.task_id is not None:
        args.task_id = normalize_task_id(args.task_id)
    if args.changes and args.watch is None:
        raise ConfigError("--changes needs --watch", "add --watch SECONDS")
    if hook_specs(args) and args.watch is None:
        raise ConfigError("--on-event needs --watch here", "add --watch SECONDS")
    connection = resolve_connection(args, environment())
    try:
        return asyncio.run(_tasks(args, connection, sys.stdout))
    except KeyboardInterrupt:
        if args.watch is not None:
            # What was printed is complete lines; the interruption is the way a watch ends.
            return 130
        raise


def confirm(question: str, *, stdin: TextIO | None = None, stdout: TextIO | None = None) -> bool:
    """Ask a yes/no question on the terminal; refuse (`ConfigError`) without one.

    Raises:
        ConfigError: stdin is not a terminal, so nobody can answer (pass ``--yes``).
    """
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    if not stdin.isatty():
        raise ConfigError(
            "Refusing to act without confirmation: standard input is not a terminal",
            "pass --yes to confirm",
        )
    stdout.write(f"{question} [y/N] ")
    stdout.flush()
    answer = stdin.readline()
    return answer.strip().lower() in {"y", "yes"}


def _act(args: argparse.Namespace, verb: str, past: str) -> int:
    task_id = normalize_task_id(args.task_id)
    shown = printable_line(task_id)  # as typed, but never a line break or an escape sequence
    connection = resolve_connection(args, environment())
    if connection.read_only:
        # The client refuses too, before any request; refused here, nobody is asked first.
        raise connection.read_only.refusal(f"{verb.lower()} task {shown}")
    if not args.yes and not confirm(f"{verb} task {shown}?"):
        print("Cancelled.", file=sys.stderr)
        return 1

    async def act() -> None:
        async with open_client(connection) as client:
            if verb == "Stop":
                await client.stop_task(task_id)
            else:
                await client.delete_task(task_id)

    try:
        asyncio.run(act())
    except AsrtuiError as error:
        record(
            connection,
            action_event(verb.lower(), _now(), task_id=task_id, ok=False, note=error_code(error)),
        )
        raise
    record(connection, action_event(verb.lower(), _now(), task_id=task_id, note="command line"))
    print(f"{past} task {shown}.")
    return 0


def run_stop(args: argparse.Namespace) -> int:
    """``asrtui stop TASK_ID``: stop a task after confirmation (or ``--yes``)."""
    return _act(args, "Stop", "Stopped")


def run_delete(args: argparse.Namespace) -> int:
    """``asrtui delete TASK_ID``: delete a task after confirmation (or ``--yes``)."""
    return _act(args, "Delete", "Deleted")
