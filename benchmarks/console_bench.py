"""Benchmark of the console as a whole: start-up, idle CPU use and memory over a long session.

Run with ``python benchmarks/console_bench.py`` from the repository root (``--help`` for the
options; ``--only startup|idle|memory`` runs one part). Prints the figures and a PASS/FAIL line
per target; exits 1 when a target is missed.

- **Start-up**: ``asrtui --demo`` to its first drawn table, against a bare Textual app (Header,
  DataTable, Footer) on the same Textual, both launched the same way: a fresh interpreter runs a
  small harness that starts the app headless at 120x32 and, once the table has rows and the
  screen has been painted after that, writes the monotonic time and exits. For asrtui the
  harness goes through the real entry point (``asrtui.__main__.main(["--demo"])``, as the
  ``asrtui`` command) with only the final ``run_console_async`` swapped, when the console is
  opened, for one that runs the same app headless. The apps run in pairs, back to back (which
  first alternates); the verdict is on the median of the pairs' ratios, which a change of load
  between pairs moves far less than single runs. Quartiles and CPU time are shown beside it.
  Import times are measured apart, in fresh interpreters too.
- **Idle**: the console headless (``App.run_test``) against the in-process demo emulator with
  100 tasks, refreshing every 5 s: process CPU time over wall time, after the first refresh.
- **Memory**: resident memory (``/proc/self/statm``) before and after many refreshes of 1,000
  tasks. The refresh path is the real one (the screen's tick starts the refresh worker, which
  calls the source and updates the task book, table, detail pane and event log), accelerated
  with a fake clock that moves by the refresh interval each time. The source keeps 1,000 tasks
  as wire objects and answers through the real wire parser, as a client would: each refresh 1 %
  of the tasks are updated and a few end while new ones start. ``--trace`` shows where the
  Python heap grew (tracemalloc).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from textual.pilot import Pilot
from textual.worker import WorkerCancelled

from asrtui.connect import open_demo_client
from asrtui.models import Task, TaskList
from asrtui.protocols import QuotaStats
from asrtui.tasksource import ClientTaskSource
from asrtui.ui.app import AsrtuiApp
from asrtui.ui.screens.main import MainScreen
from asrtui.ui.settings import ConsoleSettings
from asrtui.wire import parse_tasks
from tests.support.clock import FakeClock

ROOT = Path(__file__).resolve().parent.parent

#: Targets.
STARTUP_RATIO = 1.3
IDLE_CPU_PERCENT = 2.0
MEMORY_GROWTH_MB = 5.0

SIZE = (120, 32)
PAGE = os.sysconf("SC_PAGE_SIZE")

# ---------------------------------------------------------------------------------- start-up

#: The harness run by a fresh interpreter: ``python -c HARNESS asrtui|bare``. It writes
#: ``FIRST_TABLE <monotonic seconds>`` once the table has rows and the screen was painted.
HARNESS = r"""
import asyncio, os, sys, time

def report_when_drawn(ready):
    async def auto_pilot(pilot):
        app = pilot.app
        while not ready(app):
            await asyncio.sleep(0.002)
        painted = asyncio.Event()
        app.call_after_refresh(painted.set)
        await painted.wait()
        os.write(1, f"FIRST_TABLE {time.monotonic():.6f}\n".encode())
        app.exit()
    return auto_pilot

if sys.argv[1] == "asrtui":
    # Started as the ``asrtui`` command starts it: `main` first (which pauses the garbage
    # collector for the imports), the console's modules imported when it opens the console.
    # The swap is made at that moment, so nothing is imported earlier than in a real start.
    import asrtui.__main__ as entry

    def ready(app):
        tables = app.screen.query("#tasks")
        return bool(tables) and tables.first().row_count > 0

    launch_console = entry.launch_console

    def launch_headless(args):
        import asrtui.ui.app as ui_app

        async def headless(*args, **kwargs):
            app = ui_app.AsrtuiApp(*args, **kwargs)
            await app.run_async(
                headless=True, size=(120, 32), auto_pilot=report_when_drawn(ready)
            )
            return 0

        ui_app.run_console_async = headless
        return launch_console(args)

    entry.launch_console = launch_headless
    sys.exit(entry.main(["--demo"]))
else:
    from textual.app import App
    from textual.widgets import DataTable, Footer, Header

    class Bare(App):
        def compose(self):
            yield Header()
            yield DataTable()
            yield Footer()

        def on_mount(self):
            table = self.query_one(DataTable)
            table.add_columns("ID", "STATUS", "LANG", "UPTIME", "STREAM")
            table.add_rows(
                (f"asr-{i:08x}-3e37-452d-b0bc-ab0ed857{i:04x}", "running", "ja", "3h47m",
                 "pull-lveditor.alivecdn.com/caster/b490b6081dfc.flv")
                for i in range(12)
            )

    def ready(app):
        tables = app.screen.query(DataTable)
        return bool(tables) and tables.first().row_count > 0

    Bare().run(headless=True, size=(120, 32), auto_pilot=report_when_drawn(ready))
"""

IMPORTS = {
    "asrtui": "import asrtui.__main__, asrtui.cli, asrtui.tasksource, asrtui.emulator, "
    "asrtui.ui.app",
    "bare": "import textual.app, textual.widgets; "
    "from textual.widgets import DataTable, Footer, Header",
}


#: Where the children keep their bytecode (set by `bench_startup`).
_PYCACHE: list[str] = []


def _child_env() -> dict[str, str]:
    """The children's environment: the repository importable, bytecode cached.

    An installed package has its bytecode compiled; a child that had to compile asrtui's
    modules on every start (``PYTHONDONTWRITEBYTECODE`` set, or a read-only tree) would measure
    the compiler. The cache lives in a temporary directory, not in the work tree.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if _PYCACHE:
        env["PYTHONPYCACHEPREFIX"] = _PYCACHE[0]
    return env


#: CPU seconds (user + system) of each `first_table_seconds` child, by app: what the start
#: cost the machine, which other work on a loaded machine stretches far less than wall time.
_CPU: dict[str, list[float]] = {}


def first_table_seconds(which: str) -> float:
    """Seconds from launching a fresh interpreter to ``which`` app's first drawn table."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", HARNESS, which],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_child_env(),
        timeout=120,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    for line in done.stdout.splitlines():
        if line.startswith("FIRST_TABLE "):
            _CPU.setdefault(which, []).append(cpu)
            return float(line.split()[1]) - started
    raise RuntimeError(f"{which} drew no table (exit {done.returncode}): {done.stderr[-2000:]}")


def import_seconds(which: str) -> float:
    """Seconds a fresh interpreter takes to import what ``which`` app needs."""
    code = f"import time; t = time.perf_counter(); {IMPORTS[which]}; print(time.perf_counter() - t)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_child_env(),
        timeout=120,
        check=True,
    )
    return float(done.stdout.strip())


@dataclass(frozen=True)
class Verdict:
    """One target's outcome."""

    name: str
    passed: bool
    detail: str

    def line(self) -> str:
        """``PASS``/``FAIL`` and what was measured against what."""
        return f"{'PASS' if self.passed else 'FAIL'}  {self.name}: {self.detail}"


def bench_startup(runs: int) -> list[Verdict]:
    """Start-up and import time of asrtui against a bare Textual app, side by side."""
    print(f"== start-up to the first drawn table ({runs} pairs of runs)")
    with tempfile.TemporaryDirectory(prefix="asrtui-bench-pycache-") as pycache:
        _PYCACHE[:] = [pycache]
        try:
            return _startup(runs)
        finally:
            _PYCACHE.clear()


def _spread(values: list[float], scale: float = 1000.0, digits: int = 0) -> str:
    """``median [q1-q3] (min-max)`` of ``values`` times ``scale``: where most runs fell."""
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    shown = [v * scale for v in (median, q1, q3, min(values), max(values))]
    return "{:.{d}f} [{:.{d}f}-{:.{d}f}] ({:.{d}f}-{:.{d}f})".format(*shown, d=digits)


def _startup(runs: int) -> list[Verdict]:
    print(
        "  measured: a fresh interpreter launched to its first frame painted with task rows in\n"
        "  the table (asrtui --demo through its entry point; a bare Header/DataTable/Footer app\n"
        "  with 12 rows); the two run back to back, which first alternating. Shown as\n"
        "  median [quartiles] (min-max)."
    )
    for which in ("bare", "asrtui"):  # compile the bytecode, warm the file system cache
        first_table_seconds(which)
        import_seconds(which)
    _CPU.clear()  # the warm-up runs above compiled bytecode: not counted
    times: dict[str, list[float]] = {"asrtui": [], "bare": []}
    imports: dict[str, list[float]] = {"asrtui": [], "bare": []}
    for run in range(runs):
        # A pair runs back to back, so both see about the same load on the machine; the one
        # run second sees a warmer cache, so which goes first alternates.
        for which in ("asrtui", "bare") if run % 2 == 0 else ("bare", "asrtui"):
            times[which].append(first_table_seconds(which))
            imports[which].append(import_seconds(which))
    med = {which: statistics.median(values) for which, values in times.items()}
    imp = {which: statistics.median(values) for which, values in imports.items()}
    for which in ("asrtui", "bare"):
        print(
            f"  {which:<7} first frame ms {_spread(times[which])}"
            f"   imports ms {_spread(imports[which])}"
        )
    paired = [a / b for a, b in zip(times["asrtui"], times["bare"], strict=True)]
    ratio = statistics.median(paired)
    print(
        f"  ratio, pair by pair: {_spread(paired, 1.0, 2)}x; of the medians: "
        f"{med['asrtui'] / med['bare']:.2f}x"
    )
    beyond = (med["asrtui"] - imp["asrtui"]) - (med["bare"] - imp["bare"])
    print(
        f"  imports account for {(imp['asrtui'] - imp['bare']) * 1000:.0f} ms of the difference"
        f" of the medians,\n  the rest (first answer, composing, drawing) for"
        f" {beyond * 1000:.0f} ms"
    )
    cpu_paired = [a / b for a, b in zip(_CPU["asrtui"], _CPU["bare"], strict=True)]
    print(
        f"  CPU to the first frame ms: asrtui {_spread(_CPU['asrtui'])}, bare "
        f"{_spread(_CPU['bare'])}; ratio pair by pair {_spread(cpu_paired, 1.0, 2)}x\n"
        "  (CPU is stretched less than wall time by a loaded machine; the target is on the wall)"
    )
    return [
        Verdict(
            "start-up ratio",
            ratio <= STARTUP_RATIO,
            f"{ratio:.2f}x the bare app, median of {runs} pairs (target <= {STARTUP_RATIO}x)",
        )
    ]


# ---------------------------------------------------------------------------------- idle


async def workers_done(app: AsrtuiApp) -> None:
    """Wait until no worker runs (one cancelled by a newer one counts as done)."""
    while any(not worker.is_finished for worker in app.workers):
        with contextlib.suppress(WorkerCancelled):
            await app.workers.wait_for_complete()


async def settle(pilot: Pilot[Any], app: AsrtuiApp) -> None:
    """Let pending messages, then every running worker and the messages it sent, finish."""
    await pilot.pause()
    while any(not worker.is_finished for worker in app.workers):
        await workers_done(app)
        await pilot.pause()


async def next_paint(app: AsrtuiApp) -> None:
    """Wait until the screen has been refreshed (painted) after what is pending now.

    Cheaper than ``Pilot.pause()``, which also waits until the process has been idle for a
    while: over thousands of refreshes that waiting would be most of the benchmark's time.
    """
    painted = asyncio.Event()
    app.call_after_refresh(painted.set)
    await painted.wait()


def main_screen(app: AsrtuiApp) -> MainScreen:
    """The console's main screen."""
    for screen in app.screen_stack:
        if isinstance(screen, MainScreen):
            return screen
    raise RuntimeError("the console shows no main screen")


async def wait_for(check: Callable[[], bool], limit: float, what: str) -> None:
    """Wait (polling every 10 ms, at most ``limit`` seconds) until ``check`` holds."""
    deadline = time.monotonic() + limit
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {what} after {limit:g} s")
        await asyncio.sleep(0.01)


async def idle_cpu(seconds: float) -> tuple[float, int]:
    """CPU percent of one core used by the demo console with 100 tasks over ``seconds``."""
    client = open_demo_client(tasks=100)
    source = ClientTaskSource(client, profile_name="demo", region=client.region)
    app = AsrtuiApp(source, ConsoleSettings(refresh_interval=5.0))
    async with client, app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await wait_for(lambda: screen.schedule.last_success is not None, 30, "first refresh")
        await settle(pilot, app)
        before = source.quota().granted_total
        cpu0, wall0 = time.process_time(), time.monotonic()
        await asyncio.sleep(seconds)
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
        requests = source.quota().granted_total - before
    return 100.0 * cpu / wall, requests


def bench_idle(seconds: float) -> list[Verdict]:
    """Idle CPU use of the console."""
    print(f"== idle: demo console, 100 tasks, refresh every 5 s, {seconds:g} s of wall time")
    percent, requests = asyncio.run(idle_cpu(seconds))
    print(f"  CPU {percent:.2f} % of one core; {requests} requests in that time")
    return [
        Verdict(
            "idle CPU",
            percent <= IDLE_CPU_PERCENT,
            f"{percent:.2f} % of one core (target <= {IDLE_CPU_PERCENT} %)",
        )
    ]


# ---------------------------------------------------------------------------------- memory


def _wire_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class ChurnSource:
    """A `TaskSource` holding ``count`` tasks as wire objects, with churn on every answer.

    Each `list_tasks` answer is parsed from the wire objects by the real parser (so every answer
    brings new `Task` objects, as the client's do); before it, ``updated`` of the tasks get a
    new ``updatedAt`` and ``replaced`` tasks end while as many new ones start.
    """

    def __init__(
        self, clock: FakeClock, count: int, *, updated: int, replaced: int, seed: int = 7
    ) -> None:
        self._clock = clock
        self._rng = random.Random(seed)
        self._updated = updated
        self._replaced = replaced
        self._tasks: dict[str, dict[str, Any]] = {}
        for _ in range(count):
            self._add(clock.now() - timedelta(seconds=self._rng.uniform(60, 6 * 3600)))
        self.first_ids = tuple(self._tasks)
        """The tasks listed at start (a fixed sample to see what the console keeps of them)."""
        self._answers = 0

    @property
    def profile_name(self) -> str:
        """The profile shown in the status line."""
        return "bench"

    @property
    def region(self) -> str:
        """The region shown in the status line."""
        return "cn-shanghai"

    def _add(self, created: datetime) -> None:
        rng = self._rng
        task_id = f"asr-{uuid.UUID(int=rng.getrandbits(128), version=4)}"
        self._tasks[task_id] = {
            "taskId": task_id,
            "status": 1,
            "mode": "live",
            "language": rng.choice(("cn", "en", "ja", "yue", "fspk")),
            "callbackUrl": "default",
            "streamUrl": (
                f"http://pull-lveditor.alivecdn.com/caster/{rng.getrandbits(128):032x}.flv"
                f"?auth_key=1715745062-0-0-{rng.getrandbits(128):032x}"
            ),
            "aliUid": "1119309225474343",
            "tag": rng.choice(("", "news-desk", "sports-main", "studio-b")),
            "createdAt": _wire_time(created),
            "updatedAt": _wire_time(created + timedelta(seconds=1)),
            "reportInterval": "0",
            "autoTerminateDelay": "10",
        }

    def _churn(self) -> None:
        now = self._clock.now()
        ids = list(self._tasks)
        for task_id in self._rng.sample(ids, min(self._updated, len(ids))):
            self._tasks[task_id] = {**self._tasks[task_id], "updatedAt": _wire_time(now)}
        for task_id in self._rng.sample(ids, min(self._replaced, len(ids))):
            del self._tasks[task_id]
            self._add(now)

    async def list_tasks(self, *, priority: bool = False) -> TaskList:
        """Every task, after this answer's churn (none before the first answer)."""
        if self._answers:
            self._churn()
        self._answers += 1
        return parse_tasks({"RequestId": f"req-{self._answers}", "Tasks": dict(self._tasks)})

    def is_listed(self, task_id: str) -> bool:
        """Whether the task is still running (listed)."""
        return task_id in self._tasks

    async def get_task(self, task_id: str) -> Task | None:
        """One task (``None`` once it has ended)."""
        wire = self._tasks.get(task_id)
        return None if wire is None else parse_tasks({"Tasks": {task_id: wire}}).tasks[0]

    async def stop_task(self, task_id: str) -> None:
        """Not used by the benchmark."""

    async def delete_task(self, task_id: str) -> None:
        """Not used by the benchmark."""

    def quota(self) -> QuotaStats:
        """Fixed figures: the benchmark has no limiter."""
        return QuotaStats(limit=20, effective_limit=20.0, used_last_second=1)


def rss_mb() -> float:
    """Resident memory of this process now, in MB (unlike ``ru_maxrss``, it can go down)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * PAGE / 1e6


@dataclass(frozen=True)
class MemoryRun:
    """Figures of one memory run."""

    baseline_mb: float
    end_mb: float
    samples: list[tuple[int, float]]
    seconds: float
    top_growth: list[str]
    first_ended: int
    first_ended_with_history: int


async def memory_growth(
    *, refreshes: int, tasks: int, updated: int, replaced: int, warmup: int, trace: bool
) -> MemoryRun:
    """RSS before and after ``refreshes`` accelerated refreshes of ``tasks`` tasks."""
    clock = FakeClock()
    source = ChurnSource(clock, tasks, updated=updated, replaced=replaced)
    settings = ConsoleSettings(
        refresh_interval=5.0, clock=clock.now, monotonic=clock.monotonic, bell=False, tz=UTC
    )
    app = AsrtuiApp(source, settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await wait_for(lambda: screen.schedule.last_success is not None, 30, "first refresh")
        await settle(pilot, app)

        async def refresh() -> None:
            # As the armed timer and the one-second tick do once the interval has passed:
            # start the refresh (and the detail pane's poll), let the workers finish, and
            # wait for the paint.
            clock.advance(settings.refresh_interval)
            screen.refresh_if_due()
            screen.tick()
            await workers_done(app)
            await next_paint(app)

        for _ in range(warmup):
            await refresh()
        gc.collect()
        if trace:
            tracemalloc.start(10)
            first = tracemalloc.take_snapshot()
        baseline = rss_mb()
        samples = [(0, baseline)]
        started = time.monotonic()
        step = max(1, refreshes // 10)
        for done in range(1, refreshes + 1):
            await refresh()
            if done % step == 0:
                gc.collect()
                samples.append((done, rss_mb()))
        seconds = time.monotonic() - started
        gc.collect()
        end = rss_mb()
        top: list[str] = []
        if trace:
            stats = tracemalloc.take_snapshot().compare_to(first, "lineno")
            top = [str(stat) for stat in stats[:12]]
            tracemalloc.stop()
        ended = [task_id for task_id in source.first_ids if not source.is_listed(task_id)]
        kept = sum(1 for task_id in ended if screen.book.history(task_id))
    return MemoryRun(baseline, end, samples, seconds, top, len(ended), kept)


def bench_memory(
    *, refreshes: int, tasks: int, updated: int, replaced: int, warmup: int, trace: bool
) -> list[Verdict]:
    """Resident memory growth of the console over many refreshes."""
    print(
        f"== memory: {refreshes} refreshes of {tasks} tasks ({updated} updated and {replaced}"
        f" replaced per refresh), after {warmup} warm-up refreshes"
    )
    run = asyncio.run(
        memory_growth(
            refreshes=refreshes,
            tasks=tasks,
            updated=updated,
            replaced=replaced,
            warmup=warmup,
            trace=trace,
        )
    )
    growth = run.end_mb - run.baseline_mb
    trend = "  ".join(f"{n}:{mb:.1f}" for n, mb in run.samples)
    print(f"  RSS MB by refresh: {trend}")
    print(
        f"  baseline {run.baseline_mb:.1f} MB, end {run.end_mb:.1f} MB, growth {growth:+.1f} MB"
        f" ({growth * 1e3 / max(refreshes, 1):.2f} kB per refresh);"
        f" {run.seconds / max(refreshes, 1) * 1000:.1f} ms per refresh"
    )
    print(
        f"  tasks seen this session: {tasks + replaced * (refreshes + warmup)}; of the"
        f" {run.first_ended} first tasks that ended, {run.first_ended_with_history} still have"
        " a history in the task book"
    )
    for line in run.top_growth:
        print(f"  {line}")
    return [
        Verdict(
            "memory growth",
            growth <= MEMORY_GROWTH_MB,
            f"{growth:+.1f} MB over {refreshes} refreshes (target <= {MEMORY_GROWTH_MB} MB)",
        )
    ]


# ---------------------------------------------------------------------------------- main


def main() -> int:
    """Run the chosen parts and print a PASS/FAIL line per target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("startup", "idle", "memory"), action="append")
    parser.add_argument("--runs", type=int, default=7, help="start-up runs per app")
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    parser.add_argument("--refreshes", type=int, default=5000)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--updated", type=int, default=10, help="tasks updated per refresh")
    parser.add_argument("--replaced", type=int, default=2, help="tasks replaced per refresh")
    parser.add_argument("--warmup", type=int, default=100, help="refreshes before the baseline")
    parser.add_argument("--trace", action="store_true", help="show where the heap grew")
    args = parser.parse_args()
    parts = args.only or ["startup", "idle", "memory"]
    verdicts: list[Verdict] = []
    if "startup" in parts:
        verdicts += bench_startup(args.runs)
    if "idle" in parts:
        verdicts += bench_idle(args.idle_seconds)
    if "memory" in parts:
        verdicts += bench_memory(
            refreshes=args.refreshes,
            tasks=args.tasks,
            updated=args.updated,
            replaced=args.replaced,
            warmup=args.warmup,
            trace=args.trace,
        )
    print()
    for verdict in verdicts:
        print(verdict.line())
    return 0 if all(verdict.passed for verdict in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
