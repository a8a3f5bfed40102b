"""The profile form: add a profile, or edit one, written through the store.

The fields and their rules are `asrtui.profiles.entry`'s, shared with ``asrtui profile add``:
the credential fields are drawn from `asrtui.profiles.entry.CREDENTIAL_MODES`, one group per
mode, and `asrtui.profiles.entry.profile_from_entry` turns what was typed into a `Profile`.
Secrets are typed into password inputs and never shown: editing a profile leaves a secret
field empty, and an empty secret keeps the stored one.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import (
    Button,
    Checkbox,
    Input,
    Label,
    RadioSet,
    Static,
)

from asrtui.errors import AsrtuiError, ConfigError
from asrtui.profiles import Profile, ProfileStore
from asrtui.profiles.entry import (
    CREDENTIAL_MODES,
    ProfileEntry,
    profile_from_entry,
    shared_quota_shown,
)
from asrtui.sessionsettings import (
    DEFAULT_RATE_LIMIT,
    DEFAULT_REFRESH,
    DEFAULT_REGION,
    DEFAULT_REQUEST_TIMEOUT,
)
from asrtui.ui.frames import PacedFrames
from asrtui.ui.widgets.toggles import PlainCheckbox, PlainRadioButton

__all__ = ["ProfileForm"]


class ProfileForm(ModalScreen[str | None], PacedFrames[str | None]):
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
        title = f"Edit profile {profile.name}" if profile is not None else "Add a profile"
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
                for mode in CREDENTIAL_MODES:
                    stored = mode.stored(profile) if profile is not None else {}
                    for field in mode.fields:
                        value = stored.get(field.key, "")
                        yield Label(field.label)
                        yield Input(
                            "" if field.secret else value,
                            placeholder=field.kept if field.secret and value else field.placeholder,
                            password=field.secret,
                            id=field.input_id,
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
                    yield PlainRadioButton("v3", value=not rpc, id="v3", compact=True)
                    yield PlainRadioButton("rpc", value=rpc, id="rpc", compact=True)
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
                yield PlainCheckbox(
                    "no stop or delete",
                    profile.read_only if profile else False,
                    id="read-only",
                    compact=True,
                )
                # The URL never shows its password: that has a hidden field of its own.
                quota_url, quota_password = shared_quota_shown(profile)
                yield Label("Shared quota")
                yield Input(
                    quota_url,
                    placeholder="empty: this host only; redis://host:6379/0",
                    id="shared-quota",
                    compact=True,
                )
                yield Label("Redis password")
                yield Input(
                    "",
                    placeholder="empty: keep the stored one" if quota_password else "optional",
                    password=True,
                    id="shared-quota-password",
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

    def values(self) -> ProfileEntry:
        """What the fields hold now."""

        def text(field_id: str) -> str:
            return self.query_one(f"#{field_id}", Input).value

        pressed = self.query_one("#signature", RadioSet).pressed_button
        credentials = {
            field.key: text(field.input_id) for mode in CREDENTIAL_MODES for field in mode.fields
        }
        return ProfileEntry(
            name=text("name"),
            **credentials,
            region=text("region"),
            endpoint=text("endpoint"),
            signature="rpc" if pressed is not None and pressed.id == "rpc" else "v3",
            rate_limit=text("rate-limit"),
            refresh=text("refresh"),
            read_only=self.query_one("#read-only", Checkbox).value,
            request_timeout=text("request-timeout"),
            shared_quota=text("shared-quota"),
            shared_quota_password=text("shared-quota-password"),
        )

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        """Validate and write the profile; on an error show it and keep what was typed."""
        error_line = self.query_one("#form-error", Static)
        try:
            profile = profile_from_entry(self.values(), self._profile)
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
