"""The tests' one fake clock: wall and monotonic time that move only when a test says so.

Every clock the product takes is injected, so one object serves them all: `FakeClock.now` (or
the clock itself, called) for the wall clock, `FakeClock.monotonic` for the monotonic one,
`FakeClock.sleep` for a sleep that moves both instead of waiting (the limiter's and the
emulator's), `FakeClock.retry_sleep` for the client's backoff (recorded in
`FakeClock.retry_sleeps`).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

__all__ = ["T0", "FakeClock"]

#: Where a `FakeClock`'s wall time starts unless told otherwise.
T0 = datetime(2024, 5, 14, 4, 0, 0, tzinfo=UTC)


class FakeClock:
    """A wall clock and a monotonic clock that advance together, only when a test says so.

    Args:
        start: the aware UTC wall time at start.
        mono: the monotonic seconds at start.
    """

    def __init__(self, start: datetime = T0, *, mono: float = 1000.0) -> None:
        self.wall = start
        self.mono = mono
        self.retry_sleeps: list[float] = []
        """Every backoff asked of `retry_sleep`, in seconds."""

    def now(self) -> datetime:
        """The current aware UTC time."""
        return self.wall

    def __call__(self) -> datetime:
        """The current aware UTC time (the clock passed as a callable)."""
        return self.wall

    def monotonic(self) -> float:
        """The current monotonic seconds."""
        return self.mono

    def advance(self, seconds: float = 0.0, **delta: float) -> datetime:
        """Move both clocks forward by ``seconds`` (and a `timedelta`'s ``delta``)."""
        step = timedelta(seconds=seconds, **delta)
        self.wall += step
        self.mono += step.total_seconds()
        return self.wall

    async def sleep(self, seconds: float) -> None:
        """A sleep that moves the clocks instead of waiting (and lets other tasks run)."""
        self.advance(max(seconds, 0.0))
        await asyncio.sleep(0)

    async def retry_sleep(self, seconds: float) -> None:
        """The client's backoff: recorded, then slept as `sleep` does."""
        self.retry_sleeps.append(seconds)
        await self.sleep(seconds)
