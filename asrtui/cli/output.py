"""Rendering task lists for the headless CLI: JSON (wire names), CSV and a plain-text table."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from asrtui.models import Task
from asrtui.printable import printable_json, printable_line
from asrtui.redact import mask_stream_url, redact_task_dict
from asrtui.wire import task_to_wire

__all__ = ["CSV_COLUMNS", "render_csv", "render_json", "render_table", "task_rows"]

#: The main columns of the CSV and table formats, in order.
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
)


def render_json(tasks: Sequence[Task], *, reveal: bool = False, compact: bool = False) -> str:
    """A JSON array of task objects with the wire field names exactly as the API sent them.

    Unknown fields are kept; the ``auth_key`` of stream URLs and ``aliUid`` are masked unless
    ``reveal`` is set. Non-ASCII text stays readable; invisible and control characters are
    escaped (`asrtui.printable.printable_json`).
    """
    objects: list[dict[str, Any]] = []
    for task in tasks:
        wire = task_to_wire(task)
        objects.append(wire if reveal else redact_task_dict(wire))
    if compact:
        return printable_json(json.dumps(objects, ensure_ascii=False, separators=(",", ":")))
    return printable_json(json.dumps(objects, ensure_ascii=False, indent=2))


def task_rows(tasks: Sequence[Task], *, reveal: bool = False) -> list[list[str]]:
    """The main columns (`CSV_COLUMNS`) of each task as strings, stream URL masked."""
    rows: list[list[str]] = []
    for task in tasks:
        stream = task.stream_url if reveal else mask_stream_url(task.stream_url)
        rows.append(
            [
                task.task_id,
                task.status_label,
                task.mode,
                task.language,
                ",".join(task.target_languages),
                task.tag,
                task.created_at.isoformat() if task.created_at else "",
                task.updated_at.isoformat() if task.updated_at else "",
                stream,
                task.callback_url,
            ]
        )
    return rows


def render_csv(tasks: Sequence[Task], *, reveal: bool = False) -> str:
    """CSV with a header row and the main columns (control characters escaped, as ``\\x1b``).

    A server string must never drive the terminal the CSV is printed on, nor start a row.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(
        [printable_line(cell) for cell in row] for row in task_rows(tasks, reveal=reveal)
    )
    return buffer.getvalue()


_TABLE_COLUMNS = (
    ("TASK ID", 0, 44),
    ("STATUS", 1, 8),
    ("MODE", 2, 5),
    ("LANG", 3, 10),
    ("TAG", 5, 16),
    ("CREATED", 6, 25),
    ("STREAM", 8, 0),
)


def render_table(tasks: Sequence[Task], *, reveal: bool = False) -> str:
    """A fixed-width text table; control characters in server strings are escaped."""
    if not tasks:
        return "No running tasks."
    source = task_rows(tasks, reveal=reveal)
    for row in source:
        if row[4]:
            row[3] = f"{row[3]}->{row[4]}"
    cells = [
        [_fit(printable_line(row[index]), cap) for _, index, cap in _TABLE_COLUMNS]
        for row in source
    ]
    headers = [title for title, _, _ in _TABLE_COLUMNS]
    widths = [max(len(headers[i]), *(len(line[i]) for line in cells)) for i in range(len(headers))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for line in cells:
        lines.append("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
    lines.append(f"{len(tasks)} task(s)")
    return "\n".join(lines)


def _fit(text: str, cap: int) -> str:
    """Truncate to ``cap`` characters with an ellipsis (``cap`` 0 means no limit)."""
    if cap and len(text) > cap:
        return text[: cap - 1] + "…"
    return text
