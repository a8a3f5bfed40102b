"""Writing the tasks in view to a JSON or CSV file, secrets always masked, atomically.

The text is `asrtui.output`', the same as ``asrtui tasks --format json|csv`` prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from enum import StrEnum
from pathlib import Path

from asrtui.files import replace_file
from asrtui.models import Task
from asrtui.output import render_csv, render_json

__all__ = [
    "ExportFormat",
    "default_export_path",
    "export_tasks",
    "format_for",
    "render_csv",
    "render_json",
]


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
