"""Benchmark: one account's quota shared by several processes, against the emulator on a socket.

Run: ``python benchmarks/multiproc_bench.py [--procs 1 2 3] [--seconds 8] [--unshared]``

The emulator is served on a real loopback socket (uvicorn in a thread of this process). For each
process count, that many worker processes (``multiprocessing``, spawn) each open the real
`asrtui.client.LiveClient` with their own `WindowLimiter` gated by one `SharedLedger` state file,
and saturate ``list_tasks`` with many concurrent coroutines while a priority ``get_task`` is
sent every ~200 ms. All workers start together at a barrier. The emulator counts what it
accepts, independently of the clients.

Prints, per process count, and checks (exit status 1 when a target is missed):

- the most requests the emulator accepted in any 1-second window (must be <= 20);
- the sustained accepted rate after the first second, as a share of 20/s (target >= 95 %);
- the p99 limiter wait of priority requests, over all processes (target <= 100 ms);
- throttling answers seen (target 0).

Before the start each worker sends one request and waits 1.2 s: the first request of a process
pays for imports and a new connection (25-40 ms here), so it can reach the emulator late enough
to let a request one window later be counted in the same window and throttled, which then halves
every process's rate for seconds (see `asrtui.sharedquota`). ``--cold`` skips that warm-up.
``--unshared`` runs the same workers without the ledger, for comparison: each process then
keeps its own 20/s and together they overrun the account's quota. ``--margin`` and
``--pacing`` set the ledger's parameters of the same names.

Figures on a 2-core machine shared with other work (12 s runs, three runs each)::

    1 process:   max 20 in any 1 s window; 95.5-95.9 % of 20/s; p99 27-50 ms; 0 throttled
    2 processes: max 20 in any 1 s window; 95.5-95.9 % of 20/s; p99 61-71 ms; 0 throttled
    3 processes: max 20 in any 1 s window; 96.4 % of 20/s;      p99 94-95 ms; 0 throttled
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

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
from asrtui.emulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, build_emulator
from asrtui.emulator.server import running_server
from asrtui.sharedquota import DEFAULT_MARGIN, DEFAULT_PACING, SharedLedger

#: Seconds between the warm-up request and the start: its grant has left every window by then.
WARM_UP_PAUSE = 1.2


@dataclass(frozen=True)
class WorkerSpec:
    """What one worker process is told to do."""

    url: str
    ledger_dir: str | None
    seconds: float
    coroutines: int
    priority_every: float
    task_id: str
    margin: float
    pacing: float | None
    warm_up: bool


async def _work(spec: WorkerSpec, barrier: Barrier) -> dict[str, Any]:
    ledger = None
    if spec.ledger_dir is not None:
        ledger = SharedLedger.for_account(
            DEMO_ACCESS_KEY_ID,
            directory=Path(spec.ledger_dir),
            margin=spec.margin,
            pacing=spec.pacing,
        )
    limiter = TimedLimiter(LIMIT, ledger=ledger)
    credentials = Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
    client = LiveClient(lambda: credentials, spec.url, limiter=limiter)
    async with client:
        if spec.warm_up:
            await client.list_tasks()
            await asyncio.sleep(WARM_UP_PAUSE)
        await asyncio.to_thread(barrier.wait)
        load = await saturate(
            client,
            spec.task_id,
            coroutines=spec.coroutines,
            seconds=spec.seconds,
            priority_every=spec.priority_every,
            spread=True,
        )
    return {
        "priority_waits": limiter.priority_waits,
        "throttled": client.counters.throttled_total,
        "errors": load.errors,
        "attempts": client.counters.attempts_total,
    }


def worker(spec: WorkerSpec, barrier: Barrier, results: multiprocessing.Queue[Any]) -> None:
    """One worker process: wait for the others, saturate for ``spec.seconds``, report."""
    results.put(asyncio.run(_work(spec, barrier)))


def run(procs: int, args: argparse.Namespace) -> Result:
    """Run ``procs`` worker processes against a fresh emulator; return what it saw."""
    app = build_emulator(seed=1, tasks=8, jitter=args.jitter / 1000)
    task_id = sorted(app.backend.query(None) or {})[0]
    context = multiprocessing.get_context("spawn")
    with (
        tempfile.TemporaryDirectory(prefix="asrtui-bench-") as ledger_dir,
        running_server(app) as url,
    ):
        spec = WorkerSpec(
            url=url,
            ledger_dir=None if args.unshared else ledger_dir,
            seconds=args.seconds,
            coroutines=args.coroutines,
            priority_every=args.priority_every,
            task_id=task_id,
            margin=args.margin,
            pacing=args.pacing or None,
            warm_up=not args.cold,
        )
        barrier = context.Barrier(procs + 1)
        results: multiprocessing.Queue[Any] = context.Queue()
        workers = [
            context.Process(target=worker, args=(spec, barrier, results)) for _ in range(procs)
        ]
        for process in workers:
            process.start()
        barrier.wait(timeout=120)
        started = time.monotonic()
        outcomes = [results.get(timeout=args.seconds + 60) for _ in workers]
        ended = started + args.seconds
        for process in workers:
            process.join(timeout=30)
    return measure(
        f"{procs} process(es), {args.seconds:.0f} s:",
        app.stats,
        started=started,
        ended=ended,
        priority_waits=(w for outcome in outcomes for w in outcome["priority_waits"]),
        throttled=max(app.stats.throttled, sum(o["throttled"] for o in outcomes)),
        errors=sum(o["errors"] for o in outcomes),
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark for each process count; exit status 1 when any target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--procs", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each run")
    parser.add_argument("--coroutines", type=int, default=32, help="background coroutines")
    parser.add_argument("--priority-every", type=float, default=0.2, help="seconds")
    parser.add_argument(
        "--margin", type=float, default=DEFAULT_MARGIN, help="the ledger's margin, seconds"
    )
    parser.add_argument(
        "--pacing", type=float, default=DEFAULT_PACING, help="the ledger's pacing; 0 for none"
    )
    parser.add_argument(
        "--cold", action="store_true", help="no warm-up request before the start (see above)"
    )
    parser.add_argument("--unshared", action="store_true", help="no ledger (comparison)")
    add_jitter_option(parser)
    args = parser.parse_args(argv)
    failed = False
    for procs in args.procs:
        result = run(procs, args)
        report(result)
        failed = failed or bool(result.failures)
    print("FAIL" if failed else "PASS")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
