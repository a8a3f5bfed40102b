"""The one protocol every way of getting credentials follows, and the simplest providers.

A provider is asked once per attempt of a request (`CredentialsProvider.get`, awaited on the
client's loop): a static key answers at once, a temporary one answers from its cache and
refreshes in the background ahead of expiry (`asrtui.credentials.refresh`), so that no request
waits on STS, the metadata service or a credential command unless it has nothing valid to
send. `CredentialsProvider.info` says, without a secret, where the credentials come from and
when they expire: what ``asrtui whoami`` prints and what the status line counts down.

`registering_secrets` wraps the provider of every real client: each secret and STS token it
hands out is registered with the log redaction before any request carries it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from asrtui.credentials.value import Credentials

__all__ = [
    "STATIC_MODES",
    "CallableProvider",
    "CredentialsInfo",
    "CredentialsProvider",
    "RegisteringProvider",
    "StaticProvider",
    "as_provider",
    "registering_secrets",
]

#: The modes of long-lived or fixed credentials (no refresh, no expiry known to asrtui).
STATIC_MODES = frozenset({"AK", "StsToken"})


@dataclass(frozen=True)
class CredentialsInfo:
    """Where a provider's credentials come from, never what they are.

    Attributes:
        mode: the aliyun CLI's name of the mode (``AK``, ``StsToken``, ``External``,
            ``RamRoleArn``, ``ChainableRamRoleArn``, ``EcsRamRole``, ``OIDC``,
            ``CredentialsURI``).
        source: where they are read, in words (``profile 'prod'``, ``the environment``).
        access_key_id: the AccessKey id of the current credentials, ``""`` before the first
            fetch (not a secret, still shown masked).
        expiration: when the current temporary credentials expire, if known.
        refresh_error: why the last background refresh failed (no secret), ``""`` when it
            did not; the last good credentials are still in use meanwhile.
        quota_key: what identifies the account for the shared call quota: stable across
            refreshes (the role ARN, not the rotating STS key id), ``""`` for the key id.
        renewals: how many times fetched credentials replaced the cached ones (the first fetch
            counts); a reader that polls `info` sees a renewal as this number moving, without
            a callback into the network layer. ``0`` for fixed credentials.
        renewed_at: when the last renewal happened (the provider's clock), if one did.
    """

    mode: str
    source: str
    access_key_id: str = ""
    expiration: datetime | None = None
    refresh_error: str = ""
    quota_key: str = ""
    renewals: int = 0
    renewed_at: datetime | None = None


@runtime_checkable
class CredentialsProvider(Protocol):
    """Hands out the credentials to sign the next attempt with."""

    async def get(self) -> Credentials:
        """The credentials to use now; fetched first when there are none valid.

        Raises:
            CredentialsError: the configuration is wrong (exit code 2).
            CredentialsServiceError: the service that hands them out failed (exit code 1).
        """
        ...

    def info(self) -> CredentialsInfo:
        """Where the credentials come from and when they expire (cheap, never a secret)."""
        ...


class StaticProvider:
    """Always the same `Credentials`: a stored AccessKey pair, or a fixed STS token."""

    def __init__(self, credentials: Credentials, *, source: str = "", quota_key: str = "") -> None:
        self._credentials = credentials
        self._source = source
        self._quota_key = quota_key

    def __repr__(self) -> str:
        return f"StaticProvider({self._credentials!r})"

    @property
    def credentials(self) -> Credentials:
        """The credentials (for a caller that needs them without a loop, such as a listing)."""
        return self._credentials

    async def get(self) -> Credentials:
        """Return the credentials."""
        return self._credentials

    def info(self) -> CredentialsInfo:
        """``AK`` or ``StsToken``, with the key id."""
        return CredentialsInfo(
            mode="StsToken" if self._credentials.is_sts else "AK",
            source=self._source,
            access_key_id=self._credentials.access_key_id,
            quota_key=self._quota_key,
        )


class CallableProvider:
    """A plain ``() -> Credentials`` function as a provider (tests, the demo, benchmarks).

    The function is called on the loop: it must be cheap.
    """

    def __init__(self, function: Callable[[], Credentials], *, source: str = "") -> None:
        self._function = function
        self._source = source
        self._last: Credentials | None = None

    def __repr__(self) -> str:
        return "CallableProvider()"

    async def get(self) -> Credentials:
        """Call the function."""
        self._last = self._function()
        return self._last

    def info(self) -> CredentialsInfo:
        """``AK`` or ``StsToken`` of the last answer."""
        last = self._last
        return CredentialsInfo(
            mode="StsToken" if last is not None and last.is_sts else "AK",
            source=self._source,
            access_key_id=last.access_key_id if last is not None else "",
        )


def as_provider(source: CredentialsProvider | Callable[[], Credentials]) -> CredentialsProvider:
    """``source`` if it is a provider already, else the function wrapped in `CallableProvider`."""
    if isinstance(source, CredentialsProvider):
        return source
    return CallableProvider(source)


class RegisteringProvider:
    """A provider that registers what it hands out with the log redaction.

    The AccessKey secret and the STS token are masked in the log file and in crash reports
    from the moment they are first handed out (`asrtui.logs.register_secret`), so that even a
    line that quotes one by accident shows ``****``. New credentials are registered as they
    come (a refresh hands out a new STS token now and then), once each, not per request.
    """

    def __init__(self, provider: CredentialsProvider) -> None:
        self._provider = provider
        self._registered: Credentials | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._provider!r})"

    @property
    def inner(self) -> CredentialsProvider:
        """The wrapped provider."""
        return self._provider

    async def get(self) -> Credentials:
        """The inner provider's credentials, registered for masking first."""
        credentials = await self._provider.get()
        if credentials is not self._registered:
            # Imported here: a command that never signs a request never loads the log module.
            from asrtui.logs import register_secret

            register_secret(credentials.access_key_secret)
            register_secret(credentials.security_token)
            self._registered = credentials
        return credentials

    def info(self) -> CredentialsInfo:
        """The inner provider's."""
        return self._provider.info()


def registering_secrets(
    provider: CredentialsProvider | Callable[[], Credentials],
) -> CredentialsProvider:
    """``provider``, with the secret and the STS token of every answer masked in the log.

    Every real client gets its credentials through this (`asrtui.connect.open_client`,
    ``profile test``, ``whoami``): it is where asrtui learns the secrets it signs with.
    """
    if isinstance(provider, RegisteringProvider):
        return provider
    return RegisteringProvider(as_provider(provider))
