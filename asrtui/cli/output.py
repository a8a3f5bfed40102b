"""Task lists for the headless CLI: JSON and CSV (`asrtui.output`) and a plain-text table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from asrtui.models import Task
from asrtui.output import render_csv, render_json, task_values
from asrtui.printable import printable_line

__all__ = ["render_csv", "render_json", "render_table"]

#: The table's columns: heading, `asrtui.output.task_values` key, most characters (0: all).
_TABLE_COLUMNS = (
    ("TASK ID", "task_id", 44),
    ("STATUS", "status", 8),
    ("MODE", "mode", 5),
    ("LANG", "language", 10),
    ("TAG", "tag", 16),
    ("CREATED", "created_at", 25),
    ("STREAM", "stream_url", 0),
)


def render_table(tasks: Sequence[Task], *, reveal: bool = False, tz: tzinfo | None = None) -> str:
    """A fixed-width text table; control characters in server strings are escaped.

    Times are in the local zone (``tz``; ``None``: this host's), as the console shows them,
    with the offset; JSON and CSV keep the server's text.
    """
    if not tasks:
        return "No running tasks."
    source = [task_values(task, reveal=reveal) for task in tasks]
    for task, values in zip(tasks, source, strict=True):
        if values["target_languages"]:
            values["language"] += "->" + values["target_languages"]
        values["created_at"] = _local(task.created_at, values["created_at"], tz)
    cells = [
        [_fit(printable_line(values[key]), cap) for _, key, cap in _TABLE_COLUMNS]
        for values in source
    ]
    headers = [title for title, _, _ in _TABLE_COLUMNS]
    widths = [max(len(headers[i]), *(len(line[i]) for line in cells)) for i in range(len(headers))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for line in cells:
        lines.append("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
    lines.append(f"{len(tasks)} task(s)")
    return "\n".join(lines)


def _local(moment: datetime | None, as_sent: str, tz: tzinfo | None) -> str:
    """``2024-05-15 11:51:02 +0800`` in the local zone; the server's text when there is none."""
    if moment is None:
        return as_sent
    try:
        return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %z")
    except (OverflowError, ValueError, OSError):
        return as_sent


def _fit(text: str, cap: int) -> str:
    """Truncate to ``cap`` characters with an ellipsis (``cap`` 0 means no limit)."""
    if cap and len(text) > cap:
        return text[: cap - 1] + "…"
    return text
