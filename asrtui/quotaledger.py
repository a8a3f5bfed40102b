"""What a process's limiter and the ledgers it shares the budget through agree on.

The `QuotaLedger` protocol (the host's state file, `asrtui.sharedquota.SharedLedger`, and
Redis, `asrtui.redisquota.RedisQuota`) and the pacing schedule's parameters, which are the same
in a process, on its host and across hosts: one pace for all. Its own module so that the
limiter (`asrtui.ratelimit`) depends on the agreement, not on the host ledger's file format.
The schedule is described in `asrtui.sharedquota` ("Why grants are paced").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = [
    "BACKGROUND_LEAD",
    "DEFAULT_PACING",
    "PRIORITY_FIRST_COME",
    "PRIORITY_LANE",
    "PRIORITY_LANE_HOLD",
    "PRIORITY_LEAD",
    "PRIORITY_ROOM",
    "PRIORITY_ROOM_SECOND",
    "PRIORITY_SHARE",
    "PriorityLane",
    "QuotaLedger",
    "room_wait",
]

#: The share of the window's capacity that the pacing schedule hands out (see above).
DEFAULT_PACING = 0.985
#: How many slot spacings before its slot a background request may be granted.
BACKGROUND_LEAD = 0.5
#: How many slot spacings before its slot a priority request may be granted.
PRIORITY_LEAD = 2.5
#: The most of a window's capacity that priority requests get ahead of the schedule: past
#: it they keep their place first in line but wait for their slot like background ones, so
#: that a stream of user actions in many consoles never starves the refreshes.
PRIORITY_SHARE = 0.5
#: Seconds within which two priority requests count as having asked at once. The one that
#: asked first and found the window full gets the next place that frees, in every process: a
#: priority request that asked later leaves it, as a background one does. Measured before
#: this rule, in 3 of 3 explained slow waits of 66-83 ms with 8 processes and 50 ms of
#: jitter, the place a waiting priority request woke up for went to another process's
#: priority request that had asked later, and it waited for the next one.
PRIORITY_FIRST_COME = 0.005
#: How many slot spacings a priority request may have to wait for the window, at most, when
#: it finds it full: a background grant does not take the window's last free place while the
#: next place would free later than that. The window is held full by the schedule most of the
#: time, so a user action mostly waits for the next place to free; where answers came in
#: bunches (jitter, a loaded machine) that wait was a gap of two or three slots. Keeping the
#: last place free across such gaps only (not always) costs a little of the share: the
#: background grant waits within its own lead, or loses a few milliseconds of schedule.
#: The limiter applies it to its own window too (`room_wait`), so that one alone (no ledger:
#: the demo, a host that cannot share) keeps it: ``limiter_bench.py --seconds 8 --compare``,
#: window mode, 97.9 % of 20/s and priority p99 0.2 ms (30 ms before); with a ledger its
#: window is the stricter, and the simulated table did not move.
PRIORITY_ROOM = 1.0
#: The same for the second priority request of a moment, in slot spacings, while an operator
#: is at work (`PriorityLane.second`, `room_wait`; ``inf``: not kept). Why: with 8 processes
#: the slow priority waits were user actions of two to four consoles within one slot: the
#: first took the place `PRIORITY_ROOM` keeps, the next waited for the place after it, up to
#: two spacings (51-52 ms each, so 102-104 ms). Kept within 1.5 spacings, simulated
#: (`benchmarks/quota_sim.py`, 16 runs of 25 s a cell) the pooled priority p99 with 8
#: processes goes from 78/102/85 ms to 69/72/76 ms at 0/20/50 ms of jitter, for 0.3-0.8
#: points of the sustained share; measured on a quiet machine (load under 0.4), every cell of
#: the table passed (share 95.6-96.5 % with no jitter, 92.1-93.1 % at 50 ms; p99 34-95 ms),
#: where the same table without it had two 8-process cells over 100 ms (100.4, 109.6). What
#: it does not remove: three or four user actions within one slot, whose last one waits
#: three slots; simulated, a 25 s cell of 8 processes still has its p99 (the second slowest
#: of ~120) over 100 ms in 0, 2 and 3 runs of 16 at 0, 20 and 50 ms of jitter. 1.75
#: spacings cost less and gained nothing (the schedule's steady state leaves the second place
#: 1.7 spacings off); 1.25, or a third place, cost 1.5-2 points. Loaded-machine tables are in
#: `benchmarks/multiproc_bench.py`.
PRIORITY_ROOM_SECOND = 1.5
#: Places of the window that background grants leave to priority requests while an operator
#: is at the keys (`PriorityLane`). None by default, so that the sustained share keeps its
#: targets: measured with an operator's 5 requests a second over 1-8 processes (the lane is
#: then always or mostly kept), every lane cost more than the 1 point of headroom there is
#: at 95 % with no jitter. One place held 2 s: 2.0-3.0 points, and priority p99 still over
#: 100 ms with 8 processes; held 0.25 s: 1.0-3.2 points, p99 under 100 ms in every cell of
#: one run and 112 ms (8 processes) in the next; two places: p99 under 26 ms everywhere, for
#: 5.9-7.8 points. The tables are in `benchmarks/multiproc_bench.py`.
PRIORITY_LANE = 0
#: Seconds after a priority request last asked during which the lane stays reserved.
PRIORITY_LANE_HOLD = 2.0


@dataclass(frozen=True)
class PriorityLane:
    """The last places of the window, kept for priority requests while they keep asking.

    Why: the schedule keeps the window full (that is the sustained share), and answers that
    came in bunches free the next place 95-120 ms apart, so a user action finding the window
    full waited for it: priority p99 went over 100 ms in a cell of the benchmark's table per
    run. With the lane a background grant may not take the last ``places`` places of the
    window, a priority one may; so a user action mostly finds a place free. The lane is given
    back to background ``hold`` seconds after a priority request last asked: a console with
    nobody at the keys costs nothing, an operator at work costs part of the sustained share
    (measured, `PRIORITY_LANE`: which is why it is off by default). Background keeps at
    least one place whatever the lane, and priority requests still take at most
    `PRIORITY_SHARE` of the window ahead of the schedule, so refreshes are never starved.

    The limiter (`asrtui.ratelimit`), the host ledger (`asrtui.sharedquota`) and the Redis
    script (`asrtui.redisquota`, which repeats this rule in Lua) apply the same rule, each to
    its own window, with its own record of when a priority request last asked.

    Attributes:
        places: places kept (0: no lane).
        hold: seconds the lane stays after the last priority request asked.
        second: while it stays, the window's second free place comes within this many
            slot spacings (`room_wait`; ``inf``, the default: no such rule).
    """

    places: int = PRIORITY_LANE
    hold: float = PRIORITY_LANE_HOLD
    second: float = PRIORITY_ROOM_SECOND

    def __post_init__(self) -> None:
        if self.places < 0:
            raise ValueError(f"lane places must be >= 0, got {self.places}")
        if not self.hold >= 0:
            raise ValueError(f"lane hold must be a number of seconds >= 0, got {self.hold}")
        if not self.second > 0:
            raise ValueError(f"lane second room must be a number of slots > 0, got {self.second}")

    def room(self, capacity: int, *, priority: bool, asked_at: float, now: float) -> int:
        """The most grants the window may hold for this request to be granted.

        Args:
            capacity: the window's capacity.
            priority: whether the request is a priority one (the lane is its own).
            asked_at: when a priority request last asked (``-inf``: never), on ``now``'s clock.
            now: the clock reading of the decision.
        """
        if priority or not self.active(asked_at, now):
            return capacity
        return max(1, capacity - self.places)

    def active(self, asked_at: float, now: float) -> bool:
        """Whether the lane is kept at ``now``: a priority request asked within ``hold``."""
        return self.places > 0 and now < asked_at + self.hold

    def second_room(self, asked_at: float, now: float) -> float:
        """The room of the window's second place at ``now`` (`room_wait`), in spacings.

        ``second`` while an operator is at work (a priority request asked within ``hold``,
        whatever the places), else ``inf``: a console with nobody at the keys pays nothing.
        """
        return self.second if now < asked_at + self.hold else math.inf

    def wait(
        self,
        grants: Sequence[float],
        horizon: float,
        capacity: int,
        room: int,
        *,
        asked_at: float,
        now: float,
    ) -> float:
        """Seconds until a request held to ``room`` of ``capacity`` places may go (<= 0: now).

        ``grants`` are the window's entries, sorted; each leaves it ``horizon`` after its time.
        While the lane holds the request back, the wait also ends when the lane is given
        back (if the window has a place then), so that a background request does not sleep
        through that moment; it checks again when it wakes.
        """
        used = len(grants)
        if used < room:
            return -math.inf
        wait = grants[used - room] + horizon - now
        if room < capacity and self.active(asked_at, now):
            full = grants[used - capacity] + horizon - now if used >= capacity else -math.inf
            wait = min(wait, max(asked_at + self.hold - now, full))
        return wait


def room_wait(
    grants: Sequence[float],
    horizon: float,
    capacity: int,
    spacing: float,
    now: float,
    *,
    second: float = math.inf,
) -> float:
    """Seconds a background grant at ``now`` waits so that priority requests find room.

    After the grant the window would hold ``len(grants) + 1`` entries; its next free place
    (a place free now, else the next entry to leave) must come within `PRIORITY_ROOM`
    spacings of ``now``, and its second within ``second`` spacings (``inf``: any time;
    `PriorityLane.second_room` says how many, while an operator is at work), so that one
    user action, and a second one of the same moment in another console, find a place soon.
    The limiter (`asrtui.ratelimit`) and the host ledger (`asrtui.sharedquota`) call this;
    the Redis script (`asrtui.redisquota`) repeats it in Lua. Call it only for a grant the
    window itself allows (fewer than ``capacity`` entries).

    Args:
        grants: the window's entries, sorted; each leaves it ``horizon`` after its time.
        horizon: how long an entry stays in the window.
        capacity: the window's capacity.
        spacing: the pacing schedule's spacing.
        now: the clock reading of the decision.
        second: the room of the window's second place, in spacings.

    Returns:
        The wait (<= 0 or ``-inf``: none).
    """
    used = len(grants)
    free = capacity - (used + 1)
    wait = -math.inf
    rooms = (PRIORITY_ROOM, second) if second < math.inf else (PRIORITY_ROOM,)
    for place, room in enumerate(rooms, start=1):
        if place <= free:
            continue  # that place is free now
        index = place - free - 1
        if index >= used:
            break  # the place would free only when this grant leaves
        wait = max(wait, grants[index] + horizon - room * spacing - now)
    return wait


@runtime_checkable
class QuotaLedger(Protocol):
    """The gate an account's `asrtui.ratelimit.WindowLimiter` asks before each grant.

    Two implement it: `SharedLedger` (the processes of one host, a locked file) and
    `asrtui.redisquota.RedisQuota` (every host, through Redis). Both keep the same promises:
    at most ``capacity`` grants in any ``window``, paced, priority first, throttling shared,
    and a grant counted from its answer once `complete` is called.
    """

    @property
    def where(self) -> str:
        """Where the budget is shared right now: ``host`` or ``redis`` (for the status line)."""
        ...

    @property
    def degraded(self) -> str:
        """Why sharing is less than configured (``redis unreachable``), or empty."""
        ...

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
        """Record a grant if the shared window allows it: 0, else the seconds to wait.

        ``spread`` (seconds, the caller's measured round-trip spread) widens the pacing
        schedule, not the window: the window counts answered grants from their answers.
        ``since`` (the caller's clock) is when the request first asked: a priority request
        that the window refused keeps the next place that frees against priority requests
        that asked after it, in any process (`PRIORITY_FIRST_COME`).
        """
        ...

    def complete(self, granted_at: float, now: float) -> None:
        """Count the grant made at ``granted_at`` from ``now``, when its answer arrived."""
        ...

    def report_throttled(
        self, now: float, effective_limit: float, retry_after: float | None = None
    ) -> None:
        """Share a ``Throttling*`` answer so that every other user slows down too."""
        ...
