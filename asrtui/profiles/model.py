"""The `Profile` value and the rules its fields follow (names, regions, limits)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Literal

from asrtui.answersize import DEFAULT_MAX_ANSWER_MB, validate_max_answer_mb
from asrtui.credentials.value import (
    Credentials,
    check_credentials,
    command_program,
    mask_secret,
)
from asrtui.endpoints import DEFAULT_REGION, resolve_endpoint
from asrtui.errors import ConfigError
from asrtui.profiles.modes import ModeSettings, check_mode
from asrtui.quotaurl import check_url

__all__ = [
    "DEFAULT_RATE_LIMIT",
    "DEFAULT_REFRESH",
    "DEFAULT_REGION",
    "DEFAULT_REQUEST_TIMEOUT",
    "MAX_RATE_LIMIT",
    "MAX_REFRESH",
    "MAX_REQUEST_TIMEOUT",
    "MIN_REFRESH",
    "MIN_REQUEST_TIMEOUT",
    "SIGNATURES",
    "Profile",
    "Signature",
    "check_credentials",
    "command_program",
    "credential_summary",
    "validate_command",
    "validate_endpoint",
    "validate_name",
    "validate_rate_limit",
    "validate_refresh",
    "validate_region",
    "validate_request_timeout",
    "validate_signature",
]

Signature = Literal["v3", "rpc"]
SIGNATURES: tuple[Signature, ...] = ("v3", "rpc")

#: The documented quota of the Live API: 20 calls per second per account.
MAX_RATE_LIMIT = 20
DEFAULT_RATE_LIMIT = MAX_RATE_LIMIT
#: Seconds between two automatic refreshes of the task table.
DEFAULT_REFRESH = 5.0
MIN_REFRESH = 1.0
MAX_REFRESH = 3600.0
#: Seconds one request may take in all, connect to last byte (`asrtui.client` uses the same
#: default; kept here too so that building the parser does not import the network stack).
DEFAULT_REQUEST_TIMEOUT = 15.0
#: Below a second even a healthy answer over a long link can miss it; above five minutes a
#: stalled server would hold a console's refresh (and an operator) far too long.
MIN_REQUEST_TIMEOUT = 1.0
MAX_REQUEST_TIMEOUT = 300.0

# ASCII only, starting with a letter or a digit. Names travel through TOML keys, shell command
# lines, ALIBABA_CLOUD_PROFILE and status lines: ASCII avoids look-alike Unicode names and
# normalisation surprises, and a leading letter/digit keeps a name from reading as an option.
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_MAX_NAME = 64


def validate_name(name: str) -> str:
    """Return ``name`` if it is a valid profile name, else raise `ConfigError`.

    Valid: 1 to 64 ASCII letters, digits, ``-``, ``_`` or ``.``, starting with a letter or digit.
    """
    if not _NAME_RE.fullmatch(name):
        shown = name if len(name) <= _MAX_NAME else name[:_MAX_NAME] + "..."
        raise ConfigError(
            f"Invalid profile name {shown!r}",
            "use 1 to 64 ASCII letters, digits, '-', '_' or '.', starting with a letter or digit",
        )
    return name


def validate_region(region: str) -> str:
    """Return ``region`` stripped if it can be a region id (``cn-shanghai``), else raise."""
    region = region.strip()
    if not region:
        raise ConfigError("Empty region id", "use an id such as cn-shanghai")
    resolve_endpoint(region, None)  # raises ConfigError on a shape that cannot be a host label
    return region


def validate_endpoint(endpoint: str) -> str:
    """Return the normalised endpoint override (``scheme://host[:port]``), else raise."""
    return resolve_endpoint(None, endpoint)


def validate_signature(signature: str) -> Signature:
    """Return ``signature`` as a `Signature` if it is ``v3`` or ``rpc``, else raise."""
    for known in SIGNATURES:
        if signature == known:
            return known
    raise ConfigError(f"Unknown signature version {signature!r}", "use v3 or rpc")


def validate_rate_limit(value: int) -> int:
    """Return ``value`` if it is a whole number of calls per second in 1..20, else raise."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_RATE_LIMIT:
        raise ConfigError(
            f"Invalid rate limit {value!r}",
            f"use a whole number of calls per second from 1 to {MAX_RATE_LIMIT}",
        )
    return value


def validate_refresh(value: float) -> float:
    """Return ``value`` as seconds if it lies in 1..3600, else raise."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"Invalid refresh interval {value!r}", "use a number of seconds")
    seconds = float(value)
    if not MIN_REFRESH <= seconds <= MAX_REFRESH:
        raise ConfigError(
            f"Invalid refresh interval {value!r}",
            f"use a number of seconds from {MIN_REFRESH:g} to {MAX_REFRESH:g}",
        )
    return seconds


def validate_request_timeout(value: float) -> float:
    """Return ``value`` as seconds if it lies in 1..300, else raise `ConfigError`."""
    hint = (
        f"use a number of seconds from {MIN_REQUEST_TIMEOUT:g} to {MAX_REQUEST_TIMEOUT:g} "
        f"(default {DEFAULT_REQUEST_TIMEOUT:g})"
    )
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"Invalid request timeout {value!r}", hint)
    seconds = float(value)
    if not MIN_REQUEST_TIMEOUT <= seconds <= MAX_REQUEST_TIMEOUT:  # NaN fails this too
        raise ConfigError(f"Invalid request timeout {value!r}", hint)
    return seconds


def validate_command(command: str) -> str:
    """Return ``command`` if it splits (``shlex``) into a program and arguments, else raise."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise ConfigError(
            f"Cannot parse the credential command: {exc}", "check its quoting"
        ) from None
    if not argv:
        raise ConfigError("Empty credential command", "name a program that prints credentials")
    return command


@dataclass(frozen=True)
class Profile:
    """One named account configuration.

    Credentials come either from ``credentials`` (stored AccessKey pair, optionally with an STS
    token) or from ``credential_command`` (run on demand, see
    `asrtui.credentials.external.ExternalCredentials`), never both. A profile may have neither
    when its secrets were removed by hand; resolving it then fails with a hint.

    ``repr`` never shows a secret: `Credentials` hides the secret and the token.

    Attributes:
        name: the profile name (see `validate_name`).
        region: the region id sent with every call.
        endpoint: an explicit endpoint overriding the region's, normalised.
        signature: ``v3`` (ACS3-HMAC-SHA256) or ``rpc`` (HMAC-SHA1).
        rate_limit: calls per second this console may use (1..20), leaving room for others.
        refresh: seconds between two automatic refreshes.
        read_only: whether stop and delete are disabled for this profile.
        request_timeout: seconds one request may take in all, connect to last byte.
        max_answer_mb: the largest answer accepted, in MiB (`asrtui.answersize`).
        credentials: the stored AccessKey pair, or ``None``; the source key of a
            ``RamRoleArn`` profile.
        shared_quota: the Redis URL sharing the account's quota across hosts, or ``None``;
            its password is a secret (never in ``repr``).
        credential_command: a ``credential_process``-style command, or ``None``.
        mode: the settings of a role, ECS, OIDC, URI or aliyun-profile mode
            (`asrtui.profiles.modes`), or ``None`` for a stored key or a command.
        on_event: an alert hook run for this profile's events (`asrtui.hooks`), or ``None``.
        on_event_kinds: the event kinds the hook gets; ``None`` for the default ones.
    """

    name: str
    region: str = DEFAULT_REGION
    endpoint: str | None = None
    signature: Signature = "v3"
    rate_limit: int = DEFAULT_RATE_LIMIT
    refresh: float = DEFAULT_REFRESH
    read_only: bool = False
    credentials: Credentials | None = field(default=None, compare=True)
    credential_command: str | None = None
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    max_answer_mb: int = DEFAULT_MAX_ANSWER_MB
    mode: ModeSettings | None = None
    on_event: str | None = None
    on_event_kinds: tuple[str, ...] | None = None
    shared_quota: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        validate_name(self.name)
        object.__setattr__(self, "region", validate_region(self.region))
        if self.endpoint is not None:
            object.__setattr__(self, "endpoint", validate_endpoint(self.endpoint))
        validate_signature(self.signature)
        validate_rate_limit(self.rate_limit)
        object.__setattr__(self, "refresh", validate_refresh(self.refresh))
        object.__setattr__(self, "request_timeout", validate_request_timeout(self.request_timeout))
        if self.shared_quota is not None:
            object.__setattr__(self, "shared_quota", check_url(self.shared_quota))
        validate_max_answer_mb(self.max_answer_mb)
        if self.credential_command is not None:
            validate_command(self.credential_command)
            if self.credentials is not None:
                raise ConfigError(
                    f"Profile {self.name!r} has both an AccessKey and a credential command",
                    "keep one of them",
                )
        if self.credentials is not None and not (
            self.credentials.access_key_id and self.credentials.access_key_secret
        ):
            raise ConfigError(
                f"Profile {self.name!r} has an empty AccessKey id or secret",
                f"add it again: asrtui profile add {self.name} --access-key-id ID --replace",
            )
        if self.credentials is not None:
            check_credentials(self.credentials, source=f"profile '{self.name}'")
        if self.mode is not None:
            checked = check_mode(
                self.mode,
                profile=self.name,
                has_key=self.credentials is not None,
                has_command=self.credential_command is not None,
            )
            object.__setattr__(self, "mode", checked)
        if self.on_event is not None:
            # The kinds are checked where the hook is made (`asrtui.hooks.parse_hook`).
            try:
                words = shlex.split(self.on_event)
            except ValueError as error:
                raise ConfigError(
                    f"Profile {self.name!r}: on_event cannot be split: {error}",
                    "quote it as a shell would",
                ) from None
            if not words:
                raise ConfigError(f"Profile {self.name!r}: on_event is empty", "remove it")

    @property
    def credential_kind(self) -> str:
        """``access-key``, ``sts``, ``command``, ``none`` or a mode's name (``RamRoleArn``)."""
        if self.mode is not None:
            return self.mode.mode
        if self.credential_command is not None:
            return "command"
        if self.credentials is None:
            return "none"
        return "sts" if self.credentials.is_sts else "access-key"


def credential_summary(profile: Profile) -> str:
    """How ``profile`` authenticates, for a listing: the AccessKey id masked, never a secret.

    ``command PROGRAM`` (the program only: the arguments may hold secrets), ``access key
    ****abcd``, ``sts ****abcd``, ``none``, or the mode with what identifies it
    (``RamRoleArn acs:ram::1:role/x, key ****abcd``).
    """
    if profile.mode is not None:
        return _mode_summary(profile)
    if profile.credential_command is not None:
        return "command " + command_program(profile.credential_command)
    if profile.credentials is None:
        return "none"
    kind = "sts" if profile.credentials.is_sts else "access key"
    return f"{kind} {mask_secret(profile.credentials.access_key_id)}"


def _mode_summary(profile: Profile) -> str:
    mode = profile.mode
    assert mode is not None
    if mode.mode == "RamRoleArn":
        key = mask_secret(profile.credentials.access_key_id) if profile.credentials else "?"
        return f"RamRoleArn {mode.ram_role_arn}, key {key}"
    if mode.mode == "ChainableRamRoleArn":
        return f"ChainableRamRoleArn {mode.ram_role_arn} from profile '{mode.source_profile}'"
    if mode.mode == "EcsRamRole":
        return f"EcsRamRole {mode.ram_role_name or '(role discovered)'}"
    if mode.mode == "OIDC":
        return f"OIDC {mode.ram_role_arn}"
    if mode.mode == "CredentialsURI":
        return f"CredentialsURI {mode.credentials_uri}"
    return f"aliyun CLI profile '{mode.aliyun_profile}'"
