"""An asyncio event loop on virtual time, and the check every limiter test makes of its grants.

`VirtualLoop`'s clock is virtual: whenever every task is blocked, it jumps straight to the next
timer instead of waiting for it. A limiter under test gets the loop's clock and
`asyncio.sleep`, so its tasks interleave exactly as they would in production (including
asyncio's habit of firing a timer up to its clock resolution early), only instantly.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, TypeVar

T = TypeVar("T")


class _TimeTravelSelector(selectors.BaseSelector):
    """A selector with no I/O: a wait for ``timeout`` seconds moves the virtual clock instead."""

    def __init__(self, advance: Callable[[float], None]) -> None:
        self._advance = advance
        self._keys: dict[Any, selectors.SelectorKey] = {}

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
        key = selectors.SelectorKey(fileobj, fd, events, data)
        self._keys[fileobj] = key
        return key

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._keys.pop(fileobj)

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is None:
            raise RuntimeError("deadlock: every task is blocked and no timer is pending")
        if timeout > 0:
            self._advance(timeout)
        return []

    def get_map(self) -> Mapping[Any, selectors.SelectorKey]:
        return self._keys


class VirtualLoop(asyncio.SelectorEventLoop):
    """An event loop on virtual time: idle waits take no real time at all."""

    def __init__(self) -> None:
        self._virtual_now = 0.0
        super().__init__(_TimeTravelSelector(self._travel))

    def time(self) -> float:
        return self._virtual_now

    def _travel(self, seconds: float) -> None:
        self._virtual_now += seconds


def run_virtual(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run ``main()`` to completion on a fresh `VirtualLoop` starting at time 0."""
    loop = VirtualLoop()
    try:
        return loop.run_until_complete(main())
    finally:
        loop.close()


def max_in_any_window(times: list[float], window: float) -> int:
    """The most grants in any half-open window ``[a, a + window)``.

    The busiest window can always be taken to end just after a grant ``t``; it then holds the
    grants ``g <= t`` with ``g + window > t`` (the limiter's own comparison, so float rounding
    cannot make the two disagree). Two pointers keep this linear.
    """
    ordered = sorted(times)
    best = 0
    start = 0
    for end, t in enumerate(ordered):
        while ordered[start] + window <= t:
            start += 1
        best = max(best, end - start + 1)
    return best
