"""When the task list is refreshed next: interval, pause, coalescing and staleness.

Pure bookkeeping over monotonic seconds handed in by the caller, so the cadence can be tested
without a running app. The screen asks `RefreshSchedule.due` from its one refresh trigger (a
timer re-armed when a run ends) and starts a refresh worker; because the next due time is
computed only when a run *completes*, two refreshes never overlap and a slow answer pushes the
next one back (dolphie's WorkerManager re-arms its timer the same way).

While refreshes fail the cadence does not stretch: the next attempt still comes one interval after
the last one ended, so the console is current again within one interval of a fault ending. The
backing off happens below, where it protects the quota: each attempt is the client's retries with
jittered exponential backoff (honouring ``x-acs-retry-after``), and throttling answers slow the
shared limiter for every view and process. One failed refresh every few seconds is a negligible
share of the 20 calls per second, and a console that came back a minute late would lie about
freshness during the part of a broadcast that matters most.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from asrtui.ui.settings import MAX_INTERVAL, MIN_INTERVAL, clamp_interval

#: The refresh intervals ``+`` and ``-`` step through, in seconds.
INTERVAL_STEPS = (1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 300)

#: Timers may fire a hair early; a refresh this close to its due time counts as due.
_EARLY = 0.05


@dataclass(frozen=True)
class RefreshOutcome:
    """What changed with one completed run, so the screen can tell the operator.

    Attributes:
        recovered: the run succeeded after one or more failures.
        failed_first: the run is the first failure after a success (or after start).
    """

    recovered: bool = False
    failed_first: bool = False


class RefreshSchedule:
    """The refresh timetable of one console.

    Args:
        interval: seconds between two refreshes while calls succeed.
        now: the monotonic time at start; the first refresh is due at once.
    """

    def __init__(self, interval: float, now: float) -> None:
        self.interval = interval
        self.paused = False
        self.running = False
        #: A refresh was asked for (``r``) while one was running: run again right after it.
        self.pending_manual = False
        self.failures = 0
        self.error = ""
        self.last_success: float | None = None
        self.last_latency: float | None = None
        self.next_due: float = now

    @property
    def stale(self) -> bool:
        """Whether the data on screen is older than the last attempt (the last one failed)."""
        return self.failures > 0

    def due(self, now: float) -> bool:
        """Whether a refresh should start now (never while one runs, or while paused)."""
        if self.running:
            return False
        if self.pending_manual:
            return True
        return not self.paused and now >= self.next_due - _EARLY

    def seconds_until_due(self, now: float) -> float:
        """Seconds until the next automatic refresh (0 when due or running)."""
        return max(0.0, self.next_due - now)

    def request_manual(self) -> bool:
        """Ask for a refresh now; returns whether it can start at once.

        While a run is in flight the request is coalesced into one more run right after it.
        """
        self.pending_manual = True
        return not self.running

    def start(self) -> bool:
        """Mark a run as started; returns whether it is a manual (priority) one."""
        self.running = True
        manual = self.pending_manual
        self.pending_manual = False
        return manual

    def succeed(self, now: float, latency: float) -> RefreshOutcome:
        """Record a good answer received at ``now`` after ``latency`` seconds."""
        recovered = self.failures > 0
        self.running = False
        self.failures = 0
        self.error = ""
        self.last_success = now
        self.last_latency = latency
        self.next_due = now + self.interval
        return RefreshOutcome(recovered=recovered)

    def fail(self, now: float, error: str) -> RefreshOutcome:
        """Record a failed attempt ending at ``now``; the next one comes an interval later."""
        first = self.failures == 0
        self.running = False
        self.failures += 1
        self.error = error
        # Failing or not, the next attempt comes one interval later (see the module docstring).
        self.next_due = now + self.interval
        return RefreshOutcome(failed_first=first)

    def abandon(self, now: float) -> None:
        """Forget a run that was cancelled (the screen went away); the next keeps its cadence."""
        self.running = False
        self.next_due = now + self.interval

    def set_interval(self, seconds: float, now: float) -> float:
        """Change the interval (clamped to 1..300 s) and move the next due time to match."""
        old_interval = self.interval
        self.interval = clamp_interval(seconds)
        if not self.running:
            self.next_due = max(now, self.next_due - old_interval + self.interval)
        return self.interval

    def toggle_pause(self) -> bool:
        """Pause or resume; on resume a refresh already due starts at once."""
        self.paused = not self.paused
        return self.paused

    def data_age(self, now: float) -> float | None:
        """Seconds since the last good answer, ``None`` before the first one."""
        return None if self.last_success is None else max(0.0, now - self.last_success)


def step_interval(current: float, direction: int) -> float:
    """The next interval on the `INTERVAL_STEPS` ladder up (``+1``) or down (``-1``)."""
    if direction > 0:
        index = bisect.bisect_right(INTERVAL_STEPS, current)
        return float(INTERVAL_STEPS[index]) if index < len(INTERVAL_STEPS) else MAX_INTERVAL
    index = bisect.bisect_left(INTERVAL_STEPS, current) - 1
    return float(INTERVAL_STEPS[index]) if index >= 0 else MIN_INTERVAL
