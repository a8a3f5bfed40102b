"""The console's `TaskSource` over a `LiveClient`, the in-process demo client, and the connector.

The UI sees only `asrtui.protocols.TaskSource` and `asrtui.protocols.Connector`; this module is how
the composition root hands it the real client (or a client wired to the in-process emulator for
``--demo``), and how the console opens another profile's client when the operator switches.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Self

from asrtui import connect, heap
from asrtui.client import LiveClient
from asrtui.connect import (
    DEMO_ENDPOINT,
    DEMO_FAULTS,
    Connection,
    Overrides,
    open_demo_client,
    resolve_connection,
)
from asrtui.credentials import mask_secret
from asrtui.endpoints import DEFAULT_REGION, resolve_endpoint
from asrtui.errors import ConfigError, CredentialsError
from asrtui.models import Task, TaskList
from asrtui.protocols import CredentialsStatus, ProfileChoice, ProfileSession, QuotaStats

if TYPE_CHECKING:
    from asrtui.profiles import ProfileStore
    from asrtui.taskspec import TaskSpec  # the create form's, loaded when it first opens

# `asrtui.profiles` is imported where profiles are first needed, not here: `asrtui --demo`
# never reads the store, and the package is a good part of a start-up's own imports.

__all__ = [
    "CHAIN_KEY",
    "DEMO_ENDPOINT",
    "DEMO_FAULTS",
    "DEMO_KEY",
    "ENV_KEY",
    "ClientConnector",
    "ClientFactory",
    "ClientTaskSource",
    "Overrides",
    "open_demo_client",
]


#: After an answer of this many tasks the C heap gives back what it holds free (`asrtui.heap`):
#: a console reading one every second for hours would otherwise keep the largest it ever read.
#: From ~100 tasks an answer's buffers are large (~50 KB) and the trim costs well under a
#: millisecond in a thread; measured at 1,000 tasks it keeps ~0.5 MB off the first frame's RSS
#: (the start-up's garbage) and ~0.9 MB off the RSS after a minute of refreshes.
TRIM_AFTER_TASKS = 100


class ClientTaskSource:
    """Satisfies `TaskSource` by delegating to a `LiveClient` (which the caller opens/closes).

    Args:
        client: an open client.
        profile_name: shown in the status line (``demo`` in demo mode).
        region: the region id shown in the status line.
    """

    def __init__(self, client: LiveClient, *, profile_name: str, region: str) -> None:
        self._client = client
        self._profile_name = profile_name
        self._region = region
        heap.keep_large_buffers_apart()

    def __repr__(self) -> str:
        return f"ClientTaskSource(profile_name={self._profile_name!r}, region={self._region!r})"

    @property
    def profile_name(self) -> str:
        """The profile shown in the status line."""
        return self._profile_name

    @property
    def region(self) -> str:
        """The region id shown in the status line."""
        return self._region

    @property
    def client(self) -> LiveClient:
        """The underlying client (for the composition root, never the UI)."""
        return self._client

    async def list_tasks(self, *, priority: bool = False) -> TaskList:
        """All running tasks; ``priority`` for a user-initiated refresh."""
        answer = await self._client.list_tasks(priority=priority)
        if len(answer.tasks) >= TRIM_AFTER_TASKS:
            await asyncio.to_thread(heap.trim)  # some ms, without the interpreter lock
        return answer

    async def get_task(self, task_id: str) -> Task | None:
        """One task by id (a priority request); ``None`` when it is gone."""
        return await self._client.get_task(task_id)

    async def stop_task(self, task_id: str) -> None:
        """Stop a running task."""
        await self._client.stop_task(task_id)

    async def delete_task(self, task_id: str) -> None:
        """Delete a task."""
        await self._client.delete_task(task_id)

    def credentials_status(self) -> CredentialsStatus:
        """The mode, expiry and refresh health of the client's credentials."""
        info = self._client.credentials_info
        return CredentialsStatus(
            info.mode,
            info.expiration,
            info.refresh_error,
            key_id=mask_secret(info.access_key_id) if info.access_key_id else "",
            renewals=info.renewals,
        )

    async def create_task(self, spec: TaskSpec) -> str:
        """Create a task from checked values (`asrtui.protocols.TaskCreator`); its new id."""
        return await self._client.create_task(**spec.arguments())

    def quota(self) -> QuotaStats:
        """The client's record for the status line (limiter, sharing, failures, clock)."""
        return self._client.quota_stats()


#: `ProfileChoice.key` of the credentials in the environment (never a valid profile name).
ENV_KEY = "(environment)"
#: `ProfileChoice.key` of credentials found further down the chain (the aliyun CLI's file,
#: credentials.ini, ECS, a credentials URI, OIDC): never a valid profile name.
CHAIN_KEY = "(chain)"
#: `ProfileChoice.key` of the built-in demo (never a valid profile name).
DEMO_KEY = "(demo)"

#: Builds a client (not yet opened) for a resolved connection.
ClientFactory = Callable[[Connection], LiveClient]


def _open_client(connection: Connection) -> LiveClient:
    # Looked up on each call so that tests replacing ``asrtui.connect.LiveClient`` reach it too.
    return connect.open_client(connection)


class ClientConnector:
    """Satisfies `asrtui.protocols.Connector` with clients built by `asrtui.connect.open_client`.

    Profiles come from the store, credentials from the environment are offered as one more
    entry while they are set, and the demo is offered in demo mode (then alone, and nothing
    can be added or edited, since the demo writes no files) or when ``offer_demo`` is set
    (the first run, before anything is configured).

    Args:
        env: the environment (read only), for ``ALIBABA_CLOUD_*`` credentials.
        store: the profile store; the one in the user config directory by default.
        overrides: the command-line options of the session.
        demo_only: ``--demo``: offer the demo and nothing else.
        offer_demo: also offer the demo next to the profiles.
        client_factory: builds the client of a connection (tests wire an emulator).
    """

    def __init__(
        self,
        *,
        env: Mapping[str, str],
        store: ProfileStore | None = None,
        overrides: Overrides | None = None,
        demo_only: bool = False,
        offer_demo: bool = False,
        client_factory: ClientFactory = _open_client,
    ) -> None:
        self._env = env
        self._given_store = store
        self._overrides = overrides if overrides is not None else Overrides()
        self._demo_only = demo_only
        self._offer_demo = offer_demo or demo_only
        self._factory = client_factory
        self._initial_key: str | None = None
        self._active: ProfileSession | None = None
        self._open: list[tuple[ProfileSession, LiveClient]] = []

    def __repr__(self) -> str:
        return (
            f"ClientConnector(active={self.active_key!r}, demo_only={self._demo_only}, "
            f"open_clients={len(self._open)})"
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- listing ---------------------------------------------------------------------------

    @property
    def active_key(self) -> str | None:
        """The key of the active session, ``None`` before the first one."""
        return self._active.key if self._active is not None else None

    @property
    def active_session(self) -> ProfileSession | None:
        """The active session (for the composition root and tests)."""
        return self._active

    def client_of(self, session: ProfileSession) -> LiveClient | None:
        """The client of ``session`` while it is open (for tests: the UI never sees clients)."""
        for opened, client in self._open:
            if opened is session:
                return client
        return None

    def store(self) -> ProfileStore | None:
        """The profile store, or ``None`` in demo mode (the demo writes no files)."""
        return None if self._demo_only else self._store

    @property
    def _store(self) -> ProfileStore:
        """The profile store given, or the user's own, made on first use."""
        if self._given_store is None:
            from asrtui.profiles import ProfileStore

            self._given_store = ProfileStore()
        return self._given_store

    def profiles(self) -> list[ProfileChoice]:
        """The demo (when offered), environment credentials (when set), then stored profiles.

        Raises:
            AsrtuiError: the profile files cannot be read.
        """
        active = self.active_key
        choices: list[ProfileChoice] = []
        if self._offer_demo:
            choices.append(self._demo_choice(active == DEMO_KEY))
        if self._demo_only:
            return choices
        env_choice = self._env_choice(active == ENV_KEY)
        if env_choice is not None:
            choices.append(env_choice)
        elif active == CHAIN_KEY and self._active is not None:
            source = self._active.source
            choices.append(
                ProfileChoice(
                    key=CHAIN_KEY,
                    name=source.profile_name,
                    region=source.region,
                    endpoint=self._env_endpoint(source.region),
                    credentials=self._chain_credentials(),
                    kind="environment",
                    active=True,
                )
            )
        from asrtui.profiles import credential_summary

        stored = self._store.load()
        for name, profile in stored.profiles.items():
            choices.append(
                ProfileChoice(
                    key=name,
                    name=name,
                    region=profile.region,
                    endpoint=resolve_endpoint(profile.region, profile.endpoint),
                    credentials=credential_summary(profile),
                    default=name == stored.default,
                    active=name == active,
                    read_only=profile.read_only,
                )
            )
        return choices

    def _active_source_region(self) -> str | None:
        return self._active.source.region if self._active is not None else None

    def _demo_choice(self, active: bool) -> ProfileChoice:
        region = (self._active_source_region() if active else None) or self._demo_region()
        return ProfileChoice(
            key=DEMO_KEY,
            name="demo",
            region=region,
            endpoint="built-in emulator",
            credentials="demo key",
            kind="demo",
            active=active,
        )

    def _env_choice(self, active: bool) -> ProfileChoice | None:
        from asrtui.credentials.chain import ENV_PROFILE_NAME, env_value

        key_id = env_value(self._env, "ACCESS_KEY_ID")
        if key_id is None:
            return None
        if active and self._active is not None:
            region = self._active.source.region
        else:
            region = env_value(self._env, "REGION_ID") or DEFAULT_REGION
        sts = env_value(self._env, "SECURITY_TOKEN") is not None
        return ProfileChoice(
            key=ENV_KEY,
            name=ENV_PROFILE_NAME,
            region=region,
            endpoint=self._env_endpoint(region),
            credentials=f"{'sts' if sts else 'access key'} {mask_secret(key_id)} (environment)",
            kind="environment",
            active=active,
        )

    def _chain_credentials(self) -> str:
        status_of = getattr(
            self._active.source if self._active else None, "credentials_status", None
        )
        status = status_of() if callable(status_of) else None
        return f"{status.mode} (default chain)" if status is not None else "default chain"

    def _env_endpoint(self, region: str) -> str:
        override = self._overrides.endpoint if self._initial_key in {ENV_KEY, CHAIN_KEY} else None
        try:
            return resolve_endpoint(region, override)
        except ConfigError:
            return "?"

    def _demo_region(self) -> str:
        return self._overrides.region or DEFAULT_REGION

    # -- opening ---------------------------------------------------------------------------

    def key_of(self, connection: Connection) -> str:
        """The `ProfileChoice.key` of a connection resolved from the command line."""
        if connection.demo:
            return DEMO_KEY
        from asrtui.credentials.chain import ENV_PROFILE_NAME, env_value

        from_env = (
            connection.profile_name == ENV_PROFILE_NAME
            and not self._overrides.profile
            and env_value(self._env, "ACCESS_KEY_ID") is not None
        )
        if from_env:
            return ENV_KEY
        if not self._overrides.profile and ":" in connection.profile_name:
            return CHAIN_KEY  # aliyun:NAME, ini:SECTION, ecs:ROLE: never a profile name
        if connection.profile_name == ENV_PROFILE_NAME and not self._overrides.profile:
            return CHAIN_KEY  # OIDC, a credentials URI: the environment without a key pair
        return connection.profile_name

    async def start(self, connection: Connection) -> ProfileSession:
        """Open and activate the session the command line resolved (its options apply to it).

        Raises:
            AsrtuiError: its credential command fails.
        """
        key = self.key_of(connection)
        self._initial_key = key
        session = await self._open_connection(key, connection)
        await self.activate(session)
        return session

    async def open(self, key: str) -> ProfileSession:
        """Open a client for ``key``; the active session is left as it is.

        Raises:
            AsrtuiError: the profile is missing, invalid or has no usable credentials.
        """
        return await self._open_connection(key, self._connection(key))

    def _connection(self, key: str) -> Connection:
        if key == DEMO_KEY:
            if not self._offer_demo:
                raise ConfigError("The demo is not offered here", "start it with 'asrtui --demo'")
            return self._overrides.demo_connection(self._env)
        if self._demo_only:
            raise ConfigError(
                "Only the demo is available with --demo", "start asrtui without --demo"
            )
        from asrtui.credentials.chain import env_value

        if key == ENV_KEY and env_value(self._env, "ACCESS_KEY_ID") is None:
            raise CredentialsError(
                "No credentials in the environment",
                "set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            )
        overrides = self._overrides if key == self._initial_key else self._overrides.everywhere()
        profile = None if key in {ENV_KEY, CHAIN_KEY} else key
        return resolve_connection(replace(overrides, profile=profile), self._env, store=self._store)

    async def _open_connection(self, key: str, connection: Connection) -> ProfileSession:
        if connection.credentials is not None:
            # Fetches now (a command runs in a thread, STS over httpx: the loop keeps going), so
            # that a failing source fails the switch instead of leaving a screen of errors.
            await connection.credentials.get()
        client = self._factory(connection)
        client.open()
        source = ClientTaskSource(
            client, profile_name=connection.profile_name, region=connection.settings.region
        )
        session = ProfileSession(
            key=key,
            source=source,
            settings=connection.settings,
            read_only=connection.read_only,
            demo=connection.demo,
        )
        self._open.append((session, client))
        return session

    # -- closing ---------------------------------------------------------------------------

    async def activate(self, session: ProfileSession) -> None:
        """Make ``session`` active and close every other session's client."""
        if self.client_of(session) is None:
            raise ValueError("activate() takes a session this connector opened")
        self._active = session
        others = [client for opened, client in self._open if opened is not session]
        self._open = [(opened, client) for opened, client in self._open if opened is session]
        for client in others:
            await client.aclose()

    async def aclose(self) -> None:
        """Close every open client (the active one included)."""
        clients = [client for _, client in self._open]
        self._open = []
        self._active = None
        for client in clients:
            await client.aclose()
