"""The one settings record a session runs with, from the profile that stores it to the console.

A stored `asrtui.profiles.model.Profile` *is* a `Settings` with a name and credentials; the
credentials chain (`asrtui.credentials.chain`) resolves the record once, from a profile or
with its defaults for credentials found elsewhere; the command line's options and the
environment change it with `dataclasses.replace`; `asrtui.connect.Connection` holds it beside
the credentials provider, and the console reads it from the session it opened. Each field is
declared and checked here only, so a new setting is added in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Literal

from asrtui.answersize import DEFAULT_MAX_ANSWER_MB, validate_max_answer_mb
from asrtui.endpoints import DEFAULT_REGION, resolve_endpoint
from asrtui.errors import ConfigError

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
    "Settings",
    "Signature",
    "validate_endpoint",
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


@dataclass(frozen=True, kw_only=True)
class Settings:
    """What a session runs with besides its credentials, each field checked as it is made.

    Keyword-only, so that `asrtui.profiles.model.Profile` can add its name in front. A
    change (``--region``, ``ASRTUI_SHARED_QUOTA``...) is a `dataclasses.replace`, which
    checks the new value the same way.

    Attributes:
        region: the ``RegionId`` sent with every call.
        endpoint: an explicit endpoint overriding the region's, normalised; ``None`` for the
            region's own.
        signature: ``v3`` (ACS3-HMAC-SHA256) or ``rpc`` (HMAC-SHA1).
        rate_limit: calls per second for the account (1..20), leaving room for others.
        refresh: seconds between two automatic refreshes of the console.
        read_only: the profile's own ``read_only`` switch; the session's read-only state, with
            the option and the environment, is `asrtui.readonly.ReadOnly`.
        request_timeout: seconds one request may take in all, connect to last byte.
        max_answer_mb: the largest answer accepted, in MiB (`asrtui.answersize`).
        shared_quota: the Redis URL sharing the account's quota across hosts, or ``None``
            for this host's processes only; it may hold a password, so never in ``repr``.
        on_event: an alert hook run for the session's events (`asrtui.hooks`), or ``None``.
        on_event_kinds: the event kinds the hook gets; ``None`` for the default ones.
    """

    region: str = DEFAULT_REGION
    endpoint: str | None = None
    signature: Signature = "v3"
    rate_limit: int = DEFAULT_RATE_LIMIT
    refresh: float = DEFAULT_REFRESH
    read_only: bool = False
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    max_answer_mb: int = DEFAULT_MAX_ANSWER_MB
    shared_quota: str | None = field(default=None, repr=False)
    on_event: str | None = None
    on_event_kinds: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "region", validate_region(self.region))
        if self.endpoint is not None:
            object.__setattr__(self, "endpoint", validate_endpoint(self.endpoint))
        validate_signature(self.signature)
        validate_rate_limit(self.rate_limit)
        object.__setattr__(self, "refresh", validate_refresh(self.refresh))
        object.__setattr__(self, "request_timeout", validate_request_timeout(self.request_timeout))
        if self.shared_quota is not None:
            # Imported here: the Redis module is needed only when a URL is configured.
            from asrtui.quotaurl import check_url

            object.__setattr__(self, "shared_quota", check_url(self.shared_quota))
        validate_max_answer_mb(self.max_answer_mb)

    @property
    def base_url(self) -> str:
        """The base URL requests go to: the endpoint override, else the region's."""
        return resolve_endpoint(self.region, self.endpoint)

    @classmethod
    def of(cls, settings: Settings) -> Settings:
        """The settings alone of ``settings`` (a `asrtui.profiles.model.Profile`, say)."""
        return cls(**{name: getattr(settings, name) for name in _FIELDS})


#: The names of `Settings`' fields, for `Settings.of`.
_FIELDS: tuple[str, ...] = tuple(item.name for item in fields(Settings))
