"""The detail pane: every field of the highlighted task, its history, and a raw JSON view.

Secrets (the stream URL's ``auth_key`` and the account id) are masked unless the operator
reveals them with a key; while revealed, a "SECRETS SHOWN" marker says so. Everything from the
server goes in as plain `Text`, never as markup.

The pane is shown again after every refresh and every fetch by id, mostly with nothing new. It
is redrawn only when what it shows changed, its grid is rendered once per width (Textual
renders content once to measure it and once to draw it), and the screen is laid out again only
when the number of lines changed: an idle console redraws one pane, not the whole screen.

Moving the cursor names the new task in the title at once (the keys act on the task the title
names), but the body follows only once the cursor has rested for `FOLLOW_DELAY`: drawing a
task's fields costs tens of milliseconds, and a key held down over a long list would otherwise
pay that for every row passed, in the time between the key and the cursor being drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import ClassVar, Self

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.highlighter import JSONHighlighter
from rich.measure import Measurement
from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.geometry import Region
from textual.reactive import reactive
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static

from asrtui.jsontext import RawJSON, to_text
from asrtui.models import Task
from asrtui.printable import printable_json, printable_line
from asrtui.redact import redact_task, redact_task_dict
from asrtui.ui.durations import UNKNOWN, format_age, format_clock_time, format_local_time
from asrtui.ui.taskbook import Row, TaskEvent
from asrtui.wire import task_to_wire, unread_value

#: Shown at the top of the pane while secrets are revealed.
SECRETS_MARKER = " SECRETS SHOWN "

#: Seconds the cursor must rest on another task before the body shows that task's fields: long
#: enough to skip the rows passed under a held key (repeat rate 25-35 per second), short
#: enough not to be seen waiting.
FOLLOW_DELAY = 0.06

#: A field's name and its value, as drawn.
FieldCells = tuple[Text, Text]

#: Rendered lines of segments, as `Console.render_lines` gives them.
Lines = list[list[Segment]]

#: Field rows kept rendered (per pane): a few tasks' worth, at a few widths.
ROW_CACHE_SIZE = 512


@dataclass(frozen=True)
class DetailModel:
    """What the pane shows for one task.

    Attributes:
        task: the freshest copy known (fetched by id if that is newer than the list).
        row: the task's table row, for when the session first saw it and when it ended.
        history: the task's own events this session, oldest first.
        now: the wall-clock time for relative ages.
        fetched_at: when the copy shown was fetched by id, ``None`` if it comes from the list.
        note: a line about fetching (an error, "no longer known to the service"...).
    """

    task: Task
    row: Row | None = None
    history: Sequence[TaskEvent] = field(default_factory=tuple)
    now: datetime | None = None
    fetched_at: datetime | None = None
    note: str = ""


def _when(moment: datetime | None, now: datetime | None, tz: tzinfo | None) -> str:
    if moment is None:
        return UNKNOWN
    shown = format_local_time(moment, tz)
    return f"{shown} ({format_age(moment, now)})" if now is not None else shown


def _value(value: object) -> str:
    if value is None:  # a known field the answer did not carry
        return UNKNOWN
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if isinstance(value, RawJSON):  # too deep to walk: the text as received, marked
        return f"{value.text}  ({value.note})"
    return to_text(value, spaced=True)


def field_cells(model: DetailModel, *, revealed: bool, tz: tzinfo | None) -> list[FieldCells]:
    """The task's fields as (name, value) cells, unknown (``extra``) fields included.

    Unless ``revealed``, every field is shown as `asrtui.redact.redact_task` masks it, the rule
    of the raw JSON view, the copies and the exports: a token or password in any URL (stream,
    callback, an unknown field, nested), the account id.
    """
    now = model.now
    task = model.task if revealed else redact_task(model.task)
    cells: list[FieldCells] = []

    def add(name: str, value: str | Text) -> None:
        # Server text reaches the terminal through here: an ESC in a tag must stay text, and
        # an unknown field's name is text too (a "[" in it is not markup).
        if isinstance(value, Text):
            value = Text(printable_line(value.plain), style=value.style)
        else:
            value = Text(printable_line(value))
        cells.append((Text(printable_line(name)), value))

    if model.row is not None and model.row.ended_at is not None:
        # No longer listed: whatever status it had when last seen is over.
        add("status", Text("ended", style="dim"))
    else:
        status_style = "green" if task.is_running else "yellow"
        add("status", Text(task.status_label, style=status_style))
    add("mode", task.mode or UNKNOWN)
    targets = ", ".join(task.target_languages)
    add("language", task.language + (f" → {targets}" if targets else "") or UNKNOWN)

    def read(field: str, shown: str, what: str) -> str | Text:
        """``shown``, or what the server sent when it could not be read, marked."""
        unread = unread_value(task, field)
        if unread is None:
            return shown
        return Text.assemble(printable_line(unread), (f"  (as sent: {what})", "italic"))

    add("translate", read("translate_enabled", _value(task.translate_enabled), "not yes or no"))
    add("tag", task.tag)
    add("stream", Text(task.stream_url, style="bold red" if revealed else ""))
    add("callback", task.callback_url)
    add("created", read("created_at", _when(task.created_at, now, tz), "not a time"))
    add("updated", read("updated_at", _when(task.updated_at, now, tz), "not a time"))
    report = UNKNOWN if task.report_interval is None else f"{task.report_interval} ms"
    add("report", read("report_interval", report, "not a whole number"))
    auto_stop = UNKNOWN if task.auto_terminate_delay is None else f"{task.auto_terminate_delay} s"
    add("auto stop", read("auto_terminate_delay", auto_stop, "not a whole number"))
    add("aliUid", Text(task.ali_uid, style="bold red" if revealed else ""))
    for name in sorted(task.extra):
        extra = task.extra[name]
        add(name, Text("null" if extra is None else _value(extra), style="italic"))
    if model.row is not None:
        add("first seen", _when(model.row.first_seen, now, tz))
        if model.row.ended_at is not None:
            add("ended", Text(_when(model.row.ended_at, now, tz), style="yellow"))
    if model.fetched_at is not None:
        add("fetched", _when(model.fetched_at, now, tz))
    return cells


def fields_table(cells: Sequence[FieldCells]) -> Table:
    """The fields as a two-column grid: names bold, values folded to the width left.

    The reference drawing: `FieldLines` draws the same lines a row at a time, and falls back
    to this when the names leave the values no room.
    """
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for name, value in cells:
        grid.add_row(name, value)
    return grid


def render_fields(model: DetailModel, *, revealed: bool, tz: tzinfo | None) -> Table:
    """The task's fields as a two-column grid (see `field_cells`)."""
    return fields_table(field_cells(model, revealed=revealed, tz=tz))


def render_history(history: Sequence[TaskEvent], tz: tzinfo | None) -> Text:
    """The task's events this session, one per line, oldest first."""
    # The heading's style goes on the heading only: given to `Text()`, it would be the base
    # style of every line below it.
    text = Text()
    text.append("History this session", style="bold underline")
    if not history:
        text.append("\n  (nothing yet)", style="dim")
    for event in history:
        stamp = format_clock_time(event.at, tz)
        text.append(f"\n  {stamp} ", style="dim")
        text.append(f"{event.kind:<8}")
        text.append(f" {event.detail}")
    return text


def render_raw(task: Task, *, revealed: bool) -> RenderableType:
    """The task object as received, as highlighted JSON; secrets masked unless revealed."""
    raw = task_to_wire(task)
    shown = raw if revealed else redact_task_dict(raw)
    # Highlighted here rather than by `rich.json.JSON`, which would parse the text again and
    # undo `printable_json`'s escapes (an ESC in a tag must reach the screen as text).
    dumped = to_text(shown, indent=2)
    highlighted = JSONHighlighter()(Text(printable_json(dumped)))
    deep = sorted(name for name, value in shown.items() if isinstance(value, RawJSON))
    if deep:
        # Written back verbatim on one line: say why those lines look different.
        notes = "\n".join(f"{printable_line(str(name))}: {shown[name].note}" for name in deep)
        highlighted = Text.assemble(highlighted, "\n", Text(notes, style="italic dim"))
    # Rich does not wrap JSON; a stream URL is longer than the pane, so fold long lines.
    highlighted.no_wrap = False
    highlighted.overflow = "fold"
    return highlighted


def shown_key(model: DetailModel | None, *, revealed: bool, raw_json: bool) -> tuple[object, ...]:
    """Everything the pane's rendering of ``model`` depends on: equal keys render equally.

    Ages ("3m05s ago") are in it as the text they render to: shown again a second later with
    nothing new, the pane is redrawn only if one of its ages moved on.
    """
    if model is None:
        return ()
    task = model.task
    if raw_json:
        return (True, revealed, task, model.note)
    row, now = model.row, model.now
    moments = (
        task.created_at,
        task.updated_at,
        row.first_seen if row is not None else None,
        row.ended_at if row is not None else None,
        model.fetched_at,
    )
    ages = tuple(format_age(moment, now) for moment in moments) if now is not None else ()
    history = tuple(model.history)
    return (False, revealed, task, row, history, model.fetched_at, model.note, ages)


def _text_key(text: Text) -> tuple[object, ...]:
    """What a `Text` renders from: equal keys draw equal lines at one width."""
    return (text.plain, text.style, tuple(text.spans), text.justify, text.overflow)


#: The grid's cell styles, as `fields_table`'s columns give them.
_NAME_STYLE = Style(bold=True)
_VALUE_STYLE = Style()


class FieldLines:
    """The fields drawn exactly as `fields_table` draws them, a row at a time.

    A grid renders every row to draw any: shown again a second later, when only an age moved
    on ("first seen (15s ago)"), the pane would pay for the whole grid. Here the column widths
    come from the cells' lengths (what the grid measures), and each row's lines are kept in
    ``cache`` by its cells and the widths, so only a row whose text changed is rendered. When
    the names leave the values no room (a very narrow pane, a very long unknown field name),
    the grid itself is drawn: its ways of sharing out too little width are its own.
    """

    def __init__(self, cells: Sequence[FieldCells], cache: dict[tuple[object, ...], Lines]) -> None:
        self._cells = cells
        self._cache = cache

    @property
    def cells(self) -> Sequence[FieldCells]:
        """The fields drawn."""
        return self._cells

    def widths(self, width: int) -> tuple[int, int] | None:
        """The name and value columns' widths at ``width``, or ``None`` if the grid decides."""
        if not self._cells:
            return None
        # A name's column holds the name and one space; a value's, the longest line.
        name_width = max(cell_len(name.plain) for name, _ in self._cells) + 1
        value_width = max(
            cell_len(line) for _, value in self._cells for line in value.plain.split("\n")
        )
        if value_width < 1 or name_width >= width or any("\n" in n.plain for n, _ in self._cells):
            return None
        return name_width, min(value_width, width - name_width)

    def lines(self, console: Console, options: ConsoleOptions) -> Lines:
        """The grid's lines at ``options.max_width``."""
        widths = self.widths(options.max_width)
        if widths is None:
            return console.render_lines(
                fields_table(self._cells), options.update(height=None), pad=False
            )
        name_width, value_width = widths
        name_options = options.update(
            width=name_width,
            justify="left",
            no_wrap=True,
            overflow="ellipsis",
            height=None,
            highlight=False,
        )
        value_options = options.update(
            width=value_width,
            justify="left",
            no_wrap=False,
            overflow="fold",
            height=None,
            highlight=False,
        )
        cache = self._cache
        lines: Lines = []
        for name, value in self._cells:
            key = (_text_key(name), _text_key(value), name_width, value_width)
            row = cache.get(key)
            if row is None:
                row = self._row(console, name, value, name_options, value_options)
                if len(cache) >= ROW_CACHE_SIZE:
                    cache.clear()
                cache[key] = row
            lines.extend(row)
        return lines

    @staticmethod
    def _row(
        console: Console,
        name: Text,
        value: Text,
        name_options: ConsoleOptions,
        value_options: ConsoleOptions,
    ) -> Lines:
        """One row's lines, as `rich.table.Table` renders a grid row (cells padded, top-aligned)."""
        cells = [
            (
                console.render_lines(Padding(name, (0, 1, 0, 0)), name_options, style=_NAME_STYLE),
                name_options.max_width,
                _NAME_STYLE,
            ),
            (
                console.render_lines(
                    Padding(value, (0, 0, 0, 0)), value_options, style=_VALUE_STYLE
                ),
                value_options.max_width,
                _VALUE_STYLE,
            ),
        ]
        height = max(len(lines) for lines, _, _ in cells)
        shaped = [
            Segment.set_shape(Segment.align_top(lines, width, height, style), width, height)
            for lines, width, style in cells
        ]
        return [shaped[0][number] + shaped[1][number] for number in range(height)]


class _Body:
    """The pane's body: its parts' lines, kept for the last width they were rendered at.

    Textual renders a widget's content to measure its height and again to draw it, and a
    pane laid out again (for another widget's sake) measures it once more. Rendered with no
    height limit: the widget crops. The field grid comes from `FieldLines`, the history from
    ``cache`` when it did not change: a body shown again with one age moved on costs the rows
    that changed.

    ``floor`` pads it with blank lines to at least that many: a body as tall as the pane
    whatever the task, so that showing another task changes no height and the screen is not
    laid out again (a whole-screen redraw, tens of milliseconds beside a large table).
    """

    def __init__(
        self,
        parts: Sequence[RenderableType | FieldLines],
        cache: dict[tuple[object, ...], Lines],
        floor: int = 0,
    ) -> None:
        self._parts = parts
        self._cache = cache
        self._floor = floor
        self._width = -1
        self._lines: Lines = []

    def lines(self, console: Console, options: ConsoleOptions) -> Lines:
        """The rendered lines at ``options.max_width``."""
        width = options.max_width
        if width != self._width:
            options = options.update(height=None)
            lines: Lines = []
            for part in self._parts:
                if isinstance(part, FieldLines):
                    lines.extend(part.lines(console, options))
                elif isinstance(part, Text) and len(part) > 200:
                    # The history: unchanged from one second to the next, mostly.
                    key = ("text", _text_key(part), width)
                    kept = self._cache.get(key)
                    if kept is None:
                        kept = console.render_lines(part, options, pad=False)
                        if len(self._cache) >= ROW_CACHE_SIZE:
                            self._cache.clear()
                        self._cache[key] = kept
                    lines.extend(kept)
                else:
                    lines.extend(console.render_lines(part, options, pad=False))
            lines += [[] for _ in range(self._floor - len(lines))]
            self._lines = lines
            self._width = width
        return self._lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        new_line = Segment.line()
        for line in self.lines(console, options):
            yield from line
            yield new_line

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        parts = [
            fields_table(part.cells) if isinstance(part, FieldLines) else part
            for part in self._parts
        ]
        return Measurement.get(console, options, Group(*parts))


class DetailBody(Static):
    """The pane's body, repainting only the lines that changed when its height does not.

    A `Static` repaints every line it holds on an update: for a body shown again with one age
    moved on, Textual would style and compose some fifty lines to show three new ones.
    """

    def __init__(self, content: RenderableType, *, id: str | None = None) -> None:
        super().__init__(content, id=id)
        self._changed: Sequence[int] | None = None

    def update_lines(self, content: _Body, changed: Sequence[int]) -> None:
        """Show ``content``, which differs from what is shown only in the lines ``changed``."""
        self._changed = changed
        try:
            self.update(content, layout=False)
        finally:
            self._changed = None

    def refresh(
        self,
        *regions: Region,
        repaint: bool = True,
        layout: bool = False,
        recompose: bool = False,
    ) -> Self:
        """Mark only the changed lines dirty during `update_lines`; as `Widget.refresh` else."""
        changed = self._changed
        if changed is not None and not regions and repaint and not layout and not recompose:
            if not changed:
                return self
            width = self.size.width
            regions = tuple(Region(0, line, width, 1) for line in changed)
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)


class TaskDetail(VerticalScroll):
    """Everything known about the highlighted task; scrolls when it does not fit.

    Args:
        tz: the zone times are shown in; ``None`` for this host's local zone.
    """

    # With the focus here the table's keys for moving scroll this pane instead, so the same
    # fingers read a long task; Esc hands the keys back to the table (the screen's action).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "screen.focus_table", "Back to table", key_display="Esc"),
        Binding("j", "scroll_down", "Scroll", key_display="j/k"),
        Binding("k", "scroll_up", "Scroll up", show=False),
        Binding("g", "scroll_home", "Top", show=False),
        Binding("G", "scroll_end", "Bottom", show=False),
    ]

    DEFAULT_CSS = """
    TaskDetail {
        background: $surface;
        padding: 0 1;
    }
    TaskDetail:focus {
        background-tint: $foreground 5%;
    }
    TaskDetail > #detail-title {
        text-style: bold;
        width: 100%;
    }
    /* Where the keys go: the pane's title takes the focused cursor's colours. */
    TaskDetail:focus > #detail-title {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
    }
    TaskDetail > #detail-marker {
        display: none;
        background: $error;
        color: $text;
        text-style: bold;
        width: auto;
    }
    TaskDetail.-revealed > #detail-marker {
        display: block;
    }
    """

    revealed: reactive[bool] = reactive(False)
    """Whether secrets are shown in clear (toggled by the reveal key)."""
    raw_json: reactive[bool] = reactive(False)
    """Whether the raw JSON view replaces the field grid."""

    def __init__(
        self, *, tz: tzinfo | None = None, follow_delay: float = FOLLOW_DELAY, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self._tz = tz
        self._follow_delay = follow_delay
        self._follow: Timer | None = None
        self._model: DetailModel | None = None
        self._shown: tuple[object, ...] | None = None
        self._heading: Text | None = None
        self._body_size = (-1, -1)
        # The body's lines as shown, at ``self._body_size``'s width: what an update compares.
        self._body_lines: Lines | None = None
        # Rendered field rows and histories, by their text and width (see `FieldLines`).
        self._lines_cache: dict[tuple[object, ...], Lines] = {}
        # A body not drawn while the pane could not be seen: drawn when it can be again.
        self._stale = False

    def compose(self) -> ComposeResult:
        """A title line, the secrets marker and the body."""
        yield Static("", id="detail-title")
        yield Static(SECRETS_MARKER, id="detail-marker")
        yield DetailBody("No task selected.", id="detail-body")

    @property
    def model(self) -> DetailModel | None:
        """What the pane shows (``None`` when no task is highlighted)."""
        return self._model

    @property
    def task_id(self) -> str | None:
        """The id of the task shown."""
        return self._model.task.task_id if self._model else None

    def show(self, model: DetailModel | None) -> None:
        """Show ``model`` (or the empty pane for ``None``).

        Another task than the one shown is named in the title at once and its body drawn once
        the cursor rests (`FOLLOW_DELAY`); the same task again is drawn at once (if it changed).
        """
        changed_task = (model.task.task_id if model else None) != self.task_id
        self._model = model
        if changed_task and model is not None and self._follow_delay > 0 and self.is_mounted:
            self._set_heading(self.query_one("#detail-title", Static), self._heading_of(model))
            if self._follow is None:
                self._follow = self.set_timer(self._follow_delay, self._follow_up)
            else:
                self._follow.reset()
        elif self._follow is None:
            self._render_body()
        if changed_task:
            self.scroll_home(animate=False)

    def _follow_up(self) -> None:
        """The cursor rested: draw the body of the task the title names."""
        self._follow = None
        self._render_body()

    def flush(self) -> None:
        """Draw a body still waiting for the cursor to rest, now (for readers of the pane)."""
        if self._follow is not None:
            self._follow.stop()
            self._follow_up()
        if self._stale:
            self._render_body(force=True)

    def _seen(self) -> bool:
        """Whether the pane can be seen: not hidden, nor behind a maximised widget."""
        for node in self.ancestors_with_self:
            if isinstance(node, Widget) and not node.display:
                return False
        maximized = self.screen.maximized
        return (
            maximized is None
            or maximized in self.ancestors_with_self
            or self in maximized.ancestors
        )

    def on_show(self) -> None:
        """Draw what changed while the pane could not be seen."""
        if self._stale:
            self._render_body()

    def watch_revealed(self, revealed: bool) -> None:
        """Re-render with secrets shown or masked, and flag the pane."""
        self.set_class(revealed, "-revealed")
        self._render_body()

    def watch_raw_json(self) -> None:
        """Switch between the field grid and the raw JSON."""
        self._render_body()

    def _render_body(self, *, force: bool = False) -> None:
        if not self.is_mounted:
            return
        if not force and not self._seen():
            # Hidden (``d``) or behind the maximised table: nothing to draw every second.
            self._stale = True
            return
        self._stale = False
        model = self._model
        key = shown_key(model, revealed=self.revealed, raw_json=self.raw_json)
        if key == self._shown:
            return
        self._shown = key
        title = self.query_one("#detail-title", Static)
        body = self.query_one("#detail-body", Static)
        if model is None:
            self._set_heading(title, Text(""))
            self._set_body(body, [Text("No task selected.", style="dim")])
            return
        self._set_heading(title, self._heading_of(model))
        parts: list[RenderableType | FieldLines] = []
        if model.note:
            parts.append(Text(model.note, style="yellow"))
        if self.raw_json:
            parts.append(render_raw(model.task, revealed=self.revealed))
        else:
            cells = field_cells(model, revealed=self.revealed, tz=self._tz)
            parts.append(FieldLines(cells, self._lines_cache))
            parts.append(Text(""))
            parts.append(render_history(model.history, self._tz))
        self._set_body(body, parts)

    def _heading_of(self, model: DetailModel) -> Text:
        """The title naming ``model``'s task (masked unless revealed)."""
        shown_id = model.task.task_id if self.revealed else redact_task(model.task).task_id
        heading = Text(printable_line(shown_id))
        if self.raw_json:
            heading.append("  (raw JSON)", style="dim")
        return heading

    def _set_heading(self, title: Static, heading: Text) -> None:
        if heading != self._heading:
            # One line before and after: no need to lay the screen out again.
            width = title.size.width
            fits = width > 0 and all(
                line is not None and line.cell_len <= width for line in (heading, self._heading)
            )
            self._heading = heading
            title.update(heading, layout=not fits)

    def _set_body(self, body: Static, parts: Sequence[RenderableType | FieldLines]) -> None:
        """Show ``parts``: the screen laid out again only if the body's height changes, and
        only the lines that changed repainted if it does not."""
        rendered = _Body(parts, self._lines_cache, self._body_floor())
        width = body.size.width
        size = (-1, -1)
        lines: Lines | None = None
        if width > 0:
            app = self.app
            options = app.console_options.update_width(width).update(highlight=False)
            lines = rendered.lines(app.console, options)
            size = (width, len(lines))
        shown = self._body_lines
        if (
            isinstance(body, DetailBody)
            and lines is not None
            and shown is not None
            and size == self._body_size
        ):
            changed = [number for number, line in enumerate(lines) if line != shown[number]]
            body.update_lines(rendered, changed)
        else:
            body.update(rendered, layout=size[0] < 0 or size != self._body_size)
        self._body_size = size
        self._body_lines = lines

    def _body_floor(self) -> int:
        """The lines the body takes to fill the pane below the title (and the marker)."""
        above = sum(
            child.outer_size.height
            for child in (self.query_one("#detail-title"), self.query_one("#detail-marker"))
            if child.display
        )
        return max(self.scrollable_content_region.height - above, 0)

    def on_resize(self) -> None:
        """Fill the pane at its new height (the body's floor depends on it)."""
        self._shown = None
        self._render_body()

    def as_text(self, width: int = 120) -> str:
        """The pane's content as plain text (what a screen reader or a test would read)."""
        self.flush()
        title = self.query_one("#detail-title", Static)
        body = self.query_one("#detail-body", Static)
        console = Console(width=width, color_system=None, file=None, record=True)
        with console.capture() as capture:
            if self.revealed:
                console.print(SECRETS_MARKER)
            console.print(title.content)
            console.print(body.content)
        # Without the blank lines that fill the pane below the body.
        return capture.get().rstrip("\n") + "\n"
