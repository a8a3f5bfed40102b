"""What the table derives from one task row: its clean cell texts, filter text and sort keys.

A `RowInfo` is computed lazily and kept for as long as the task book hands back the same `Row`
object, so a refresh where few tasks changed re-derives only those.
"""

from __future__ import annotations

from datetime import datetime

from asrtui.redact import mask_url, stream_host_path
from asrtui.ui.taskbook import Row
from asrtui.ui.widgets.task_table.columns import SortColumn, clean_text

__all__ = ["ENDED_LABEL", "RowInfo", "SortKey", "stream_label"]


#: A row's sort key for one column; the task id last makes every key unique.
SortKey = (
    str | tuple[int, str, str] | tuple[int, float, str] | tuple[str, str] | tuple[str, str, str]
)


#: The STATUS of a task no longer listed (its row lingers, dimmed, until it leaves).
ENDED_LABEL = "ended"


def _status_label(row: Row) -> str:
    """The STATUS cell: ``ended`` once the task is no longer listed, else its status."""
    return ENDED_LABEL if row.ended_at is not None else row.task.status_label


def _status_key(row: Row) -> tuple[int, str, str]:
    # Running first, then other statuses, then the ended rows.
    task = row.task
    rank = 2 if row.ended_at is not None else 0 if task.is_running else 1
    return (rank, _status_label(row), task.task_id)


def _time_key(moment: datetime | None, task_id: str) -> tuple[int, float, str]:
    # Ascending uptime / age means the most recent timestamp first; unknown times sort last.
    if moment is None:
        return (1, 0.0, task_id)
    return (0, -moment.timestamp(), task_id)


class RowInfo:
    """What the table derives from one `Row`, computed lazily and kept while the row is."""

    __slots__ = ("_cells", "_haystack", "generation", "row", "sort_column", "sort_key", "task_id")

    def __init__(self, row: Row) -> None:
        self.row = row
        self.task_id = row.task.task_id
        self.generation = 0
        """The last `TaskTable.set_rows` call that included this row."""
        self.sort_column: str = ""
        self.sort_key: SortKey = ""
        self._cells: dict[SortColumn, str] | None = None
        self._haystack: str | None = None

    @property
    def cells(self) -> dict[SortColumn, str]:
        """Clean display texts of the columns that do not depend on the clock."""
        cells = self._cells
        if cells is None:
            task = self.row.task
            targets = ",".join(task.target_languages)
            language = f"{task.language}→{targets}" if targets else task.language
            # Never revealed here: every text goes through the one masking rule (a token in
            # the callback URL, a URL pasted into a tag).
            cells = self._cells = {
                "id": clean_text(mask_url(task.task_id)),
                "status": clean_text(mask_url(_status_label(self.row))),
                "mode": clean_text(mask_url(task.mode)),
                "language": clean_text(mask_url(language)),
                "tag": clean_text(mask_url(task.tag)),
                "stream": clean_text(stream_cell(task.stream_url)),
                "callback": clean_text(mask_url(task.callback_url)),
            }
        return cells

    @property
    def haystack(self) -> str:
        """Lower-case text the filter searches: id, tag, stream host/path and languages."""
        haystack = self._haystack
        if haystack is None:
            task = self.row.task
            haystack = self._haystack = "\n".join(
                (
                    task.task_id,
                    task.tag,
                    stream_label(task.stream_url),
                    task.language,
                    *task.target_languages,
                )
            ).lower()
        return haystack

    def key(self, column: SortColumn) -> SortKey:
        """The sort key of this row for ``column`` (unique: the task id breaks ties)."""
        if self.sort_column == column:
            return self.sort_key
        task = self.row.task
        task_id = self.task_id
        key: SortKey
        if column == "id":
            key = task_id
        elif column == "status":
            key = _status_key(self.row)
        elif column == "uptime":
            key = _time_key(task.created_at, task_id)
        elif column == "updated":
            key = _time_key(task.updated_at, task_id)
        elif column == "stream":
            # What the column shows (app/stream), then the host it leaves out.
            label = stream_label(task.stream_url)
            key = (stream_cell(task.stream_url).lower(), label.lower(), task_id)
        else:
            key = (self.cells[column].lower(), task_id)
        self.sort_column = column
        self.sort_key = key
        return key


def stream_cell(url: str) -> str:
    """The STREAM cell: ``app/stream``, the part that tells tasks apart (the host rarely does).

    The host is in the detail pane and the filter; a URL without a path shows its host.
    """
    label = stream_label(url)
    return label.partition("/")[2] or label


def stream_label(url: str) -> str:
    """``host/path`` of a stream URL, never its ``auth_key`` (even one hidden in the path)."""
    return mask_url(stream_host_path(url))
