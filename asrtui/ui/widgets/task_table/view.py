"""The task table's view: every row, the sort order, the filter and the cursor, without a widget.

`RowView` keeps the rows as `RowInfo` objects in three lists (all rows, sorted ascending, the
current view after direction and filter) and the cursor as an index plus the id of the task
under it. A change that rebuilds the view returns the index the cursor should move to; the
widget moves it there (`RowView.place_cursor`), redraws, scrolls and tells the screen.

Cheap on purpose: a refresh where few rows changed inserts the fresh ones into the sorted list
instead of sorting again, and typing one more filter character searches the current view only.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Sequence
from contextlib import suppress
from itertools import compress, count
from operator import is_not

from asrtui.ui.taskbook import Row
from asrtui.ui.widgets.task_table.columns import COLUMN_BY_KEY, SORT_COLUMNS, SortColumn
from asrtui.ui.widgets.task_table.query import matches, narrows, parse
from asrtui.ui.widgets.task_table.rows import RowInfo

__all__ = ["RowView"]


class RowView:
    """The rows of a task table in sort order, after the filter, with the cursor's place."""

    __slots__ = (
        "_ascending",
        "_last_rows",
        "_sorted",
        "applied_filter",
        "cursor",
        "cursor_id",
        "dropped",
        "generation",
        "hide_ended",
        "infos",
        "sort_column",
        "sort_reverse",
        "view",
    )

    def __init__(self) -> None:
        self.infos: list[RowInfo] = []
        """Every row given, in the order given."""
        self.generation = 0
        """Bumped by each `set_rows` that rebuilt the rows: rows it left out have an older one."""
        self.dropped: list[str] | None = None
        """Ids whose `RowInfo` the last `set_rows` replaced in place, ``None`` after a rebuild."""
        self._last_rows: tuple[Row, ...] = ()
        self._ascending: list[RowInfo] = []
        self._sorted: list[RowInfo] = []
        self.view: list[RowInfo] = []
        """The rows shown: sorted, in the chosen direction, after the filter."""
        self.applied_filter = ""
        self.hide_ended = False
        """Whether rows of tasks no longer listed are left out of the view."""
        self.sort_column: SortColumn = "id"
        self.sort_reverse = False
        self.cursor = 0
        """The cursor's index in `view`."""
        self.cursor_id: str | None = None
        """The task under the cursor, ``None`` when the view is empty."""

    def set_rows(self, rows: Sequence[Row]) -> int:
        """Replace the rows (matched by task id, a row seen before keeps its `RowInfo`).

        Returns:
            The index the cursor should move to in the rebuilt view.
        """
        rows = tuple(rows)  # no copy for the task book's tuple; a list may change later
        quick = self._replace_in_place(rows)
        self._last_rows = rows
        if quick is not None:
            return quick
        self.dropped = None
        old = self.infos
        old_count = len(old)
        generation = self.generation = self.generation + 1
        by_id: dict[str, RowInfo] | None = None
        infos: list[RowInfo] = []
        append = infos.append
        fresh: list[RowInfo] = []
        for position, row in enumerate(rows):
            # Answers usually list tasks in the same order: try the same position first.
            info = old[position] if position < old_count else None
            if info is None or info.row is not row:
                if by_id is None:
                    by_id = {info.task_id: info for info in old}
                info = by_id.get(row.task.task_id)
                if info is None or info.row is not row:
                    info = RowInfo(row)
                    fresh.append(info)
            info.generation = generation
            append(info)
        self.infos = infos
        if len(fresh) * 8 > len(infos) or not self._ascending:
            return self._resort()
        # Few rows changed: drop the stale ones from the sorted list, insert the fresh ones.
        column = self.sort_column
        ascending = [info for info in self._ascending if info.generation == generation]
        for info in fresh:
            insort(ascending, info, key=lambda item: item.key(column))
        return self._install_sorted(ascending)

    def _replace_in_place(self, rows: tuple[Row, ...]) -> int | None:
        """`set_rows` in time proportional to what changed, when the same ids came in order.

        The task book hands back the very `Row` objects of unchanged tasks: the positions that
        differ are found by identity in C, and only their `RowInfo` is replaced and moved in
        the sorted order (`infos` stays aligned with ``rows`` position by position, so this
        holds whichever ids moved). ``None`` when rows came or went, when many changed, or
        when nothing was sorted yet.
        """
        last = self._last_rows
        infos = self.infos
        if len(rows) != len(last) or len(rows) != len(infos) or not self._ascending:
            return None
        changed = [] if rows is last else list(compress(count(), map(is_not, rows, last)))
        if len(changed) * 8 > len(infos):
            return None  # many changed: one sort costs less than as many insertions
        self.dropped = []
        if not changed:
            return self.cursor
        column = self.sort_column
        generation = self.generation
        ascending = self._ascending.copy()  # the view on screen stays as it is until replaced
        for index in changed:
            old = infos[index]
            info = RowInfo(rows[index])
            info.generation = generation
            infos[index] = info
            self.dropped.append(old.task_id)
            at = bisect_left(ascending, old.key(column), key=lambda item: item.key(column))
            if at < len(ascending) and ascending[at] is old:
                del ascending[at]
            else:  # pragma: no cover - keys are unique and kept: the bisection finds it
                ascending.remove(old)
            insort(ascending, info, key=lambda item: item.key(column))
        return self._install_sorted(ascending)

    def sort_by(self, column_key: str, reverse: bool | None = None) -> int:
        """Sort by a column; sorting again by the same column flips the direction.

        Returns:
            The index the cursor should move to in the rebuilt view.

        Raises:
            ValueError: for an unknown column key.
        """
        if column_key not in COLUMN_BY_KEY:
            raise ValueError(f"unknown column {column_key!r}: expected one of {SORT_COLUMNS}")
        column = COLUMN_BY_KEY[column_key].key
        if reverse is None:
            reverse = not self.sort_reverse if column == self.sort_column else False
        if column == self.sort_column:
            self.sort_reverse = reverse
            return self._install_sorted(self._ascending)  # the same order, maybe the other way
        self.sort_column = column
        self.sort_reverse = reverse
        return self._resort()

    def apply_filter(self, text: str) -> int | None:
        """Keep only rows that hold the query ``text`` (`asrtui.ui.widgets.task_table.query`).

        Returns:
            The index the cursor should move to, ``None`` when the filter did not change.
        """
        previous = self.applied_filter
        if text == previous:
            return None
        # Typing one more character can only narrow the view: search the view, not every row.
        base = self.view if narrows(previous, text) else self._sorted
        self.applied_filter = text
        return self._rebuild(self._filter_rows(base, text))

    def set_hide_ended(self, hide: bool) -> int:
        """Leave the rows of ended tasks out of the view, or show them again.

        Returns:
            The index the cursor should move to in the rebuilt view.
        """
        self.hide_ended = hide
        return self._rebuild(self._filter_rows(self._sorted, self.applied_filter))

    def find(self, task_id: str) -> int | None:
        """The index of a task in the view, ``None`` when it is not shown."""
        for index, info in enumerate(self.view):
            if info.task_id == task_id:
                return index
        return None

    def place_cursor(self, index: int) -> tuple[int, int] | None:
        """Put the cursor at ``index`` (clamped to the view) and name the task under it.

        Returns:
            ``(old index, new index)`` when the cursor moved within a non-empty view (both
            lines need redrawing), else ``None``.
        """
        view = self.view
        if not view:
            self.cursor = 0
            self.cursor_id = None
            return None
        index = min(max(index, 0), len(view) - 1)
        old = self.cursor
        self.cursor = index
        self.cursor_id = view[index].task_id
        return (old, index) if old != index else None

    def _resort(self) -> int:
        """Sort every row by the current column, then re-apply the filter."""
        column = self.sort_column
        return self._install_sorted(sorted(self.infos, key=lambda info: info.key(column)))

    def _install_sorted(self, ascending: list[RowInfo]) -> int:
        """Take a new ascending order, then re-apply the direction and the filter."""
        self._ascending = ascending
        self._sorted = ascending[::-1] if self.sort_reverse else ascending
        return self._rebuild(self._filter_rows(self._sorted, self.applied_filter))

    def _filter_rows(self, rows: list[RowInfo], text: str) -> list[RowInfo]:
        if self.hide_ended:
            rows = [info for info in rows if info.row.ended_at is None]
        terms = parse(text)
        if not terms:
            return rows
        if len(terms) == 1 and terms[0].field is None and not terms[0].negated:
            needle = terms[0].text
            return [info for info in rows if needle in info.haystack]
        return [info for info in rows if matches(info, terms)]

    def _rebuild(self, view: list[RowInfo]) -> int:
        """Install a new view; return where the cursor goes: its task, else its position."""
        old_view = self.view
        self.view = view
        index = self.cursor
        if self.cursor_id is not None:
            index = _position_of(view, self.cursor_id, old_view, index)
        return min(max(index, 0), max(len(view) - 1, 0))


def _position_of(view: list[RowInfo], task_id: str, old_view: list[RowInfo], old_index: int) -> int:
    """Where ``task_id`` is in ``view``; ``old_index`` (its neighbour's place) when it is not."""
    if 0 <= old_index < len(old_view) and old_view[old_index].task_id == task_id:
        # Unchanged rows keep their `RowInfo` object: list.index compares identity, in C.
        with suppress(ValueError):
            return view.index(old_view[old_index])
    for position, info in enumerate(view):
        if info.task_id == task_id:
            return position
    return old_index
