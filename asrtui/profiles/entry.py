"""A profile as a person enters it: the credential modes, their fields, and the profile they make.

The console's profile form and ``asrtui profile add`` ask for the same things and must accept
the same profiles. What they share is here, without a UI:

- `CREDENTIAL_MODES`, one row per way of authenticating (an AccessKey, a credential command,
  a temporary-credentials mode of `asrtui.profiles.modes`, whose own rules are rows there):
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
from asrtui.profiles.model import Profile
from asrtui.profiles.modes import MODE_RULES, ModeSettings, check_mode
from asrtui.quotaurl import split_password, url_password, with_password
from asrtui.sessionsettings import (
    DEFAULT_REQUEST_TIMEOUT,
    MAX_RATE_LIMIT,
    MAX_REFRESH,
    MAX_REQUEST_TIMEOUT,
    MIN_REFRESH,
    MIN_REQUEST_TIMEOUT,
    Signature,
)

__all__ = [
    "ACCESS_KEY",
    "COMMAND",
    "CREDENTIAL_MODES",
    "TEMPORARY",
    "CredentialMode",
    "EntryField",
    "ProfileEntry",
    "mode_given",
    "profile_from_entry",
    "shared_quota_shown",
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
    #: A temporary-credentials mode and its main settings (`asrtui.profiles.modes`).
    mode: str = ""
    ram_role_arn: str = ""
    source_profile: str = ""
    ram_role_name: str = ""
    oidc_provider_arn: str = ""
    oidc_token_file: str = ""
    credentials_uri: str = ""
    aliyun_profile: str = ""
    #: The Redis URL sharing the quota across hosts (empty: the host's processes share it),
    #: and its password, typed hidden (empty when editing keeps the stored one).
    shared_quota: str = ""
    shared_quota_password: str = ""

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
        with_key: whether it may be given with an AccessKey (a role assumed with it).
    """

    name: str
    needs: str
    fields: tuple[EntryField, ...]
    build: Callable[[ProfileEntry, Profile | None], dict[str, Any]]
    stored: Callable[[Profile], dict[str, str]]
    with_key: bool = False


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
#: The settings of a temporary mode the form and ``profile add`` both take, with how the form
#: labels them (the rarer ones, such as a session policy, are ``profile add`` options only,
#: and an edit keeps them).
_MODE_FIELDS = (
    EntryField(
        "mode",
        "or mode",
        "--mode",
        placeholder=", ".join(MODE_RULES) + " (optional)",
    ),
    EntryField("ram_role_arn", "Role ARN", "--role-arn", placeholder="acs:ram::ACCOUNT:role/NAME"),
    EntryField("source_profile", "Source profile", "--source-profile", placeholder="Chainable"),
    EntryField("ram_role_name", "ECS role", "--role-name", placeholder="empty: discovered"),
    EntryField(
        "oidc_provider_arn",
        "OIDC provider",
        "--oidc-provider-arn",
        placeholder="acs:ram::ACCOUNT:oidc-provider/NAME",
    ),
    EntryField("oidc_token_file", "OIDC token file", "--oidc-token-file"),
    EntryField("credentials_uri", "Credentials URI", "--credentials-uri"),
    EntryField("aliyun_profile", "aliyun profile", "--aliyun-profile"),
)


def _temporary(values: ProfileEntry, existing: Profile | None) -> dict[str, Any]:
    """A mode of `asrtui.profiles.modes`, checked by its row there; RamRoleArn with its key.

    An edit of a profile of the same mode keeps the settings the form does not show.
    """
    mode = values.mode.strip() or ("AliyunProfile" if values.aliyun_profile.strip() else "")
    if not mode:
        raise ConfigError("No mode for the role settings", "type a mode: " + ", ".join(MODE_RULES))
    kept = existing.mode if existing is not None and existing.mode is not None else None
    base = kept if kept is not None and kept.mode == mode else ModeSettings(mode)
    settings = ModeSettings(
        **{
            **base.__dict__,
            "mode": mode,
            **{
                field.key: getattr(values, field.key).strip()
                for field in _MODE_FIELDS
                if field.key != "mode"
            },
        }
    )
    key_given = any(getattr(values, f.key).strip() for f in ACCESS_KEY.fields)
    built: dict[str, Any] = {}
    if key_given:
        built.update(_access_key(values, existing))
    check_mode(settings, profile=values.name.strip(), has_key=key_given, has_command=False)
    built["mode"] = settings
    return built


def _temporary_stored(profile: Profile) -> dict[str, str]:
    mode = profile.mode
    if mode is None:
        return {}
    return {field.key: str(getattr(mode, field.key) or "") for field in _MODE_FIELDS}


TEMPORARY = CredentialMode(
    name="a temporary-credentials mode",
    needs="a mode (" + ", ".join(MODE_RULES) + ") and its settings",
    fields=_MODE_FIELDS,
    build=_temporary,
    stored=_temporary_stored,
    with_key=True,
)
#: Every way a profile authenticates, the most common first (hints list them in this order).
CREDENTIAL_MODES: tuple[CredentialMode, ...] = (ACCESS_KEY, COMMAND, TEMPORARY)


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
    if len(chosen) == 2 and ACCESS_KEY in chosen and chosen[-1].with_key:
        return chosen[-1]  # a role assumed with the AccessKey: its row builds both
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


def shared_quota_shown(profile: Profile | None) -> tuple[str, bool]:
    """The form's shared quota URL (never its password) and whether a password is stored."""
    if profile is None or profile.shared_quota is None:
        return "", False
    url, password = split_password(profile.shared_quota)
    return url, bool(password)


def _shared_quota(values: ProfileEntry, existing: Profile | None) -> str | None:
    """The Redis URL with its password: typed in its field, in the URL, or the stored one."""
    url = values.shared_quota.strip()
    if not url:
        return None
    bare, inline = split_password(url)
    password = values.shared_quota_password.strip() or inline
    if not password and existing is not None and existing.shared_quota is not None:
        password = url_password(existing.shared_quota)
    return with_password(bare, password)


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
        shared_quota=_shared_quota(values, existing),
        **credentials,
    )
