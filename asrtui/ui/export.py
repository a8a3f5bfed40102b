"""Writing the tasks in view to a JSON or CSV file, secrets always masked, atomically.

The text is `asrtui.output`', the same as ``asrtui tasks --format json|csv`` prints, with what
the screen adds: a task the screen shows as ended (dimmed, no longer listed) is written as
ended, with when (`as_shown`). The API has no end time: ``endedAt`` (JSON) and ``ended_at``
(CSV, a column always present, empty for listed tasks) are when this console first saw the
task missing from the list. Copies (`asrtui.ui.clipboard`) go through `as_shown` too.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, tzinfo
from enum import StrEnum
from pathlib import Path

from asrtui.files import replace_file
from asrtui.models import Task
from asrtui.output import CSV_COLUMNS, csv_cell, render_csv, render_json, task_values
from asrtui.ui.taskbook import Row

__all__ = [
    "ENDED_AT_COLUMN",
    "ENDED_AT_KEY",
    "ENDED_STATUS",
    "ExportFormat",
    "as_shown",
    "default_export_path",
    "export_rows",
    "export_tasks",
    "format_for",
    "render_csv",
    "render_json",
    "render_rows_csv",
]

#: The status an ended task is written with: the table's STATUS cell for it.
ENDED_STATUS = "ended"
#: The JSON key, next to the wire's own, saying when the console saw the task end.
ENDED_AT_KEY = "endedAt"
#: The CSV column saying the same (after every column of ``asrtui tasks --format csv``).
ENDED_AT_COLUMN = "ended_at"


class ExportFormat(StrEnum):
    """The file formats an export can be written in."""

    JSON = "json"
    CSV = "csv"


def default_export_path(
    now: datetime, fmt: ExportFormat = ExportFormat.JSON, tz: tzinfo | None = None
) -> Path:
    """``./asrtui-tasks-<YYYYmmdd-HHMMSS>.<fmt>``, the time of ``now`` in ``tz`` (local)."""
    return Path(f"./asrtui-tasks-{now.astimezone(tz):%Y%m%d-%H%M%S}.{fmt.value}")


def format_for(path: Path, fallback: ExportFormat) -> ExportFormat:
    """The format a path's suffix names (``.csv`` / ``.json``), else ``fallback``."""
    suffix = path.suffix.lower().lstrip(".")
    return ExportFormat(suffix) if suffix in ExportFormat.__members__.values() else fallback


def export_tasks(tasks: Sequence[Task], path: Path, fmt: ExportFormat) -> Path:
    """Write ``tasks`` to ``path`` in ``fmt``, atomically, secrets masked.

    Returns:
        The absolute path written.

    Raises:
        OSError: the file could not be written (permission denied, no such directory...).
    """
    text = render_json(tasks) + "\n" if fmt is ExportFormat.JSON else render_csv(tasks)
    target = path.expanduser().absolute()
    replace_file(target, text.encode("utf-8"))
    return target


def as_shown(row: Row) -> Task:
    """The row's task as the screen shows it: ended (with ``endedAt``) once no longer listed.

    A listed task is returned as it is (the same object); an ended one is a copy whose status
    and wire object say ``ended``, with when the console saw it end.
    """
    if row.ended_at is None:
        return row.task
    task = row.task
    ended = row.ended_at.isoformat()
    raw = {**task.raw, "status": ENDED_STATUS, ENDED_AT_KEY: ended} if task.raw else {}
    extra = {**task.extra, ENDED_AT_KEY: ended}
    return replace(task, status=ENDED_STATUS, raw=raw, extra=extra)


def render_rows_csv(rows: Sequence[Row]) -> str:
    """CSV of the rows as shown: `asrtui.output`'s columns, then `ENDED_AT_COLUMN`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow((*CSV_COLUMNS, ENDED_AT_COLUMN))
    for row in rows:
        values = task_values(as_shown(row))
        ended = row.ended_at.isoformat() if row.ended_at is not None else ""
        writer.writerow([*(csv_cell(values[name]) for name in CSV_COLUMNS), ended])
    return buffer.getvalue()


def export_rows(rows: Sequence[Row], path: Path, fmt: ExportFormat) -> Path:
    """Write ``rows`` as the screen shows them (`as_shown`) to ``path``: atomically, masked.

    Returns:
        The absolute path written.

    Raises:
        OSError: the file could not be written (permission denied, no such directory...).
    """
    if fmt is ExportFormat.JSON:
        text = render_json([as_shown(row) for row in rows]) + "\n"
    else:
        text = render_rows_csv(rows)
    target = path.expanduser().absolute()
    replace_file(target, text.encode("utf-8"))
    return target
