"""Temporary credentials kept fresh: fetched once, refreshed ahead of expiry in the background.

Every temporary provider (a credential command, STS AssumeRole, the ECS metadata service, OIDC,
a credentials URI) is a `RefreshingProvider` around one ``fetch`` coroutine. The rules, the
same for all of them:

- the first `RefreshingProvider.get` (or one after expiry) waits for a fetch: there is nothing
  valid to send; its failure is the caller's error;
- from the refresh time on (5 minutes before expiry, or half-way for short-lived credentials,
  or every 15 minutes when the source gives no expiry) `get` still answers at once with the
  cached credentials and starts one background fetch: no request waits on the source while
  what it has is valid, and a source that is slow for a moment costs nothing;
- except near the end: credentials with less than a quarter of their lifetime left (at most
  `LAST_USE_MARGIN`) are not handed out while a refresh can replace them: `get` waits for the
  fetch, as at expiry, because a request signed with them could land after they expire
  (``InvalidSecurityToken.Expired``). A refresh starts at the first request after the refresh
  time, and requests may be minutes apart (a console refreshing every 5 minutes); if that
  fetch fails, the cached credentials, still valid, are handed out all the same;
- single flight: however many requests come at once, at most one fetch runs, and a request
  that must wait joins it instead of starting another;
- the last good credentials are kept until a fetch replaces them; a failed background fetch is
  recorded (`CredentialsInfo.refresh_error`, which the status line shows as a warning) and tried
  again after a pause, never more than once per pause;
- each fetch that succeeds counts as a renewal (`CredentialsInfo.renewals`, ``renewed_at``):
  the console's record polls `RefreshingProvider.info` and journals a renewal when the count
  moves, so nothing above this layer hands a callback down to it;
- the fetch runs on the caller's loop (httpx) or in a worker thread (a command): never a
  blocking call on the console's loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from asrtui.credentials.provider import CredentialsInfo
from asrtui.credentials.value import Credentials
from asrtui.errors import AsrtuiError

__all__ = [
    "LAST_USE_MARGIN",
    "NO_EXPIRY_INTERVAL",
    "REFRESH_MARGIN",
    "RETRY_INTERVAL",
    "Fetch",
    "Fetched",
    "RefreshingProvider",
    "last_use",
    "next_refresh",
]

#: How long before ``expiration`` a refresh starts.
REFRESH_MARGIN = timedelta(minutes=5)
#: The most time left at which cached credentials are no longer handed out without waiting for
#: the refresh behind them (a quarter of their lifetime when that is shorter).
LAST_USE_MARGIN = timedelta(minutes=1)
#: How often credentials without an expiry are fetched again.
NO_EXPIRY_INTERVAL = timedelta(minutes=15)
#: The longest pause after a failed background refresh before the next try.
RETRY_INTERVAL = timedelta(seconds=30)
#: The shortest such pause.
MIN_RETRY_INTERVAL = timedelta(seconds=1)

#: Credentials and their expiry (``None``: the source did not say).
Fetched = tuple[Credentials, datetime | None]
Fetch = Callable[[], Awaitable[Fetched]]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def next_refresh(now: datetime, expiration: datetime | None) -> datetime:
    """When to fetch again: 5 minutes before expiry, or half-way for short-lived credentials."""
    if expiration is None:
        return now + NO_EXPIRY_INTERVAL
    return max(expiration - REFRESH_MARGIN, now + (expiration - now) / 2)


def last_use(fetched: datetime, expiration: datetime | None) -> datetime | None:
    """From when credentials are too close to expiry to sign a request without waiting."""
    if expiration is None:
        return None
    return expiration - min(LAST_USE_MARGIN, (expiration - fetched) / 4)


def _retry_pause(now: datetime, expiration: datetime | None) -> timedelta:
    """How long to wait after a failed background refresh: a quarter of what is left, bounded."""
    if expiration is None:
        return RETRY_INTERVAL
    return max(MIN_RETRY_INTERVAL, min(RETRY_INTERVAL, (expiration - now) / 4))


class RefreshingProvider:
    """A `asrtui.credentials.provider.CredentialsProvider` around one ``fetch`` (module doc).

    Args:
        fetch: gets fresh credentials and their expiry; raises an `AsrtuiError` naming the
            source (never a secret) when it cannot.
        mode: the mode's name for `info` (``RamRoleArn``, ``EcsRamRole``...).
        source: where the credentials come from, in words.
        quota_key: the stable identity of the account for the shared quota (module
            `asrtui.credentials.provider`); the first key id when empty.
        clock: the wall clock, compared with the expiry (tests pass a fake).
    """

    def __init__(
        self,
        fetch: Fetch,
        *,
        mode: str,
        source: str,
        quota_key: str = "",
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._fetcher = fetch
        self._mode = mode
        self._source = source
        self._quota_key = quota_key
        self._clock = clock
        self._cached: Credentials | None = None
        #: When the cached credentials expire, if the source said.
        self.expiration: datetime | None = None
        self._refresh_at: datetime | None = None
        self._last_use: datetime | None = None
        self._retry_at: datetime | None = None
        self._refresh_error = ""
        self._inflight: asyncio.Task[Fetched] | None = None
        #: How many fetches have run (tests count them to prove single flight).
        self.fetches = 0
        #: How many fetches succeeded, and when the last did (`CredentialsInfo.renewals`).
        self.renewals = 0
        self._renewed_at: datetime | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mode={self._mode!r}, source={self._source!r})"

    async def get(self) -> Credentials:
        """The cached credentials; fetched first when there are none valid (module doc)."""
        now = self._clock()
        cached = self._cached
        expiration = self.expiration
        if cached is None or (expiration is not None and now >= expiration):
            credentials, _ = await self._join()
            return credentials
        refresh_at = self._refresh_at
        if refresh_at is not None and now >= refresh_at:
            retry_at = self._retry_at
            if retry_at is None or now >= retry_at:
                task = self._start()
                last_use = self._last_use
                if last_use is not None and now >= last_use:
                    return await self._replacement(task, cached)
        return cached

    async def _replacement(self, task: asyncio.Task[Fetched], cached: Credentials) -> Credentials:
        """The fetch's credentials, or ``cached`` (still valid) when it fails (recorded)."""
        try:
            credentials, _ = await asyncio.shield(task)
        except AsrtuiError:
            return cached
        return credentials

    def info(self) -> CredentialsInfo:
        """The mode, the source, the key id and expiry of the cached credentials."""
        cached = self._cached
        return CredentialsInfo(
            mode=self._mode,
            source=self._source,
            access_key_id=cached.access_key_id if cached is not None else "",
            expiration=self.expiration,
            refresh_error=self._refresh_error,
            quota_key=self._quota_key,
            renewals=self.renewals,
            renewed_at=self._renewed_at,
        )

    def invalidate(self) -> None:
        """Forget the cached credentials: the next `get` fetches (a token refused early)."""
        self._cached = None
        self._refresh_at = None
        self._last_use = None
        self._retry_at = None

    async def settled(self) -> None:
        """Wait for a fetch in flight, if any, to end (its failure is in `info`, not raised)."""
        task = self._running()
        if task is not None:
            await asyncio.wait([task])

    def _running(self) -> asyncio.Task[Fetched] | None:
        task = self._inflight
        if task is None or task.done():
            return None
        if task.get_loop() is not asyncio.get_running_loop():
            return None  # left over from a loop that has ended (one `asyncio.run` per command)
        return task

    def _start(self) -> asyncio.Task[Fetched]:
        task = self._running()
        if task is None:
            task = asyncio.get_running_loop().create_task(self._run())
            task.add_done_callback(_consume)
            self._inflight = task
        return task

    async def _join(self) -> Fetched:
        # Shielded: a request cancelled while it waits does not cancel the fetch others share.
        return await asyncio.shield(self._start())

    async def _run(self) -> Fetched:
        self.fetches += 1
        try:
            credentials, expiration = await self._fetcher()
        except AsrtuiError as error:
            now = self._clock()
            self._refresh_error = str(error)
            self._retry_at = now + _retry_pause(now, self.expiration)
            raise
        now = self._clock()
        self._cached = credentials
        self.expiration = expiration
        self._refresh_at = next_refresh(now, expiration)
        self._last_use = last_use(now, expiration)
        self._retry_at = None
        self._refresh_error = ""
        self.renewals += 1
        self._renewed_at = now
        return credentials, expiration


def _consume(task: asyncio.Task[Fetched]) -> None:
    """Mark a background fetch's failure as seen: it is recorded in `info` already."""
    if not task.cancelled():
        task.exception()
