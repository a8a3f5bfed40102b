"""The Live API emulator: a backend of tasks and an ASGI app that speaks the wire format.

`build_emulator` wires the parts for ``asrtui --demo`` (in process, through
``httpx.ASGITransport``) and ``asrtui emulator`` (on a socket, see `asrtui.emulator.server`).
The demo AccessKey below is public on purpose: it only ever opens this emulator.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from asrtui.emulator.app import EmulatorApp, EmulatorStats
from asrtui.emulator.backend import EmulatorBackend, InvalidTaskRequest
from asrtui.emulator.faults import ConnectionDropped, FaultPlan
from asrtui.emulator.identity import IdentityServices

__all__ = [
    "DEMO_ACCESS_KEY_ID",
    "DEMO_ACCESS_KEY_SECRET",
    "ConnectionDropped",
    "EmulatorApp",
    "EmulatorBackend",
    "EmulatorStats",
    "FaultPlan",
    "IdentityServices",
    "InvalidTaskRequest",
    "build_emulator",
]

DEMO_ACCESS_KEY_ID = "asrtui-demo-key"
DEMO_ACCESS_KEY_SECRET = "asrtui-demo-secret-not-real"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def build_emulator(
    *,
    seed: int = 0,
    tasks: int = 8,
    lively: bool = False,
    fault_spec: str = "",
    credentials: Mapping[str, str | tuple[str, str]] | None = None,
    clock: Callable[[], datetime] | None = None,
    monotonic: Callable[[], float] | None = None,
    limit: int = 20,
    jitter: float = 0.0,
    identity: IdentityServices | None = None,
) -> EmulatorApp:
    """Build a ready emulator app.

    Args:
        seed: seeds task ids and fields and the fault draws.
        tasks: running tasks at start.
        lively: whether tasks start and end over time.
        fault_spec: a ``--fault`` spec such as ``"5xx=0.1,latency=0.5"``; empty for none.
        credentials: key id → secret or (secret, STS token); the demo key when ``None``.
        clock: the wall clock (real UTC time when ``None``).
        monotonic: the flow-control clock (``time.monotonic`` when ``None``).
        limit: accepted requests per AccessKey in any 1-second window.
        jitter: the most seconds of random one-way delay before a request is counted.
        identity: STS, ECS metadata and credentials URI services to serve beside the Live
            API (`asrtui.emulator.identity`); ``None`` for the Live API only.

    Raises:
        ValueError: a bad ``fault_spec`` (the message says which part), or bad numbers.
    """
    wall = clock or _utc_now
    backend = EmulatorBackend(seed=seed, tasks=tasks, clock=wall, lively=lively)
    return EmulatorApp(
        backend,
        credentials=credentials or {DEMO_ACCESS_KEY_ID: DEMO_ACCESS_KEY_SECRET},
        faults=FaultPlan.parse(fault_spec, seed=seed),
        clock=wall,
        monotonic=monotonic or time.monotonic,
        limit=limit,
        jitter=jitter,
        jitter_rng=random.Random(seed),
        identity=identity,
    )
