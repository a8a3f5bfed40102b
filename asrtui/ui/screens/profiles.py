"""Profile screens: the switcher (``P``), the add/edit form, and the first-run welcome.

They list profiles through the `asrtui.protocols.Connector` and write them through its
`asrtui.profiles.ProfileStore` (atomic, 0600), validated by the store's own rules, so the
console and ``asrtui profile add`` accept exactly the same profiles. Opening a profile is the
app's job: the switcher dismisses with the key to open, the first-run screen posts
`SwitchRequested`.

Secrets are typed into password inputs and never shown: editing a profile leaves the secret
field empty, and an empty secret keeps the stored one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import (
    Button,
    Checkbox,
    Footer,
    Input,
    Label,
    OptionList,
    RadioButton,
    RadioSet,
    Static,
)
from textual.widgets.option_list import Option

from asrtui.credentials import Credentials
from asrtui.errors import AsrtuiError, ConfigError
from asrtui.profiles import Profile, ProfileStore, Signature
from asrtui.profiles.model import (
    DEFAULT_RATE_LIMIT,
    DEFAULT_REFRESH,
    DEFAULT_REGION,
    DEFAULT_REQUEST_TIMEOUT,
    MAX_RATE_LIMIT,
    MAX_REFRESH,
    MAX_REQUEST_TIMEOUT,
    MIN_REFRESH,
    MIN_REQUEST_TIMEOUT,
)
from asrtui.protocols import Connector, ProfileChoice

#: Why the demo refuses to add or edit profiles.
DEMO_REFUSAL = (
    "The demo writes no files, so profiles cannot be added or edited here. "
    "Quit and run 'asrtui' (or 'asrtui profile add NAME --access-key-id ID')."
)


@dataclass
class SwitchRequested(Message):
    """Open the profile ``key`` and show it (handled by the app)."""

    key: str


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


class ProfileSwitcher(ModalScreen[str | None]):
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
        self.notify(f"Saved profile {name}. Enter switches to it.", markup=False)


# ---------------------------------------------------------------------- the form


def _parse_number(text: str, kind: type[int] | type[float], what: str, rule: str) -> float:
    """A form field's number, or a `ConfigError` naming the field and its rule."""
    try:
        return kind(text.strip())
    except ValueError:
        raise ConfigError(f"Invalid {what} {text!r}", f"use {rule}") from None


def _parse_rate_limit(text: str) -> int:
    rule = f"a whole number of calls per second from 1 to {MAX_RATE_LIMIT}"
    return int(_parse_number(text, int, "rate limit", rule))


def _parse_refresh(text: str) -> float:
    rule = f"a number of seconds from {MIN_REFRESH:g} to {MAX_REFRESH:g}"
    return _parse_number(text, float, "refresh interval", rule)


def _parse_request_timeout(text: str) -> float:
    rule = f"a number of seconds from {MIN_REQUEST_TIMEOUT:g} to {MAX_REQUEST_TIMEOUT:g}"
    return _parse_number(text, float, "request timeout", rule)


@dataclass(frozen=True)
class FormValues:
    """What the form's fields hold (secrets included: never shown or logged)."""

    name: str
    access_key_id: str
    secret: str
    token: str
    command: str
    region: str
    endpoint: str
    signature: str
    rate_limit: str
    refresh: str
    read_only: bool
    #: Empty keeps the stored value (the default for a new profile).
    request_timeout: str = ""

    def __repr__(self) -> str:
        return f"FormValues(name={self.name!r})"


def profile_from_form(values: FormValues, existing: Profile | None) -> Profile:
    """The profile the form describes, validated by `Profile` itself.

    Editing, an empty secret keeps the stored secret (and STS token, unless a new token is
    typed); a new secret comes with the token typed next to it (none when empty).

    Raises:
        ConfigError: a field is invalid or the credentials are incomplete.
    """
    name = values.name.strip()
    key_id = values.access_key_id.strip()
    secret = values.secret.strip()
    token = values.token.strip()
    command = values.command.strip()
    old = existing.credentials if existing is not None else None
    credentials: Credentials | None = None
    if command:
        if key_id or secret or token:
            raise ConfigError(
                "Give either a credential command or an AccessKey, not both",
                "clear the fields you do not use",
            )
    elif key_id:
        if not secret:
            if old is None or old.access_key_id != key_id:
                raise ConfigError(
                    "The AccessKey secret is empty", "type the secret of this AccessKey id"
                )
            secret = old.access_key_secret
            token = token or old.security_token
        credentials = Credentials(key_id, secret, token)
    elif secret or token:
        raise ConfigError("The AccessKey id is empty", "type the AccessKey id of this secret")
    else:
        raise ConfigError(
            "No credentials", "give an AccessKey id and secret, or a credential command"
        )
    signature: Signature = "rpc" if values.signature == "rpc" else "v3"
    return Profile(
        name,
        region=values.region.strip(),
        endpoint=values.endpoint.strip() or None,
        signature=signature,
        rate_limit=_parse_rate_limit(values.rate_limit),
        refresh=_parse_refresh(values.refresh),
        read_only=values.read_only,
        credentials=credentials,
        credential_command=command or None,
        request_timeout=(
            _parse_request_timeout(values.request_timeout)
            if values.request_timeout.strip()
            else (existing.request_timeout if existing is not None else DEFAULT_REQUEST_TIMEOUT)
        ),
    )


class ProfileForm(ModalScreen[str | None]):
    """Add a profile, or edit one; dismisses with the saved profile's name, or ``None``.

    Args:
        store: where the profile is written.
        profile: the profile to edit; ``None`` to add one.
    """

    DEFAULT_CSS = """
    ProfileForm {
        align: center middle;
    }
    ProfileForm > Vertical {
        background: $panel;
        border: thick $primary;
        width: 80;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        padding: 0 1;
    }
    ProfileForm #form-title {
        text-style: bold;
    }
    ProfileForm VerticalScroll {
        height: auto;
        max-height: 16;
    }
    ProfileForm Grid {
        grid-size: 2;
        grid-columns: 18 1fr;
        grid-rows: 1;
        grid-gutter: 0 1;
        height: auto;
    }
    ProfileForm Grid Label {
        width: 100%;
        text-align: right;
        color: $text-muted;
    }
    ProfileForm RadioSet {
        layout: horizontal;
        border: none;
        height: 1;
        padding: 0;
    }
    ProfileForm #form-error {
        color: $error;
        text-style: bold;
    }
    ProfileForm #form-note {
        color: $text-muted;
    }
    ProfileForm #form-buttons {
        height: auto;
        align-horizontal: right;
    }
    ProfileForm Button {
        margin-left: 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def __init__(self, store: ProfileStore, profile: Profile | None = None) -> None:
        super().__init__()
        self._store = store
        self._profile = profile
        self.error = ""
        """The error shown under the fields (empty when none)."""

    @property
    def editing(self) -> bool:
        """Whether the form edits an existing profile."""
        return self._profile is not None

    def compose(self) -> ComposeResult:
        """The fields in a label/field grid, an error line, a note and the buttons."""
        profile = self._profile
        creds = profile.credentials if profile is not None else None
        title = f"Edit profile {profile.name}" if profile is not None else "Add a profile"
        keep = "empty: keep the stored one"
        with Vertical():
            yield Label(title, id="form-title", markup=False)
            with VerticalScroll(), Grid():
                yield Label("Name")
                yield Input(
                    profile.name if profile else "",
                    placeholder="e.g. prod",
                    id="name",
                    disabled=profile is not None,
                    compact=True,
                )
                yield Label("AccessKey id")
                yield Input(
                    creds.access_key_id if creds else "",
                    placeholder="LTAI...",
                    id="access-key-id",
                    compact=True,
                )
                yield Label("AccessKey secret")
                yield Input(
                    "",
                    placeholder=keep if creds else "typed hidden",
                    password=True,
                    id="secret",
                    compact=True,
                )
                yield Label("STS token")
                yield Input(
                    "",
                    placeholder=keep if creds and creds.is_sts else "optional",
                    password=True,
                    id="token",
                    compact=True,
                )
                yield Label("or command")
                yield Input(
                    (profile.credential_command or "") if profile else "",
                    placeholder="program printing credentials JSON (optional)",
                    id="command",
                    compact=True,
                )
                yield Label("Region")
                yield Input(
                    profile.region if profile else DEFAULT_REGION, id="region", compact=True
                )
                yield Label("Endpoint")
                yield Input(
                    (profile.endpoint or "") if profile else "",
                    placeholder="empty: the region's",
                    id="endpoint",
                    compact=True,
                )
                yield Label("Signature")
                with RadioSet(id="signature", compact=True):
                    rpc = profile is not None and profile.signature == "rpc"
                    yield RadioButton("v3", value=not rpc, id="v3", compact=True)
                    yield RadioButton("rpc", value=rpc, id="rpc", compact=True)
                yield Label("Rate limit /s")
                yield Input(
                    str(profile.rate_limit if profile else DEFAULT_RATE_LIMIT),
                    id="rate-limit",
                    compact=True,
                )
                yield Label("Refresh s")
                yield Input(
                    f"{profile.refresh if profile else DEFAULT_REFRESH:g}",
                    id="refresh",
                    compact=True,
                )
                yield Label("Timeout s")
                yield Input(
                    f"{profile.request_timeout if profile else DEFAULT_REQUEST_TIMEOUT:g}",
                    placeholder="whole request, connect to last byte",
                    id="request-timeout",
                    compact=True,
                )
                yield Label("Read-only")
                yield Checkbox(
                    "no stop or delete",
                    profile.read_only if profile else False,
                    id="read-only",
                    compact=True,
                )
            yield Static("", id="form-error", markup=False)
            yield Static(
                f"Saved in {self._store.directory} (secrets in a 0600 file).",
                id="form-note",
                markup=False,
            )
            with Horizontal(id="form-buttons"):
                yield Button("Save", id="save", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        """Start in the first field that can be typed in."""
        first = "#access-key-id" if self.editing else "#name"
        self.query_one(first, Input).focus()

    def values(self) -> FormValues:
        """What the fields hold now."""

        def text(field_id: str) -> str:
            return self.query_one(f"#{field_id}", Input).value

        pressed = self.query_one("#signature", RadioSet).pressed_button
        return FormValues(
            name=text("name"),
            access_key_id=text("access-key-id"),
            secret=text("secret"),
            token=text("token"),
            command=text("command"),
            region=text("region"),
            endpoint=text("endpoint"),
            signature="rpc" if pressed is not None and pressed.id == "rpc" else "v3",
            rate_limit=text("rate-limit"),
            refresh=text("refresh"),
            read_only=self.query_one("#read-only", Checkbox).value,
            request_timeout=text("request-timeout"),
        )

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        """Validate and write the profile; on an error show it and keep what was typed."""
        error_line = self.query_one("#form-error", Static)
        try:
            profile = profile_from_form(self.values(), self._profile)
            if not self.editing and profile.name in self._store.load().profiles:
                raise ConfigError(
                    f"Profile {profile.name!r} already exists",
                    "choose another name, or edit it with e in the profile list",
                )
            self._store.add(profile, replace=self.editing)
        except AsrtuiError as exc:
            self.error = str(exc)
            error_line.update(self.error)
            return
        self.dismiss(profile.name)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without saving."""
        self.dismiss(None)


# ---------------------------------------------------------------------- first run


class FirstRunScreen(Screen[None]):
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
