"""The profile switcher (``P``): every profile, the active one marked; add, edit, or switch.

It lists profiles through the `asrtui.protocols.Connector` and dismisses with the key of the
profile to open: opening it is the app's job.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import (
    Label,
    OptionList,
    Static,
)
from textual.widgets.option_list import Option

from asrtui.errors import AsrtuiError
from asrtui.profiles import ProfileStore
from asrtui.protocols import Connector, ProfileChoice
from asrtui.ui.frames import PacedFrames
from asrtui.ui.screens.profiles.form import ProfileForm

__all__ = ["DEMO_REFUSAL", "ProfileSwitcher", "choice_text"]


#: Why the demo refuses to add or edit profiles.
DEMO_REFUSAL = (
    "The demo writes no files, so profiles cannot be added or edited here. "
    "Quit and run 'asrtui' (or 'asrtui profile add NAME --access-key-id ID')."
)


def choice_text(choice: ProfileChoice) -> Text:
    """One line of the switcher: marks, name, region, endpoint, masked credentials."""
    text = Text()
    text.append("● " if choice.active else "  ", style="bold green")
    text.append(choice.name, style="bold")
    if choice.default:
        text.append(" (default)", style="dim")
    text.append(f"  {choice.region}  ")
    text.append(choice.endpoint, style="dim")
    text.append(f"  {choice.credentials}")
    if choice.read_only:
        text.append("  read-only", style="cyan")
    return text


class ProfileSwitcher(ModalScreen[str | None], PacedFrames[str | None]):
    """The list of profiles; dismisses with the key to open, or ``None``.

    Args:
        connector: lists the profiles and gives the store to add or edit them in.
    """

    DEFAULT_CSS = """
    ProfileSwitcher {
        align: center middle;
    }
    ProfileSwitcher > Vertical {
        background: $panel;
        border: thick $primary;
        width: 96;
        max-width: 100%;
        height: auto;
        max-height: 90%;
        padding: 0 1;
    }
    ProfileSwitcher #title {
        text-style: bold;
        padding: 1 0 0 0;
    }
    ProfileSwitcher OptionList {
        height: auto;
        max-height: 14;
    }
    ProfileSwitcher #switcher-error {
        color: $error;
    }
    ProfileSwitcher #keys {
        color: $text-muted;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("a", "add", "Add profile"),
        Binding("e", "edit", "Edit profile"),
    ]

    def __init__(self, connector: Connector) -> None:
        super().__init__()
        self._connector = connector
        self._choices: list[ProfileChoice] = []
        self._edited: set[str] = set()

    def compose(self) -> ComposeResult:
        """Title, the list, an error line, and the keys."""
        with Vertical():
            yield Label("Profiles", id="title")
            yield OptionList(id="profiles")
            yield Static("", id="switcher-error", markup=False)
            yield Static(
                "↑↓ choose   Enter switch   a add   e edit   Esc cancel   (● active)", id="keys"
            )

    def on_mount(self) -> None:
        """List the profiles, the active one highlighted."""
        self.reload()
        self.query_one(OptionList).focus()

    @property
    def choices(self) -> list[ProfileChoice]:
        """The profiles listed, in order."""
        return list(self._choices)

    @property
    def highlighted(self) -> ProfileChoice | None:
        """The profile under the cursor."""
        index = self.query_one(OptionList).highlighted
        if index is None or not 0 <= index < len(self._choices):
            return None
        return self._choices[index]

    def reload(self, select: str | None = None) -> None:
        """Read the profiles again and highlight ``select`` (the active one by default)."""
        error = self.query_one("#switcher-error", Static)
        try:
            self._choices = list(self._connector.profiles())
        except AsrtuiError as exc:
            self._choices = []
            error.update(str(exc))
        else:
            error.update("" if self._choices else "No profiles yet: press a to add one.")
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(Option(choice_text(choice), id=choice.key) for choice in self._choices)
        keys = [choice.key for choice in self._choices]
        wanted = select if select in keys else self._connector.active_key
        if wanted in keys:
            options.highlighted = keys.index(wanted)
        elif keys:
            options.highlighted = 0

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        choice = self._choices[event.option_index]
        if choice.active and choice.key not in self._edited:
            self.notify(f"Already using profile {choice.name}.", markup=False)
            self.dismiss(None)
            return
        self.dismiss(choice.key)

    def action_cancel(self) -> None:
        """Close without switching."""
        self.dismiss(None)

    def _store(self) -> ProfileStore | None:
        store = self._connector.store()
        if store is None:
            self.notify(DEMO_REFUSAL, title="Demo mode", severity="warning", markup=False)
        return store

    def action_add(self) -> None:
        """Add a profile (not in demo mode)."""
        store = self._store()
        if store is not None:
            self.app.push_screen(ProfileForm(store), self._saved)

    def action_edit(self) -> None:
        """Edit the highlighted profile (not in demo mode, not the environment's)."""
        choice = self.highlighted
        if choice is None:
            self.notify("No profile highlighted.", severity="warning")
            return
        store = self._store()
        if store is None:
            return
        if not choice.editable:
            self.notify(
                f"{choice.name} is not a stored profile; it cannot be edited here.",
                severity="warning",
                markup=False,
            )
            return
        try:
            profile = store.load().get(choice.key)
        except AsrtuiError as exc:
            self.notify(str(exc), title="Cannot edit", severity="error", markup=False)
            return
        self.app.push_screen(ProfileForm(store, profile), self._saved)

    def _saved(self, name: str | None) -> None:
        if name is None:
            return
        self._edited.add(name)
        self.reload(select=name)
        active = next((c for c in self._choices if c.active and c.key == name), None)
        if active is not None:
            # The profile in use: its new settings (interval, rate limit, read-only...) apply
            # now, not at the next switch.
            self.notify(f"Saved profile {name}; using its new settings now.", markup=False)
            self.dismiss(active.key)
            return
        self.notify(f"Saved profile {name}. Enter switches to it.", markup=False)
