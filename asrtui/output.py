"""Task lists as JSON and CSV text: one definition for ``asrtui tasks`` and the console's export.

The command line prints these to a terminal and the console writes them to a file; both are
read by people and scripts alike, so they are the same text:

- JSON: an array of the task objects with the wire field names as the API sent them, unknown
  fields kept (`asrtui.wire.task_to_wire`);
- CSV: a header row and one row per task with every known field (`CSV_COLUMNS`).

Secrets (tokens in any URL field, known or not, URL passwords, ``aliUid``) are masked by
`asrtui.redact` unless ``reveal`` is asked for: JSON, CSV and the command line's table show the
same masked values. Text from the server never drives a terminal the output is shown on:
JSON writes the invisible and control characters as ``\\uXXXX`` (the same JSON), CSV cells
show them escaped (`asrtui.printable`). A CSV cell that a spreadsheet would evaluate as a
formula (a tag ``=HYPERLINK(...)``) is prefixed with ``'``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from asrtui.jsontext import to_text
from asrtui.models import Task
from asrtui.printable import printable_json, printable_line
from asrtui.redact import redact_task, redact_task_dict
from asrtui.wire import task_to_wire, unread_value

__all__ = ["CSV_COLUMNS", "render_csv", "render_json", "task_values"]

#: The CSV columns, in order: every known field of `Task`, the most used first.
CSV_COLUMNS = (
    "task_id",
    "status",
    "mode",
    "language",
    "target_languages",
    "tag",
    "created_at",
    "updated_at",
    "stream_url",
    "callback_url",
    "translate_enabled",
    "report_interval",
    "auto_terminate_delay",
    "ali_uid",
)

# Leading characters that make spreadsheets evaluate a cell as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def render_json(tasks: Sequence[Task], *, reveal: bool = False, compact: bool = False) -> str:
    """A JSON array of the tasks' wire objects; ``compact`` puts it on one line.

    Non-ASCII text stays readable; invisible and control characters are escaped.
    """
    objects: list[dict[str, Any]] = []
    for task in tasks:
        wire = task_to_wire(task)
        objects.append(wire if reveal else redact_task_dict(wire))
    # `to_text` writes a value kept as text for its depth back verbatim, and never raises.
    return printable_json(to_text(objects, indent=None if compact else 2))


def task_values(task: Task, *, reveal: bool = False) -> dict[str, str]:
    """The task's `CSV_COLUMNS` as plain strings, secrets masked unless ``reveal``.

    Not yet escaped: each output escapes them its own way (and a table cuts them to width).
    """

    def text(value: object, field: str = "") -> str:
        if value is None:  # absent, or sent but not readable: then what was sent
            return unread_value(task, field) or "" if field else ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, datetime):
            return value.isoformat()
        return str(value)

    if not reveal:
        task = redact_task(task)
    return {
        "task_id": task.task_id,
        "status": task.status_label,
        "mode": task.mode,
        "language": task.language,
        "target_languages": ",".join(task.target_languages),
        "tag": task.tag,
        "created_at": text(task.created_at, "created_at"),
        "updated_at": text(task.updated_at, "updated_at"),
        "stream_url": task.stream_url,
        "callback_url": task.callback_url,
        "translate_enabled": text(task.translate_enabled, "translate_enabled"),
        "report_interval": text(task.report_interval, "report_interval"),
        "auto_terminate_delay": text(task.auto_terminate_delay, "auto_terminate_delay"),
        "ali_uid": task.ali_uid,
    }


def _cell(value: str) -> str:
    shown = printable_line(value)
    # A tag such as "=HYPERLINK(...)" must not run as a formula when the file is opened.
    return "'" + shown if shown.startswith(_FORMULA_START) else shown


def render_csv(tasks: Sequence[Task], *, reveal: bool = False) -> str:
    """CSV with a header row and every known field of each task."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for task in tasks:
        values = task_values(task, reveal=reveal)
        writer.writerow([_cell(values[name]) for name in CSV_COLUMNS])
    return buffer.getvalue()
