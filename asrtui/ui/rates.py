"""Counts over a trailing window: the status line's errors and throttles in the last 5 minutes.

The client counts failed calls and throttling answers since start; a lifetime total never goes
down, so an hour after a burst of errors the status line still showed it, and the operator
could not tell a past incident from a current one. `Window` keeps the running total at each
sample and answers how much it grew over the last ``span`` seconds.
"""

from __future__ import annotations

from collections import deque

__all__ = ["ERROR_WINDOW", "Window"]

#: Seconds the status line's error and throttle counts cover.
ERROR_WINDOW = 300.0


class Window:
    """How much a running total grew over the last ``span`` seconds (monotonic clock)."""

    def __init__(self, span: float = ERROR_WINDOW) -> None:
        self.span = span
        self._samples: deque[tuple[float, int]] = deque()

    def increase(self, now: float, total: int) -> int:
        """Record ``total`` at ``now``; return its growth since ``span`` seconds ago.

        While the window is younger than ``span`` the growth is the total itself (it counts
        from zero). A total that went down (a new client) starts afresh.
        """
        samples = self._samples
        if samples and total < samples[-1][1]:
            samples.clear()
        if not samples:
            # Totals count from the client's start, which is about the owner's start.
            samples.append((now, 0))
        samples.append((now, total))
        # Keep one sample at or before the window's start: the baseline.
        while len(samples) > 1 and samples[1][0] <= now - self.span:
            samples.popleft()
        return total - samples[0][1]
