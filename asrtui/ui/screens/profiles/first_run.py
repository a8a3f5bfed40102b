"""The first-run welcome: shown when nothing is configured; add a profile, or start the demo."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import (
    Footer,
    Label,
    Static,
)

from asrtui.errors import AsrtuiError
from asrtui.protocols import Connector
from asrtui.ui.frames import PacedFrames
from asrtui.ui.screens.profiles.form import ProfileForm
from asrtui.ui.screens.profiles.switcher import DEMO_REFUSAL

__all__ = ["FirstRunScreen", "SwitchRequested"]


@dataclass
class SwitchRequested(Message):
    """Open the profile ``key`` and show it (handled by the app)."""

    key: str


class FirstRunScreen(PacedFrames[None]):
    """Shown when nothing is configured: add a profile, or start the demo.

    Args:
        connector: gives the store to write the first profile in, and offers the demo.
    """

    DEFAULT_CSS = """
    FirstRunScreen {
        align: center middle;
    }
    FirstRunScreen > Vertical {
        width: 76;
        max-width: 100%;
        height: auto;
        border: thick $primary;
        background: $panel;
        padding: 1 2;
    }
    FirstRunScreen #welcome-title {
        text-style: bold;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add a profile"),
        Binding("d", "demo", "Start the demo"),
        Binding("P", "app.profiles", "Profiles"),
    ]

    def __init__(self, connector: Connector | None) -> None:
        super().__init__()
        self._connector = connector

    def compose(self) -> ComposeResult:
        """A short welcome saying what to do, then the footer with the keys."""
        store = self._connector.store() if self._connector is not None else None
        where = f" in {store.directory}" if store is not None else ""
        with Vertical():
            yield Label("Welcome to asrtui", id="welcome-title")
            yield Static(
                "No profile is configured and no ALIBABA_CLOUD_ACCESS_KEY_ID is set.\n\n"
                f"a  add a profile (saved{where}; the secret goes in a 0600 file)\n"
                "d  start the demo instead (a built-in emulator; no account, no files)\n"
                "P  list profiles (to edit one that was added but does not open)\n"
                "q  quit\n\n"
                "From a shell: asrtui profile add NAME --access-key-id ID,\n"
                "or asrtui profile import-aliyun to reuse the aliyun CLI's profiles.",
                id="welcome-text",
                markup=False,
            )
        yield Footer()

    def action_add(self) -> None:
        """Add the first profile, then open it."""
        store = self._connector.store() if self._connector is not None else None
        if store is None:
            self.notify(DEMO_REFUSAL, severity="warning", markup=False)
            return
        self.app.push_screen(ProfileForm(store), self._saved)

    def _saved(self, name: str | None) -> None:
        if name is not None:
            self.post_message(SwitchRequested(name))

    def action_demo(self) -> None:
        """Start the demo."""
        try:
            choices = self._connector.profiles() if self._connector is not None else []
        except AsrtuiError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        for choice in choices:
            if choice.kind == "demo":
                self.post_message(SwitchRequested(choice.key))
                return
        self.notify("The demo is not available here: run 'asrtui --demo'.", severity="warning")
