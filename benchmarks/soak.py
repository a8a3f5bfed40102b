"""Soak: thousands of refreshes of a console watching 1,000 tasks; memory, CPU and errors.

Run with ``python benchmarks/soak.py [--refreshes 2000] [--tasks 1000]`` from the repository
root. The real console (``AsrtuiApp`` with ``MainScreen``) runs headless in ``App.run_test()``
at 120x40 on the real client and the in-process emulator. Time is accelerated: the console's
clocks are fake and each cycle moves them one refresh interval forward and runs the screen's
tick, so a refresh (and the detail pane's fetch that falls due with it) starts at once instead
of five seconds later. The emulator is lively on the same fake wall clock, so tasks end and
start while it runs, as in a long broadcast day: 10,000 refreshes at 5 s are ~14 hours.

Printed: resident memory (``/proc/self/statm``) at start, after a warm-up and at the end, the
growth projected to 10,000 refreshes (a least-squares line through samples taken along the
run, so that one noisy reading does not decide), CPU time and wall time per refresh, and the
refreshes that failed. Target: no more than 5 MB of growth over 10,000 refreshes of 1,000
tasks. ``--tracemalloc`` also lists where Python allocations grew between the warm-up and the
end (slower; use it to find a leak once the figures show one).

Figures on a 2-core machine, 10,000 refreshes of 1,000 tasks (about 28 tasks ending and 28
starting per refresh): RSS 48.0 MB at start, 64.5 MB after the warm-up, 65.0 MB at the end
(+0.3 MB projected per 10,000), 78 ms CPU and 123 ms wall per refresh, no failed refresh.
The first runs grew ~70 KB per refresh (~700 MB per 10,000): the task book kept the history of
every task ever seen, and the lively emulator every task ever stopped; both are bounded now.
Toasts are off (``run_test``'s default): they last 5 s of real time, which is dozens of
refreshes at this speed; the real-terminal mode below has them.

``--lively`` is this mode's default (``--static`` turns it off); it matters for the second mode.

Real terminal (``--terminal``): ``python benchmarks/soak.py --terminal --lively [--minutes 35]
[--tasks 300] [--refresh 2] [--size 160x45]`` runs the installed ``asrtui`` in tmux (its own
server socket, private HOME and XDG directories) against ``asrtui emulator --lively`` on a
loopback port, for ``--minutes`` of real time, and samples the resident memory and the CPU time
of the console process from ``/proc`` every few seconds. It prints one line per minute (RSS, CPU
share of one core over that minute, the task count and freshness from the status line, the
emulator's RSS) and then the slope after the warm-up (``--warmup-minutes``, 5: caches fill and
lingering ended rows reach their steady number) in MiB per hour, max-min after the warm-up and
the CPU share. Target: max-min after the warm-up <= 2 MiB. This is what an operator's console
goes through in a broadcast (real time, a real terminal, toasts, tasks ending and starting all
the time); the accelerated mode above does not catch what depends on real time or on drawing
to a terminal. A console at ``--refresh 2`` grew ~0.6 MiB a minute there, in a straight line
for ~40 minutes (53 to 77 MiB), with its CPU share rising: Textual's and Rich's rendering
caches filling to their caps (now emptied every minute, ``asrtui.ui.render_caches``) and the
empty toast holders Textual leaves behind (now swept, ``asrtui.ui.toasts``). With both, 35
minutes at 300 lively tasks, refresh 2 s, 160x45: see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from asrtui.client import LiveClient
from asrtui.credentials import Credentials
from asrtui.emulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, build_emulator
from asrtui.models import Task, TaskList
from asrtui.protocols import QuotaStats
from asrtui.ratelimit import WindowLimiter
from asrtui.tasksource import ClientTaskSource
from asrtui.ui.app import AsrtuiApp
from asrtui.ui.screens.main import MainScreen
from asrtui.ui.settings import ConsoleSettings
from tests.support.clock import FakeClock
from tests.support.fakes import settle

TARGET_GROWTH_MB = 5.0
TARGET_REFRESHES = 10_000
INTERVAL = 5.0
SIZE = (120, 40)
#: Refreshes run before the baseline is taken (at least; a fifth of the run when longer):
#: CSS is compiled, pools open, and bounded caches fill (the table's 1,024 rendered rows,
#: Textual's render caches), which under this churn takes about 2,000 refreshes.
WARMUP = 200
#: Memory samples taken along the run for the growth line.
SAMPLES = 50


@dataclass
class CountingSource:
    """The console's source, counting the list refreshes that failed (and why)."""

    inner: ClientTaskSource
    lists: int = 0
    failures: dict[str, int] = field(default_factory=dict)

    @property
    def profile_name(self) -> str:
        return self.inner.profile_name

    @property
    def region(self) -> str:
        return self.inner.region

    async def list_tasks(self, *, priority: bool = False) -> TaskList:
        self.lists += 1
        try:
            return await self.inner.list_tasks(priority=priority)
        except Exception as error:
            name = type(error).__name__
            self.failures[name] = self.failures.get(name, 0) + 1
            raise

    async def get_task(self, task_id: str) -> Task | None:
        return await self.inner.get_task(task_id)

    async def stop_task(self, task_id: str) -> None:
        await self.inner.stop_task(task_id)

    async def delete_task(self, task_id: str) -> None:
        await self.inner.delete_task(task_id)

    def quota(self) -> QuotaStats:
        return self.inner.quota()


def rss_bytes() -> int:
    """Resident set size of this process, from ``/proc/self/statm`` (Linux)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def mb(value: float) -> str:
    return f"{value / 1e6:.1f} MB"


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of ``y`` over ``x``."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    num = sum((x - mean_x) * (y - mean_y) for x, y in points)
    den = sum((x - mean_x) ** 2 for x, _ in points)
    return num / den if den else 0.0


async def no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


async def soak(args: argparse.Namespace) -> int:
    clock = FakeClock()
    emulator = build_emulator(
        seed=args.seed,
        tasks=args.tasks,
        lively=not args.static,
        fault_spec=args.fault,
        clock=clock.now,
        monotonic=clock.monotonic,
        limit=1_000_000,
    )
    credentials = Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
    client = LiveClient(
        lambda: credentials,
        "http://emulator.soak",
        transport=httpx.ASGITransport(app=emulator),
        limiter=WindowLimiter(100_000),
        sleep=no_sleep,
        clock=clock.now,
        timeout=60.0,
    )
    settings = ConsoleSettings(
        refresh_interval=INTERVAL,
        bell=False,
        clock=clock.now,
        monotonic=clock.monotonic,
        state_path=None,
        tz=UTC,
    )
    if args.tracemalloc:
        # From the start, so that the warm-up snapshot knows every live block: the diff is
        # then net growth, not every object that was merely replaced since.
        tracemalloc.start(1)
    rss_start = rss_bytes()
    samples: list[tuple[float, float]] = []
    async with client:
        source = CountingSource(ClientTaskSource(client, profile_name="soak", region="soak"))
        app = AsrtuiApp(source, settings)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, MainScreen)
            total = args.refreshes
            warmup = max(total // 5, min(WARMUP, total // 2))
            every = max(1, (total - warmup) // SAMPLES)
            rss_warm = rss_start
            cpu_start = wall_start = 0.0
            for done in range(1, total + 1):
                clock.advance(INTERVAL)
                screen.refresh_if_due()
                screen.tick()
                await settle(pilot)
                if done == warmup:
                    gc.collect()
                    rss_warm = rss_bytes()
                    if args.tracemalloc:
                        baseline = tracemalloc.take_snapshot()
                    cpu_start, wall_start = time.process_time(), time.perf_counter()
                    samples.append((done, rss_warm))
                elif done > warmup and (done - warmup) % every == 0:
                    samples.append((done, rss_bytes()))
                if done % max(1, total // 10) == 0:
                    print(
                        f"  {done:>6} refreshes  rss {mb(rss_bytes())}  "
                        f"rows {screen.table.total_count}  events {len(screen.event_log.entries)}",
                        flush=True,
                    )
            cpu = time.process_time() - cpu_start
            wall = time.perf_counter() - wall_start
            gc.collect()
            rss_end = rss_bytes()
            samples.append((total, rss_end))
            if args.tracemalloc:
                top = tracemalloc.take_snapshot().compare_to(baseline, "lineno")
                print("\nlargest net growth of Python allocations since the warm-up:")
                for stat in top[:12]:
                    print(f"  {stat}")
                tracemalloc.stop()
            stale = screen.schedule.stale
            counters = client.counters
    measured = total - warmup
    per_10k = slope(samples) * TARGET_REFRESHES
    failed = sum(source.failures.values())
    print()
    print(f"tasks {args.tasks}, refreshes {total} (warm-up {warmup}), lively {not args.static}")
    print(f"rss: start {mb(rss_start)}, after warm-up {mb(rss_warm)}, end {mb(rss_end)}")
    print(f"rss growth after warm-up: {mb(rss_end - rss_warm)} over {measured} refreshes")
    print(f"rss growth projected to {TARGET_REFRESHES:,} refreshes: {mb(per_10k)}")
    print(f"cpu per refresh: {cpu / measured * 1000:.1f} ms (wall {wall / measured * 1000:.1f} ms)")
    print(
        f"requests: {counters.attempts_total} attempts, {counters.errors_total} failed calls; "
        f"refreshes failed: {failed} {source.failures or ''}; stale at the end: {stale}"
    )
    ok = per_10k <= TARGET_GROWTH_MB * 1e6 and (failed == 0 or bool(args.fault))
    verdict = "PASS" if ok else "FAIL"
    print(f"{verdict}: growth over {TARGET_REFRESHES:,} refreshes <= {TARGET_GROWTH_MB:g} MB")
    return 0 if ok else 1


def _size(text: str) -> tuple[int, int]:
    width, _, height = text.partition("x")
    try:
        return int(width), int(height)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not WIDTHxHEIGHT: {text!r}") from None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--refreshes", type=int, default=2000, help="refresh cycles (2000)")
    parser.add_argument("--tasks", type=int, help="tasks running (1000; 300 with --terminal)")
    parser.add_argument("--seed", type=int, default=1, help="the emulator's seed")
    parser.add_argument(
        "--lively",
        action="store_true",
        help="tasks end and start all the time (the default, except with --terminal)",
    )
    parser.add_argument("--static", action="store_true", help="tasks never end or start")
    parser.add_argument("--fault", default="", help="emulator faults, e.g. 5xx=0.05,drop=0.02")
    parser.add_argument(
        "--tracemalloc", action="store_true", help="list where Python allocations grew"
    )
    parser.add_argument(
        "--terminal",
        action="store_true",
        help="run the installed asrtui in tmux against 'asrtui emulator', in real time",
    )
    parser.add_argument(
        "--minutes", type=float, default=35.0, help="--terminal: minutes to run (35)"
    )
    parser.add_argument(
        "--warmup-minutes",
        type=float,
        default=5.0,
        help="--terminal: minutes before memory is judged (5)",
    )
    parser.add_argument(
        "--refresh", type=float, default=2.0, help="--terminal: seconds between refreshes (2)"
    )
    parser.add_argument(
        "--size", type=_size, default=(160, 45), help="--terminal: WIDTHxHEIGHT (160x45)"
    )
    args = parser.parse_args()
    if args.lively and args.static:
        parser.error("--lively and --static exclude each other")
    if args.terminal:
        if args.fault or args.tracemalloc:
            parser.error("--fault and --tracemalloc are for the accelerated mode")
        if args.minutes <= args.warmup_minutes:
            parser.error("--minutes must be longer than --warmup-minutes")
        from _terminal_soak import run

        return run(
            minutes=args.minutes,
            warmup_minutes=args.warmup_minutes,
            tasks=300 if args.tasks is None else args.tasks,
            refresh=args.refresh,
            lively=args.lively,
            seed=args.seed,
            size=args.size,
        )
    if args.tasks is None:
        args.tasks = 1000
    if args.refreshes < 10:
        parser.error("--refreshes must be at least 10")
    return asyncio.run(soak(args))


if __name__ == "__main__":
    sys.exit(main())
