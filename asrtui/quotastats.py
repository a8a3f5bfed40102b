"""The one record of how the account's quota fares, from the limiter to the status line.

The limiter fills in what it knows (`asrtui.ratelimit.WindowLimiter.stats`), the client adds
its own (`asrtui.client.LiveClient.quota_stats`: failed calls, the measured clock offset), and
the console shows that very record: no copy of it into another shape on the way, so a field
added here reaches the status line by being filled in, not by being carried through three
records.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["QuotaStats"]


@dataclass(frozen=True)
class QuotaStats:
    """How the shared rate limiter is doing, for the status line.

    Attributes:
        limit: the configured calls per window for the account (20 unless lowered).
        effective_limit: the current limit after slowing down for throttling answers.
        used_last_second: requests granted in the last window (a second).
        waiting: requests queued in the limiter right now.
        granted_total: requests let through since start.
        throttled_total: ``Throttling*`` answers seen since start.
        errors_total: failed calls (after retries) since start.
        clock_offset: local minus server clock in seconds, from the last answer's ``Date``
            header; ``None`` until measured. Signatures are refused beyond 15 minutes of skew.
        shared: where the budget is shared with other users of the account right now:
            ``host`` (this host's processes), ``redis`` (every host), empty for nowhere.
        shared_degraded: why it is shared less widely than configured (``Redis
            unreachable``: the host's ledger stands in), empty when it is not.
    """

    limit: int
    effective_limit: float
    used_last_second: int
    waiting: int = 0
    granted_total: int = 0
    throttled_total: int = 0
    errors_total: int = 0
    clock_offset: float | None = None
    shared: str = ""
    shared_degraded: str = ""
