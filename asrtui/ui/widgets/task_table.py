"""The task table: a virtualised, keyboard-driven table of task rows on Textual's Line API.

Textual's stock `DataTable` measures every cell of every row and takes seconds to load 10,000
rows; this widget renders only the lines on screen. Per-row work that does not depend on the
clock (cleaned cell texts, the filter haystack, sort keys) is computed once per `Row` object and
kept while the task book hands back the same object, so a refresh where 1% of tasks changed
costs little more than a sort of mostly ordered keys. Rendered lines are cached per row and
re-rendered only when the row, its state (cursor, new, ended), the layout, the styles or the
text of its time columns changes; a one-second timer redraws the visible lines whose uptime or
"updated" text moved on (a task up for hours changes once a minute), and only those.

Line 0 is the header (it never scrolls); line ``y >= 1`` shows row ``scroll_y + y - 1`` of the
current view (sort order, then filter).
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Literal

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer

from asrtui.printable import is_unsafe
from asrtui.redact import mask_url, stream_host_path
from asrtui.ui.durations import format_age, format_uptime
from asrtui.ui.taskbook import Row

#: The columns the table can be sorted by, in display (and `TaskTable.cycle_sort`) order.
SortColumn = Literal[
    "id", "status", "mode", "language", "tag", "uptime", "updated", "stream", "callback"
]
SORT_COLUMNS: tuple[SortColumn, ...] = (
    "id",
    "status",
    "mode",
    "language",
    "tag",
    "uptime",
    "updated",
    "stream",
    "callback",
)

_ELLIPSIS = "…"
_AGO = " ago"
_MARK_NEW = "+"
_MARK_ENDED = "x"
_MARKER_WIDTH = 2
_SEPARATOR = " "


def _clean(text: str) -> str:
    """A server string made safe to print in a fixed-width cell.

    Control and bidi characters would reach the terminal as they are (a tag like "\\x1b[2J"
    would clear the operator's screen, "\\u202e" would mirror the rest of the line); each
    becomes one ``�`` rather than an escape, so the cell keeps its width.
    """
    if text.isprintable():
        return text
    return "".join("\N{REPLACEMENT CHARACTER}" if is_unsafe(char) else char for char in text)


def _fit(text: str, width: int, right: bool = False) -> str:
    """Pad or truncate (with an ellipsis) ``text`` to exactly ``width`` cells."""
    if width <= 0:
        return ""
    if text.isascii():
        length = len(text)
        if length <= width:
            return text.rjust(width) if right else text.ljust(width)
        return text[: width - 1] + _ELLIPSIS
    length = cell_len(text)
    if length <= width:
        padding = " " * (width - length)
        return padding + text if right else text + padding
    return set_cell_size(text, width - 1) + _ELLIPSIS


@dataclass(frozen=True, slots=True)
class _Column:
    """How a column is laid out.

    ``min`` is the narrowest it may get, ``comfy`` the width it gets before optional columns
    are added, ``pref`` the width it grows to when space is left.
    """

    key: SortColumn
    title: str
    min: int
    comfy: int
    pref: int
    essential: bool
    right: bool = False


_COLUMNS: tuple[_Column, ...] = (
    _Column("id", "ID", 13, 20, 40, essential=True),
    _Column("status", "STATUS", 7, 7, 8, essential=True),
    _Column("mode", "MODE", 4, 4, 4, essential=False),
    _Column("language", "LANG", 4, 6, 12, essential=True),
    _Column("tag", "TAG", 6, 10, 16, essential=False),
    _Column("uptime", "UPTIME", 6, 6, 7, essential=True, right=True),
    _Column("updated", "UPDATED", 7, 8, 9, essential=False, right=True),
    _Column("stream", "STREAM", 12, 24, 60, essential=True),
    _Column("callback", "CALLBACK", 8, 12, 30, essential=False),
)
_COLUMN_BY_KEY = {column.key: column for column in _COLUMNS}
# Optional columns join in this order while there is room; columns grow in `_GROW_ORDER`.
_ADD_ORDER: tuple[SortColumn, ...] = ("updated", "mode", "tag")
_GROW_ORDER: tuple[SortColumn, ...] = (
    "id",
    "status",
    "language",
    "uptime",
    "updated",
    "mode",
    "tag",
    "stream",
    "callback",
)
# Space left after every column reached its preferred width goes to these, in turn.
_FLEX: tuple[SortColumn, ...] = ("stream", "callback", "tag")
_TIME_COLUMNS = frozenset({"uptime", "updated"})


def layout_columns(width: int) -> list[tuple[SortColumn, int]]:
    """The columns shown at a given table width, with their widths, in display order.

    Essential columns (id, status, language, uptime, stream) always appear, squeezed down to
    their minimum widths if need be; optional ones join while they fit at a comfortable width.

    Args:
        width: the table's width in cells (the row marker is included in it).

    Returns:
        ``(column key, width)`` pairs.
    """
    avail = max(0, width - _MARKER_WIDTH)
    chosen: dict[SortColumn, int] = {c.key: c.comfy for c in _COLUMNS if c.essential}

    def used() -> int:
        return sum(chosen.values()) + len(chosen) - 1

    over = used() - avail
    for key in ("stream", "id", "language"):
        if over <= 0:
            break
        column = _COLUMN_BY_KEY[key]
        give = min(over, chosen[key] - column.min)
        chosen[key] -= give
        over -= give
    for key in _ADD_ORDER:
        column = _COLUMN_BY_KEY[key]
        if used() + 1 + column.comfy <= avail:
            chosen[key] = column.comfy
    # The callback column is the least useful: whole ids and languages come first.
    _grow(chosen, avail - used(), _GROW_ORDER[:-2])
    callback = _COLUMN_BY_KEY["callback"]
    if used() + 1 + callback.comfy <= avail:
        chosen["callback"] = callback.comfy
    spare = _grow(chosen, avail - used(), _GROW_ORDER)
    for key in _FLEX:
        if spare > 0 and key in chosen:
            chosen[key] += spare
            spare = 0
    return [(c.key, chosen[c.key]) for c in _COLUMNS if c.key in chosen]


def _grow(chosen: dict[SortColumn, int], spare: int, order: Sequence[SortColumn]) -> int:
    """Widen chosen columns toward their preferred widths, in order; return what is left."""
    for key in order:
        if spare <= 0:
            break
        if key in chosen:
            grow = min(spare, _COLUMN_BY_KEY[key].pref - chosen[key])
            if grow > 0:
                chosen[key] += grow
                spare -= grow
    return spare


#: A row's sort key for one column; the task id last makes every key unique.
_SortKey = str | tuple[int, str, str] | tuple[int, float, str] | tuple[str, str]


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


@dataclass(frozen=True, slots=True)
class _Pass:
    """What every line of one render pass shares."""

    now: datetime
    width: int
    top: int
    base: Style
    new: Style
    ended: Style
    cursor: Style
    alert: Style


class _Info:
    """What the table derives from one `Row`, computed lazily and kept while the row is."""

    __slots__ = ("_cells", "_haystack", "generation", "row", "sort_column", "sort_key", "task_id")

    def __init__(self, row: Row) -> None:
        self.row = row
        self.task_id = row.task.task_id
        self.generation = 0
        """The last `TaskTable.set_rows` call that included this row."""
        self.sort_column: str = ""
        self.sort_key: _SortKey = ""
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
                "id": _clean(mask_url(task.task_id)),
                "status": _clean(mask_url(_status_label(self.row))),
                "mode": _clean(mask_url(task.mode)),
                "language": _clean(mask_url(language)),
                "tag": _clean(mask_url(task.tag)),
                "stream": _clean(_stream_label(task.stream_url)),
                "callback": _clean(mask_url(task.callback_url)),
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
                    _stream_label(task.stream_url),
                    task.language,
                    *task.target_languages,
                )
            ).lower()
        return haystack

    def key(self, column: SortColumn) -> _SortKey:
        """The sort key of this row for ``column`` (unique: the task id breaks ties)."""
        if self.sort_column == column:
            return self.sort_key
        task = self.row.task
        task_id = self.task_id
        key: _SortKey
        if column == "id":
            key = task_id
        elif column == "status":
            key = _status_key(self.row)
        elif column == "uptime":
            key = _time_key(task.created_at, task_id)
        elif column == "updated":
            key = _time_key(task.updated_at, task_id)
        elif column == "stream":
            key = (_stream_label(task.stream_url).lower(), task_id)
        else:
            key = (self.cells[column].lower(), task_id)
        self.sort_column = column
        self.sort_key = key
        return key


def _position_of(view: list[_Info], task_id: str, old_view: list[_Info], old_index: int) -> int:
    """Where ``task_id`` is in ``view``; ``old_index`` (its neighbour's place) when it is not."""
    if 0 <= old_index < len(old_view) and old_view[old_index].task_id == task_id:
        # Unchanged rows keep their `_Info` object: list.index compares identity, in C.
        with suppress(ValueError):
            return view.index(old_view[old_index])
    for position, info in enumerate(view):
        if info.task_id == task_id:
            return position
    return old_index


def _stream_label(url: str) -> str:
    """``host/path`` of a stream URL, never its ``auth_key`` (even one hidden in the path)."""
    return mask_url(stream_host_path(url))


class _TableMessage(Message):
    """A message from a `TaskTable`, which it names as its control."""

    def __init__(self, table: TaskTable | None) -> None:
        super().__init__()
        self._table = table

    @property
    def control(self) -> TaskTable | None:
        """The table that sent the message (for ``@on(..., selector)``)."""
        return self._table


class TaskTable(ScrollView, can_focus=True):
    """A virtualised table of task rows: sortable, filterable, keyboard-driven.

    Args:
        clock: returns the current time (timezone-aware); drives uptime, ages and the new
            marker, and is replaced in tests.
        name: the widget name.
        id: the widget id.
        classes: CSS classes.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Details", show=False),
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home,g", "first", "First task", show=False),
        Binding("end,G", "last", "Last task", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "task-table--header",
        "task-table--header-sorted",
        "task-table--cursor",
        "task-table--new",
        "task-table--ended",
        "task-table--status-alert",
        "task-table--empty",
    }

    DEFAULT_CSS = """
    TaskTable {
        width: 1fr;
        height: 1fr;
        overflow-x: hidden;
        overflow-y: auto;
        background: $surface;
        color: $foreground;
        &:focus {
            background-tint: $foreground 5%;
            & > .task-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
        }
        & > .task-table--header {
            background: $panel;
            color: $foreground;
            text-style: bold;
        }
        & > .task-table--header-sorted {
            color: $accent;
            text-style: bold underline;
        }
        & > .task-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .task-table--new {
            color: $success;
            text-style: bold;
        }
        & > .task-table--ended {
            color: $text-disabled;
            text-style: dim italic;
        }
        & > .task-table--status-alert {
            color: $warning;
            text-style: bold;
        }
        & > .task-table--empty {
            color: $text-muted;
            text-style: italic;
        }
    }
    """

    #: Seconds between re-renders of the visible lines (uptime and ages tick).
    TICK_SECONDS: ClassVar[float] = 1.0

    filter_text: var[str] = var("")
    """The current filter (case-insensitive substring of id, tag, stream, languages)."""

    class Highlighted(_TableMessage):
        """The cursor moved to another task (``None`` when the table has no rows)."""

        def __init__(self, task_id: str | None, table: TaskTable | None = None) -> None:
            super().__init__(table)
            self.task_id = task_id
            """The task under the cursor."""

    class Selected(_TableMessage):
        """Enter was pressed on a task."""

        def __init__(self, task_id: str, table: TaskTable | None = None) -> None:
            super().__init__(table)
            self.task_id = task_id
            """The task under the cursor."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime],
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._clock = clock
        self._infos: list[_Info] = []
        self._ascending: list[_Info] = []
        self._generation = 0
        self._sorted: list[_Info] = []
        self._view: list[_Info] = []
        self._applied_filter = ""
        self._sort_column: SortColumn = "id"
        self._sort_reverse = False
        self._cursor = 0
        self._cursor_id: str | None = None
        self._layout_width = -1
        self._layout: list[tuple[SortColumn, int]] = []
        self._time_columns: frozenset[str] = frozenset()
        self._line_cache: LRUCache[str, tuple[_Info, tuple[bool, bool, str, str, int], Strip]] = (
            LRUCache(1024)
        )
        self._pass: _Pass | None = None
        self._header: tuple[tuple[str, bool], Strip] | None = None
        self._tick_timer: Timer | None = None

    # ------------------------------------------------------------------ public API

    def set_rows(self, rows: Sequence[Row]) -> None:
        """Replace the data, keeping the cursor on the same task and the scroll where it is.

        Rows are matched by task id; a row object seen before reuses its cached rendering.
        If the cursor's task is gone, the cursor stays at the same position, which is the
        task's nearest neighbour.

        Args:
            rows: every row to show (e.g. `TaskBook.rows()`).
        """
        old = self._infos
        old_count = len(old)
        generation = self._generation = self._generation + 1
        by_id: dict[str, _Info] | None = None
        infos: list[_Info] = []
        append = infos.append
        fresh: list[_Info] = []
        for position, row in enumerate(rows):
            # Answers usually list tasks in the same order: try the same position first.
            info = old[position] if position < old_count else None
            if info is None or info.row is not row:
                if by_id is None:
                    by_id = {info.task_id: info for info in old}
                info = by_id.get(row.task.task_id)
                if info is None or info.row is not row:
                    info = _Info(row)
                    fresh.append(info)
            info.generation = generation
            append(info)
        self._infos = infos
        self._forget_gone(generation)
        if len(fresh) * 8 > len(infos) or not self._ascending:
            self._resort()
            return
        # Few rows changed: drop the stale ones from the sorted list, insert the fresh ones.
        column = self._sort_column
        ascending = [info for info in self._ascending if info.generation == generation]
        for info in fresh:
            insort(ascending, info, key=lambda item: item.key(column))
        self._install_sorted(ascending)

    def _forget_gone(self, generation: int) -> None:
        """Drop rendered lines of rows the last `set_rows` did not include (or replaced).

        They would never be shown again, yet each keeps its row and task alive: over a long
        session with tasks coming and going, the cache would fill up with the departed.
        """
        cache = self._line_cache
        for task_id in list(cache.keys()):
            entry = cache.get(task_id)
            if entry is None or entry[0].generation != generation:
                cache.discard(task_id)

    def sort_by(self, column_key: str, reverse: bool | None = None) -> None:
        """Sort by a column; sorting again by the same column flips the direction.

        Args:
            column_key: one of `SORT_COLUMNS`.
            reverse: the direction, or ``None`` to flip when the column is already the sort
                column (ascending otherwise).

        Raises:
            ValueError: for an unknown column key.
        """
        if column_key not in _COLUMN_BY_KEY:
            raise ValueError(f"unknown column {column_key!r}: expected one of {SORT_COLUMNS}")
        column = _COLUMN_BY_KEY[column_key].key
        if reverse is None:
            reverse = not self._sort_reverse if column == self._sort_column else False
        if column == self._sort_column:
            self._sort_reverse = reverse
            self._install_sorted(self._ascending)  # the same order, maybe the other way
            return
        self._sort_column = column
        self._sort_reverse = reverse
        self._resort()

    def cycle_sort(self) -> None:
        """Sort by the next column (in display order), ascending."""
        index = SORT_COLUMNS.index(self._sort_column)
        self.sort_by(SORT_COLUMNS[(index + 1) % len(SORT_COLUMNS)], reverse=False)

    def set_filter(self, text: str) -> None:
        """Show only rows whose id, tag, stream host/path or language contains ``text``.

        Case-insensitive; an empty text shows every row. Typing more characters narrows the
        current view instead of searching every row again.
        """
        self._apply_filter(text)
        self.set_reactive(TaskTable.filter_text, text)

    def move_cursor(self, task_id: str) -> bool:
        """Put the cursor on a task (scrolling to it) if it is in the current view.

        Returns:
            Whether the task was found.
        """
        for index, info in enumerate(self._view):
            if info.task_id == task_id:
                self._set_cursor(index)
                return True
        return False

    @property
    def cursor_task_id(self) -> str | None:
        """The task under the cursor, ``None`` when the view is empty."""
        return self._cursor_id

    @property
    def sort_column(self) -> SortColumn:
        """The column the rows are sorted by."""
        return self._sort_column

    @property
    def sort_reverse(self) -> bool:
        """Whether the sort is descending."""
        return self._sort_reverse

    @property
    def row_count(self) -> int:
        """Rows in the current view (after the filter)."""
        return len(self._view)

    @property
    def total_count(self) -> int:
        """Rows given to the table (before the filter)."""
        return len(self._infos)

    def visible_rows(self) -> list[Row]:
        """The rows of the current view, in sort order, after the filter ("the current view")."""
        return [info.row for info in self._view]

    # ------------------------------------------------------------------ view maintenance

    def _resort(self) -> None:
        """Sort every row by the current column, then re-apply the filter."""
        column = self._sort_column
        self._install_sorted(sorted(self._infos, key=lambda info: info.key(column)))

    def _install_sorted(self, ascending: list[_Info]) -> None:
        """Take a new ascending order, then re-apply the direction and the filter."""
        self._ascending = ascending
        self._sorted = ascending[::-1] if self._sort_reverse else ascending
        self._rebuild_view(self._filter_rows(self._sorted, self._applied_filter))

    def _apply_filter(self, text: str) -> None:
        previous = self._applied_filter
        if text == previous:
            return
        needle = text.lower()
        # Typing one more character can only narrow the view: search the view, not every row.
        base = self._view if previous and needle.startswith(previous.lower()) else self._sorted
        self._applied_filter = text
        self._rebuild_view(self._filter_rows(base, text))

    @staticmethod
    def _filter_rows(rows: list[_Info], text: str) -> list[_Info]:
        if not text:
            return rows
        needle = text.lower()
        return [info for info in rows if needle in info.haystack]

    def _rebuild_view(self, view: list[_Info]) -> None:
        """Install a new view, keeping the cursor on its task (or its position)."""
        old_view = self._view
        self._view = view
        cursor_id = self._cursor_id
        index = self._cursor
        if cursor_id is not None:
            index = _position_of(view, cursor_id, old_view, index)
        index = min(max(index, 0), max(len(view) - 1, 0))
        # Width 0: the columns always fit the widget, it never scrolls sideways.
        self.virtual_size = Size(0, len(view) + 1)
        self._set_cursor(index)
        self.refresh()

    def _set_cursor(self, index: int) -> None:
        """Move the cursor, scrolling only as far as needed to keep it in view."""
        view = self._view
        if not view:
            self._cursor = 0
            new_id = None
        else:
            index = min(max(index, 0), len(view) - 1)
            old = self._cursor
            self._cursor = index
            new_id = view[index].task_id
            if old != index:
                self.refresh_line(old + 1)
                self.refresh_line(index + 1)
        self._scroll_to_cursor()
        if new_id != self._cursor_id:
            self._cursor_id = new_id
            self.post_message(self.Highlighted(new_id, self))

    def _body_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_to_cursor(self) -> None:
        if not self.size.height:
            return
        body = self._body_height()
        top = round(self.scroll_y)
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False, force=True)
        elif self._cursor >= top + body:
            self.scroll_to(y=self._cursor - body + 1, animate=False, force=True)

    # ------------------------------------------------------------------ actions

    def action_cursor_up(self) -> None:
        """Move the cursor one row up."""
        self._set_cursor(self._cursor - 1)

    def action_cursor_down(self) -> None:
        """Move the cursor one row down."""
        self._set_cursor(self._cursor + 1)

    def action_page_up(self) -> None:
        """Move the cursor one screen up."""
        self._set_cursor(self._cursor - self._body_height())

    def action_page_down(self) -> None:
        """Move the cursor one screen down."""
        self._set_cursor(self._cursor + self._body_height())

    def action_first(self) -> None:
        """Move the cursor to the first row."""
        self._set_cursor(0)

    def action_last(self) -> None:
        """Move the cursor to the last row."""
        self._set_cursor(len(self._view) - 1)

    def action_select_cursor(self) -> None:
        """Tell the screen the operator chose the task under the cursor."""
        if self._cursor_id is not None:
            self.post_message(self.Selected(self._cursor_id, self))

    # ------------------------------------------------------------------ Textual hooks

    def on_mount(self) -> None:
        """Start the timer that keeps uptime and ages ticking."""
        self._tick_timer = self.set_interval(self.TICK_SECONDS, self._tick)

    def _tick(self) -> None:
        """Redraw the visible rows whose time columns or "new" marker have moved on."""
        view = self._view
        if not view or self._layout_width < 0 or not self.size.height:
            return
        now = self._clock()
        width = self._layout_width
        top = round(self.scroll_y)
        for index in range(top, min(top + self._body_height(), len(view))):
            info = view[index]
            cached = self._line_cache.get(info.task_id)
            key = self._row_key(info, index == self._cursor, now, width)
            if cached is None or cached[0] is not info or cached[1] != key:
                self.refresh_line(index + 1)

    def watch_filter_text(self, text: str) -> None:
        """Apply a filter set through the reactive (``table.filter_text = ...``)."""
        self._apply_filter(text)

    def notify_style_update(self) -> None:
        """Drop rendered lines when styles (theme, focus) change."""
        super().notify_style_update()
        self._line_cache.clear()
        self._header = None

    def render_lines(self, crop: Region) -> list[Strip]:
        """Prepare what every line of this pass shares (clock, styles), then render.

        Reading the clock once per pass makes every line show the same second; looking the
        styles up once keeps the per-line cost to the row itself.
        """
        self._pass = self._prepare_pass()
        try:
            return super().render_lines(crop)
        finally:
            self._pass = None

    def render_line(self, y: int) -> Strip:
        """Render line ``y`` of the widget: the header, a row, or blank."""
        render = self._pass or self._prepare_pass()
        if y == 0:
            return self._render_header(render)
        index = render.top + y - 1
        view = self._view
        if index >= len(view):
            if index == 0:
                return self._render_empty(render)
            return Strip.blank(render.width, render.base)
        return self._render_row(view[index], index == self._cursor, render)

    # ------------------------------------------------------------------ rendering

    def _prepare_pass(self) -> _Pass:
        # Not `size.width`: the vertical scrollbar takes its share of the widget.
        width = self.scrollable_content_region.width
        if width != self._layout_width:
            self._layout_width = width
            self._layout = layout_columns(width)
            self._time_columns = _TIME_COLUMNS.intersection(key for key, _ in self._layout)
            self._line_cache.clear()
            self._header = None
        base = self.rich_style
        component = self.get_component_rich_style
        return _Pass(
            now=self._clock(),
            width=width,
            top=round(self.scroll_y),
            base=base,
            new=base + component("task-table--new"),
            ended=base + component("task-table--ended"),
            cursor=component("task-table--cursor"),
            alert=component("task-table--status-alert"),
        )

    def _render_header(self, render: _Pass) -> Strip:
        key = (self._sort_column, self._sort_reverse)
        if self._header is not None and self._header[0] == key:
            return self._header[1]
        style = render.base + self.get_component_rich_style("task-table--header")
        # Partial: the sort column keeps the header's background.
        sorted_style = style + self.get_component_rich_style(
            "task-table--header-sorted", partial=True
        )
        arrow = "▼" if self._sort_reverse else "▲"
        segments = [Segment(" " * _MARKER_WIDTH, style)]
        for position, (column_key, cell_width) in enumerate(self._layout):
            if position:
                segments.append(Segment(_SEPARATOR, style))
            column = _COLUMN_BY_KEY[column_key]
            if column_key == self._sort_column:
                # The arrow must survive a narrow column: shorten the title instead.
                title = column.title
                if len(title) + 1 > cell_width:
                    title = title[: max(cell_width - 2, 0)] + _ELLIPSIS
                title = _fit(title + arrow, cell_width, column.right)
                segments.append(Segment(title, sorted_style))
            else:
                segments.append(Segment(_fit(column.title, cell_width, column.right), style))
        strip = Strip(segments).adjust_cell_length(render.width, style)
        self._header = (key, strip)
        return strip

    def _render_empty(self, render: _Pass) -> Strip:
        width = render.width
        style = render.base + self.get_component_rich_style("task-table--empty")
        filtered = self._infos and self._applied_filter
        message = f"No task matches {_clean(self._applied_filter)!r}" if filtered else "No tasks"
        return Strip([Segment(_fit(" " * _MARKER_WIDTH + message, width), style)], width)

    def _row_key(
        self, info: _Info, is_cursor: bool, now: datetime, width: int
    ) -> tuple[bool, bool, str, str, int]:
        """What a row's rendered line depends on besides the row itself and the styles."""
        task = info.row.task
        shown = self._time_columns
        uptime = format_uptime(task.created_at, now) if "uptime" in shown else ""
        updated = format_age(task.updated_at, now) if "updated" in shown else ""
        return (is_cursor, info.row.is_new(now), uptime, updated, width)

    def _render_row(self, info: _Info, is_cursor: bool, render: _Pass) -> Strip:
        now = render.now
        width = render.width
        row = info.row
        key = self._row_key(info, is_cursor, now, width)
        cached = self._line_cache.get(info.task_id)
        if cached is not None and cached[0] is info and cached[1] == key:
            return cached[2]
        _, is_new, uptime, updated, _ = key

        if row.ended_at is not None:
            style = render.ended
            marker = _MARK_ENDED
        elif is_new:
            style = render.new
            marker = _MARK_NEW
        else:
            style = render.base
            marker = " "
        alert = not row.task.is_running and row.ended_at is None
        if is_cursor:
            style += render.cursor
        cells = info.cells
        segments = [Segment(marker + " ", style)]
        for position, (column_key, cell_width) in enumerate(self._layout):
            if position:
                segments.append(Segment(_SEPARATOR, style))
            if column_key == "uptime":
                text = uptime
            elif column_key == "updated":
                text = updated
                if len(text) > cell_width and text.endswith(_AGO):
                    text = text[: -len(_AGO)]
            else:
                text = cells[column_key]
            cell_style = style
            if alert and column_key == "status":
                cell_style = style + render.alert
                if is_cursor:
                    cell_style += render.cursor
            segments.append(
                Segment(_fit(text, cell_width, _COLUMN_BY_KEY[column_key].right), cell_style)
            )
        strip = Strip(segments).adjust_cell_length(width, style)
        self._line_cache[info.task_id] = (info, key, strip)
        return strip
