"""The composition root: resolved settings become an open-able client, and nothing else does.

Everything that talks to the Live API is wired here, in one direction: credentials provider
(registered with the log redaction) → limiter (the account's, shared across processes) →
signer → transport → `asrtui.client.LiveClient`. `__main__`, the headless commands, the demo
and the console's profile switch (`asrtui.tasksource.ClientConnector`) all open their clients
through `open_client`, so a new way of getting credentials or sharing the quota is added here
once. This module is core: it never imports `asrtui.cli` or `asrtui.ui`; the command line
turns its arguments into a `Connection` and hands it over.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import httpx

from asrtui.answersize import MIB, max_answer_mb_of
from asrtui.client import DEFAULT_MAX_BODY_BYTES, DEFAULT_REQUEST_TIMEOUT, LiveClient
from asrtui.credentials import Credentials
from asrtui.credentials.provider import CredentialsProvider, registering_secrets
from asrtui.endpoints import resolve_endpoint
from asrtui.errors import ConfigError, CredentialsError
from asrtui.quotaledger import QuotaLedger
from asrtui.ratelimit import WindowLimiter, limiter_for
from asrtui.readonly import WRITABLE, ReadOnly, read_only_of
from asrtui.sharedquota import SharedLedger

if TYPE_CHECKING:
    from asrtui.credentials.chain import ResolvedSettings
    from asrtui.emulator import EmulatorApp

__all__ = [
    "DEMO_ENDPOINT",
    "DEMO_FAULTS",
    "Connection",
    "open_client",
    "open_demo_client",
    "quota_ledger",
    "registering_secrets",
    "shared_quota_of",
]

#: The environment variable naming the Redis URL that shares the quota across hosts.
SHARED_QUOTA_ENV = "ASRTUI_SHARED_QUOTA"

Signature = Literal["v3", "rpc"]

#: The base URL of the in-process emulator (never resolved: the ASGI transport answers).
DEMO_ENDPOINT = "http://emulator.asrtui.invalid"

#: Mild faults so the demo shows retries and the error paths without being unusable.
DEMO_FAULTS = "latency=0.05,503=0.02,throttle=0.01,retry_after=300"


@dataclass(frozen=True)
class Connection:
    """Everything needed to open a client, resolved once from options, env and profile.

    Attributes:
        profile_name: shown in the status line and named in credential hints.
        region: the ``RegionId`` sent.
        endpoint: the base URL (ignored in demo mode).
        signature: ``v3`` or ``rpc``.
        credentials: hands out the credentials to sign with (``None`` in demo mode).
        demo: whether to talk to the in-process emulator.
        rate_limit: calls per second allowed for the account.
        refresh: seconds between automatic refreshes of the console.
        read_only: whether (and because of what: the option, the environment, the profile)
            stop, delete and every other change are refused; false when none applies.
        request_timeout: seconds one request may take in all, connect to last byte.
        max_answer_bytes: the largest answer accepted (`asrtui.answersize`).
        trail: why each credentials source before the chosen one was passed over.
        shared_quota: the Redis URL sharing the account's quota across hosts (it may hold a
            password: never shown), ``None`` to share it between this host's processes only.
    """

    profile_name: str
    region: str
    endpoint: str
    signature: Signature = "v3"
    credentials: CredentialsProvider | None = field(default=None, repr=False)
    demo: bool = False
    rate_limit: int = 20
    refresh: float = 5.0
    read_only: ReadOnly = WRITABLE
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    max_answer_bytes: int = DEFAULT_MAX_BODY_BYTES
    trail: tuple[str, ...] = ()
    #: The profile's alert hook (``on_event``) and its kinds, if it has one.
    on_event: str | None = None
    on_event_kinds: tuple[str, ...] | None = None
    shared_quota: str | None = field(default=None, repr=False)

    @classmethod
    def from_settings(
        cls,
        settings: ResolvedSettings,
        *,
        read_only_flag: bool = False,
        env: Mapping[str, str] | None = None,
        shared_quota_flag: str | None = None,
        max_answer_mb: int | None = None,
    ) -> Connection:
        """The connection of resolved profile settings (the endpoint derived from the region).

        Args:
            settings: the resolved profile settings.
            read_only_flag: ``--read-only`` was given.
            env: the environment, for `asrtui.readonly.ENV_VAR`, `SHARED_QUOTA_ENV` and
                `asrtui.answersize.ENV_VAR` (none read when ``None``).
            shared_quota_flag: ``--shared-quota URL``, or ``None``.
            max_answer_mb: ``--max-answer-mb``, or ``None``.

        Raises:
            ConfigError: `asrtui.readonly.ENV_VAR` or `asrtui.answersize.ENV_VAR` holds an
                invalid value, or the shared quota's URL is not a Redis URL.
        """
        env = {} if env is None else env
        return cls(
            profile_name=settings.profile,
            region=settings.region,
            endpoint=resolve_endpoint(settings.region, settings.endpoint),
            signature=settings.signature,
            credentials=settings.credentials,
            rate_limit=settings.rate_limit,
            refresh=settings.refresh,
            read_only=read_only_of(
                flag=read_only_flag,
                env=env,
                profile=settings.profile,
                profile_read_only=settings.read_only,
            ),
            request_timeout=settings.request_timeout,
            max_answer_bytes=MIB
            * max_answer_mb_of(option=max_answer_mb, env=env, profile=settings.max_answer_mb),
            trail=settings.trail,
            on_event=settings.on_event,
            on_event_kinds=settings.on_event_kinds,
            shared_quota=shared_quota_of(
                flag=shared_quota_flag,
                env={} if env is None else env,
                profile=settings.shared_quota,
            ),
        )

    @classmethod
    def demo_of(
        cls, *, region: str, signature: str | None, read_only: ReadOnly = WRITABLE
    ) -> Connection:
        """The connection of the built-in demo (any signature but ``rpc`` means v3)."""
        return cls(
            profile_name="demo",
            region=region,
            endpoint="",
            signature="rpc" if signature == "rpc" else "v3",
            demo=True,
            read_only=read_only,
        )


def shared_quota_of(*, flag: str | None, env: Mapping[str, str], profile: str | None) -> str | None:
    """The Redis URL sharing the quota: ``--shared-quota``, else `SHARED_QUOTA_ENV`, else the
    profile's ``shared_quota``; ``None`` when none says (the host's processes share it).

    The URL's password is registered with the log redaction at once.

    Raises:
        ConfigError: the URL is not ``redis://`` or ``rediss://`` (the message never quotes it).
    """
    from asrtui.quotaurl import check_url, url_password

    for value in (flag, env.get(SHARED_QUOTA_ENV), profile):
        if value is not None and value.strip():
            # Imported here: a command that never signs a request never loads the log module.
            from asrtui.logs import register_secret

            register_secret(url_password(value))
            return check_url(value)
    return None


def quota_ledger(account: str, shared_quota: str | None) -> QuotaLedger | None:
    """The ledger an account's limiter shares its budget through.

    Redis when a URL is configured (with the host's ledger to fall back on while Redis is
    away), else the host's ledger; ``None`` where the host cannot share one either.

    Raises:
        ConfigError: a Redis URL is configured but the ``redis`` package is not installed.
    """
    host = SharedLedger.for_account(account)
    if shared_quota is None:
        return host
    from asrtui.redisquota import RedisQuota

    return RedisQuota(shared_quota, account, fallback=host)


def _require_redis() -> None:
    """Refuse a Redis URL when the optional ``redis`` package is missing, before any request."""
    import importlib.util

    if importlib.util.find_spec("redis") is None:
        raise ConfigError(
            "Sharing the quota through Redis needs the redis package, which is not installed",
            "install it with: pip install 'asrtui[redis]' (or remove shared_quota / "
            f"{SHARED_QUOTA_ENV} / --shared-quota)",
        )


def open_client(connection: Connection) -> LiveClient:
    """A client (not yet opened) for the connection: in-process emulator in demo mode.

    The credentials of a real connection are registered for masking as they are used
    (`registering_secrets`); the demo's are public. The account's limiter is chosen here
    (`limiter_for`, sharing through `quota_ledger`) when the client first needs it, by the
    account's quota key: the key id may come from a command or a role only assumed then.
    """
    if connection.demo:
        return open_demo_client(
            signature=connection.signature,
            region=connection.region,
            read_only=connection.read_only,
        )
    if connection.credentials is None:
        raise CredentialsError("No credentials found", "pass --profile or set the environment")
    shared_quota = connection.shared_quota
    if shared_quota is not None:
        _require_redis()
    credentials = registering_secrets(connection.credentials)

    def account_limiter(account: str) -> WindowLimiter:
        # Two consoles and a `tasks --watch` of one account spend one budget together, on
        # this host or, through Redis, on every host. ``account`` is the client's quota key:
        # the AccessKey id, or a role's identity that outlives its rotating STS keys.
        return limiter_for(
            account, connection.rate_limit, ledger=lambda: quota_ledger(account, shared_quota)
        )

    return LiveClient(
        credentials,
        connection.endpoint,
        region=connection.region,
        signature=connection.signature,
        limiter=account_limiter,
        profile=connection.profile_name,
        request_timeout=connection.request_timeout,
        max_body_bytes=connection.max_answer_bytes,
        read_only=connection.read_only,
    )


def open_demo_client(
    *,
    seed: int = 0,
    tasks: int = 12,
    fault_spec: str = DEMO_FAULTS,
    lively: bool = True,
    signature: Literal["v3", "rpc"] = "v3",
    limiter: WindowLimiter | None = None,
    rate_limit: int = 20,
    region: str = "cn-shanghai",
    read_only: ReadOnly | None = None,
) -> LiveClient:
    """A `LiveClient` wired to an in-process emulator with the demo credentials.

    Nothing leaves the process: requests go through ``httpx.ASGITransport`` to the emulator,
    which checks signatures, quota and wire format exactly as it does on a socket.

    Args:
        seed: the emulator's seed (task ids and lifecycles are deterministic per seed).
        tasks: how many tasks the emulator starts with.
        fault_spec: the emulator's fault plan (see ``asrtui emulator --fault``).
        lively: whether tasks start and end over time.
        signature: the signature version to use.
        limiter: the limiter; by default the process-wide one of the demo AccessKey id.
        rate_limit: calls per second for the default limiter.
        region: the region id sent (the emulator accepts any).
        read_only: refuse every change, as for a real account (see `asrtui.readonly`).
    """
    # Imported here: the emulator is only needed in demo mode.
    from asrtui.emulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, build_emulator

    app = build_emulator(seed=seed, tasks=tasks, lively=lively, fault_spec=fault_spec)
    credentials = Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
    return LiveClient(
        lambda: credentials,
        DEMO_ENDPOINT,
        region=region,
        signature=signature,
        # The demo's private emulator shares its budget with nobody.
        limiter=limiter or (lambda _account: limiter_for(DEMO_ACCESS_KEY_ID, rate_limit)),
        rate_limit=rate_limit,
        profile="demo",
        transport=httpx.ASGITransport(app=_FirstAnswerAtOnce(app)),
        read_only=read_only,
    )


_ASGIMessage = Mapping[str, object]


class _FirstAnswerAtOnce:
    """The demo's emulator, serving its first request without the plan's injected latency.

    The latency makes the demo feel like a network; on the first request, the console's
    first list of tasks, it would only hold back the first frame.
    """

    def __init__(self, app: EmulatorApp) -> None:
        self._app = app
        self._latency: float | None = app.faults.latency
        app.faults.set("latency", 0.0)

    async def __call__(
        self,
        scope: Mapping[str, object],
        receive: Callable[[], Awaitable[_ASGIMessage]],
        send: Callable[[dict[str, object]], Awaitable[None]],
    ) -> None:
        try:
            await self._app(scope, receive, send)
        finally:
            latency = self._latency
            if latency is not None and scope.get("type") == "http":
                self._latency = None
                self._app.faults.set("latency", latency)
