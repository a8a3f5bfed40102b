"""The column chooser (``o``): which of the task table's columns are shown, and in which order.

A small modal over a list of every column: space shows or hides the highlighted one, ``K``/``J``
(or shift+up/down) move it, Enter applies, Esc leaves the table as it was. Each line says
whether the column fits at the table's current width, worked out by the table's own layout
(`asrtui.ui.widgets.task_table.layout_columns`), so what the list says is what the table does.
The list's order is the table's order from left to right, and also the order in which the
columns that are not core (mode, tag, updated, callback) join while they fit; core columns
(id, status, language, uptime, stream) narrow to stay, and only when even that is not enough
do the last of them give way.

The result is a `ColumnChoice`, a plain value with a JSON form, which the caller applies and
may keep.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from asrtui.ui.frames import PacedFrames
from asrtui.ui.widgets.task_table import (
    COLUMN_BY_KEY,
    DEFAULT_CHOICE,
    ColumnChoice,
    SortColumn,
    layout_columns,
)
from asrtui.ui.widgets.task_table.columns import ALWAYS_SHOWN

__all__ = ["ColumnChooser"]

_HINT = "space show/hide  K/J move  r reset  Enter apply  Esc cancel"
_RULE = (
    "Left to right as listed. When the table is narrow, core columns narrow to stay;"
    " the others join in this order while they fit."
)


class ColumnChooser(ModalScreen[ColumnChoice | None], PacedFrames[ColumnChoice | None]):
    """Edit a `ColumnChoice`; dismisses with the new choice (Enter) or ``None`` (Esc).

    Args:
        choice: the table's current choice, where editing starts.
        width: the table's width in cells, to say which columns fit now.
    """

    DEFAULT_CSS = """
    ColumnChooser {
        align: center middle;
    }
    ColumnChooser > Vertical {
        background: $panel;
        border: thick $primary;
        width: 64;
        max-width: 95%;
        height: auto;
        max-height: 95%;
        padding: 0 1;
    }
    ColumnChooser #title {
        text-style: bold;
        width: 100%;
        content-align: center middle;
    }
    ColumnChooser OptionList, ColumnChooser OptionList:focus {
        height: auto;
        max-height: 12;
        border: none;
        padding: 0;
        margin: 1 0;
    }
    ColumnChooser .note {
        color: $text-muted;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_column", "Show/hide"),
        Binding("K,shift+up", "move_column(-1)", "Move up"),
        Binding("J,shift+down", "move_column(1)", "Move down"),
        Binding("k", "cursor(-1)", "Up", show=False),
        Binding("j", "cursor(1)", "Down", show=False),
        Binding("r", "reset_columns", "Built-in order"),
        Binding("enter", "apply", "Apply"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, choice: ColumnChoice, width: int) -> None:
        super().__init__()
        self._choice = choice
        self._width = width

    @property
    def choice(self) -> ColumnChoice:
        """The choice as edited so far."""
        return self._choice

    def compose(self) -> ComposeResult:
        """A title, the list of columns, and what the keys do."""
        with Vertical():
            yield Label("Columns", id="title")
            yield OptionList(*self._options(), id="columns")
            yield Static(_RULE, classes="note")
            yield Static(_HINT, classes="note", id="hint")

    def on_mount(self) -> None:
        """Start on the first column."""
        columns = self.query_one("#columns", OptionList)
        columns.highlighted = 0
        columns.focus()

    def _options(self) -> list[Option]:
        fits = {key for key, _ in layout_columns(self._width, self._choice)}
        options = []
        for key in self._choice.order:
            shown = key not in self._choice.hidden
            core = COLUMN_BY_KEY[key].essential
            if key == ALWAYS_SHOWN:
                note = "core, always shown"
            elif not shown:
                note = "hidden"
            elif key not in fits:
                note = "too narrow now"
            else:
                note = "core" if core else ""
            line = Text(f"[{'x' if shown else ' '}] {COLUMN_BY_KEY[key].title:<9}")
            line.append(f" {note}", style="dim italic")
            options.append(Option(line, id=key))
        return options

    def _highlighted(self) -> SortColumn | None:
        columns = self.query_one("#columns", OptionList)
        index = columns.highlighted
        return None if index is None else self._choice.order[index]

    def _show(self, choice: ColumnChoice, highlight: SortColumn | None) -> None:
        """Show ``choice``, keeping ``highlight`` (a column key) under the cursor."""
        self._choice = choice
        columns = self.query_one("#columns", OptionList)
        columns.clear_options()
        columns.add_options(self._options())
        if highlight is not None:
            columns.highlighted = choice.order.index(highlight)

    def action_toggle_column(self) -> None:
        """Show or hide the highlighted column (the id stays)."""
        key = self._highlighted()
        if key is not None:
            self._show(self._choice.toggled(key), key)

    def action_move_column(self, step: int) -> None:
        """Move the highlighted column up (left) or down (right)."""
        key = self._highlighted()
        if key is not None:
            self._show(self._choice.moved(key, step), key)

    def action_cursor(self, step: int) -> None:
        """Move the highlight (j/k, as in the table)."""
        columns = self.query_one("#columns", OptionList)
        columns.action_cursor_down() if step > 0 else columns.action_cursor_up()

    def action_reset_columns(self) -> None:
        """Every column shown, in the built-in order."""
        self._show(DEFAULT_CHOICE, self._highlighted())

    def action_apply(self) -> None:
        """Close, handing the choice back."""
        self.dismiss(self._choice)

    def action_cancel(self) -> None:
        """Close, leaving the table as it was."""
        self.dismiss(None)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        # Enter in the list (its own binding) applies, as the hint says.
        event.stop()
        self.action_apply()
