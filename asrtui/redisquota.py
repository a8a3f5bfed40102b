"""One account's request budget shared by every host, through Redis.

The host ledger (`asrtui.sharedquota.SharedLedger`) shares the budget between the processes of
one host; operators on several hosts, and scripts on other servers, using the same AccessKey
cannot see it. `RedisQuota` keeps the same ledger in Redis, with the same promises (the
`asrtui.sharedquota.QuotaLedger` protocol): at most N grants in any window, paced on one
schedule, priority requests first, throttling answers shared, and a grant counted from its
answer once it is in.

The script
    One Lua script does every change atomically in Redis: a sliding log (a sorted set of grant
    times, each a unique member) and a small hash (the shared hold, the slowed-down limit, the
    pacing schedule, the mark of a refused priority request, when a priority request last
    asked for the lane), the same decisions as the host ledger's. Its one clock is Redis's
    own ``TIME``: the hosts' clocks never meet, so their skew does not matter. The keys
    are named after a hash of the AccessKey id (never the id in clear, never the secret) and
    expire a minute after their last use.

When Redis is away
    Every call to Redis has a short deadline (`OP_TIMEOUT`). A call that fails or runs out of
    time makes this process fall back *at once* to the host ledger (or to its own limiter when
    the host cannot share), so a refresh never waits for Redis longer than that deadline; the
    status line shows the badge and the log says so. While it is down only a probe (a ``PING``
    every `PROBE_EVERY` seconds, off the request path) talks to Redis; when it answers,
    sharing across hosts resumes. Every grant taken through Redis is also written to the host
    ledger, so that a fall-back in the middle of a window starts from what this host spent.

Cancellation is never swallowed
    A refresh that is cancelled (the console quits, a profile is switched) while its grant
    is asked of Redis must end at once. redis-py bounds a command's send with
    ``asyncio.wait_for`` when it is given a ``socket_timeout``, and on Python 3.11 that
    returns the result instead of raising when the cancellation comes as the send completes:
    the caller's cancellation is lost and a refresh loop runs on for good (a benchmark's
    worker hung so). So the client has no ``socket_timeout``, and every call runs in a task of
    its own under `OP_TIMEOUT`, awaited with `asyncio.wait` (`_bounded`): the caller's
    deadline and cancellation never depend on what the library does with them.

The URL
    ``redis://[[user]:password@]host[:port][/db]`` or ``rediss://`` (TLS), read and masked by
    `asrtui.quotaurl` (the profiles and the command line need it without a Redis client). The
    password is a secret: the composition root registers it with the log redaction before
    anything can print it.

Why one module of this size
    The Lua script, the calls that run it under a deadline, and the fall-back and probe are
    one state machine (up, going down, down and probing): each part changes with the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import math
import os
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from asrtui.quotaledger import (
    BACKGROUND_LEAD,
    DEFAULT_PACING,
    PRIORITY_FIRST_COME,
    PRIORITY_LEAD,
    PRIORITY_ROOM,
    PRIORITY_SHARE,
    PriorityLane,
)
from asrtui.quotaurl import check_url, display_url
from asrtui.sharedquota import DEFAULT_MARGIN, SharedLedger

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "OP_TIMEOUT",
    "PROBE_EVERY",
    "RedisQuota",
    "redis_keys",
]

_log = logging.getLogger("asrtui.redisquota")
_T = TypeVar("_T")

#: Seconds one call to Redis may take before this process falls back to the host ledger.
OP_TIMEOUT = 0.25
#: Seconds between two probes of a Redis that went away.
PROBE_EVERY = 1.0
#: Seconds the keys live after their last use.
KEY_TTL_MS = 60_000
#: Grants whose answers are awaited, at most (older ones have left every window).
_MAX_OPEN_GRANTS = 4096
_DOMAIN = b"asrtui shared quota v1\x00"
_MIN_DELAY = 1e-6

# KEYS: the log (sorted set), the state (hash), the priority grants (sorted set). ARGV[1] is
# the operation, ARGV[2] the keys' time to live in milliseconds.
#   grant: capacity, window, priority (0/1), pacing (0: none), member, background lead,
#          priority lead, recovery per second, spread (added to the schedule's window),
#          priority share, priority room (slot spacings, `PRIORITY_ROOM`), seconds the
#          request has waited (its "since" on Redis's clock), `PRIORITY_FIRST_COME`, the
#          request's token (its own across its tries: the time it asked, on Redis's clock,
#          moves with each try's network delay, so it cannot tell the request apart), the
#          lane's places and its hold in seconds (`PriorityLane`: the same rule in Lua),
#          the second priority room (slot spacings, `PriorityLane.second`; 0: none)
#   complete: member
#   throttled: effective limit, retry after (0: none), recovery per second
# Numbers go back as strings: Redis turns a Lua number into an integer.
_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local op = ARGV[1]
local ttl = tonumber(ARGV[2])
local function shared_limit(slow, since, recovery)
  if not slow then return math.huge end
  return slow + recovery * math.max(0, now - since)
end
local function keep()
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
  redis.call('PEXPIRE', KEYS[3], ttl)
end
if op == 'complete' then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  keep()
  return {1, tostring(now)}
end
local st = redis.call('HMGET', KEYS[2], 'hold_until', 'slow_limit', 'slow_since',
                      'next_slot', 'priority_waiting_until', 'priority_first',
                      'priority_first_token', 'priority_first_until', 'priority_asked')
local hold = tonumber(st[1]) or -math.huge
local slow = tonumber(st[2])
local since = tonumber(st[3]) or now
local next_slot = tonumber(st[4]) or -math.huge
local waiting = tonumber(st[5]) or -math.huge
local first = tonumber(st[6]) or math.huge
local first_token = st[7]
local first_until = tonumber(st[8]) or -math.huge
local priority_asked = tonumber(st[9]) or -math.huge
if op == 'throttled' then
  local limit = tonumber(ARGV[3])
  local retry = tonumber(ARGV[4])
  local recovery = tonumber(ARGV[5])
  local shared = math.min(shared_limit(slow, since, recovery), limit)
  redis.call('HSET', KEYS[2], 'slow_limit', tostring(math.max(1, shared)),
             'slow_since', tostring(now))
  if retry > 0 and now + retry > hold then
    redis.call('HSET', KEYS[2], 'hold_until', tostring(now + retry))
    ttl = ttl + math.ceil(retry * 1000)
  end
  keep()
  return {1, tostring(now)}
end
local capacity = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
local priority = ARGV[5] == '1'
local pacing = tonumber(ARGV[6])
local member = ARGV[7]
local recovery = tonumber(ARGV[10])
local spread = tonumber(ARGV[11])
local share = tonumber(ARGV[12])
local keep_room = tonumber(ARGV[13])
local asked = ARGV[14] ~= '' and now - tonumber(ARGV[14]) or nil
local first_come = tonumber(ARGV[15])
local token = ARGV[16]
local lane_places = tonumber(ARGV[17])
local lane_hold = tonumber(ARGV[18])
local keep_second = tonumber(ARGV[19])
-- The turn lasts until its own request's comeback: one that never comes back (cancelled)
-- holds nobody up past that, however long the others keep coming back.
if now >= waiting or now >= first_until then first = math.huge; first_token = false end
local mine = asked and token == first_token
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - window)
local shared = shared_limit(slow, since, recovery)
if shared < math.huge then
  capacity = math.max(1, math.min(capacity, math.floor(shared + 1e-9)))
end
local ahead = priority and redis.call('ZCARD', KEYS[3]) < share * capacity
local lead = tonumber(ARGV[8])
if ahead then lead = tonumber(ARGV[9]) end
local delay = hold - now
local spacing = (window + spread) / (capacity * (pacing > 0 and pacing or 1))
if pacing > 0 then
  delay = math.max(delay, next_slot - lead * spacing - now)
end
local room = capacity
if now < waiting and (not priority or (asked and not mine and asked > first + first_come)) then
  room = math.max(1, capacity - 1)
end
-- The lane (`PriorityLane`): background leaves its places to priority requests while they
-- keep asking, and wakes when it is given back if the window has a place then.
local lane_on = false
if pacing > 0 then
  if priority and now > priority_asked then
    priority_asked = now
    redis.call('HSET', KEYS[2], 'priority_asked', tostring(now))
    keep()
  end
  lane_on = lane_places > 0 and now < priority_asked + lane_hold
  if lane_on and not priority then room = math.min(room, math.max(1, capacity - lane_places)) end
end
local used = redis.call('ZCARD', KEYS[1])
if used >= room then
  local entry = redis.call('ZRANGE', KEYS[1], used - room, used - room, 'WITHSCORES')
  local wait = tonumber(entry[2]) + window - now
  if room < capacity and lane_on then
    local full = -math.huge
    if used >= capacity then
      local last = redis.call('ZRANGE', KEYS[1], used - capacity, used - capacity, 'WITHSCORES')
      full = tonumber(last[2]) + window - now
    end
    wait = math.min(wait, math.max(priority_asked + lane_hold - now, full))
  end
  delay = math.max(delay, wait)
elseif pacing > 0 and not priority then
  -- `room_wait`: after this grant the window's next free place must come within keep_room
  -- spacings and its second within keep_second, for priority requests.
  local free = capacity - (used + 1)
  -- The second only when kept, while an operator is at work (`PriorityLane.second_room`).
  local rooms = {keep_room, keep_second}
  local places = 1
  if keep_second > 0 and now < priority_asked + lane_hold then places = 2 end
  for place = 1, places do
    if place > free then
      local index = place - free - 1
      if index >= used then break end
      local entry = redis.call('ZRANGE', KEYS[1], index, index, 'WITHSCORES')
      delay = math.max(delay, tonumber(entry[2]) + window - rooms[place] * spacing - now)
    end
  end
end
if delay > 0 then
  delay = math.max(delay, 1e-6)
  if ahead then
    local comeback = now + math.min(delay, window) + spacing
    redis.call('HSET', KEYS[2], 'priority_waiting_until', tostring(math.max(comeback, waiting)))
    if mine then
      redis.call('HSET', KEYS[2], 'priority_first_until', tostring(comeback))
    elseif asked and asked < first then
      redis.call('HSET', KEYS[2], 'priority_first', tostring(asked), 'priority_first_token', token,
                 'priority_first_until', tostring(comeback))
    end
    keep()
  end
  return {0, tostring(delay)}
end
redis.call('ZADD', KEYS[1], now, member)
if priority then
  redis.call('ZADD', KEYS[3], now, member)
  if mine or (asked and asked <= first + first_come) then
    redis.call('HDEL', KEYS[2], 'priority_first', 'priority_first_token')
  end
end
if pacing > 0 then
  redis.call('HSET', KEYS[2], 'next_slot', tostring(math.max(next_slot, now) + spacing))
end
if shared < math.huge and shared >= capacity + recovery * window then
  redis.call('HDEL', KEYS[2], 'slow_limit', 'slow_since')
end
keep()
return {1, tostring(now)}
"""


def redis_keys(access_key_id: str) -> tuple[str, str, str]:
    """The keys of an account's ledger: a hash of the AccessKey id, never the id itself.

    They share one hash tag (``{...}``), so that a Redis Cluster keeps them on one node, as a
    script touching several keys needs.
    """
    digest = hashlib.sha256(_DOMAIN + access_key_id.encode("utf-8")).hexdigest()[:32]
    base = f"asrtui:quota:{{{digest}}}"
    return f"{base}:log", f"{base}:state", f"{base}:priority"


def _connect(url: str) -> Redis:
    """A Redis client with short deadlines (imported here: ``redis`` is an optional extra)."""
    from redis.asyncio import Redis

    client: Redis = Redis.from_url(
        url,
        # No socket_timeout: redis-py bounds a send with it through asyncio.wait_for, which
        # on Python 3.11 can swallow a cancellation. Every call is bounded by `_bounded`.
        socket_timeout=None,
        socket_connect_timeout=OP_TIMEOUT,
        retry_on_timeout=False,
        health_check_interval=0,
        decode_responses=True,
    )
    return client


class RedisQuota:
    """The cross-host gate of one account's budget, in Redis, with the host ledger to fall back on.

    Args:
        url: the Redis URL (`check_url`); its password is never shown (`display_url`).
        access_key_id: the account's AccessKey id (hashed into the key names).
        fallback: the host ledger used while Redis is away (and kept up to date meanwhile);
            ``None`` when the host cannot share one (the process then limits itself alone).
        margin: seconds added to the window against network jitter (as the host ledger's).
        lane: the places kept for priority requests while they keep asking (paced only).
        pacing: the share of the capacity the pacing schedule hands out; ``None`` for none.
        recovery_per_second: calls per window a shared slowed-down limit regains per second.
        connect: builds the Redis client (tests pass another).
        sleep: sleeps between probes (tests pass a fake).
        on_change: called with `where` and `degraded` whenever they change (the event).

    Raises:
        ConfigError: the URL is not a usable Redis URL.
    """

    def __init__(
        self,
        url: str,
        access_key_id: str,
        *,
        fallback: SharedLedger | None = None,
        margin: float = DEFAULT_MARGIN,
        lane: PriorityLane | None = None,
        pacing: float | None = DEFAULT_PACING,
        recovery_per_second: float = 1.0,
        connect: Callable[[str], Redis] = _connect,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        on_change: Callable[[str, str], None] | None = None,
    ) -> None:
        self._url = check_url(url)
        self._keys = redis_keys(access_key_id)
        self._fallback = fallback
        self._margin = margin
        self._lane = PriorityLane() if lane is None else lane
        self._pacing = pacing
        self._recovery = recovery_per_second
        self._connect = connect
        self._sleep = sleep
        self._on_change = on_change
        self._client: Redis | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._down_reason = ""
        self._probe: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        #: This process's grants in Redis whose answers are awaited: local grant time -> member.
        self._open: dict[float, str] = {}
        self._prefix = f"{os.getpid()}-{secrets.token_hex(4)}"
        self._seq = itertools.count()

    def __repr__(self) -> str:
        return f"RedisQuota({display_url(self._url)!r}, where={self.where!r})"

    @property
    def url(self) -> str:
        """The Redis URL, password masked."""
        return display_url(self._url)

    @property
    def where(self) -> str:
        """``redis`` while Redis answers; ``host`` (or empty, alone) while it is away."""
        if not self._down_reason:
            return "redis"
        return "" if self._fallback is None else self._fallback.where

    @property
    def degraded(self) -> str:
        """Why the budget is not shared across hosts right now (``redis unreachable``)."""
        return self._down_reason

    # -- the gate ------------------------------------------------------------------------------

    async def reserve(
        self,
        now: float,
        capacity: int,
        window: float,
        *,
        priority: bool = False,
        spread: float = 0.0,
        since: float | None = None,
    ) -> float:
        """Record a grant in Redis if the shared window allows it; the host ledger if Redis is away.

        Args:
            now: the caller's monotonic clock (for the host ledger; Redis uses its own).
            capacity: the caller's effective limit per window.
            window: the caller's window in seconds (the ledger adds its margin).
            priority: a user-initiated request (see `asrtui.sharedquota`).
            spread: seconds added to the pacing schedule (the caller's round-trip spread).
            since: when the request first asked, on the caller's clock; Redis is told how
                long ago that was, so the hosts' clocks never meet (`PRIORITY_FIRST_COME`).

        Returns:
            ``0.0`` when granted, else the seconds after which a grant may be possible.
        """
        if self._down_reason:
            self._ensure_probe()
            return await self._host(now, capacity, window, priority, spread, since=since)
        member = f"{self._prefix}-{next(self._seq)}"
        try:
            granted, value = await self._run(
                "grant",
                max(1, capacity),
                repr(window + self._margin),
                "1" if priority else "0",
                repr(self._pacing or 0),
                member,
                repr(BACKGROUND_LEAD),
                repr(PRIORITY_LEAD),
                repr(self._recovery),
                # The margin is in the window already; the larger of the two widens the schedule.
                repr(max(0.0, spread - self._margin)),
                repr(PRIORITY_SHARE),
                repr(PRIORITY_ROOM),
                # How long ago the request asked; "" takes no part in the order.
                repr(max(0.0, now - since)) if since is not None else "",
                repr(PRIORITY_FIRST_COME),
                f"{self._prefix}@{since!r}",
                self._lane.places,
                repr(self._lane.hold),
                # The second place's room (`PriorityLane.second`); 0: not kept.
                repr(self._lane.second) if math.isfinite(self._lane.second) else "0",
            )
        except _Unavailable as error:
            self._went_down(error.reason)
            return await self._host(now, capacity, window, priority, spread, since=since)
        if not granted:
            return max(float(value), _MIN_DELAY)
        if len(self._open) >= _MAX_OPEN_GRANTS:
            del self._open[next(iter(self._open))]
        self._open[now] = member
        if self._fallback is not None:
            # What this host spent, in case Redis goes away within the window.
            self._fallback.complete(now, now)
        return 0.0

    def complete(self, granted_at: float, now: float) -> None:
        """Count the grant made at ``granted_at`` from its answer, in Redis and on the host."""
        if self._fallback is not None:
            self._fallback.complete(granted_at, now)
        member = self._open.pop(granted_at, None)
        if member is not None and not self._down_reason:
            self._spawn(self._run("complete", member))

    def report_throttled(
        self, now: float, effective_limit: float, retry_after: float | None = None
    ) -> None:
        """Share a ``Throttling*`` answer with every host (and this host's other processes)."""
        if self._fallback is not None:
            self._fallback.report_throttled(now, effective_limit, retry_after)
        if not self._down_reason:
            wait = retry_after if retry_after is not None and retry_after > 0 else 0.0
            self._spawn(
                self._run(
                    "throttled",
                    repr(max(1.0, effective_limit)),
                    repr(wait),
                    repr(self._recovery),
                )
            )

    async def aclose(self) -> None:
        """Stop the probe and close the connection to Redis, within a few deadlines at most."""
        tasks = [*self._background, *([self._probe] if self._probe is not None else [])]
        for task in tasks:
            task.cancel()
        if tasks:
            # Their calls are `_bounded`, so they end at once; waiting is bounded all the same.
            await asyncio.wait(tasks, timeout=OP_TIMEOUT)
        self._probe = None
        client, self._client = self._client, None
        if client is not None:
            # Bounded like every other call: closing must never hold up the end of a session.
            with contextlib.suppress(Exception):
                await _bounded(client.aclose(), OP_TIMEOUT * 4)

    # -- Redis ---------------------------------------------------------------------------------

    async def _host(
        self,
        now: float,
        capacity: int,
        window: float,
        priority: bool,
        spread: float,
        *,
        since: float | None,
    ) -> float:
        if self._fallback is None:
            return 0.0
        return await self._fallback.reserve(
            now, capacity, window, priority=priority, spread=spread, since=since
        )

    def _redis(self) -> Redis:
        """The client of the running event loop (a client is bound to the loop it started on)."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = self._connect(self._url)
            self._loop = loop
        return self._client

    async def _run(self, op: str, *args: object) -> tuple[bool, float]:
        """Run the script once, within `OP_TIMEOUT`.

        Raises:
            _Unavailable: Redis did not answer in time, refused, or answered nonsense.
        """
        from redis.exceptions import RedisError

        try:
            reply = await _bounded(
                self._redis().eval(
                    _SCRIPT, len(self._keys), *self._keys, op, str(KEY_TTL_MS), *map(str, args)
                ),
                OP_TIMEOUT,
            )
        except TimeoutError:
            raise _Unavailable(f"Redis did not answer within {OP_TIMEOUT * 1000:.0f} ms") from None
        except (RedisError, OSError) as error:
            raise _Unavailable(_reason(error)) from None
        try:
            flag, value = reply
            number = float(value)
        except (TypeError, ValueError):
            raise _Unavailable("Redis answered the quota script with nonsense") from None
        if not math.isfinite(number):
            raise _Unavailable("Redis answered the quota script with nonsense")
        return bool(int(flag)), number

    def _spawn(self, work: Awaitable[tuple[bool, float]]) -> None:
        """Send an update without waiting for it; a failure makes this process fall back."""

        async def send() -> None:
            try:
                await work
            except _Unavailable as error:
                self._went_down(error.reason)

        try:
            task = asyncio.get_running_loop().create_task(send())
        except RuntimeError:  # no running loop (a test's synchronous call): nothing to send
            if asyncio.iscoroutine(work):
                work.close()
            return
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _went_down(self, reason: str) -> None:
        if self._down_reason:
            return
        self._down_reason = reason or "Redis unreachable"
        self._open.clear()
        self._client = None  # a new connection for the probe and after it
        _log.warning(
            "quota no longer shared across hosts (%s, %s): %s; probing every %g s",
            display_url(self._url),
            self._down_reason,
            "limiting with this host's ledger" if self._fallback else "limiting this process",
            PROBE_EVERY,
        )
        self._changed()
        self._ensure_probe()

    def _ensure_probe(self) -> None:
        if self._probe is not None and not self._probe.done():
            return
        try:
            self._probe = asyncio.get_running_loop().create_task(self._probing())
        except RuntimeError:
            self._probe = None

    async def _probing(self) -> None:
        """PING Redis every `PROBE_EVERY` seconds until it answers; then share through it again."""
        from redis.exceptions import RedisError

        while self._down_reason:
            await self._sleep(PROBE_EVERY)
            try:
                await _bounded(self._redis().ping(), OP_TIMEOUT)
            except (TimeoutError, RedisError, OSError):
                self._client = None
                continue
            self._down_reason = ""
            _log.warning("quota shared across hosts again (%s)", display_url(self._url))
            self._changed()

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change(self.where, self._down_reason)


async def _bounded(call: Awaitable[_T], seconds: float) -> _T:
    """Await ``call`` for at most ``seconds``, in a task of its own; cancellable at any point.

    The caller waits on `asyncio.wait`, which neither swallows a cancellation nor outlives
    its timeout, whatever ``call`` does with the cancellation it is sent: on a cancellation
    or at the deadline the call's task is cancelled and left to end by itself (its own
    `asyncio.timeout` bounds it too), and this returns at once. A call that was cancelled
    after Redis recorded a grant leaves that grant counted there, which errs on the safe side.

    Raises:
        TimeoutError: the call did not end within ``seconds``.
        asyncio.CancelledError: the caller was cancelled.
    """

    async def run() -> _T:
        async with asyncio.timeout(seconds):
            return await call

    task = asyncio.get_running_loop().create_task(run())
    try:
        done, _ = await asyncio.wait((task,), timeout=seconds)
    except BaseException:
        _abandon(task)
        raise
    if not done:
        _abandon(task)
        raise TimeoutError
    return task.result()


def _abandon(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` without waiting for it; its outcome is read, never logged as lost."""
    task.cancel()
    task.add_done_callback(lambda done: done.cancelled() or done.exception())


class _Unavailable(Exception):
    """Redis did not serve a call; ``reason`` says how, without the URL's password."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _reason(error: BaseException) -> str:
    """A short reason for a Redis failure; never the URL (it may hold the password)."""
    from redis.exceptions import AuthenticationError, ResponseError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    if isinstance(error, AuthenticationError):
        return "Redis refused the password"
    if isinstance(error, ResponseError):
        return "Redis refused the quota script"
    if isinstance(error, RedisTimeoutError):
        return f"Redis did not answer within {OP_TIMEOUT * 1000:.0f} ms"
    if isinstance(error, RedisConnectionError | OSError):
        return "Redis unreachable"
    return f"Redis failed ({type(error).__name__})"
