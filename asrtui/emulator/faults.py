"""Fault injection for the emulator: which bad answers to give, how often, parsed from a spec.

A `FaultPlan` is built from the CLI's ``--fault SPEC`` string, e.g.
``"latency=1.5,5xx=0.1,throttle=0.2,drop=0.05,retry_after=500"``, and can be changed while the
emulator runs (`FaultPlan.set`, `FaultPlan.clear`) so tests and the demo switch faults on and
off. Draws come from a seeded RNG, so a run is reproducible from its seed.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping

import httpx

__all__ = [
    "FAULT_KINDS",
    "THROTTLE_BURST",
    "ConnectionDropped",
    "FaultPlan",
]

#: Kinds that take a share of requests (0..1), in the order draws are made.
FAULT_KINDS: tuple[str, ...] = (
    "500",
    "503",
    "throttle",
    "malformed",
    "truncated",
    "html",
    "wrongtypes",
    "big",
    "drop",
)

#: Spec spellings accepted for a kind.
_ALIASES: Mapping[str, str] = {"5xx": "500"}

#: How many consecutive answers one drawn throttle fault turns into ``Throttling.User``.
THROTTLE_BURST = 3


class ConnectionDropped(httpx.RemoteProtocolError):
    """Raised by the emulator app to close the connection without (completing) an answer.

    In process, `httpx.ASGITransport` re-raises it, so a client sees the same
    ``httpx.RemoteProtocolError`` a real dropped connection gives; on a socket, the server
    wrapper in `asrtui.emulator.server` closes the transport when it sees it.
    """


class FaultPlan:
    """Shares of requests that get each fault, plus latency and a throttling retry hint.

    Args:
        shares: kind (see `FAULT_KINDS`, ``5xx`` accepted for ``500``) → share 0..1.
        latency: seconds added to every answer.
        retry_after_ms: value of ``x-acs-retry-after`` on throttling answers, if any.
        seed: seeds the RNG that decides which request gets which fault.

    Raises:
        ValueError: an unknown kind, a share outside 0..1, shares summing above 1, or a
            negative latency or retry hint.
    """

    def __init__(
        self,
        shares: Mapping[str, float] | None = None,
        *,
        latency: float = 0.0,
        retry_after_ms: int | None = None,
        seed: int = 0,
    ) -> None:
        self._rng = random.Random(seed)
        self._shares: dict[str, float] = {}
        self._latency = 0.0
        self._retry_after_ms: int | None = None
        self._burst_left = 0
        for kind, share in (shares or {}).items():
            self.set(kind, share)
        self.set("latency", latency)
        if retry_after_ms is not None:
            self.set("retry_after", retry_after_ms)

    @classmethod
    def parse(cls, spec: str, *, seed: int = 0) -> FaultPlan:
        """Build a plan from ``kind=value`` pairs separated by commas (empty spec: no faults).

        Raises:
            ValueError: with a message naming the offending pair and the known kinds.
        """
        plan = cls(seed=seed)
        seen: set[str] = set()
        for raw in spec.split(","):
            item = raw.strip()
            if not item:
                continue
            name, sep, value = item.partition("=")
            name = name.strip().lower()
            if not sep or not value.strip():
                raise ValueError(f"fault {item!r} needs a value, like {name or 'drop'}=0.1")
            kind = _ALIASES.get(name, name)
            if kind in seen:
                raise ValueError(f"fault {name!r} is given more than once in {spec!r}")
            seen.add(kind)
            plan.set(kind, _number(name, value.strip()))
        return plan

    @property
    def latency(self) -> float:
        """Seconds to wait before every answer."""
        return self._latency

    @property
    def retry_after_ms(self) -> int | None:
        """Milliseconds to send as ``x-acs-retry-after`` on throttling answers, if set."""
        return self._retry_after_ms

    @property
    def shares(self) -> Mapping[str, float]:
        """The non-zero shares by kind (a copy)."""
        return {kind: share for kind, share in self._shares.items() if share}

    def set(self, kind: str, value: float) -> None:
        """Set one kind's share, or ``latency`` (s) or ``retry_after`` (ms), at run time.

        Raises:
            ValueError: unknown kind, value out of range, or shares that would sum above 1.
        """
        name = _ALIASES.get(kind.lower(), kind.lower())
        if name == "latency":
            if not value >= 0:
                raise ValueError(f"latency must be zero or more seconds, not {value!r}")
            self._latency = float(value)
            return
        if name == "retry_after":
            if not value >= 0 or int(value) != value:
                raise ValueError(f"retry_after must be whole milliseconds >= 0, not {value!r}")
            self._retry_after_ms = int(value)
            return
        if name not in FAULT_KINDS:
            known = ", ".join([*FAULT_KINDS, "5xx", "latency", "retry_after"])
            raise ValueError(f"unknown fault kind {kind!r}; known kinds: {known}")
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"fault share {kind}={value!r} must be between 0 and 1")
        total = sum(share for other, share in self._shares.items() if other != name) + value
        if total > 1.0 + 1e-9:
            raise ValueError(f"fault shares add up to {total:g}; they must not exceed 1")
        self._shares[name] = float(value)

    def clear(self) -> None:
        """Switch every fault off: no shares, no latency, no retry hint, no burst in progress."""
        self._shares.clear()
        self._latency = 0.0
        self._retry_after_ms = None
        self._burst_left = 0

    def draw(self) -> str | None:
        """Decide the fault for the next request: a kind from `FAULT_KINDS`, or ``None``.

        A drawn ``throttle`` also throttles the next ``THROTTLE_BURST - 1`` requests, as a
        burst of flow control does.
        """
        if self._burst_left > 0:
            self._burst_left -= 1
            return "throttle"
        if not any(self._shares.values()):
            return None
        point = self._rng.random()
        edge = 0.0
        for kind in FAULT_KINDS:
            edge += self._shares.get(kind, 0.0)
            if point < edge:
                if kind == "throttle":
                    self._burst_left = THROTTLE_BURST - 1
                return kind
        return None

    def variant(self, count: int) -> int:
        """A seeded choice among ``count`` variants of a fault (e.g. which wrong type to send)."""
        return self._rng.randrange(count)

    def __repr__(self) -> str:
        return (
            f"FaultPlan(shares={self.shares!r}, latency={self._latency!r}, "
            f"retry_after_ms={self._retry_after_ms!r})"
        )


def _number(name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise ValueError(f"fault {name!r} needs a finite number, not {value!r}")
    return number
