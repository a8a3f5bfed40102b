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
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

import httpx

from asrtui.answersize import MIB, max_answer_mb_of
from asrtui.client import LiveClient
from asrtui.credentials import Credentials
from asrtui.credentials.provider import CredentialsProvider, registering_secrets
from asrtui.errors import ConfigError, CredentialsError
from asrtui.quotaledger import QuotaLedger
from asrtui.ratelimit import WindowLimiter, limiter_for
from asrtui.readonly import WRITABLE, ReadOnly, read_only_of
from asrtui.sessionsettings import DEFAULT_REGION, Settings

if TYPE_CHECKING:
    from asrtui.credentials.chain import ResolvedSettings
    from asrtui.emulator import EmulatorApp
    from asrtui.profiles import ProfileStore

__all__ = [
    "DEMO_ENDPOINT",
    "DEMO_FAULTS",
    "Connection",
    "Overrides",
    "open_client",
    "open_demo_client",
    "quota_ledger",
    "registering_secrets",
    "resolve_connection",
    "shared_quota_of",
]

#: The environment variable naming the Redis URL that shares the quota across hosts.
SHARED_QUOTA_ENV = "ASRTUI_SHARED_QUOTA"

#: The base URL of the in-process emulator (never resolved: the ASGI transport answers).
DEMO_ENDPOINT = "http://emulator.asrtui.invalid"

#: Mild faults so the demo shows retries and the error paths without being unusable.
DEMO_FAULTS = "latency=0.05,503=0.02,throttle=0.01,retry_after=300"


@dataclass(frozen=True)
class Connection:
    """Everything needed to open a client, resolved once from options, env and profile.

    Attributes:
        profile_name: shown in the status line and named in credential hints.
        settings: the session's settings (`asrtui.sessionsettings.Settings`), the options and
            the environment applied; their endpoint and region are ignored in demo mode.
        credentials: hands out the credentials to sign with (``None`` in demo mode).
        demo: whether to talk to the in-process emulator.
        read_only: whether (and because of what: the option, the environment, the profile)
            stop, delete and every other change are refused; false when none applies.
        trail: why each credentials source before the chosen one was passed over.
    """

    profile_name: str
    settings: Settings = field(default_factory=Settings)
    credentials: CredentialsProvider | None = field(default=None, repr=False)
    demo: bool = False
    read_only: ReadOnly = WRITABLE
    trail: tuple[str, ...] = ()

    @property
    def endpoint(self) -> str:
        """The base URL requests go to (``""`` in demo mode: the emulator answers in-process)."""
        return "" if self.demo else self.settings.base_url

    @property
    def max_answer_bytes(self) -> int:
        """The largest answer accepted, in bytes (`asrtui.answersize`)."""
        return MIB * self.settings.max_answer_mb

    @classmethod
    def from_settings(
        cls,
        resolved: ResolvedSettings,
        options: Overrides | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Connection:
        """The connection of what the chain resolved, the session's options applied.

        The chain applied ``--region``, ``--endpoint`` and ``--signature`` (the region's
        order involves the environment); the options that hold for every profile of the
        session are applied here, each a `dataclasses.replace` of the settings.

        Args:
            resolved: what the credentials chain found.
            options: the command-line options (none given when ``None``).
            env: the environment, for `asrtui.readonly.ENV_VAR`, `SHARED_QUOTA_ENV` and
                `asrtui.answersize.ENV_VAR` (none read when ``None``).

        Raises:
            ConfigError: `asrtui.readonly.ENV_VAR` or `asrtui.answersize.ENV_VAR` holds an
                invalid value, or the shared quota's URL is not a Redis URL.
        """
        env = {} if env is None else env
        options = Overrides() if options is None else options
        settings = resolved.settings
        return cls(
            profile_name=resolved.profile,
            settings=replace(
                settings,
                max_answer_mb=max_answer_mb_of(
                    option=options.max_answer_mb, env=env, profile=settings.max_answer_mb
                ),
                shared_quota=shared_quota_of(
                    flag=options.shared_quota, env=env, profile=settings.shared_quota
                ),
            ),
            credentials=resolved.credentials,
            read_only=read_only_of(
                flag=options.read_only,
                env=env,
                profile=resolved.profile,
                profile_read_only=settings.read_only,
            ),
            trail=resolved.trail,
        )

    @classmethod
    def demo_of(
        cls, *, region: str, signature: str | None, read_only: ReadOnly = WRITABLE
    ) -> Connection:
        """The connection of the built-in demo (any signature but ``rpc`` means v3)."""
        return cls(
            profile_name="demo",
            settings=Settings(region=region, signature="rpc" if signature == "rpc" else "v3"),
            demo=True,
            read_only=read_only,
        )


@dataclass(frozen=True)
class Overrides:
    """The command-line options a session started with.

    ``region``, ``endpoint`` and ``signature`` override the settings of the profile the
    session started with (and of that profile when the operator switches back to it), not of
    the other profiles: ``--region cn-beijing`` given for one account says nothing about
    another.

    Attributes:
        profile: ``--profile``, or ``None``.
        region: ``--region``, or ``None``.
        endpoint: ``--endpoint``, or ``None``.
        signature: ``--signature``, or ``None``.
        read_only: ``--read-only``, for every profile of the session.
        shared_quota: ``--shared-quota URL``, for every profile of the session (the Redis
            server is the site's, not an account's); never in ``repr``, it may hold a password.
        max_answer_mb: ``--max-answer-mb``, for every profile of the session, or ``None``.
    """

    profile: str | None = None
    region: str | None = None
    endpoint: str | None = None
    signature: str | None = None
    read_only: bool = False
    shared_quota: str | None = field(default=None, repr=False)
    max_answer_mb: int | None = None

    def everywhere(self) -> Overrides:
        """The options that hold for every profile of the session, not only the first one."""
        return Overrides(
            read_only=self.read_only,
            shared_quota=self.shared_quota,
            max_answer_mb=self.max_answer_mb,
        )

    def demo_connection(self, env: Mapping[str, str]) -> Connection:
        """The connection of the built-in demo with these options.

        Raises:
            ConfigError: `asrtui.readonly.ENV_VAR` holds an invalid value.
        """
        return Connection.demo_of(
            region=self.region or DEFAULT_REGION,
            signature=self.signature,
            read_only=read_only_of(flag=self.read_only, env=env),
        )


def resolve_connection(
    overrides: Overrides, env: Mapping[str, str], *, store: ProfileStore | None = None
) -> Connection:
    """The connection the credentials chain finds for these options (never the demo).

    Raises:
        ConfigError: bad endpoint, region, signature or profile name, or an invalid
            ``ASRTUI_READ_ONLY``, ``ASRTUI_MAX_ANSWER_MB`` or shared quota URL.
        CredentialsError: no credentials anywhere (the hint says what to run).
    """
    # Imported here, not by the demo: the profile store is most of a start-up's own imports.
    from asrtui.credentials.chain import resolve_connection_settings

    resolved = resolve_connection_settings(
        profile=overrides.profile,
        endpoint=overrides.endpoint,
        region=overrides.region,
        signature=overrides.signature,
        env=env,
        store=store,
    )
    return Connection.from_settings(resolved, overrides, env)


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
    # Imported here: the demo's limiter shares nothing (start-up time).
    from asrtui.sharedquota import SharedLedger

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
    settings = connection.settings
    if connection.demo:
        return open_demo_client(
            signature=settings.signature, region=settings.region, read_only=connection.read_only
        )
    if connection.credentials is None:
        raise CredentialsError("No credentials found", "pass --profile or set the environment")
    shared_quota = settings.shared_quota
    if shared_quota is not None:
        _require_redis()
    credentials = registering_secrets(connection.credentials)

    def account_limiter(account: str) -> WindowLimiter:
        # Two consoles and a `tasks --watch` of one account spend one budget together, on
        # this host or, through Redis, on every host. ``account`` is the client's quota key:
        # the AccessKey id, or a role's identity that outlives its rotating STS keys.
        return limiter_for(
            account, settings.rate_limit, ledger=lambda: quota_ledger(account, shared_quota)
        )

    return LiveClient(
        credentials,
        connection.endpoint,
        region=settings.region,
        signature=settings.signature,
        limiter=account_limiter,
        profile=connection.profile_name,
        request_timeout=settings.request_timeout,
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
