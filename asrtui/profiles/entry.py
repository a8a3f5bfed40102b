"""A profile as a person enters it: the credential modes, their fields, and the profile they make.

The console's profile form and ``asrtui profile add`` ask for the same things and must accept
the same profiles. What they share is here, without a UI:

- `CREDENTIAL_MODES`, one row per way of authenticating (an AccessKey, a credential command):
  the fields it is entered with (the form's label and input id, the command line's option),
  what it takes in words, and how the entered text becomes the `Profile`'s credentials. A new
  way (temporary credentials from a role, say) is one more row: the form shows its fields,
  both interfaces refuse it combined with another, and the profile gets what its row builds.
- `mode_given`: which mode the given fields select; giving fields of two modes is refused,
  worded for the form's fields or for the command line's options.
- `ProfileEntry` and `profile_from_entry`: the form's text fields into a validated `Profile`
  (the numbers' rules in words, the stored secret kept when an edit leaves it empty).

The command line reads the secret from a prompt or stdin after the other options are checked
(`asrtui.cli.profile`); `Profile` itself validates every value in the end, for both.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from asrtui.credentials import Credentials
from asrtui.errors import ConfigError
from asrtui.profiles.model import (
    DEFAULT_REQUEST_TIMEOUT,
    MAX_RATE_LIMIT,
    MAX_REFRESH,
    MAX_REQUEST_TIMEOUT,
    MIN_REFRESH,
    MIN_REQUEST_TIMEOUT,
    Profile,
    Signature,
)

__all__ = [
    "ACCESS_KEY",
    "COMMAND",
    "CREDENTIAL_MODES",
    "CredentialMode",
    "EntryField",
    "ProfileEntry",
    "mode_given",
    "profile_from_entry",
]


@dataclass(frozen=True)
class ProfileEntry:
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
        return f"ProfileEntry(name={self.name!r})"


@dataclass(frozen=True)
class EntryField:
    """One field of a credential mode, as the form and the command line name it.

    Attributes:
        key: the `ProfileEntry` attribute (the form's input id, with ``-`` for ``_``).
        label: the form's label.
        option: the command line's option (what it is given with).
        placeholder: the form's hint in an empty field of a new profile.
        kept: the form's hint in a secret field when the profile edited has a value there.
        secret: typed hidden, never shown, and left empty when editing.
    """

    key: str
    label: str
    option: str
    placeholder: str = ""
    kept: str = ""
    secret: bool = False

    @property
    def input_id(self) -> str:
        """The form's input id."""
        return self.key.replace("_", "-")


@dataclass(frozen=True)
class CredentialMode:
    """One way a profile authenticates.

    Attributes:
        name: the mode in a sentence ("an AccessKey").
        needs: what must be entered for it, in a hint ("an AccessKey id and secret").
        fields: its fields; the first names the mode on the command line.
        build: the `Profile` arguments the entered text makes (``credentials=...`` or
            ``credential_command=...``), given the profile being edited (``None`` when new).
        stored: the stored profile's value of each field, for an edit (secrets included:
            the form shows only whether there is one).
    """

    name: str
    needs: str
    fields: tuple[EntryField, ...]
    build: Callable[[ProfileEntry, Profile | None], dict[str, Any]]
    stored: Callable[[Profile], dict[str, str]]


_KEEP = "empty: keep the stored one"


def _access_key(values: ProfileEntry, existing: Profile | None) -> dict[str, Any]:
    """An AccessKey; editing, an empty secret keeps the stored secret (and its STS token).

    A new secret comes with the token typed next to it (none when empty).
    """
    key_id = values.access_key_id.strip()
    secret = values.secret.strip()
    token = values.token.strip()
    if not key_id:
        raise ConfigError("The AccessKey id is empty", "type the AccessKey id of this secret")
    if not secret:
        old = existing.credentials if existing is not None else None
        if old is None or old.access_key_id != key_id:
            raise ConfigError(
                "The AccessKey secret is empty", "type the secret of this AccessKey id"
            )
        secret = old.access_key_secret
        token = token or old.security_token
    return {"credentials": Credentials(key_id, secret, token)}


def _access_key_stored(profile: Profile) -> dict[str, str]:
    creds = profile.credentials
    if creds is None:
        return {}
    return {
        "access_key_id": creds.access_key_id,
        "secret": creds.access_key_secret,
        "token": creds.security_token,
    }


def _command(values: ProfileEntry, existing: Profile | None) -> dict[str, Any]:
    return {"credential_command": values.command.strip()}


def _command_stored(profile: Profile) -> dict[str, str]:
    return {"command": profile.credential_command or ""}


ACCESS_KEY = CredentialMode(
    name="an AccessKey",
    needs="an AccessKey id and secret",
    fields=(
        EntryField("access_key_id", "AccessKey id", "--access-key-id", placeholder="LTAI..."),
        EntryField(
            "secret", "AccessKey secret", "--secret-stdin", "typed hidden", _KEEP, secret=True
        ),
        EntryField("token", "STS token", "--sts-token-stdin", "optional", _KEEP, secret=True),
    ),
    build=_access_key,
    stored=_access_key_stored,
)
COMMAND = CredentialMode(
    name="a credential command",
    needs="a credential command",
    fields=(
        EntryField(
            "command",
            "or command",
            "--credential-command",
            placeholder="program printing credentials JSON (optional)",
        ),
    ),
    build=_command,
    stored=_command_stored,
)
#: Every way a profile authenticates, the most common first (hints list them in this order).
CREDENTIAL_MODES: tuple[CredentialMode, ...] = (ACCESS_KEY, COMMAND)


def mode_given(given: Collection[str], *, options: bool) -> CredentialMode | None:
    """The credential mode whose fields are among ``given`` (`EntryField.key` values).

    Args:
        given: the fields that hold something.
        options: word a refusal for the command line's options, else for the form's fields.

    Returns:
        The mode, ``None`` when no credential field was given.

    Raises:
        ConfigError: fields of two modes were given.
    """
    chosen = [mode for mode in CREDENTIAL_MODES if any(f.key in given for f in mode.fields)]
    if len(chosen) < 2:
        return chosen[0] if chosen else None
    later, earlier = chosen[-1], chosen[0]
    if options:
        option = later.fields[0].option
        raise ConfigError(
            f"{option} cannot be combined with {earlier.name}",
            f"use either {option} or {earlier.fields[0].option}",
        )
    raise ConfigError(
        f"Give either {later.name} or {earlier.name}, not both", "clear the fields you do not use"
    )


def _parse_number(text: str, kind: type[int] | type[float], what: str, rule: str) -> float:
    """A field's number, or a `ConfigError` naming the field and its rule."""
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


def profile_from_entry(values: ProfileEntry, existing: Profile | None) -> Profile:
    """The profile the form describes, validated by `Profile` itself.

    Raises:
        ConfigError: a field is invalid, the credentials are incomplete, or fields of two
            credential modes were given.
    """
    given = {
        field.key
        for mode in CREDENTIAL_MODES
        for field in mode.fields
        if getattr(values, field.key).strip()
    }
    mode = mode_given(given, options=False)
    if mode is None:
        ways = ", or ".join(mode.needs for mode in CREDENTIAL_MODES)
        raise ConfigError("No credentials", f"give {ways}")
    credentials = mode.build(values, existing)
    signature: Signature = "rpc" if values.signature == "rpc" else "v3"
    return Profile(
        values.name.strip(),
        region=values.region.strip(),
        endpoint=values.endpoint.strip() or None,
        signature=signature,
        rate_limit=_parse_rate_limit(values.rate_limit),
        refresh=_parse_refresh(values.refresh),
        read_only=values.read_only,
        request_timeout=(
            _parse_request_timeout(values.request_timeout)
            if values.request_timeout.strip()
            else (existing.request_timeout if existing is not None else DEFAULT_REQUEST_TIMEOUT)
        ),
        **credentials,
    )
