"""The task table: a virtualised, keyboard-driven table of task rows on Textual's Line API.

Textual's stock `DataTable` measures every cell of every row and takes seconds to load 10,000
rows; this widget renders only the lines on screen. Per-row work that does not depend on the
clock (cleaned cell texts, the filter haystack, sort keys) is computed once per `Row` object and
kept while the task book hands back the same object, so a refresh where 1% of tasks changed
costs little more than a sort of mostly ordered keys. Rendered lines are cached per row and
re-rendered only when the row, its state (cursor, mark, new, ended), the layout, the styles or the
text of its time columns changes; a one-second timer redraws the visible lines whose uptime or
"updated" text moved on (a task up for hours changes once a minute), and only those.

Line 0 is the header (it never scrolls); line ``y >= 1`` shows row ``scroll_y + y - 1`` of the
current view (sort order, then filter).

The widget owns the Textual side (keys, messages, the timer, rendering and its line cache) and
the marks (`asrtui.ui.selection.Marks`, by task id; a mark leaves with its row);
`asrtui.ui.widgets.task_table.view` keeps the rows in order, `.rows` derives what a row shows
and `.columns` lays the columns out. Over 450 lines because a sixth of it is the widget's
default CSS; the rest is key handling and rendering over one line cache.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.signal import Signal
from textual.strip import Strip
from textual.timer import Timer

from asrtui.ui.durations import format_age, format_uptime
from asrtui.ui.selection import Marks
from asrtui.ui.taskbook import Row
from asrtui.ui.widgets.task_table.columns import (
    COLUMN_BY_KEY,
    DEFAULT_CHOICE,
    ELLIPSIS,
    MARKER_WIDTH,
    SEPARATOR,
    TIME_COLUMNS,
    ColumnChoice,
    SortColumn,
    clean_text,
    fit_cell,
    layout_columns,
)
from asrtui.ui.widgets.task_table.rows import RowInfo
from asrtui.ui.widgets.task_table.view import RowView

__all__ = ["TaskTable"]


_AGO = " ago"
_MARK_NEW = "+"
_MARK_ENDED = "x"
#: The second gutter cell of a marked row: the mark reads without colour.
_MARK_SET = "*"
#: Drawn rows kept for this many screens of the table, so a refresh, a cursor move or a
#: scroll back within them draws only what changed; rows further away are drawn again when
#: they come back (a fraction of a millisecond each). A kept row holds its line and what
#: Textual derives from it (cropped, styled, divided at the scrollbar): ~3 KB, so a session
#: that browsed a large account would otherwise hold ~3 MB for 1,024 rows no longer shown.
LINE_CACHE_SCREENS = 3
#: ... and never fewer rows than this (a table not yet laid out, a very low terminal).
LINE_CACHE_MIN_ROWS = 64


def line_cache_rows(body_height: int) -> int:
    """How many drawn rows the table keeps for a body ``body_height`` rows high."""
    return max(LINE_CACHE_MIN_ROWS, LINE_CACHE_SCREENS * body_height)


#: What a row's rendered line depends on besides the row and the styles: cursor, marked, new,
#: the uptime and "updated" texts, the width.
_RowKey = tuple[bool, bool, bool, str, str, int]


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
    marked: Style


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
        ticking: whether the table runs its own 1 s timer for the time columns; ``False`` when
            its owner calls `tick` from a timer of its own (one repaint a second for both).
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
        Binding("space", "toggle_mark", "Mark / unmark the task, then move down", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "task-table--header",
        "task-table--header-sorted",
        "task-table--cursor",
        "task-table--new",
        "task-table--ended",
        "task-table--status-alert",
        "task-table--empty",
        "task-table--marked",
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
        & > .task-table--marked {
            background: $accent 30%;
            text-style: bold;
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

    class MarksChanged(_TableMessage):
        """Tasks were marked or unmarked (by a key, or because their rows left)."""

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
        ticking: bool = True,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._clock = clock
        self._rows = RowView()
        self._layout_width = -1
        self._layout: list[tuple[SortColumn, int]] = []
        self._choice = DEFAULT_CHOICE
        self._time_columns: frozenset[str] = frozenset()
        self._line_cache: LRUCache[str, tuple[RowInfo, _RowKey, Strip]] = LRUCache(
            LINE_CACHE_MIN_ROWS
        )
        self._pass: _Pass | None = None
        self._header: tuple[tuple[str, bool], Strip] | None = None
        self._tick_timer: Timer | None = None
        self._ticking = ticking
        self._marks = Marks()
        self.cursor_moved: Signal[str | None] = Signal(self, "cursor_moved")
        """Published with the task under the cursor as soon as the cursor moves to another task.

        `Highlighted` says the same, but a message is handled after the frame that draws the
        moved cursor: a pane that names the highlighted task and listens to the message lags the
        cursor by a frame. A subscriber with ``immediate=True`` runs before that frame, so the
        cursor and what follows it are drawn together."""

    # ------------------------------------------------------------------ public API

    def set_rows(self, rows: Sequence[Row]) -> None:
        """Replace the data, keeping the cursor on the same task and the scroll where it is.

        Rows are matched by task id; a row object seen before reuses its cached rendering.
        If the cursor's task is gone, the cursor stays at the same position, which is the
        task's nearest neighbour.

        Args:
            rows: every row to show (e.g. `TaskBook.rows()`).
        """
        index = self._rows.set_rows(rows)
        dropped = self._rows.dropped
        if dropped is None:
            self._forget_gone(self._rows.generation)
        else:  # replaced in place: only those rows' lines are stale
            for task_id in dropped:
                self._line_cache.discard(task_id)
        if self._marks and self._marks.keep_only({info.task_id for info in self._rows.infos}):
            self.post_message(self.MarksChanged(self))
        if dropped is not None and not dropped:
            # Nothing replaced (the usual refresh of a quiet account): every line on screen is
            # still right, so nothing is repainted; the tick redraws the ages that move on.
            # The cursor still goes through the one rule (kept in view), as a rebuild's does.
            self._set_cursor(index)
            return
        self._show_view(index)

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
        self._show_view(self._rows.sort_by(column_key, reverse))

    def cycle_sort(self) -> None:
        """Sort by the next column shown (in display order), ascending.

        Only over the columns on screen: a sort by a column the width or the operator's
        choice left out would order the rows by something nobody can see, with no header to
        say so.
        """
        order = self._choice.order
        shown = self.shown_columns() or list(self._choice.visible)
        start = order.index(self._rows.sort_column)
        for step in range(1, len(order) + 1):
            candidate = order[(start + step) % len(order)]
            if candidate in shown:
                self.sort_by(candidate, reverse=False)
                return

    def shown_columns(self) -> list[SortColumn]:
        """The columns the table's width and the column choice show now, in display order."""
        width = self.scrollable_content_region.width
        return [key for key, _ in layout_columns(width, self._choice)] if width > 0 else []

    @property
    def column_choice(self) -> ColumnChoice:
        """Which columns the operator wants, in which order (the width may drop some)."""
        return self._choice

    def set_column_choice(self, choice: ColumnChoice) -> None:
        """Show these columns in this order, from the next frame on; the sort is kept."""
        if choice != self._choice:
            self._choice = choice
            # Laid out again for the same width: the layout and every cached line change.
            self._layout_width = -1
            self.refresh()

    def sort_label(self) -> str:
        """The sort as the header shows it, e.g. ``UPDATED▼``."""
        arrow = "▼" if self._rows.sort_reverse else "▲"
        return COLUMN_BY_KEY[self._rows.sort_column].title + arrow

    def set_filter(self, text: str) -> None:
        """Show only rows whose id, tag, stream host/path or language contains ``text``.

        Case-insensitive; an empty text shows every row. Typing more characters narrows the
        current view instead of searching every row again.
        """
        self._apply_filter(text)
        self.set_reactive(TaskTable.filter_text, text)

    @property
    def hide_ended(self) -> bool:
        """Whether the rows of ended tasks are left out of the view."""
        return self._rows.hide_ended

    def set_hide_ended(self, hide: bool) -> None:
        """Leave the rows of ended tasks out of the view (they stay in the event log)."""
        if hide != self._rows.hide_ended:
            self._show_view(self._rows.set_hide_ended(hide))

    def move_cursor(self, task_id: str) -> bool:
        """Put the cursor on a task (scrolling to it) if it is in the current view.

        Returns:
            Whether the task was found.
        """
        index = self._rows.find(task_id)
        if index is None:
            return False
        self._set_cursor(index)
        return True

    @property
    def cursor_task_id(self) -> str | None:
        """The task under the cursor, ``None`` when the view is empty."""
        return self._rows.cursor_id

    @property
    def sort_column(self) -> SortColumn:
        """The column the rows are sorted by."""
        return self._rows.sort_column

    @property
    def sort_reverse(self) -> bool:
        """Whether the sort is descending."""
        return self._rows.sort_reverse

    @property
    def row_count(self) -> int:
        """Rows in the current view (after the filter)."""
        return len(self._rows.view)

    @property
    def total_count(self) -> int:
        """Rows given to the table (before the filter)."""
        return len(self._rows.infos)

    def visible_rows(self) -> list[Row]:
        """The rows of the current view, in sort order, after the filter ("the current view")."""
        return [info.row for info in self._rows.view]

    # ------------------------------------------------------------------ marks

    @property
    def mark_count(self) -> int:
        """Marked tasks in the current view (what a batch action acts on)."""
        marks = self._marks
        return sum(1 for info in self._rows.view if info.task_id in marks) if marks else 0

    @property
    def hidden_mark_count(self) -> int:
        """Marked tasks the filter or hide-ended leaves out of the view (acted on by nothing)."""
        return len(self._marks) - self.mark_count

    def marked_rows(self) -> list[Row]:
        """The marked rows of the current view, in view order.

        Only those in view: a batch never acts on a task the operator cannot see.
        """
        marks = self._marks
        return [info.row for info in self._rows.view if info.task_id in marks] if marks else []

    def is_marked(self, task_id: str) -> bool:
        """Whether the task is marked (in view or not)."""
        return task_id in self._marks

    def unmark(self, task_ids: Sequence[str]) -> None:
        """Unmark the tasks given (e.g. those a batch acted on)."""
        if self._marks.discard(task_ids):
            self._marks_changed()

    def action_toggle_mark(self) -> None:
        """Mark or unmark the task under the cursor, then move down (as htop and k9s do)."""
        task_id = self._rows.cursor_id
        if task_id is None:
            return
        self._marks.toggle(task_id)
        self._marks_changed()
        self._set_cursor(self._rows.cursor + 1)

    def action_mark_all(self) -> None:
        """Mark every task in the current view (after the filter and hide-ended)."""
        if self._marks.add_all(info.task_id for info in self._rows.view):
            self._marks_changed()

    def action_clear_marks(self) -> None:
        """Unmark every task, in view or not."""
        if self._marks.clear():
            self._marks_changed()

    def _marks_changed(self) -> None:
        self.refresh()
        self.post_message(self.MarksChanged(self))

    # ------------------------------------------------------------------ view maintenance

    def _apply_filter(self, text: str) -> None:
        index = self._rows.apply_filter(text)
        if index is not None:
            self._show_view(index)

    def _show_view(self, index: int) -> None:
        """Show a rebuilt view with the cursor at ``index`` (its task, or its old place)."""
        # Width 0: the columns always fit the widget, it never scrolls sideways.
        self.virtual_size = Size(0, len(self._rows.view) + 1)
        self._set_cursor(index)
        self.refresh()

    def _set_cursor(self, index: int) -> None:
        """Move the cursor, scrolling only as far as needed to keep it in view."""
        rows = self._rows
        before = rows.cursor_id
        moved = rows.place_cursor(index)
        if moved is not None:
            self.refresh_line(moved[0] + 1)
            self.refresh_line(moved[1] + 1)
        self._scroll_to_cursor()
        if rows.cursor_id != before:
            self.cursor_moved.publish(rows.cursor_id)
            self.post_message(self.Highlighted(rows.cursor_id, self))

    def _body_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_to_cursor(self) -> None:
        if not self.size.height:
            return
        body = self._body_height()
        top = round(self.scroll_y)
        cursor = self._rows.cursor
        if cursor < top:
            self.scroll_to(y=cursor, animate=False, force=True)
        elif cursor >= top + body:
            self.scroll_to(y=cursor - body + 1, animate=False, force=True)

    # ------------------------------------------------------------------ actions

    def action_cursor_up(self) -> None:
        """Move the cursor one row up."""
        self._set_cursor(self._rows.cursor - 1)

    def action_cursor_down(self) -> None:
        """Move the cursor one row down."""
        self._set_cursor(self._rows.cursor + 1)

    def action_page_up(self) -> None:
        """Move the cursor one screen up."""
        self._set_cursor(self._rows.cursor - self._body_height())

    def action_page_down(self) -> None:
        """Move the cursor one screen down."""
        self._set_cursor(self._rows.cursor + self._body_height())

    def action_first(self) -> None:
        """Move the cursor to the first row."""
        self._set_cursor(0)

    def action_last(self) -> None:
        """Move the cursor to the last row."""
        self._set_cursor(len(self._rows.view) - 1)

    def action_select_cursor(self) -> None:
        """Tell the screen the operator chose the task under the cursor."""
        if self._rows.cursor_id is not None:
            self.post_message(self.Selected(self._rows.cursor_id, self))

    # ------------------------------------------------------------------ Textual hooks

    def on_mount(self) -> None:
        """Start the timer that keeps uptime and ages ticking (unless the owner ticks it)."""
        if self._ticking:
            self._tick_timer = self.set_interval(self.TICK_SECONDS, self._tick)

    def tick(self) -> None:
        """Redraw the visible rows whose time columns or "new" marker have moved on.

        For an owner that built the table with ``ticking=False``: called from the owner's own
        1 s timer, the rows' repaint joins the owner's in one screen update instead of one more
        each second.
        """
        self._tick()

    def _tick(self) -> None:
        """Redraw the visible rows whose time columns or "new" marker have moved on."""
        view = self._rows.view
        if not view or self._layout_width < 0 or not self.size.height:
            return
        now = self._clock()
        width = self._layout_width
        top = round(self.scroll_y)
        for index in range(top, min(top + self._body_height(), len(view))):
            info = view[index]
            cached = self._line_cache.get(info.task_id)
            key = self._row_key(info, index == self._rows.cursor, now, width)
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
        view = self._rows.view
        if index >= len(view):
            if index == 0:
                return self._render_empty(render)
            return Strip.blank(render.width, render.base)
        return self._render_row(view[index], index == self._rows.cursor, render)

    # ------------------------------------------------------------------ rendering

    def _prepare_pass(self) -> _Pass:
        # Not `size.width`: the vertical scrollbar takes its share of the widget.
        width = self.scrollable_content_region.width
        if width != self._layout_width:
            self._layout_width = width
            self._layout = layout_columns(width, self._choice)
            self._time_columns = TIME_COLUMNS.intersection(key for key, _ in self._layout)
            self._line_cache.clear()
            self._header = None
        rows = line_cache_rows(self._body_height())
        if rows != self._line_cache.maxsize:
            # A new cache: Textual's evicts one entry per insertion once it was full, so a
            # smaller maximum set on a full one would never shrink it.
            self._line_cache = LRUCache(rows)
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
            marked=component("task-table--marked"),
        )

    def _render_header(self, render: _Pass) -> Strip:
        key = (self._rows.sort_column, self._rows.sort_reverse)
        if self._header is not None and self._header[0] == key:
            return self._header[1]
        style = render.base + self.get_component_rich_style("task-table--header")
        # Partial: the sort column keeps the header's background.
        sorted_style = style + self.get_component_rich_style(
            "task-table--header-sorted", partial=True
        )
        arrow = "▼" if self._rows.sort_reverse else "▲"
        segments = [Segment(" " * MARKER_WIDTH, style)]
        for position, (column_key, cell_width) in enumerate(self._layout):
            if position:
                segments.append(Segment(SEPARATOR, style))
            column = COLUMN_BY_KEY[column_key]
            if column_key == self._rows.sort_column:
                # The arrow must survive a narrow column: shorten the title instead.
                title = column.title
                if len(title) + 1 > cell_width:
                    title = title[: max(cell_width - 2, 0)] + ELLIPSIS
                title = fit_cell(title + arrow, cell_width, column.right)
                segments.append(Segment(title, sorted_style))
            else:
                segments.append(Segment(fit_cell(column.title, cell_width, column.right), style))
        strip = Strip(segments).adjust_cell_length(render.width, style)
        self._header = (key, strip)
        return strip

    def _render_empty(self, render: _Pass) -> Strip:
        width = render.width
        style = render.base + self.get_component_rich_style("task-table--empty")
        filtered = self._rows.infos and self._rows.applied_filter
        if self._rows.generation == 0:
            # Nothing was ever listed (the first answer is awaited, or failed): "No tasks"
            # would claim the account runs none.
            message = "No data yet"
        elif filtered:
            message = f"No task matches {clean_text(self._rows.applied_filter)!r}"
        elif self._rows.infos and self._rows.hide_ended:
            message = "Only ended tasks, hidden (h shows them)"
        else:
            message = "No tasks"
        return Strip([Segment(fit_cell(" " * MARKER_WIDTH + message, width), style)], width)

    def _row_key(self, info: RowInfo, is_cursor: bool, now: datetime, width: int) -> _RowKey:
        """What a row's rendered line depends on besides the row itself and the styles."""
        task = info.row.task
        shown = self._time_columns
        uptime = format_uptime(task.created_at, now) if "uptime" in shown else ""
        updated = format_age(task.updated_at, now) if "updated" in shown else ""
        marked = info.task_id in self._marks
        return (is_cursor, marked, info.row.is_new(now), uptime, updated, width)

    def _render_row(self, info: RowInfo, is_cursor: bool, render: _Pass) -> Strip:
        now = render.now
        width = render.width
        row = info.row
        key = self._row_key(info, is_cursor, now, width)
        cached = self._line_cache.get(info.task_id)
        if cached is not None and cached[0] is info and cached[1] == key:
            return cached[2]
        _, marked, is_new, uptime, updated, _ = key

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
        if marked:
            style += render.marked
        if is_cursor:
            style += render.cursor
        cells = info.cells
        segments = [Segment(marker + (_MARK_SET if marked else " "), style)]
        for position, (column_key, cell_width) in enumerate(self._layout):
            if position:
                segments.append(Segment(SEPARATOR, style))
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
                Segment(fit_cell(text, cell_width, COLUMN_BY_KEY[column_key].right), cell_style)
            )
        strip = Strip(segments).adjust_cell_length(width, style)
        # Textual's LRUCache keeps the first value set for a key: drop the stale line first,
        # or a row whose cursor, marker or time text ever changed would miss on every pass.
        self._line_cache.discard(info.task_id)
        self._line_cache[info.task_id] = (info, key, strip)
        return strip
