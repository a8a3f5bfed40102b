"""The console's form for a new task, or a restart (a new task like another, prefilled).

Each field has its rule beside it (`asrtui.taskspec.FIELDS`); the rule turns into the problem
when a value breaks it, so every wrong field is marked at once and nothing is sent until all
are right. The form stays open while the task is created: a value the service rejects is shown
beside the field it names, and the operator corrects it there. Pressing Create is the
confirmation (the form shows exactly what is sent).

Secrets stay off the screen: a prefilled stream URL is shown masked and sent as it was unless
edited; the AuthKey is typed hidden (and a restart cannot copy one: the API never lists it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from asrtui.errors import ApiError, AsrtuiError
from asrtui.printable import printable_line
from asrtui.redact import mask_url, redact_text
from asrtui.taskspec import FIELDS, MAINTENANCE_NOTE, TaskSpec, field_of_error, validate
from asrtui.ui.frames import PacedFrames

__all__ = ["CreateTaskForm"]

#: Creates the task and returns its id (raises `AsrtuiError` when the service refuses).
Send = Callable[[TaskSpec], Awaitable[str]]

_HIDDEN = frozenset({"auth_key"})


def _shown(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class CreateTaskForm(ModalScreen[str | None], PacedFrames[str | None]):
    """A new task's fields with their rules; dismisses with the new task's id, or ``None``.

    Args:
        send: creates the task from the checked values.
        values: prefilled values by field key (a restart's, from
            `asrtui.taskspec.values_of_task`).
        like: the id of the task restarted, ``None`` for a new task.
    """

    DEFAULT_CSS = """
    CreateTaskForm {
        align: center middle;
    }
    CreateTaskForm > Vertical {
        background: $panel;
        border: thick $primary;
        width: 110;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        padding: 0 1;
    }
    CreateTaskForm #create-title {
        text-style: bold;
    }
    CreateTaskForm #create-note {
        color: $text-muted;
    }
    CreateTaskForm VerticalScroll {
        height: auto;
        max-height: 20;
    }
    CreateTaskForm Grid {
        grid-size: 3;
        grid-columns: 20 1fr 1fr;
        grid-rows: auto;
        grid-gutter: 0 1;
        height: auto;
    }
    CreateTaskForm Grid Label {
        width: 100%;
        text-align: right;
        color: $text-muted;
    }
    CreateTaskForm .rule {
        color: $text-muted;
    }
    CreateTaskForm .rule.-error {
        color: $error;
        text-style: bold;
    }
    CreateTaskForm #create-error {
        color: $error;
        text-style: bold;
    }
    CreateTaskForm #create-buttons {
        height: auto;
        align-horizontal: right;
    }
    CreateTaskForm Button {
        margin-left: 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "create", "Create"),
    ]

    def __init__(
        self, send: Send, values: Mapping[str, object] | None = None, like: str | None = None
    ) -> None:
        super().__init__()
        self._send = send
        self._values = dict(values or {})
        self._like = like
        # A prefilled URL is shown masked; kept to send as it was when left unedited.
        self._masked: dict[str, tuple[str, str]] = {}
        self.errors: dict[str, str] = {}
        """Field key -> the problem shown beside it (empty when none)."""
        self.sending = False

    def compose(self) -> ComposeResult:
        """Title, the maintenance note, the fields with their rules, an error line, buttons."""
        title = (
            f"Restart {printable_line(self._like)} as a new task" if self._like else "Create a task"
        )
        with Vertical():
            yield Label(title, id="create-title", markup=False)
            yield Static(MAINTENANCE_NOTE, id="create-note", markup=False)
            with VerticalScroll(), Grid():
                for rule in FIELDS:
                    value = _shown(self._values.get(rule.key))
                    shown = value
                    if value and rule.key in ("stream_url", "callback_url"):
                        shown = mask_url(value)
                        if shown != value:
                            self._masked[rule.key] = (shown, value)
                    yield Label(rule.label)
                    yield Input(
                        shown,
                        password=rule.key in _HIDDEN,
                        id=f"field-{rule.key}",
                        compact=True,
                    )
                    yield Static(rule.rule, id=f"rule-{rule.key}", classes="rule", markup=False)
            yield Static("", id="create-error", markup=False)
            with Horizontal(id="create-buttons"):
                yield Button("Create", id="create", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        """Start in the first empty field (a restart starts in the first one)."""
        for rule in FIELDS:
            field = self.query_one(f"#field-{rule.key}", Input)
            if not field.value:
                field.focus()
                return
        self.query_one("#create", Button).focus()

    def values(self) -> dict[str, object]:
        """The values typed, a masked prefilled URL replaced by what it stands for."""
        values: dict[str, object] = {}
        for rule in FIELDS:
            text = self.query_one(f"#field-{rule.key}", Input).value
            masked = self._masked.get(rule.key)
            if masked is not None and text == masked[0]:
                text = masked[1]
            values[rule.key] = text
        return values

    def show_errors(self, errors: Mapping[str, str], general: str = "") -> None:
        """Put each problem beside its field (the rule again where there is none)."""
        self.errors = dict(errors)
        for rule in FIELDS:
            note = self.query_one(f"#rule-{rule.key}", Static)
            problem = errors.get(rule.key)
            note.update(problem or rule.rule)
            note.set_class(problem is not None, "-error")
        self.query_one("#create-error", Static).update(general)
        for rule in FIELDS:
            if rule.key in errors:
                self.query_one(f"#field-{rule.key}", Input).focus()
                break

    @on(Input.Submitted)
    @on(Button.Pressed, "#create")
    def action_create(self) -> None:
        """Check every field; send when all are right."""
        if self.sending:
            return
        spec, errors = validate(self.values())
        if spec is None:
            self.show_errors(errors, f"Not sent: {len(errors)} field(s) to correct.")
            return
        self.show_errors({}, "Creating...")
        self.sending = True
        self.query_one("#create", Button).disabled = True
        self._create(spec)

    @work(exclusive=True, group="create-task")
    async def _create(self, spec: TaskSpec) -> None:
        try:
            task_id = await self._send(spec)
        except AsrtuiError as error:
            self.sending = False
            self.query_one("#create", Button).disabled = False
            key = field_of_error(error.message) if isinstance(error, ApiError) else None
            text = printable_line(redact_text(str(error)))
            if key is not None:
                self.show_errors({key: f"rejected by the service: {text}"}, "Not created.")
            else:
                self.show_errors({}, f"Not created: {text}")
            return
        self.dismiss(task_id)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without creating anything (a request already sent still completes)."""
        self.dismiss(None)
