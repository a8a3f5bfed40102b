"""Writing the tasks in view to a JSON or CSV file, secrets always masked, atomically."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime, tzinfo
from enum import StrEnum
from pathlib import Path

from asrtui.models import Task
from asrtui.redact import mask_account_id, mask_stream_url, redact_task_dict
from asrtui.ui.settings import write_atomically
from asrtui.wire import task_to_wire


class ExportFormat(StrEnum):
    """The file formats an export can be written in."""

    JSON = "json"
    CSV = "csv"


#: CSV columns, in order: the known fields of `Task`, named as on screen.
CSV_COLUMNS = (
    "task_id",
    "status",
    "mode",
    "language",
    "target_languages",
    "translate_enabled",
    "tag",
    "stream_url",
    "callback_url",
    "created_at",
    "updated_at",
    "report_interval",
    "auto_terminate_delay",
    "ali_uid",
)

# Leading characters that make spreadsheets evaluate a cell as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def default_export_path(
    now: datetime, fmt: ExportFormat = ExportFormat.JSON, tz: tzinfo | None = None
) -> Path:
    """``./asrtui-tasks-<YYYYmmdd-HHMMSS>.<fmt>``, the time of ``now`` in ``tz`` (local)."""
    return Path(f"./asrtui-tasks-{now.astimezone(tz):%Y%m%d-%H%M%S}.{fmt.value}")


def format_for(path: Path, fallback: ExportFormat) -> ExportFormat:
    """The format a path's suffix names (``.csv`` / ``.json``), else ``fallback``."""
    suffix = path.suffix.lower().lstrip(".")
    return ExportFormat(suffix) if suffix in ExportFormat.__members__.values() else fallback


def render_json(tasks: Sequence[Task]) -> str:
    """The tasks as a JSON array of their wire objects, secrets masked."""
    objects = [redact_task_dict(task_to_wire(task)) for task in tasks]
    return json.dumps(objects, indent=2, ensure_ascii=False, default=str) + "\n"


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return " ".join(str(item) for item in value)
    text = str(value)
    # A tag such as "=HYPERLINK(...)" must not run as a formula when the file is opened.
    return "'" + text if text.startswith(_FORMULA_START) else text


def render_csv(tasks: Sequence[Task]) -> str:
    """The tasks as CSV with a header row, secrets masked, formula-like cells neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for task in tasks:
        values: dict[str, object] = {name: getattr(task, name) for name in CSV_COLUMNS}
        values["status"] = task.status_label
        values["stream_url"] = mask_stream_url(task.stream_url)
        values["ali_uid"] = mask_account_id(task.ali_uid)
        writer.writerow([_cell(values[name]) for name in CSV_COLUMNS])
    return buffer.getvalue()


def export_tasks(tasks: Sequence[Task], path: Path, fmt: ExportFormat) -> Path:
    """Write ``tasks`` to ``path`` in ``fmt``, atomically, secrets masked.

    Returns:
        The absolute path written.

    Raises:
        OSError: the file could not be written (permission denied, no such directory...).
    """
    text = render_json(tasks) if fmt is ExportFormat.JSON else render_csv(tasks)
    target = path.expanduser().absolute()
    write_atomically(target, text)
    return target
