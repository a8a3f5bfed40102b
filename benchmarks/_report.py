"""How the quota benchmarks load the client, what they measure and how they print it.

`limiter_bench.py` (one process, emulator in process) and `multiproc_bench.py` (several
processes, emulator on a socket) saturate the same 20/s quota with the same load (`saturate`)
and must be held to the same targets with the same figures: the most requests the emulator
accepted in any 1-second window, the sustained rate after the first second as a share of 20/s,
the p99 limiter wait of priority requests, and throttling answers. Keeping the load, the
arithmetic and the table here means a change to any of them cannot reach one benchmark and not
the other.

Not a script: the benchmarks import it as ``_report`` (their own directory is on ``sys.path``
when run as ``python benchmarks/<name>.py``) after putting the repository root on the path.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from asrtui.client import LiveClient
from asrtui.emulator import DEMO_ACCESS_KEY_ID, EmulatorStats
from asrtui.errors import AsrtuiError
from asrtui.quotaledger import PriorityLane, QuotaLedger
from asrtui.ratelimit import DEFAULT_PACING, Grant, WindowLimiter

#: The account's quota: requests in any 1-second window.
LIMIT = 20
#: Sustained accepted rate after the first second, as a share of `LIMIT` per second, with no
#: network jitter; each millisecond of one-way jitter costs a thousandth (`target_share`).
TARGET_SHARE = 0.95
#: The p99 limiter wait of priority (user-initiated) requests, in seconds.
TARGET_P99_WAIT = 0.100


def target_share(jitter: float) -> float:
    """The sustained share targeted with ``jitter`` seconds of one-way jitter at most.

    The schedule widens the window by the measured spread of round trips, so the best safe
    rate is about ``20 / (1 + jitter)``: the target is 95 % with none, 90 % with 50 ms.
    """
    return TARGET_SHARE - min(max(jitter, 0.0), 0.05)


def run_delay() -> float:
    """Seconds this thread has been runnable but not running, since it started (Linux).

    The kernel's scheduler statistics (``/proc/thread-self/schedstat``, second field): what
    a loaded machine took from the process by scheduling it late. NaN where unavailable.
    """
    try:
        with open("/proc/thread-self/schedstat", "rb") as stats:
            return int(stats.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return math.nan


@dataclass
class PriorityTrace:
    """Where one priority request's time went, on the limiter's clock (seconds).

    ``asked`` is what the local limiter and the ledger asked it to wait, summed over its
    refused tries; ``late`` is how much later than asked it tried again (a timer that fired
    late: the event loop busy with other callbacks, or the process not scheduled);
    ``unscheduled`` is the part of the wait the kernel counted as runnable but not running.
    ``answered`` is when the answer came (key press to answer is ``answered - called``).
    """

    called: float
    granted: float = math.nan
    answered: float = math.nan
    asked: float = 0.0
    late: float = 0.0
    tries: int = 0
    unscheduled: float = math.nan
    refusals: list[tuple[float, float, str]] = field(default_factory=list)

    @property
    def wait(self) -> float:
        return self.granted - self.called


class TimedLimiter(WindowLimiter):
    """A `WindowLimiter` that records how long each priority acquisition waited, and why."""

    def __init__(
        self,
        limit: int,
        window: float = 1.0,
        *,
        ledger: QuotaLedger | None = None,
        pacing: float | None = DEFAULT_PACING,
        lane: PriorityLane | None = None,
    ) -> None:
        super().__init__(limit, window, ledger=ledger, pacing=pacing, lane=lane)
        self.priority_waits: list[float] = []
        self.traces: list[PriorityTrace] = []
        self._tracing: PriorityTrace | None = None
        self._by_grant: dict[float, PriorityTrace] = {}

    async def acquire(self, *, priority: bool = False) -> Grant:
        started = time.monotonic()
        if not priority:
            return await super().acquire(priority=priority)
        trace = PriorityTrace(called=started)
        before = run_delay()
        self._tracing = trace
        try:
            grant = await super().acquire(priority=priority)
        finally:
            self._tracing = None
        trace.granted = time.monotonic()
        trace.unscheduled = run_delay() - before
        self.priority_waits.append(trace.granted - started)
        self.traces.append(trace)
        self._by_grant[grant.granted_at] = trace
        return grant

    async def _try_grant(self, now: float, lane: int, since: float | None = None) -> float:
        local = self._delay(now, lane) > 0
        delay = await super()._try_grant(now, lane, since)
        trace = self._tracing
        if trace is not None and lane == 0:
            if trace.refusals:
                # The previous refusal's share of the wait: what it asked for, and how much
                # later than that this try came (a try woken early asked for less).
                last_at, last_delay, _ = trace.refusals[-1]
                trace.asked += min(last_delay, now - last_at)
                trace.late += max(0.0, now - (last_at + last_delay))
            if delay > 0:
                bound = "local" if local else getattr(self.ledger, "last_bound", "ledger")
                trace.refusals.append((now, delay, bound))
            trace.tries += 1
        return delay

    def _complete(self, granted_at: float, *, fresh: bool = False) -> None:
        trace = self._by_grant.pop(granted_at, None)
        if trace is not None:
            trace.answered = time.monotonic()
        super()._complete(granted_at, fresh=fresh)


@dataclass(frozen=True)
class Load:
    """When a `saturate` run started and ended (monotonic seconds), and the calls that failed."""

    started: float
    ended: float
    errors: int


async def saturate(
    client: LiveClient,
    task_id: str,
    *,
    coroutines: int,
    seconds: float,
    priority_every: float,
    spread: bool = False,
) -> Load:
    """Load ``client`` as the busiest console would, for ``seconds``.

    ``coroutines`` background loops call ``list_tasks`` as fast as the limiter allows, while
    a user-initiated (priority) ``get_task`` of ``task_id`` comes every ``priority_every``
    seconds. ``spread`` starts that loop at a random phase and varies its period by 25 % either
    way: operators in several consoles are not in step.
    """
    errors = 0

    async def background() -> None:
        nonlocal errors
        while True:
            try:
                await client.list_tasks()
            except AsrtuiError:
                errors += 1

    async def user() -> None:
        nonlocal errors
        if spread:
            await asyncio.sleep(random.uniform(0.0, priority_every))
        while True:
            try:
                await client.get_task(task_id)
            except AsrtuiError:
                errors += 1
            await asyncio.sleep(priority_every * (random.uniform(0.75, 1.25) if spread else 1.0))

    started = time.monotonic()
    tasks = [asyncio.create_task(background()) for _ in range(coroutines)]
    tasks.append(asyncio.create_task(user()))
    await asyncio.sleep(seconds)
    ended = time.monotonic()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return Load(started, ended, errors)


@dataclass
class Result:
    """One saturation run as the emulator saw it, with the targets it missed.

    ``title`` opens the run's first line, up to the count of accepted requests (each benchmark
    names its runs its own way: ``mode=product: 10.0 s,`` or ``2 process(es), 8 s:``).
    """

    title: str
    target_share: float
    accepted: int
    max_in_window: int
    share: float
    p99_wait: float
    median_wait: float
    priority_requests: int
    throttled: int
    errors: int
    failures: list[str] = field(default_factory=list)


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` in 0..1) of ``values``."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


def measure(
    title: str,
    stats: EmulatorStats,
    *,
    started: float,
    ended: float,
    priority_waits: Iterable[float],
    throttled: int,
    errors: int,
    jitter: float = 0.0,
) -> Result:
    """Judge one run from the emulator's counts between ``started`` and ``ended`` (monotonic).

    The first second is left out of the sustained rate: every limiter starts with a full
    window, so it says nothing about the steady pace. ``throttled`` is passed in because the
    benchmarks see throttling differently (the client's counters, the emulator's, or both).
    ``jitter`` (seconds) sets the sustained share targeted (`target_share`).
    """
    times = list(stats.accepted_times.get(DEMO_ACCESS_KEY_ID, ()))
    steady_from = started + 1.0
    steady = [t for t in times if steady_from <= t < ended]
    waits = list(priority_waits)
    result = Result(
        title=title,
        target_share=target_share(jitter),
        accepted=len(times),
        max_in_window=stats.max_in_any_window(DEMO_ACCESS_KEY_ID),
        share=len(steady) / ((ended - steady_from) * LIMIT),
        p99_wait=percentile(waits, 0.99),
        median_wait=statistics.median(waits) if waits else float("nan"),
        priority_requests=len(waits),
        throttled=throttled,
        errors=errors,
    )
    if result.max_in_window > LIMIT:
        result.failures.append(f"max in any 1 s window {result.max_in_window} > {LIMIT}")
    if result.share < result.target_share:
        result.failures.append(f"sustained rate {result.share:.1%} < {result.target_share:.0%}")
    if not result.p99_wait <= TARGET_P99_WAIT:
        result.failures.append(
            f"p99 priority wait {result.p99_wait * 1000:.1f} ms > {TARGET_P99_WAIT * 1000:.0f} ms"
        )
    if result.throttled:
        result.failures.append(f"{result.throttled} throttling answer(s)")
    return result


def report(result: Result) -> None:
    """Print one run's figures and a PASS/FAIL line per target."""

    def line(ok: bool, text: str) -> None:
        print(f"  {'PASS' if ok else 'FAIL'}  {text}")

    print(f"{result.title} {result.accepted} requests accepted")
    line(
        result.max_in_window <= LIMIT,
        f"most accepted in any 1 s window: {result.max_in_window} (limit {LIMIT})",
    )
    line(
        result.share >= result.target_share,
        f"sustained rate after the first second: {result.share:.1%} of {LIMIT}/s "
        f"(target >= {result.target_share:.0%})",
    )
    line(
        result.p99_wait <= TARGET_P99_WAIT,
        f"priority wait p99: {result.p99_wait * 1000:.1f} ms, median "
        f"{result.median_wait * 1000:.1f} ms over {result.priority_requests} requests "
        f"(target <= {TARGET_P99_WAIT * 1000:.0f} ms)",
    )
    line(result.throttled == 0, f"throttling answers: {result.throttled} (target 0)")
    print(f"  info  failed calls: {result.errors}")


def add_jitter_option(parser: argparse.ArgumentParser) -> None:
    """``--jitter MS``: the emulator's random one-way delay before it counts a request."""
    parser.add_argument(
        "--jitter",
        type=float,
        default=0.0,
        metavar="MS",
        help="the emulator delays each request by a random 0..MS ms before counting it",
    )
