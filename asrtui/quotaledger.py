"""What a process's limiter and the ledgers it shares the budget through agree on.

The `QuotaLedger` protocol (the host's state file, `asrtui.sharedquota.SharedLedger`, and
Redis, `asrtui.redisquota.RedisQuota`) and the pacing schedule's parameters, which are the same
in a process, on its host and across hosts: one pace for all. Its own module so that the
limiter (`asrtui.ratelimit`) depends on the agreement, not on the host ledger's file format.
The schedule is described in `asrtui.sharedquota` ("Why grants are paced").
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = [
    "BACKGROUND_LEAD",
    "DEFAULT_PACING",
    "PRIORITY_FIRST_COME",
    "PRIORITY_LEAD",
    "PRIORITY_ROOM",
    "PRIORITY_SHARE",
    "QuotaLedger",
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
PRIORITY_ROOM = 1.0


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
