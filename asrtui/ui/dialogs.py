"""Modal dialogs: a yes/no confirmation for destructive actions and the export dialog."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.markup import escape
from textual import on
from textual._time import get_time
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.events import Key
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from asrtui.ui.export import ExportFormat
from asrtui.ui.frames import PacedFrames
from asrtui.ui.widgets.toggles import PlainRadioButton


class ConfirmDialog(ModalScreen[bool], PacedFrames[bool]):
    """Ask a yes/no question; dismisses with ``True`` only for an explicit yes.

    "No" has the focus first, so a stray Enter never stops or deletes a task.

    Args:
        title: what is about to happen, e.g. "Stop task".
        question: the question, plain text (it is escaped before display).
        yes_label: the label of the confirming button.
    """

    DEFAULT_CSS = """
    ConfirmDialog {
        align: center middle;
    }
    ConfirmDialog > Vertical {
        background: $panel;
        border: thick $error;
        width: 64;
        max-width: 95%;
        height: auto;
        padding: 0 1;
    }
    ConfirmDialog #title {
        text-style: bold;
        width: 100%;
        content-align: center middle;
        padding: 1 0 0 0;
    }
    ConfirmDialog #question {
        width: 100%;
        padding: 1 0;
    }
    ConfirmDialog #keys {
        color: $text-muted;
    }
    ConfirmDialog #buttons {
        width: 100%;
        height: auto;
        align-horizontal: right;
    }
    ConfirmDialog Button {
        margin-left: 1;
    }
    """

    BINDINGS = [
        Binding("left,up,shift+tab", "app.focus_previous", "Previous", show=False),
        Binding("right,down,tab", "app.focus_next", "Next", show=False),
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, title: str, question: str, yes_label: str = "Yes") -> None:
        super().__init__()
        self._title = title
        self._question = question
        self._yes_label = yes_label
        self._opened_at = float("inf")

    def compose(self) -> ComposeResult:
        """A title, the question, then the confirming button and No."""
        with Vertical():
            yield Label(escape(self._title), id="title")
            yield Static(escape(self._question), id="question")
            yield Static("y: yes   n or Esc: no", id="keys")
            with Horizontal(id="buttons"):
                yield Button(self._yes_label, id="yes", variant="error")
                yield Button("No", id="no", variant="primary")

    def on_mount(self) -> None:
        """Focus the safe answer; from now on keys are answers."""
        self._opened_at = get_time()
        self.query_one("#no", Button).focus()

    def on_key(self, event: Key) -> None:
        """Drop keys typed before the question was on screen.

        Typed-ahead keys reach the dialog once it is up (`asrtui.ui.typeahead`), but a quick
        "x" then "y", where "y" meant copy, is no answer to a question nobody read. Each key
        carries the time the terminal delivered it.
        """
        if event.time < self._opened_at:
            event.stop()
            event.prevent_default()

    def action_answer(self, answer: bool) -> None:
        """Close the dialog with ``answer``."""
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class FormatChoice(RadioSet):
    """The export's format: one key picks it (``1``/``j`` JSON, ``2``/``c`` CSV, an arrow or
    Space the other one); Enter exports.

    A stock `RadioSet` moves a highlight with the arrows and needs Space or Enter to choose;
    with two formats, every key here chooses at once.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1,j", "pick(0)", "JSON", show=False),
        Binding("2,c", "pick(1)", "CSV", show=False),
        Binding("left,right,up,down,space", "other", "The other format", show=False),
        Binding("enter", "screen.submit", "Export", show=False),
    ]

    def action_pick(self, index: int) -> None:
        """Choose the format at ``index``."""
        buttons = list(self.query(RadioButton))
        if 0 <= index < len(buttons):
            buttons[index].value = True

    def action_other(self) -> None:
        """Choose the format that is not chosen."""
        self.action_pick(1 if self.pressed_index == 0 else 0)


@dataclass(frozen=True)
class ExportRequest:
    """Where and how the operator asked the current view to be exported."""

    path: Path
    fmt: ExportFormat


class ExportDialog(ModalScreen[ExportRequest | None], PacedFrames[ExportRequest | None]):
    """Pick a format and a path for an export; dismisses with ``None`` when cancelled.

    The file name has the focus (the field most often changed); Tab moves to the format,
    where one key picks it (`FormatChoice`), so no arrow or Space ever edits the name.

    Args:
        default_path: the proposed path (its suffix follows the chosen format while unedited).
        count: how many tasks will be written, shown so the operator knows what they get.
        what: what the tasks are, for the title (``3 marked tasks: a, b, c``); by default
            the count of tasks in view.
    """

    DEFAULT_CSS = """
    ExportDialog {
        align: center middle;
    }
    ExportDialog > Vertical {
        background: $panel;
        border: thick $primary;
        width: 70;
        max-width: 95%;
        height: auto;
        padding: 0 1;
    }
    ExportDialog #title {
        text-style: bold;
        padding: 1 0 0 0;
    }
    ExportDialog RadioSet {
        layout: horizontal;
        width: 100%;
        height: auto;
    }
    ExportDialog #note, ExportDialog #keys {
        color: $text-muted;
    }
    ExportDialog #buttons {
        width: 100%;
        height: auto;
        align-horizontal: right;
    }
    ExportDialog Button {
        margin-left: 1;
    }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, default_path: Path, count: int, what: str = "") -> None:
        super().__init__()
        self._default_path = default_path
        self._count = count
        self._what = what or f"{count} task(s) in view"

    def compose(self) -> ComposeResult:
        """Path input, then the format (next in Tab order), a note on masking, the buttons."""
        with Vertical():
            yield Label(escape(f"Export {self._what}"), id="title")
            yield Input(str(self._default_path), id="path")
            with FormatChoice(id="format"):
                yield PlainRadioButton("JSON", value=True, id="json")
                yield PlainRadioButton("CSV", id="csv")
            yield Static("Stream keys and account ids are always masked.", id="note")
            yield Static("Tab: format (1 JSON, 2 CSV)   Enter: export   Esc: cancel", id="keys")
            with Horizontal(id="buttons"):
                yield Button("Export", id="export", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        """Start in the path, the field most often changed."""
        self.query_one("#path", Input).focus()

    @property
    def chosen_format(self) -> ExportFormat:
        """The format selected in the radio set."""
        pressed = self.query_one("#format", RadioSet).pressed_button
        return (
            ExportFormat.CSV if pressed is not None and pressed.id == "csv" else ExportFormat.JSON
        )

    @on(RadioSet.Changed)
    def _format_changed(self) -> None:
        path_input = self.query_one("#path", Input)
        path = Path(path_input.value)
        if path.suffix.lower() in (".json", ".csv"):
            path_input.value = str(path.with_suffix("." + self.chosen_format.value))

    @on(Input.Submitted, "#path")
    @on(Button.Pressed, "#export")
    def action_submit(self) -> None:
        """Export to the path in the chosen format (Enter in the path or the format)."""
        value = self.query_one("#path", Input).value.strip()
        if not value:
            self.notify("Give a file path to export to.", severity="warning")
            return
        self.dismiss(ExportRequest(Path(value), self.chosen_format))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without exporting."""
        self.dismiss(None)
