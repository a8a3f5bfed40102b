"""``asrtui tasks --watch``: one round after another, written so that scripts can read it.

Each format is a stream a script reads line by line:

- ``json``: NDJSON, one object per round: ``{"time", "round", "tasks": [...]}``, or
  ``{"time", "round", "error": {...}}`` when the round failed (a transient failure is reported
  this way and the watch goes on; a lasting one ends it with its exit code);
- ``csv``: the header once, then the rows of every round, each led by the round's time and
  number (``time,round,task_id,...``);
- ``table``: the table of each round (the screen cleared first on a terminal);
- ``--on-event CMD``: the alert hooks (`asrtui.hooks`) get the events of each round (tasks
  appeared, ended, changed; API errors began and ended, throttling) as the console's do;
- ``--changes``: only what changed, one event per line (`asrtui.events`): a JSON object each
  with ``--format json``, else a readable line. The first round reports every task present as
  appeared, so a script starting late still learns what is running.

Ctrl-C ends the watch with exit code 130, like other tools, after the last complete line.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from asrtui.cli.output import render_csv, render_json, render_table
from asrtui.client import LiveClient
from asrtui.errors import AsrtuiError
from asrtui.events import ErrorEpisodes, Event, diff_tasks, event_line
from asrtui.hooks import HookRunner
from asrtui.models import Task
from asrtui.output import CSV_COLUMNS
from asrtui.printable import printable_json, printable_line
from asrtui.redact import redact_text

__all__ = ["Fetch", "watch"]

#: Fetches one round: ``priority`` is true for the first round only.
Fetch = Callable[[LiveClient, bool], Awaitable[list[Task]]]


def _now() -> datetime:
    return datetime.now(UTC)


def _error_object(error: AsrtuiError) -> dict[str, Any]:
    record: dict[str, Any] = {
        "type": type(error).__name__,
        "message": redact_text(str(error)),
        "retryable": error.retryable,
    }
    code = getattr(error, "code", "")
    if code:
        record["code"] = code
    return record


def _json_line(record: dict[str, Any]) -> str:
    return printable_json(json.dumps(record, ensure_ascii=False, separators=(",", ":")))


def _round_text(
    tasks: list[Task], fmt: str, *, reveal: bool, stamp: str, number: int, header: bool
) -> str:
    if fmt == "json":
        objects = json.loads(render_json(tasks, reveal=reveal, compact=True))
        return _json_line({"time": stamp, "round": number, "tasks": objects})
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(render_csv(tasks, reveal=reveal))))[1:]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if header:
            writer.writerow(("time", "round", *CSV_COLUMNS))
        for row in rows:
            writer.writerow((stamp, number, *row))
        return buffer.getvalue().rstrip("\n")
    return render_table(tasks, reveal=reveal)


async def watch(
    client: LiveClient,
    fetch: Fetch,
    args: argparse.Namespace,
    out: TextIO,
    sleep: Callable[[float], Awaitable[None]],
    *,
    clock: Callable[[], datetime] = _now,
    hooks: Sequence[HookRunner] = (),
) -> int:
    """Print rounds until interrupted (`KeyboardInterrupt` goes to the caller).

    Raises:
        AsrtuiError: a failure that retrying will not mend (bad key, no permission...), after
            its error object (``--format json``) is printed.
    """
    interval: float = args.watch
    fmt: str = args.format
    changes_only: bool = getattr(args, "changes", False)
    previous: dict[str, Task] | None = None
    number = 0
    header_written = False
    episodes = ErrorEpisodes()

    def tell(events: Sequence[Event | None]) -> None:
        for event in events:
            if event is not None:
                for hook in hooks:
                    hook.offer(event)

    while True:
        number += 1
        now = clock()
        stamp = now.isoformat(timespec="seconds")
        text = ""
        try:
            tasks = await fetch(client, number == 1)
        except AsrtuiError as error:
            tell([episodes.failed(error, now)])
            if fmt == "json":
                text = _json_line({"time": stamp, "round": number, "error": _error_object(error)})
                print(text, file=out, flush=True)
            if not error.retryable:
                raise
            if fmt != "json":
                print(f"asrtui: {printable_line(str(error))}", file=sys.stderr, flush=True)
        else:
            events = diff_tasks(previous, tasks, now) if changes_only or hooks else []
            previous = {task.task_id: task for task in tasks}
            tell([episodes.succeeded(now), *events])
            if changes_only:
                lines = [e.to_line() if fmt == "json" else event_line(e) for e in events]
                text = "\n".join(lines)
            else:
                if fmt == "table" and out.isatty():
                    out.write("\x1b[H\x1b[2J")
                text = _round_text(
                    tasks,
                    fmt,
                    reveal=args.reveal_secrets,
                    stamp=stamp,
                    number=number,
                    header=not header_written,
                )
                header_written = True
            if text:
                print(text, file=out, flush=True)
        await sleep(interval)
