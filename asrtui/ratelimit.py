"""The account's shared request budget: at most N grants in any window, fair and throttle-aware.

Why a sliding log and not a token bucket
    The promise the account needs is *at most N calls in any ``window`` seconds* (20 per second
    by default, shared with everything else the account runs). A token bucket with rate N and
    burst N does not keep it: a full bucket lets N through at once and refills N more within the
    same second, so 2N can pass inside one window. This limiter keeps a log of the last grant
    times instead (a deque of at most N monotonic timestamps). A request may be granted at ``t``
    only when fewer than N logged grants satisfy ``g + window > t``; each grant is therefore
    preceded by at most N - 1 others in ``(t - window, t]``, and so every half-open interval
    ``[a, a + window)`` holds at most N grants. Costs: O(1) per grant and memory bounded by N.

How waiting works
    Requests queue in two FIFO lanes, *priority* (user-initiated: the selected task's detail, a
    manual refresh) and *background* (the auto-refresh). The head of the queue is the first live
    waiter of the priority lane, else the first of the background lane. Only the head ever
    looks at the clock: when no slot is free it starts one timer (the injected ``sleep``) until
    the exact moment the limiting grant leaves the window (or a server-imposed hold ends) and
    waits on its own future. Every other waiter waits on its own future and nothing else, so
    hundreds of queued requests cost no timers and no polling. Whoever changes who is head
    wakes the new head: a grant hands the turn on, a cancelled head hands it on, a priority
    arrival makes itself head, and a recovering limit wakes the head early. A woken waiter
    always re-checks, so an early or spurious wake-up (``asyncio`` may fire timers up to its clock
    resolution early) only costs another short sleep. A request that arrives while nobody waits
    and a slot is free is granted without suspending; a priority request needs only an empty
    priority lane for that, which is how it overtakes queued background requests. The window
    check runs on every grant, whatever the lane, so priority never breaks the window.

Cancellation
    A waiter cancelled while queued marks itself dead and is dropped lazily when it reaches the
    front of its lane (no O(n) removal from the middle of a deque). If it was the head, it
    cancels its timer and wakes the next head, which takes the slot at once if one is free: no
    hole in the schedule and no slot leaked. A grant is recorded and the caller resumed in one
    step with no ``await`` between them, so a cancellation cannot land between the two; one
    that lands while a ledger is asked (Redis is a network call) gives the slot back. Starvation
    is possible only for background requests under a never-ending stream of priority ones,
    which user-initiated requests cannot produce.

Throttling feedback (AIMD)
    ``on_throttled`` halves the effective limit (floor ``min_limit``), at most once per window so
    that the burst of ``Throttling*`` answers to requests already in flight counts as one signal,
    and with ``retry_after`` (seconds) holds every grant until that time. ``on_success`` adds
    back ``RECOVERY_PER_SECOND`` calls per second for every second during which answers keep
    succeeding (an idle gap counts for at most one window) until the configured limit. The
    window check uses the floor of the effective limit.

Counting where the server counts
    The server counts a request when it arrives, somewhere between the moment it was granted
    here and the moment its answer came back; which moment, the network decides (a slow first
    connection, jitter, a busy gateway). Two requests granted one window apart can therefore
    reach the server less than a window apart, in either order. So a grant's log entry starts
    at its grant time and, when the caller reports the answer (`Grant.done`), moves to the time
    the answer arrived: the slot is held until one window after the latest moment the server
    can have counted the request. Then no window of the server can hold N + 1 requests: of N + 1
    arrivals inside one server window, the last granted one would have seen the other N still
    in its window here. The cost is each request's own round trip, not a fixed guess: on
    loopback a few milliseconds a window, with 50 ms of one-way jitter about 5 %.

Pacing, and a margin that follows the network
    A sliding log alone, under saturating demand, replays its first burst forever: N grants at
    the window edge, then nothing for a whole window, so a priority request waits up to a
    window and the server sees the burst land within its jitter. So grants are also paced on a
    schedule (a GCRA): slots ``T = (window + margin) / (N * pacing)`` apart, a background
    grant allowed from `BACKGROUND_LEAD` ``* T`` before its slot (a timer that fires a little
    late keeps it), a priority grant from `PRIORITY_LEAD` ``* T`` before it (it goes ahead of
    the background schedule, which then waits a slot more), and a background grant leaves
    the window's next free place within `PRIORITY_ROOM` slots (`asrtui.quotaledger.room_wait`,
    the ledgers' rule too: alone, the limiter is the only window; the second place too with a
    lane's `asrtui.quotaledger.PriorityLane.second`, off by default). ``pacing``
    (`DEFAULT_PACING`, a
    little under 1) keeps the schedule slightly slower than the window, so a cluster of
    priority grants never leaves the window full for good. The ``margin`` is the spread of
    the round trips this limiter saw (twice the distance from their 5th percentile to their
    median over the last `SPREAD_SAMPLES`, between `MIN_MARGIN` and `MAX_MARGIN`): requests N
    slots apart then reach the server at least a window apart whatever the jitter, and the
    window check (with answered entries) rarely has to act. A process's first request, and
    any request on a fresh connection, counts as the slowest case: the client reports the
    connection being opened (`Grant.fresh_connection`), the margin is `MAX_MARGIN` while it
    is in flight and for a window after its answer, and its round trip, handshake included,
    is no sample of the spread; until `MIN_SAMPLES` answers on warm connections are in, the
    margin stays `MAX_MARGIN` too.
    Twice the low half's width is the whole width of a symmetric jitter (0.9 of a uniform one)
    and blind to a slow tail of up to half the round trips: a stalled event loop, a new
    connection, an answer delayed on its way back, none of which says when the server counted
    (delays only ever add). A high-minus-low percentile is not: when a quarter of the round
    trips of a busy client take 40 ms more on the way back (the emulator did, before it
    turned Nagle's algorithm off), the 90th minus the 10th percentile cost 4 % of the rate
    for no jitter at all.
    The cost is visible: with 50 ms of one-way jitter the schedule runs at about 20/1.05/s.

Fairness of the priority lane
    Priority requests go first, but at most `PRIORITY_SHARE` of the window's capacity goes to
    them: past that, a priority request has no lead on the schedule (it is still first in the
    queue), so background refreshes are never starved by a stream of user actions.
    A priority lane (`asrtui.quotaledger.PriorityLane`, paced only; off by default, see
    `asrtui.quotaledger.PRIORITY_LANE` for what it cost) makes background grants leave the
    window's last places to priority requests while these keep asking: the schedule keeps the
    window full, so a user action otherwise waits for the next place to free, 100 ms or more
    where answers came in bunches. It is given back when no priority request has asked for a
    while, so a console with nobody at the keys pays nothing for it.

One limiter per account (AccessKey id) per process: `limiter_for` keeps the registry, shared by
every request of every view, retries included.

Why one module of this size
    The queue, the window, the schedule, the measured margin and the throttling feedback are
    one decision: every grant reads all of them and changes most, inside one step with no
    ``await`` (see "Cancellation"). What they agree on with the ledgers is apart, in
    `asrtui.quotaledger`.

Across processes and hosts
    Several processes of the same account share one budget through an optional ledger, an
    `asrtui.sharedquota.QuotaLedger`: the host's `asrtui.sharedquota.SharedLedger`
    (``limiter_for(..., shared=True)``) or, across hosts, `asrtui.redisquota.RedisQuota`.
    Queues, lanes and throttling feedback stay local; the ledger is consulted only when the
    local head of the queue would be granted, with this limiter's clock, effective limit,
    window (plus the margin) and lane. The slot is taken locally first and given back if the
    ledger says no; the head then sleeps for the delay it returns and checks again, exactly as
    for a local hold. Throttling answers are passed on to it so that the others slow down too.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

# The schedule's parameters are the ledgers' too: one pace for a process and for its host.
from asrtui.quotaledger import (
    BACKGROUND_LEAD,
    DEFAULT_PACING,
    PRIORITY_LEAD,
    PRIORITY_SHARE,
    PriorityLane,
    room_wait,
)
from asrtui.quotastats import QuotaStats

if TYPE_CHECKING:
    from asrtui.quotaledger import QuotaLedger

__all__ = [
    "BACKGROUND_LEAD",
    "DEFAULT_PACING",
    "MAX_MARGIN",
    "MIN_MARGIN",
    "MIN_SAMPLES",
    "PRIORITY_LEAD",
    "PRIORITY_SHARE",
    "SPREAD_SAMPLES",
    "Grant",
    "LimiterStats",
    "WindowLimiter",
    "limiter_for",
    "reset_registry",
]

_PRIORITY = 0
_BACKGROUND = 1
# Absorbs float noise in additive recovery (10 + 0.1 * 10 is 10.999999999999998).
_EPSILON = 1e-9

#: Bounds of the margin, in seconds: the measured spread of round trips, kept in reason.
MIN_MARGIN = 0.005
MAX_MARGIN = 0.1
#: Round trips the spread is measured over, and how many are needed before it is trusted.
SPREAD_SAMPLES = 64
MIN_SAMPLES = 4
#: The shortest wait asked for: a float-rounding delay of a few ulps would spin a virtual clock.
_MIN_DELAY = 1e-6


#: What `WindowLimiter.stats` returns: the status line's one record, the limiter's part filled.
LimiterStats = QuotaStats


class Grant:
    """One granted slot; `done` moves its entry to when the answer arrived.

    Call `done` once the answer (or the failure) of the request is in: until then the slot is
    counted from its grant time, afterwards from the time of `done`. Calling it again, or never,
    is harmless (the entry then stays at its grant time, the limiter's old behaviour). Call
    `fresh_connection` when the request has to open a connection first.
    """

    __slots__ = ("_fresh", "_limiter", "granted_at")

    def __init__(self, limiter: WindowLimiter | None, granted_at: float) -> None:
        self._limiter = limiter
        self._fresh = False
        self.granted_at = granted_at

    def fresh_connection(self) -> None:
        """Report that the request goes out on a new connection: it counts as the slowest case.

        A handshake (TCP, then TLS) delays the moment the server counts the request by an
        amount its round trip cannot be told apart from, so until a window after its answer
        the schedule is spaced with `MAX_MARGIN`, and its round trip is no sample of the
        network's spread. Idempotent; ignored after `done`.
        """
        limiter = self._limiter
        if limiter is not None and not self._fresh:
            self._fresh = True
            limiter._fresh_started()

    def done(self) -> None:
        """Report that the request's answer arrived: its slot is held a window from now."""
        limiter, self._limiter = self._limiter, None
        if limiter is not None:
            limiter._complete(self.granted_at, fresh=self._fresh)


class _Waiter:
    """One queued `WindowLimiter.acquire` call: its lane, its wake-up future and its timer."""

    __slots__ = ("dead", "granted", "granted_at", "lane", "since", "timer", "wake")

    def __init__(self, loop: asyncio.AbstractEventLoop, lane: int, since: float) -> None:
        self.lane = lane
        #: When the request asked: among priority requests of every process, earlier first.
        self.since = since
        self.granted = False
        self.granted_at = 0.0
        self.wake: asyncio.Future[None] = loop.create_future()
        self.timer: asyncio.Future[None] | None = None
        # Granted or cancelled: skipped (and dropped) when it reaches the front of its lane.
        self.dead = False

    def poke(self) -> None:
        """Wake the waiter so that it re-checks whether it may take a slot."""
        if not self.wake.done():
            self.wake.set_result(None)

    def timer_done(self, timer: asyncio.Future[None]) -> None:
        """Done-callback of the waiter's sleep: wake it, or hand it the sleep's failure."""
        if timer is not self.timer or timer.cancelled():
            return  # a timer replaced or cancelled since: its wake-up is stale
        error = timer.exception()
        if error is None:
            self.poke()
        elif not self.wake.done():
            self.wake.set_exception(error)

    def cancel_timer(self) -> None:
        """Stop the waiter's sleep, if any, so that it cannot wake the waiter later."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


class WindowLimiter:
    """At most ``limit`` grants in any ``window`` seconds, FIFO per lane, priority first.

    Args:
        limit: grants allowed in any window; the account's documented limit is 20 per second.
            Configure it lower to leave room for other systems using the same account.
        window: the window length in seconds.
        clock: a monotonic clock in seconds; tests pass a virtual one.
        sleep: sleeps for a number of seconds; tests pass a virtual one. It must be
            cancellable, since a waiter cancels its sleep when woken early.
        min_limit: the floor of the effective limit under throttling (at least 1).
        ledger: the cross-process gate of the account's budget; ``None`` to limit this
            process alone. It is given this limiter's ``clock`` readings, so a virtual clock
            drives both.
        pacing: the share of the capacity the pacing schedule hands out, in (0, 1]; ``None``
            for the bare sliding window (bursts of N at the window edge).
        lane: the places kept for priority requests while they keep asking (paced only;
            `asrtui.quotaledger.PriorityLane`); the ledger keeps its own, by the same rule.

    Raises:
        ValueError: when ``limit`` < 1, ``window`` <= 0 or ``min_limit`` is outside [1, limit].
    """

    RECOVERY_PER_SECOND = 1.0
    """Calls per window the effective limit regains per second of successful answers."""

    def __init__(
        self,
        limit: int = 20,
        window: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        min_limit: float = 1.0,
        ledger: QuotaLedger | None = None,
        pacing: float | None = DEFAULT_PACING,
        lane: PriorityLane | None = None,
    ) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1 call per window, got {limit}")
        if not window > 0:
            raise ValueError(f"window must be a positive number of seconds, got {window}")
        if not 1 <= min_limit <= limit:
            raise ValueError(f"min_limit must be between 1 and limit ({limit}), got {min_limit}")
        if pacing is not None and not 0 < pacing <= 1:
            raise ValueError(f"pacing must be in (0, 1] or None, got {pacing}")
        self._limit = limit
        self._window = window
        self._clock = clock
        self._sleep = sleep
        self._min_limit = min_limit
        self._ledger = ledger
        self._pacing = pacing
        self._lane = PriorityLane() if lane is None else lane
        #: When a priority request of this process last asked (`PriorityLane`).
        self._priority_asked = -math.inf
        self._effective = float(limit)
        self._grants: deque[float] = deque()
        #: Grant times of the priority lane in the last window (for `PRIORITY_SHARE`).
        self._priority_grants: deque[float] = deque()
        #: The pacing schedule: the time of the next free slot (GCRA).
        self._next_slot = -math.inf
        #: Round trips (grant to answer) of the last `SPREAD_SAMPLES` answers.
        self._trips: deque[float] = deque(maxlen=SPREAD_SAMPLES)
        #: The spread of `_trips` (bounded), once `MIN_SAMPLES` of them are in.
        self._measured = MAX_MARGIN
        #: Requests on a new connection still in flight, and until when the last one answered
        #: keeps the margin at its largest (`Grant.fresh_connection`).
        self._fresh_in_flight = 0
        self._slowest_until = -math.inf
        self._lanes: tuple[deque[_Waiter], deque[_Waiter]] = (deque(), deque())
        self._live = [0, 0]
        self._hold_until = -math.inf
        self._last_decrease = -math.inf
        self._last_feedback: float | None = None
        self._granted_total = 0
        self._throttled_total = 0

    def __repr__(self) -> str:
        return (
            f"WindowLimiter(limit={self._limit}, window={self._window}, "
            f"effective_limit={self._effective:g}, waiting={sum(self._live)})"
        )

    @property
    def limit(self) -> int:
        """The configured grants per window."""
        return self._limit

    @property
    def effective_limit(self) -> float:
        """The current limit: ``limit`` lowered by throttling answers, recovering on success."""
        return self._effective

    @property
    def window(self) -> float:
        """The window length in seconds."""
        return self._window

    @property
    def ledger(self) -> QuotaLedger | None:
        """The cross-process gate, when the budget is shared with other processes."""
        return self._ledger

    @property
    def margin(self) -> float:
        """Seconds the pacing schedule adds to the window: the measured round-trip spread.

        `MAX_MARGIN`, the slowest case, until `MIN_SAMPLES` answers are in, while a request
        on a new connection is in flight, and for a window after its answer.
        """
        if (
            len(self._trips) < MIN_SAMPLES
            or self._fresh_in_flight > 0
            or self._clock() < self._slowest_until
        ):
            return MAX_MARGIN
        return self._measured

    def round_trips(self) -> tuple[float, ...]:
        """The recent round trips (grant to answer, seconds) the margin is measured from."""
        return tuple(self._trips)

    async def acquire(self, *, priority: bool = False) -> Grant:
        """Wait for a slot in the window, then record it as used.

        Call it once before every request sent, retries included, and call `Grant.done` on
        the result when the answer is in (see "Counting where the server counts").

        Args:
            priority: a user-initiated request; it overtakes every queued background request.
        """
        lane = _PRIORITY if priority else _BACKGROUND
        if priority:
            self._priority_asked = self._clock()
        if self._live[_PRIORITY] == 0 and (priority or self._live[_BACKGROUND] == 0):
            now = self._clock()
            if await self._try_grant(now, lane, now) <= 0:
                return Grant(self, now)
            since = now  # one request, one time it asked: the ledgers know it by that
        else:
            since = self._clock()
        waiter = _Waiter(asyncio.get_running_loop(), lane, since)
        self._lanes[lane].append(waiter)
        self._live[lane] += 1
        if self._head() is waiter:
            waiter.poke()
        try:
            await self._wait_turn(waiter)
        finally:
            self._retire(waiter)
        return Grant(self, waiter.granted_at)

    def on_throttled(self, retry_after: float | None = None) -> None:
        """Slow down after a ``Throttling*`` answer.

        Halves the effective limit (floor ``min_limit``), at most once per window, and holds
        every grant until ``retry_after`` seconds from now when the server said how long.

        Args:
            retry_after: seconds to hold all grants (``x-acs-retry-after`` is in milliseconds:
                divide by 1000 before passing it).
        """
        now = self._clock()
        self._throttled_total += 1
        if now >= self._last_decrease + self._window:
            self._effective = max(self._min_limit, self._effective / 2)
            self._last_decrease = now
        self._last_feedback = now
        if retry_after is not None and retry_after > 0:
            self._hold_until = max(self._hold_until, now + retry_after)
        if self._ledger is not None:
            self._ledger.report_throttled(now, self._effective, retry_after)

    def on_success(self) -> None:
        """Recover gradually after an accepted answer (additive increase up to ``limit``)."""
        now = self._clock()
        last, self._last_feedback = self._last_feedback, now
        if last is None or self._effective >= self._limit:
            return
        before = self._capacity()
        elapsed = min(max(now - last, 0.0), self._window)
        self._effective = min(
            float(self._limit), self._effective + self.RECOVERY_PER_SECOND * elapsed
        )
        if self._capacity() > before:
            self._poke_head()

    def stats(self) -> QuotaStats:
        """A snapshot of limits, use, counters and sharing for the status line."""
        self._prune(self._clock())
        ledger = self._ledger
        return QuotaStats(
            limit=self._limit,
            effective_limit=self._effective,
            used_last_second=len(self._grants),
            waiting=sum(self._live),
            granted_total=self._granted_total,
            throttled_total=self._throttled_total,
            shared="" if ledger is None else ledger.where,
            shared_degraded="" if ledger is None else ledger.degraded,
        )

    def _lower_limit(self, limit: int) -> None:
        """Apply a stricter limit asked for by another user of the same account."""
        if 1 <= limit < self._limit:
            self._limit = limit
            self._effective = min(self._effective, float(limit))
            self._min_limit = min(self._min_limit, float(limit))

    async def _wait_turn(self, waiter: _Waiter) -> None:
        """Sleep until ``waiter`` is the head and a slot is free, then record the grant."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                await waiter.wake
                waiter.wake = loop.create_future()
                waiter.cancel_timer()
                head = self._head()
                if head is not waiter:
                    # Overtaken by a priority request, or the priority share freed up: the
                    # head (woken here, in case time alone made it the head) wakes us later.
                    if head is not None:
                        head.poke()
                    continue
                now = self._clock()
                delay = await self._try_grant(now, waiter.lane, waiter.since)
                if delay <= 0:
                    waiter.granted, waiter.granted_at = True, now
                    return
                timer = asyncio.ensure_future(self._sleep(delay))
                waiter.timer = timer
                timer.add_done_callback(waiter.timer_done)
        finally:
            waiter.cancel_timer()

    def _retire(self, waiter: _Waiter) -> None:
        """Take a granted or cancelled waiter out of its lane and wake whoever's turn it is now.

        Always, not only when the waiter was the head: who the head is also changes with time
        (the priority share frees up as its grants leave the window), so a waiter cancelled
        while it held the turn may no longer count as the head by the time it leaves, and the
        new head, asleep without a timer, would wait forever. A needless wake-up costs one
        re-check.
        """
        waiter.dead = True
        self._live[waiter.lane] -= 1
        self._poke_head()

    def _head(self) -> _Waiter | None:
        """The waiter whose turn it is: the first live priority waiter, else the first live one.

        On the paced schedule a priority lane that has had its share of the window
        (`PRIORITY_SHARE`) lets a waiting background request go first, so that user actions
        never starve the refreshes.
        """
        for lane in self._lanes:
            while lane and lane[0].dead:
                lane.popleft()
        priority, background = self._lanes
        if priority and background and self._priority_share_used():
            return background[0]
        if priority:
            return priority[0]
        return background[0] if background else None

    def _priority_share_used(self) -> bool:
        """Whether priority grants took their share of the last window (paced only)."""
        if self._pacing is None:
            return False
        grants, window, now = self._priority_grants, self._window, self._clock()
        while grants and grants[0] + window <= now:
            grants.popleft()
        return len(grants) >= PRIORITY_SHARE * self._capacity()

    def _poke_head(self) -> None:
        head = self._head()
        if head is not None:
            head.poke()

    def _capacity(self) -> int:
        return max(1, math.floor(self._effective + _EPSILON))

    def _prune(self, now: float) -> None:
        grants, window = self._grants, self._window
        while grants and grants[0] + window <= now:
            grants.popleft()
        priority = self._priority_grants
        while priority and priority[0] + window <= now:
            priority.popleft()

    def _spacing(self) -> float:
        """Seconds between two slots of the pacing schedule."""
        assert self._pacing is not None
        return (self._window + self.margin) / (self._capacity() * self._pacing)

    def _delay(self, now: float, lane: int = _BACKGROUND) -> float:
        """Seconds until a grant of ``lane`` is allowed (<= 0: allowed now)."""
        self._prune(now)
        delay = self._hold_until - now
        capacity = self._capacity()
        room, asked = capacity, self._priority_asked
        if self._pacing is not None:
            # Background leaves the lane's places to priority requests (`PriorityLane`).
            room = self._lane.room(capacity, priority=lane == _PRIORITY, asked_at=asked, now=now)
        # The grant whose expiry brings the window below the room.
        wait = self._lane.wait(self._grants, self._window, capacity, room, asked_at=asked, now=now)
        delay = max(delay, wait)
        if self._pacing is not None:
            lead = BACKGROUND_LEAD
            if lane == _PRIORITY and not self._priority_share_used():
                lead = PRIORITY_LEAD
            spacing = self._spacing()
            delay = max(delay, self._next_slot - lead * spacing - now)
            if lane == _BACKGROUND and len(self._grants) < room:
                # The window's next free place stays free for priority requests while it
                # would free later than `PRIORITY_ROOM` slots (and the second, with the
                # lane's `PriorityLane.second`).
                second = self._lane.second_room(asked, now)
                wait = room_wait(self._grants, self._window, capacity, spacing, now, second=second)
                delay = max(delay, wait)
        if delay > 0:
            delay = max(delay, _MIN_DELAY)
        return delay

    async def _try_grant(self, now: float, lane: int, since: float | None = None) -> float:
        """Record a grant at ``now`` if the local window, the schedule and the ledger allow it.

        The slot is taken here first, before the ledger is asked (which may await the
        network), so that two requests asking meanwhile cannot both count on it; it is given
        back if the ledger says no.

        Returns:
            0 when granted, else the seconds to wait before checking again.
        """
        delay = self._delay(now, lane)
        if delay > 0:
            return delay
        taken = self._grant(now, lane)
        if self._ledger is not None:
            try:
                delay = await self._ledger.reserve(
                    now,
                    self._capacity(),
                    self._window,
                    priority=lane == _PRIORITY,
                    spread=self.margin,
                    since=now if since is None else since,
                )
            except BaseException:
                # Cancelled while the ledger was asked (Redis is a network call): no request
                # goes out, so the slot is not this process's to hold.
                self._give_back(now, lane, taken)
                raise
            if delay > 0:
                self._give_back(now, lane, taken)
                return delay
        return 0.0

    def _attach_ledger(self, ledger: QuotaLedger) -> None:
        """Start sharing the budget with other processes.

        Called by `limiter_for`, under its lock, only while the limiter has no ledger.
        """
        self._ledger = ledger

    def _grant(self, now: float, lane: int) -> tuple[float, float]:
        """Record a grant at ``now``; return the schedule before and after it (`_give_back`)."""
        self._grants.append(now)
        if lane == _PRIORITY:
            self._priority_grants.append(now)
        self._granted_total += 1
        before = self._next_slot
        if self._pacing is not None:
            self._next_slot = max(self._next_slot, now) + self._spacing()
        return before, self._next_slot

    def _give_back(self, now: float, lane: int, taken: tuple[float, float]) -> None:
        """Undo `_grant` after the ledger refused the slot."""
        with contextlib.suppress(ValueError):
            self._grants.remove(now)
        if lane == _PRIORITY:
            with contextlib.suppress(ValueError):
                self._priority_grants.remove(now)
        self._granted_total -= 1
        before, after = taken
        if self._next_slot == after:  # nobody was scheduled after it meanwhile
            self._next_slot = before

    def _fresh_started(self) -> None:
        """A granted request opens a new connection (`Grant.fresh_connection`)."""
        self._fresh_in_flight += 1

    def _complete(self, granted_at: float, *, fresh: bool = False) -> None:
        """Move the entry of a grant made at ``granted_at`` to now, when its answer came.

        The log stays sorted: every entry was appended at the clock reading of its moment. An
        entry that already left the window (an answer slower than a window) is added again
        from now, which only errs on the safe side.
        """
        now = self._clock()
        if fresh:
            self._fresh_in_flight = max(0, self._fresh_in_flight - 1)
            self._slowest_until = max(self._slowest_until, now + self._window)
        if not now > granted_at:
            return
        if not fresh:
            self._measure_trip(now - granted_at)
        with contextlib.suppress(ValueError):
            self._grants.remove(granted_at)
        self._grants.append(now)
        if self._ledger is not None:
            self._ledger.complete(granted_at, now)

    def _measure_trip(self, seconds: float) -> None:
        """Add one round trip; the margin becomes the spread of the recent ones (bounded)."""
        trips = self._trips
        trips.append(seconds)
        if len(trips) < MIN_SAMPLES:
            return  # too few to trust: the slowest case holds (`margin`)
        ordered = sorted(trips)
        last = len(ordered) - 1
        spread = 2.0 * (ordered[round(0.5 * last)] - ordered[round(0.05 * last)])
        self._measured = min(MAX_MARGIN, max(MIN_MARGIN, spread))


_registry: dict[str, WindowLimiter] = {}
_registry_lock = threading.Lock()


def limiter_for(
    account: str,
    limit: int = 20,
    *,
    shared: bool = False,
    ledger: Callable[[], QuotaLedger | None] | None = None,
) -> WindowLimiter:
    """The process-wide limiter of an account, created on first use.

    Every client of the same account (AccessKey id) gets the same limiter, so all views and
    retries share one budget. When two profiles of one account ask for different limits, the
    stricter one wins, since the budget is the account's and not the profile's.

    Args:
        account: the AccessKey id (not a secret; it is used only as a key, never shown).
        limit: grants per second wanted by the caller.
        shared: also share the budget with the other asrtui processes of this account on
            this host (`asrtui.sharedquota`); where that is impossible the limiter works alone.
        ledger: builds the ledger to share the budget through (the composition root's
            choice: the host's, or Redis); called only while the limiter has none yet.
    """
    with _registry_lock:
        limiter = _registry.get(account)
        if limiter is None:
            limiter = _registry[account] = WindowLimiter(limit)
        else:
            limiter._lower_limit(limit)
        if ledger is not None and limiter.ledger is None:
            built = ledger()
            if built is not None:
                limiter._attach_ledger(built)
        if shared and limiter.ledger is None:
            from asrtui.sharedquota import SharedLedger

            host = SharedLedger.for_account(account)
            if host is not None:
                limiter._attach_ledger(host)
        return limiter


def reset_registry() -> None:
    """Forget every account's limiter (for tests)."""
    with _registry_lock:
        _registry.clear()
