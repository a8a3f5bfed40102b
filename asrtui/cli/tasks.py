"""The ``tasks``, ``stop`` and ``delete`` subcommands: the API from a shell or a script."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import TextIO

from asrtui.cli.connection import environment, resolve_connection
from asrtui.cli.output import render_table
from asrtui.client import LiveClient
from asrtui.connect import Connection, open_client
from asrtui.errors import AsrtuiError, ConfigError, TaskNotFoundError
from asrtui.models import Task
from asrtui.output import iter_csv, iter_json
from asrtui.printable import printable_line
from asrtui.taskid import normalize_task_id

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
        help="repeat every SECONDS until Ctrl-C (0: as fast as the rate limit allows)",
    )
    tasks.add_argument(
        "--reveal-secrets",
        action="store_true",
        help="show stream auth_key tokens and account ids unmasked",
    )
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


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 86400.0:
        raise argparse.ArgumentTypeError("must be between 0 and 86400 seconds")
    return value


def _render(tasks: Sequence[Task], fmt: str, *, reveal: bool, watching: bool) -> Iterator[str]:
    """The output of one listing in pieces, ending with its newline, to write as they come.

    JSON and CSV are written a few hundred tasks at a time (`asrtui.output.iter_json`), so a
    listing of 100,000 tasks starts at once and is never held whole as text.
    """
    if fmt == "json":
        # One compact array per line while watching, so the stream stays line-oriented.
        yield from iter_json(tasks, reveal=reveal, compact=watching)
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
    watch: float | None = args.watch
    async with open_client(connection) as client:
        first = True
        while True:
            # The first answer is awaited by a person: it goes ahead. Later rounds of a watch are
            # background work; as priority requests, a ``--watch 0`` loop would take every slot
            # of the shared quota and starve the consoles of the same account.
            priority, first = first, False
            try:
                with _no_cycle_collection():
                    tasks = await _fetch(client, args.task_id, priority=priority)
            except AsrtuiError as error:
                # While watching, a transient failure is reported and the watch goes on.
                if watch is None or not error.retryable:
                    raise
                print(f"asrtui: {printable_line(str(error))}", file=sys.stderr)
            else:
                if watch is not None and args.format == "table" and out.isatty():
                    out.write("\x1b[H\x1b[2J")
                with _no_cycle_collection():
                    for piece in _render(
                        tasks, args.format, reveal=args.reveal_secrets, watching=watch is not None
                    ):
                        out.write(piece)
                out.flush()
                del tasks  # a watch holds one listing at a time
            if watch is None:
                return 0
            await watch_sleep(watch)


def run_tasks(args: argparse.Namespace) -> int:
    """``asrtui tasks``: print the running tasks; with ``--watch``, until Ctrl-C (exit 0)."""
    if args.task_id is not None:
        args.task_id = normalize_task_id(args.task_id)
    connection = resolve_connection(args, environment())
    try:
        return asyncio.run(_tasks(args, connection, sys.stdout))
    except KeyboardInterrupt:
        if args.watch is not None:
            return 0
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

    asyncio.run(act())
    print(f"{past} task {shown}.")
    return 0


def run_stop(args: argparse.Namespace) -> int:
    """``asrtui stop TASK_ID``: stop a task after confirmation (or ``--yes``)."""
    return _act(args, "Stop", "Stopped")


def run_delete(args: argparse.Namespace) -> int:
    """``asrtui delete TASK_ID``: delete a task after confirmation (or ``--yes``)."""
    return _act(args, "Delete", "Deleted")
