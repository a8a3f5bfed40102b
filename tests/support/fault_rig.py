"""The fault matrix's rig: faults, tasks, virtual time and the wiring of client and emulator.

Shared by the fault matrix in process (`tests/test_fault_matrix.py`), on a socket
(`tests/test_fault_matrix_socket.py`) and the clock-skew tests; see the first for how time
is kept (one `tests.support.clock.FakeClock` for the limiter, the backoff and the emulator).
"""

from __future__ import annotations

import asyncio
import builtins
import functools
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import httpx

from asrtui.client import LiveClient
from asrtui.emulator import (
    DEMO_ACCESS_KEY_ID,
    DEMO_ACCESS_KEY_SECRET,
    EmulatorApp,
    EmulatorBackend,
    FaultPlan,
)
from asrtui.ratelimit import WindowLimiter
from tests.support.clock import FakeClock

ENDPOINT = "http://emulator.test"
#: Tasks the emulator starts with.
TASKS = 6
#: The console's refresh interval in these tests (the shortest the console allows).
INTERVAL = 1.0
#: The console's default refresh interval.
DEFAULT_INTERVAL = 5.0
#: The client's read timeout: short, because the ``latency`` fault really waits for it.
READ_TIMEOUT = 0.3
#: The ``latency`` fault's delay: far beyond the read timeout (the wait is cut short there).
LATENCY = 30.0
#: The seconds of ``x-acs-retry-after`` the ``retry_after`` fault asks for.
RETRY_AFTER = 2.5


# -- the rig ------------------------------------------------------------------------------------


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class Wire(httpx.AsyncBaseTransport):
    """The emulator in process, or a refused connection, as the client's transport.

    ``httpx.ASGITransport`` ignores timeouts; this enforces the request's read timeout on the
    whole exchange and raises ``httpx.ReadTimeout`` as httpcore does on a socket. With
    ``refuse`` set, requests go to a closed loopback port instead, for a real refusal.
    """

    def __init__(self, app: EmulatorApp) -> None:
        self.app = app
        self.refuse = False
        self.requests = 0
        self._asgi = httpx.ASGITransport(app=app)
        self._socket = httpx.AsyncHTTPTransport()
        self._port = closed_port()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.refuse:
            request.url = request.url.copy_with(host="127.0.0.1", port=self._port)
            return await self._socket.handle_async_request(request)
        timeouts = cast(Mapping[str, float | None], request.extensions.get("timeout") or {})
        try:
            async with asyncio.timeout(timeouts.get("read")):
                return await self._asgi.handle_async_request(request)
        except builtins.TimeoutError:
            raise httpx.ReadTimeout("timed out", request=request) from None

    async def aclose(self) -> None:
        await self._socket.aclose()
        await self._asgi.aclose()


class FixedVariant(FaultPlan):
    """A fault plan whose ``wrongtypes`` answer is always the same variant."""

    def __init__(self, variant: int) -> None:
        super().__init__()
        self.fixed = variant

    def variant(self, count: int) -> int:
        return self.fixed % count


def utc_now() -> datetime:
    return datetime.now(UTC)


def build_emulator(vt: FakeClock, clock: Callable[[], datetime] = utc_now) -> EmulatorApp:
    """The emulator with a seeded backend and flow control on the virtual clock."""
    return EmulatorApp(
        EmulatorBackend(seed=5, tasks=TASKS, clock=clock),
        credentials={DEMO_ACCESS_KEY_ID: DEMO_ACCESS_KEY_SECRET},
        clock=clock,
        monotonic=vt.monotonic,
    )


def client_factory(wire: Wire, vt: FakeClock, **overrides: Any) -> Callable[..., LiveClient]:
    """`LiveClient` with the rig's transport, limiter and virtual backoff, as a factory."""
    limiter = WindowLimiter(20, clock=vt.monotonic, sleep=vt.sleep)
    defaults: dict[str, Any] = {
        "transport": wire,
        "limiter": limiter,
        "sleep": vt.retry_sleep,
        "rng": lambda: 0.5,
        "monotonic": vt.monotonic,
        "timeout": httpx.Timeout(READ_TIMEOUT, connect=10.0),  # connecting is not under test
    }
    return functools.partial(LiveClient, **(defaults | overrides))


# -- the faults ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """One row of the matrix: how to cause it and what the operator must be told.

    Attributes:
        name: the test id.
        shares: fault kinds switched on (share of requests, 1.0 for all).
        latency: seconds the emulator waits before answering.
        retry_after_ms: ``x-acs-retry-after`` on throttling answers.
        variant: which ``wrongtypes`` answer to give.
        refuse: connect to a closed port instead of the emulator.
        client: `LiveClient` arguments this row needs (a lower body cap, a longer timeout).
        says: what the one-line error must contain: the code or kind, then part of the hint.
    """

    name: str
    shares: Mapping[str, float] = field(default_factory=dict)
    latency: float = 0.0
    retry_after_ms: int | None = None
    variant: int | None = None
    refuse: bool = False
    client: Mapping[str, Any] = field(default_factory=dict)
    says: tuple[str, ...] = ()

    def switch_on(self, wire: Wire) -> None:
        if self.variant is not None:
            wire.app.faults = FixedVariant(self.variant)
        plan = wire.app.faults
        for kind, share in self.shares.items():
            plan.set(kind, share)
        plan.set("latency", self.latency)
        if self.retry_after_ms is not None:
            plan.set("retry_after", self.retry_after_ms)
        wire.refuse = self.refuse

    def switch_off(self, wire: Wire) -> None:
        wire.app.faults.clear()
        wire.refuse = False


MALFORMED_HINT = "not the Live API's wire format"
DROPPED_HINT = "the connection was dropped or reset"

#: Faults that fail every request while they last.
PERSISTENT = [
    Fault(
        "latency",
        latency=LATENCY,
        says=("Timed out waiting for", "(ReadTimeout)", "the service may be slow"),
    ),
    Fault("500", {"500": 1.0}, says=("(InternalError)", "failed on its side; retry shortly")),
    Fault("503", {"503": 1.0}, says=("(ServiceUnavailable)", "unavailable; retry shortly")),
    Fault(
        "throttle",
        {"throttle": 1.0},
        says=("(Throttling.User)", "exceeded 20 calls/s", "asrtui slows down"),
    ),
    Fault(
        "retry_after",
        {"throttle": 1.0},
        retry_after_ms=int(RETRY_AFTER * 1000),
        says=("(Throttling.User)", "asrtui slows down"),
    ),
    Fault("refused", refuse=True, says=("Cannot connect to", "check the network")),
    Fault(
        "drop",
        {"drop": 1.0},
        says=("Server disconnected without sending a response", DROPPED_HINT),
    ),
    Fault(
        "truncated",
        {"truncated": 1.0},
        says=("without sending complete message body", DROPPED_HINT),
    ),
    Fault(
        "html",
        {"html": 1.0},
        says=("(HTTP502)", "an HTML page titled '502 Bad Gateway'", "failed on its side"),
    ),
    Fault("malformed", {"malformed": 1.0}, says=("truncated JSON", MALFORMED_HINT)),
    Fault(
        "wrongtypes-number",
        {"wrongtypes": 1.0},
        variant=0,
        says=("Tasks is a JSON number (7)", MALFORMED_HINT),
    ),
    Fault(
        "wrongtypes-list",
        {"wrongtypes": 1.0},
        variant=1,
        says=("Task entry #0 is a JSON number", MALFORMED_HINT),
    ),
    Fault(
        "wrongtypes-strings",
        {"wrongtypes": 1.0},
        variant=2,
        says=("Tasks is a string", MALFORMED_HINT),
    ),
    Fault(
        "big-over-the-cap",
        {"big": 1.0},
        client={"max_body_bytes": 1024 * 1024},
        says=("above the limit of 1.0 MiB", "raise the limit: --max-answer-mb"),
    ),
]

#: A 10 MB answer under the client's default cap is read, not refused.
BIG_UNDER_THE_CAP = Fault("big", {"big": 1.0}, client={"timeout": 30.0})
#: Valid JSON with odd types inside a task: the tolerant parser keeps the task, shown raw.
ODD_TASK = Fault("wrongtypes-odd-task", {"wrongtypes": 1.0}, variant=3)


def fault_ids(fault: Fault) -> str:
    return fault.name
