"""Benchmark: the shared limiter and the real client under saturating demand against the emulator.

Run: ``python benchmarks/limiter_bench.py [--seconds 10] [--workers 50] [--mode MODE]``

Fifty background workers loop ``list_tasks`` as fast as the limiter lets them, while a
user-initiated (priority) ``get_task`` arrives every ~200 ms. Everything runs in one event loop
on the real monotonic clock; the emulator is served in process through ``httpx.ASGITransport``
and counts what it accepts, independently of the client.

Prints, and checks (exit status 1 when a target is missed):

- the most requests the emulator accepted in any 1-second window (must be <= 20);
- the sustained accepted rate after the first second, as a share of 20/s (target >= 95 %
  with no jitter, a point less per millisecond of ``--jitter``, >= 90 % at 50 ms);
- the p99 limiter wait of priority requests (target <= 100 ms);
- throttling answers seen (target 0).

Modes (how the limiter is used; the limiter and the emulator are unchanged):

``product`` (default)
    Exactly what ``asrtui`` and ``asrtui tasks`` use for a real account:
    ``WindowLimiter(limit=20, window=1.0)`` with the account's shared ledger (in a temporary
    directory here), which paces grants on one schedule at 98.5 % of capacity with a 20 ms
    window margin, whether one process or several spend the budget.
``window``
    ``WindowLimiter(limit=20, window=1.0)`` alone, without a ledger: what the demo and a host
    that cannot share (no ``fcntl``, no usable runtime directory) use. It paces itself on the
    same schedule, widened by the round-trip spread it measures.
``paced``
    ``WindowLimiter(limit=1, window=0.05)``: one grant per 50 ms. Grants at least 50 ms apart
    can never put more than 20 in any 1-second window, and a priority request never waits
    more than one 50 ms slot.
``bare``
    ``WindowLimiter(limit=20, window=1.0, pacing=None)``: the sliding window without its
    schedule. Under saturation it keeps the first second's burst shape (20 grants at once,
    then nothing for a second), so a priority request can wait up to a second and a burst at
    the window edge reaches the server inside its window: this mode shows why the limiter
    paces its grants.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _report import (
    LIMIT,
    Result,
    TimedLimiter,
    add_jitter_option,
    measure,
    report,
    saturate,
)

from asrtui.client import LiveClient
from asrtui.credentials import Credentials
from asrtui.emulator import (
    DEMO_ACCESS_KEY_ID,
    DEMO_ACCESS_KEY_SECRET,
    build_emulator,
)
from asrtui.quotaledger import PRIORITY_LANE, PRIORITY_LANE_HOLD, PriorityLane
from asrtui.sharedquota import SharedLedger, ledger_path

PRIORITY_EVERY = 0.200
MODES = ("product", "window", "paced", "bare")


async def run(
    mode: str, seconds: float, workers: int, jitter: float = 0.0, lane: PriorityLane | None = None
) -> Result:
    """Saturate one limiter + client for ``seconds``; return what the emulator saw.

    ``jitter`` is the emulator's largest one-way delay in seconds; ``lane`` the priority lane
    of the paced limiters (``product`` and ``window``) and of the ledger.
    """
    app = build_emulator(seed=1, tasks=8, jitter=jitter)
    if mode == "product":
        ledger_dir = Path(tempfile.mkdtemp(prefix="asrtui-bench-"))
        state = ledger_path(DEMO_ACCESS_KEY_ID, ledger_dir)
        limiter = TimedLimiter(LIMIT, 1.0, ledger=SharedLedger(state, lane=lane), lane=lane)
    elif mode == "paced":
        limiter = TimedLimiter(1, 1.0 / LIMIT, pacing=None)
    elif mode == "bare":
        limiter = TimedLimiter(LIMIT, 1.0, pacing=None)
    else:
        limiter = TimedLimiter(LIMIT, 1.0, lane=lane)
    credentials = Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
    client = LiveClient(
        lambda: credentials,
        "http://emulator.bench.invalid",
        transport=httpx.ASGITransport(app=app),
        limiter=limiter,
    )
    target_id = sorted(app.backend.query(None) or {})[0]
    async with client:
        load = await saturate(
            client, target_id, coroutines=workers, seconds=seconds, priority_every=PRIORITY_EVERY
        )
    return measure(
        f"mode={mode}: {load.ended - load.started:.1f} s,",
        app.stats,
        started=load.started,
        ended=load.ended,
        priority_waits=limiter.priority_waits,
        throttled=app.stats.throttled + client.counters.throttled_total,
        errors=load.errors,
        jitter=jitter,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit status 1 when any target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the run")
    parser.add_argument("--workers", type=int, default=50, help="background workers")
    parser.add_argument(
        "--mode",
        choices=MODES,
        default="product",
        help="how the limiter is used",
    )
    parser.add_argument(
        "--compare", action="store_true", help="also run the other modes, for comparison only"
    )
    parser.add_argument(
        "--lane", type=int, default=PRIORITY_LANE, help="places kept for priority (0: none)"
    )
    parser.add_argument(
        "--lane-hold",
        type=float,
        default=PRIORITY_LANE_HOLD,
        help="seconds after a priority request asked that the lane stays kept",
    )
    add_jitter_option(parser)
    args = parser.parse_args(argv)
    lane = PriorityLane(args.lane, args.lane_hold)
    result = asyncio.run(run(args.mode, args.seconds, args.workers, args.jitter / 1000, lane))
    report(result)
    if args.compare:
        print("(comparison only; does not affect the exit status)")
        for other in MODES:
            if other != args.mode:
                report(
                    asyncio.run(run(other, args.seconds, args.workers, args.jitter / 1000, lane))
                )
    if result.failures:
        print("FAIL: " + "; ".join(result.failures))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
