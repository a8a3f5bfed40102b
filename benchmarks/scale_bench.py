"""Benchmark of asrtui at scale: 1,000 to 100,000 tasks behind the emulator on a loopback socket.

Run with ``python benchmarks/scale_bench.py`` from the repository root; ``--sizes 1000 10000``
picks the task counts, ``--quick`` runs fewer refreshes and repeats so a pass takes minutes,
``--lively`` serves tasks that change on every tick.
Prints, per size, each figure of asrtui beside its reference and their ratio, then a PASS/FAIL
line per target; exits 1 when a target is missed.

Each size gets its own emulator (``build_emulator`` served by uvicorn in a child process, so it
takes nothing from the processes measured), and each measured program runs in a fresh
interpreter:

- **CLI**: ``asrtui tasks --format json`` (the installed entry point's code, credentials from the
  environment, ``--endpoint`` at the emulator) against a script on the official SDK
  (``alibabacloud-live20161101``) that asks ``QueryRtcAsrTasks`` the same way and prints the
  tasks as indented JSON. Wall time of the whole process, stdout to ``/dev/null``, in pairs run
  back to back (the first alternating); the verdict is the median of the pairs' ratios.
  Beside them, the emulator's own time to serve that answer (a signed request on a raw socket,
  read as fast as it comes, before the runs): the fixed cost both programs pay.
- **Console**: the real console (``asrtui.__main__.main`` with only the final
  ``run_console_async`` swapped for a headless run at 200x50, as ``console_bench`` does) against
  a stock Textual app whose ``DataTable`` shows the same tasks, fetched by the same client and
  reloaded (``clear`` + ``add_rows``) every second. Each app runs these phases in one process:

  1. *First draw*: seconds from launch to the first drawn task row, then RSS.
  2. *Warm-up*: `WARM_UP` refreshes pass unmeasured (the first answer's after-effects).
  3. *Idle* ("refresh CPU, no key"): ``--idle`` refreshes at 1 s with no key pressed, from the
     end of one refresh to the end of another: process CPU over that wall time, and the
     refreshes done in it. This is the issue's "refresh CPU": what the auto-refresh costs
     while an operator watches.
  4. *Keys*: for ``--refreshes`` seconds, down pressed every 150 ms while the refreshes go on;
     the latency from each press to the moved cursor being painted (p50/p99), and the CPU of
     this phase on its own line ("CPU refreshing + keys": each move repaints the table and the
     detail pane, and may fetch a task).
  5. *End*: RSS after all of it, taken as a refresh ends, as the first draw's is (the refresh
     count beside it is the whole run's); and the peak RSS of the run (the kernel's VmHWM),
     which a refresh in flight sets (its body read, its parse under way), with no target.

Figures a part left out (``--skip``) print "skipped", and so do targets set at a size not
run; a part that ran and measured nothing fails.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from asrtui.emulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET  # noqa: E402

#: Targets (from the scale issue).
CLI_RATIO = 0.5  # at 10k and 100k
FIRST_ROW_RATIO = 0.2  # at 100k
RSS_RATIO = 1.0
RSS_GROWTH_MB = 5.0
KEY_P99_MS = 50.0  # at 50k and 100k
REFRESH_CPU_PERCENT = 10.0  # at 10k

SIZES = (1_000, 10_000, 50_000, 100_000)
#: Refreshes let pass after the first draw before the idle phase: the first answer's
#: after-effects (the journal writing each task's "appeared" event, the collector settling) are
#: start-up work, not the cost of a refresh.
WARM_UP = 3
SIZE = (200, 50)

#: The emulator, served until stdin closes: ``python -c EMULATOR <tasks> lively|still`` prints
#: its URL.
EMULATOR = r"""
import sys
from asrtui.emulator import build_emulator
from asrtui.emulator.server import running_server

app = build_emulator(seed=12, tasks=int(sys.argv[1]), limit=1000, lively=sys.argv[2] == "lively")
with running_server(app) as url:
    print(url, flush=True)
    sys.stdin.read()
"""

#: The official SDK doing what ``asrtui tasks --format json`` does: ``python -c SDK <host:port>``.
SDK = r"""
import json, os, sys
from alibabacloud_live20161101 import models
from alibabacloud_live20161101.client import Client
from alibabacloud_tea_openapi.models import Config

client = Client(Config(
    access_key_id=os.environ["ALIBABA_CLOUD_ACCESS_KEY_ID"],
    access_key_secret=os.environ["ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
    endpoint=sys.argv[1], protocol="http", read_timeout=120000,
))
body = client.query_rtc_asr_tasks(models.QueryRtcAsrTasksRequest(region_id="cn-shanghai")).body
tasks = body.tasks
items = list(tasks.values()) if isinstance(tasks, dict) else list(tasks or [])
sys.stdout.write(json.dumps(items, indent=2, ensure_ascii=False))
sys.stdout.write("\n")
"""

#: The console harness:
#: ``python -c CONSOLE asrtui|stock <url> <key seconds> <start> <idle refreshes> <warm-up>``.
#: Prints one ``RESULT {json}`` line.
CONSOLE = r"""
import asyncio, gc, json, os, sys, time

which, url, PERIOD, launched = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
IDLE, WARM_UP = int(sys.argv[5]), int(sys.argv[6])
PAGE = os.sysconf("SC_PAGE_SIZE")

def rss_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE / 1e6

def peak_rss_mb():
    # The kernel's high-water mark of the resident set (VmHWM): the peak, at no sampling cost.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e6
    return float("nan")

async def next_paint(app):
    painted = asyncio.Event()
    app.call_after_refresh(painted.set)
    await painted.wait()

async def refreshes_done(app, refreshes_of, count, limit):
    # Wait, pressing nothing, until `count` more refreshes are done (or `limit` s pass).
    start = refreshes_of(app)
    deadline = time.monotonic() + limit
    while refreshes_of(app) - start < count and time.monotonic() < deadline:
        await asyncio.sleep(0.05)

def measure(table_of, cursor_of, refreshes_of):
    async def auto_pilot(pilot):
        app = pilot.app
        result = {}
        try:
            while True:
                table = table_of(app)
                if table is not None and table.row_count > 0:
                    break
                if time.monotonic() - launched > 300:
                    raise RuntimeError("no rows after 300 s")
                await asyncio.sleep(0.002)
            await next_paint(app)
            result["first_row"] = time.monotonic() - launched
            result["rows"] = table.row_count
            gc.collect()
            result["rss_first"] = rss_mb()
            table.focus()
            await pilot.pause()
            # Idle phase: the auto-refresh alone, as while an operator watches. It starts at a
            # refresh's end after WARM_UP refreshes (the first answer's after-effects: the
            # journal's "appeared" events, the collector settling) and spans IDLE refreshes.
            await refreshes_done(app, refreshes_of, WARM_UP, 60 + 10 * WARM_UP)
            await refreshes_done(app, refreshes_of, 1, 60)
            cpu0, wall0, done0 = time.process_time(), time.monotonic(), refreshes_of(app)
            await refreshes_done(app, refreshes_of, IDLE, 60 + 10 * IDLE)
            wall = time.monotonic() - wall0
            result["idle_cpu"] = 100 * (time.process_time() - cpu0) / wall
            result["idle_refreshes"] = refreshes_of(app) - done0
            result["idle_seconds"] = wall
            # Key phase: down every 150 ms for PERIOD seconds while the refreshes go on.
            cpu0, wall0, done0 = time.process_time(), time.monotonic(), refreshes_of(app)
            latencies = []
            while time.monotonic() - wall0 < PERIOD:
                before = cursor_of(table)
                pressed = time.perf_counter()
                press = asyncio.ensure_future(pilot.press("down"))
                while cursor_of(table) == before and time.perf_counter() - pressed < 10:
                    await asyncio.sleep(0.001)
                await next_paint(app)
                latencies.append(time.perf_counter() - pressed)
                await press
                await asyncio.sleep(0.15)
            result["cpu"] = 100 * (time.process_time() - cpu0) / (time.monotonic() - wall0)
            result["refreshes"] = refreshes_of(app) - done0
            result["latencies"] = latencies
            # Measured where the first draw's was: as a refresh ends. Taken at any moment, it
            # caught a refresh in flight now and then (its body, tens of MB at 100,000 tasks,
            # read and not yet freed) and read up to 30 MB high; the peak is its own figure.
            await refreshes_done(app, refreshes_of, 1, 60)
            gc.collect()
            result["rss_end"] = rss_mb()
            result["rss_peak"] = peak_rss_mb()
            result["refreshes_total"] = refreshes_of(app)
        except Exception as error:  # reported, not raised: the parent prints it
            result["error"] = f"{type(error).__name__}: {error}"
        os.write(1, ("RESULT " + json.dumps(result) + "\n").encode())
        app.exit()
    return auto_pilot

if which == "asrtui":
    import asrtui.ui.app as ui_app
    from asrtui.__main__ import main

    def table_of(app):
        tables = app.screen.query("#tasks")
        return tables.first() if tables else None

    import asrtui.ui.refresh as refresh
    counted = [0]
    succeed = refresh.RefreshSchedule.succeed

    def counting(self, *args, **kwargs):
        counted[0] += 1
        return succeed(self, *args, **kwargs)

    refresh.RefreshSchedule.succeed = counting

    def refreshes_of(app):
        return counted[0]

    async def headless(*args, **kwargs):
        app = ui_app.AsrtuiApp(*args, **kwargs)
        await app.run_async(
            headless=True, size=(200, 50),
            auto_pilot=measure(table_of, lambda t: t.cursor_task_id, refreshes_of),
        )
        return 0

    ui_app.run_console_async = headless
    sys.exit(main(["--endpoint", url, "--refresh", "1"]))
else:
    from textual.app import App
    from textual.widgets import DataTable
    from asrtui.client import LiveClient
    from asrtui.credentials import Credentials

    class Stock(App):
        refreshes = 0

        def compose(self):
            yield DataTable(id="tasks")

        async def on_mount(self):
            # The same client, without asrtui's settings (any answer size, a long deadline).
            key = Credentials(
                os.environ["ALIBABA_CLOUD_ACCESS_KEY_ID"],
                os.environ["ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
            )
            self.client = LiveClient(
                lambda: key, url, max_body_bytes=1 << 30, request_timeout=300.0, timeout=120.0
            )
            await self.client.__aenter__()
            table = self.query_one(DataTable)
            table.add_columns("ID", "STATUS", "LANG", "TAG", "STREAM")
            await self.reload()
            self.set_interval(1.0, self.reload)

        async def reload(self):
            tasks = (await self.client.list_tasks()).tasks
            table = self.query_one(DataTable)
            row = table.cursor_row
            table.clear()
            table.add_rows(
                (t.task_id, t.status_label, t.language, t.tag, t.stream_url) for t in tasks
            )
            table.move_cursor(row=row, animate=False)
            self.refreshes += 1

    def table_of(app):
        tables = app.query(DataTable)
        return tables.first() if tables else None

    Stock().run(
        headless=True, size=(200, 50),
        auto_pilot=measure(table_of, lambda t: t.cursor_row, lambda app: app.refreshes),
    )
"""


@dataclass
class Figures:
    """What one console run measured (``error`` set when it failed)."""

    first_row: float = float("nan")
    rss_first: float = float("nan")
    rss_end: float = float("nan")
    rss_peak: float = float("nan")
    idle_cpu: float = float("nan")
    idle_refreshes: int = 0
    idle_seconds: float = float("nan")
    cpu: float = float("nan")
    p50_ms: float = float("nan")
    p99_ms: float = float("nan")
    refreshes: int = 0
    refreshes_total: int = 0
    error: str = ""


@dataclass
class SizeResult:
    """Every figure for one task count."""

    tasks: int
    cli: float = float("nan")
    sdk: float = float("nan")
    cli_cpu: float = float("nan")
    sdk_cpu: float = float("nan")
    cli_error: str = ""
    serve_first: float = float("nan")
    cli_ratios: list[float] = field(default_factory=list)
    serve_last: float = float("nan")
    ours: Figures = field(default_factory=Figures)
    stock: Figures = field(default_factory=Figures)


def _env(home: str) -> dict[str, str]:
    """A child's environment: demo credentials, private HOME/XDG, the repository importable."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ALIBABA_CLOUD_", "ALIBABACLOUD_", "ALICLOUD_", "ASRTUI_"))
    }
    # Bytecode cached, as for an installed package (the SDK's is): a child compiling asrtui's
    # modules on every start would measure the compiler.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        PYTHONPYCACHEPREFIX=f"{home}/pycache",
        ALIBABA_CLOUD_ACCESS_KEY_ID=DEMO_ACCESS_KEY_ID,
        ALIBABA_CLOUD_ACCESS_KEY_SECRET=DEMO_ACCESS_KEY_SECRET,
        HOME=home,
        XDG_CONFIG_HOME=f"{home}/config",
        XDG_STATE_HOME=f"{home}/state",
        XDG_CACHE_HOME=f"{home}/cache",
        XDG_RUNTIME_DIR=f"{home}/run",
        PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    os.makedirs(f"{home}/run", mode=0o700, exist_ok=True)
    return env


@contextmanager
def emulator(tasks: int, env: dict[str, str], *, lively: bool = False) -> Iterator[str]:
    """An emulator with ``tasks`` tasks in its own process; yields its base URL.

    ``lively``: tasks start and end over time and every running task's ``updatedAt`` moves on
    each tick (the demo's emulator), so no answer repeats a task unchanged. A real account
    changes a task when its status changes, far less often: the default keeps every task as
    it is, and ``--lively`` measures the other extreme.
    """
    child = subprocess.Popen(
        [sys.executable, "-c", EMULATOR, str(tasks), "lively" if lively else "still"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError(f"the emulator did not start (got {url!r})")
        yield url
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)


def timed_run(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall and CPU (user + system) seconds of one process with stdout discarded, and its
    error text if it failed. CPU time says what the process itself cost on a machine where
    other work stretches the wall time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(
        argv,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
        check=False,
    )
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    error = ""
    if done.returncode:
        error = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
    return seconds, cpu, error


def warm_bytecode(env: dict[str, str], skip: list[str]) -> None:
    """Run each measured program once, unmeasured, against a small emulator.

    The children keep their bytecode under ``PYTHONPYCACHEPREFIX``, where there is none yet:
    the first child to import a module (standard library and site-packages included, whose
    own caches the prefix hides) compiles it. Unwarmed, the first program measured paid for
    compiling what the ones after it then found ready: asrtui's console, run before the stock
    table, compiled Textual and Rich for both, seconds of its first-row time. The runs have
    a home of their own, so the measured console finds no journal of an earlier session.
    """
    with tempfile.TemporaryDirectory(prefix="asrtui-warm-") as home:
        env = {**_env(home), "PYTHONPYCACHEPREFIX": env["PYTHONPYCACHEPREFIX"]}
        _warm_runs(env, skip)


def _warm_runs(env: dict[str, str], skip: list[str]) -> None:
    with emulator(100, env) as url:
        if "cli" not in skip:
            timed_run(
                [sys.executable, "-m", "asrtui", "tasks", "--format", "json", "--endpoint", url],
                env,
            )
            timed_run([sys.executable, "-c", SDK, url.removeprefix("http://")], env)
        if "console" not in skip:
            for which in ("asrtui", "stock"):
                console_run(which, url, env, 1.0, idle=0, warm_up=0)


def raw_fetch(url: str) -> tuple[float, float]:
    """Seconds from sending a signed ``QueryRtcAsrTasks`` to its first and its last byte.

    The request as the CLI and the SDK send it (RPC-signed, no business parameter but the
    region), written on a plain socket and read in 1 MiB pieces with no parsing: what is left
    is the emulator's time to answer and the loopback's to carry it.
    """
    from datetime import UTC, datetime

    from asrtui.signing import canonical_query, format_timestamp, rpc_signature, rpc_string_to_sign

    host, _, port = url.removeprefix("http://").rpartition(":")
    params = {
        "Action": "QueryRtcAsrTasks",
        "Version": "2016-11-01",
        "Format": "JSON",
        "AccessKeyId": DEMO_ACCESS_KEY_ID,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": secrets.token_hex(16),
        "Timestamp": format_timestamp(datetime.now(UTC)),
        "RegionId": "cn-shanghai",
    }
    params["Signature"] = rpc_signature(DEMO_ACCESS_KEY_SECRET, rpc_string_to_sign("GET", params))
    request = (
        f"GET /?{canonical_query(params)} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port))) as sock:
        started = time.perf_counter()
        sock.sendall(request)
        head = sock.recv(1 << 20)
        first = time.perf_counter() - started
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"the emulator answered {head[:40]!r}")
        while sock.recv(1 << 20):
            pass
        return first, time.perf_counter() - started


def bench_serve(result: SizeResult, url: str, repeats: int) -> None:
    """The emulator's time to serve the listing, medians of ``repeats`` raw fetches."""
    times = [raw_fetch(url) for _ in range(max(repeats, 1))]
    result.serve_first = statistics.median(first for first, _ in times)
    result.serve_last = statistics.median(last for _, last in times)


def bench_cli(result: SizeResult, url: str, env: dict[str, str], repeats: int) -> None:
    """``asrtui tasks --format json`` against the SDK script: ``repeats`` pairs run back to back.

    Each pair's two runs follow each other, the first alternating between the programs; the
    verdict is the median of the pairs' ratios, so that a burst of other work on a shared
    machine weighs on one pair, not on one program's median. The medians of each program's
    wall and CPU times are printed too.
    """
    ours: list[float] = []
    sdk: list[float] = []
    ours_cpu: list[float] = []
    sdk_cpu: list[float] = []
    ratios: list[float] = []
    asrtui = [sys.executable, "-m", "asrtui", "tasks", "--format", "json", "--endpoint", url]
    sdk_argv = [sys.executable, "-c", SDK, url.removeprefix("http://")]
    for repeat in range(repeats):
        pair: dict[str, tuple[float, float, str]] = {}
        for which in ("asrtui", "sdk") if repeat % 2 == 0 else ("sdk", "asrtui"):
            pair[which] = timed_run(asrtui if which == "asrtui" else sdk_argv, env)
        seconds, cpu, error = pair["sdk"]
        if error:
            raise RuntimeError(f"the SDK script failed: {error}")
        sdk.append(seconds)
        sdk_cpu.append(cpu)
        seconds, cpu, error = pair["asrtui"]
        if error:
            result.cli_error = error
        else:
            ours.append(seconds)
            ours_cpu.append(cpu)
            ratios.append(seconds / pair["sdk"][0])
    result.cli = statistics.median(ours) if ours else float("nan")
    result.sdk = statistics.median(sdk)
    result.cli_cpu = statistics.median(ours_cpu) if ours_cpu else float("nan")
    result.sdk_cpu = statistics.median(sdk_cpu)
    result.cli_ratios = ratios


def console_run(
    which: str, url: str, env: dict[str, str], seconds: float, *, idle: int, warm_up: int = WARM_UP
) -> Figures:
    """One console harness run (``asrtui`` or ``stock``): ``warm_up`` refreshes, ``idle``
    refreshes with no key pressed, then ``seconds`` of key presses.

    Each run has a home of its own (the bytecode cache shared): the console measured starts as
    on a first launch, with no journal or remembered view. With one home for every size, the
    console at 100,000 tasks read the journals the runs at 1,000 to 50,000 had written (61,000
    "appeared" events) while drawing its first row. A restart on a full journal is a case of
    its own (slower: the journal is read while the first answer is parsed), not mixed into a
    comparison with a table that keeps none.
    """
    with tempfile.TemporaryDirectory(prefix="asrtui-console-") as home:
        own = {**_env(home), "PYTHONPYCACHEPREFIX": env["PYTHONPYCACHEPREFIX"]}
        launched = time.monotonic()
        argv = [sys.executable, "-c", CONSOLE, which, url, str(seconds), f"{launched:.6f}"]
        done = subprocess.run(
            [*argv, str(idle), str(warm_up)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=own,
            timeout=seconds + 600 + 60 * (idle + warm_up),
            check=False,
        )
    for line in done.stdout.splitlines():
        if "RESULT " in line:
            raw = json.loads(line.split("RESULT ", 1)[1])
            latencies = sorted(raw.get("latencies", []))
            figures = Figures(error=raw.get("error", ""))
            for name in (
                "first_row",
                "rss_first",
                "rss_end",
                "rss_peak",
                "idle_cpu",
                "idle_seconds",
                "cpu",
            ):
                if name in raw:
                    setattr(figures, name, raw[name])
            for name in ("idle_refreshes", "refreshes", "refreshes_total"):
                setattr(figures, name, raw.get(name, 0))
            if latencies:
                figures.p50_ms = 1000 * latencies[len(latencies) // 2]
                figures.p99_ms = (
                    1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
                )
            return figures
    tail = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
    return Figures(error=f"no result: {tail}")


def _ratio(ours: float, theirs: float) -> str:
    if math.isnan(ours) or math.isnan(theirs) or not theirs:
        return "   n/a"
    return f"{ours / theirs:5.2f}x"


def _pair_ratio(r: SizeResult) -> float:
    """The CLI's verdict: the median of its pairs' wall-time ratios (NaN when none ran)."""
    return statistics.median(r.cli_ratios) if r.cli_ratios else float("nan")


def report(results: list[SizeResult], skip: Sequence[str] = ()) -> tuple[list[str], list[str]]:
    """Print the side-by-side table; return the failed targets and the skipped ones.

    A part left out with ``--skip`` prints "skipped" and its targets are skipped, not failed; a
    part that ran and measured nothing (an error) fails.
    """
    failures: list[str] = []
    skipped: list[str] = []

    def row(name: str, ours: float, theirs: float, unit: str, scale: float = 1.0) -> None:
        if math.isnan(ours) and math.isnan(theirs):
            print(f"  {name:<40} {'skipped' if part in skip else 'not measured':>21}")
            return
        print(
            f"  {name:<40} {ours * scale:10.1f} {theirs * scale:10.1f} {unit:<4} "
            f"{_ratio(ours, theirs)}"
        )

    def judge(name: str, target: str, measured: float, ok: bool) -> None:
        if part in skip:
            skipped.append(f"{name} at {n:,} (--skip {part})")
        elif math.isnan(measured) or not ok:
            failures.append(target if not math.isnan(measured) else f"{target}: not measured")

    for r in results:
        n = r.tasks
        print(f"== {r.tasks:,} tasks {'asrtui':>44} {'reference':>10}")
        part = "cli"
        row("CLI json vs SDK", r.cli, r.sdk, "ms", 1000)
        row("  CPU of those processes", r.cli_cpu, r.sdk_cpu, "ms", 1000)
        if r.cli_ratios:
            print(
                f"    pairs run back to back: median ratio {_pair_ratio(r):.2f}x "
                f"(min {min(r.cli_ratios):.2f}x, max {max(r.cli_ratios):.2f}x)"
            )
        if not math.isnan(r.serve_last):
            print(
                f"    of which the emulator serving: {1000 * r.serve_last:.1f} ms (first byte "
                f"{1000 * r.serve_first:.1f} ms), in both programs' time"
            )
        if r.cli_error:
            print(f"    asrtui tasks failed: {r.cli_error}")
        if n in (10_000, 100_000):
            judge(
                "CLI vs SDK",
                f"{n:,}: CLI {_pair_ratio(r):.2f}x the SDK (median of pairs, <= {CLI_RATIO}x)",
                _pair_ratio(r),
                _pair_ratio(r) <= CLI_RATIO,
            )
        part = "console"
        o, s = r.ours, r.stock
        row("first drawn row", o.first_row, s.first_row, "ms", 1000)
        row("RSS after first draw", o.rss_first, s.rss_first, "MB")
        total = f"({o.refreshes_total}/{s.refreshes_total})"
        row(f"RSS after refreshes {total}", o.rss_end, s.rss_end, "MB")
        row("RSS growth", o.rss_end - o.rss_first, s.rss_end - s.rss_first, "MB")
        row("  RSS peak (refreshing; no target)", o.rss_peak, s.rss_peak, "MB")
        idle = f"({o.idle_refreshes}/{s.idle_refreshes} in "
        idle += f"{o.idle_seconds:.0f}/{s.idle_seconds:.0f} s)"
        row(f"refresh CPU, no key {idle}", o.idle_cpu, s.idle_cpu, "%")
        row("key->cursor p50", o.p50_ms, s.p50_ms, "ms")
        row("key->cursor p99", o.p99_ms, s.p99_ms, "ms")
        row(f"CPU refreshing + keys ({o.refreshes}/{s.refreshes})", o.cpu, s.cpu, "%")
        for who, figures in (("asrtui", o), ("stock", s)):
            if figures.error:
                print(f"    {who} console failed: {figures.error}")
        if n == 100_000:
            ratio = o.first_row / s.first_row
            judge(
                "first row vs stock",
                f"{n:,}: first row {_ratio(o.first_row, s.first_row).strip()} "
                f"(<= {FIRST_ROW_RATIO}x)",
                ratio,
                ratio <= FIRST_ROW_RATIO,
            )
        rss = max(o.rss_first / s.rss_first, o.rss_end / s.rss_end)
        judge(
            "RSS vs stock",
            f"{n:,}: RSS {rss:.3f}x the stock table's (<= {RSS_RATIO}x)",
            rss,
            rss <= RSS_RATIO,
        )
        growth = o.rss_end - o.rss_first
        judge(
            "RSS growth",
            f"{n:,}: RSS grew {growth:.1f} MB (<= {RSS_GROWTH_MB})",
            growth,
            growth <= RSS_GROWTH_MB,
        )
        if n >= 50_000:
            judge(
                "key p99",
                f"{n:,}: key p99 {o.p99_ms:.0f} ms (<= {KEY_P99_MS:.0f})",
                o.p99_ms,
                o.p99_ms <= KEY_P99_MS,
            )
        if n == 10_000:
            judge(
                "refresh CPU",
                f"{n:,}: refresh CPU {o.idle_cpu:.1f} % (<= {REFRESH_CPU_PERCENT:.0f} %)",
                o.idle_cpu,
                o.idle_cpu <= REFRESH_CPU_PERCENT,
            )
    return failures, skipped


#: The sizes each target is set at (the others hold at every size run).
TARGET_SIZES: dict[str, tuple[int, ...]] = {
    "CLI vs SDK": (10_000, 100_000),
    "first row vs stock": (100_000,),
    "key p99": (50_000, 100_000),
    "refresh CPU": (10_000,),
}


def unmeasured_sizes(sizes: Sequence[int]) -> list[str]:
    """The targets set at a size this run left out: reported as skipped."""
    return [
        f"{target} at {size:,} (size not run)"
        for target, at in TARGET_SIZES.items()
        for size in at
        if size not in sizes
    ]


def main() -> int:
    """Measure every size, print the table and a PASS/FAIL line per target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), metavar="N")
    parser.add_argument(
        "--quick", action="store_true", help="10 idle refreshes, 15 s of keys, one CLI run each"
    )
    parser.add_argument(
        "--refreshes", type=int, help="seconds of key presses while refreshing (default 60)"
    )
    parser.add_argument(
        "--idle", type=int, help="refreshes measured with no key pressed (default 30, quick 10)"
    )
    parser.add_argument("--repeats", type=int, help="CLI runs per program (default 3)")
    parser.add_argument("--skip", choices=("cli", "console"), action="append", default=[])
    parser.add_argument(
        "--lively",
        action="store_true",
        help="an emulator whose every task changes each second (the demo's), not a still one",
    )
    args = parser.parse_args()
    refreshes = args.refreshes or (15 if args.quick else 60)
    idle = args.idle or (10 if args.quick else 30)
    repeats = args.repeats or (1 if args.quick else 3)
    results: list[SizeResult] = []
    failures: list[str] = []
    skipped: list[str] = []
    with tempfile.TemporaryDirectory(prefix="asrtui-scale-") as home:
        env = _env(home)
        print("-- compiling the children's bytecode (one unmeasured run each) ...", flush=True)
        warm_bytecode(env, args.skip)
        for tasks in args.sizes:
            result = SizeResult(tasks)
            print(f"-- {tasks:,} tasks ...", flush=True)
            with emulator(tasks, env, lively=args.lively) as url:
                # The emulator's first answer of a size is slower (0.36 against 0.09 s at
                # 100,000): whichever part runs first, it meets an emulator already warm.
                raw_fetch(url)
                if "cli" not in args.skip:
                    bench_serve(result, url, repeats)
                    bench_cli(result, url, env, repeats)
                if "console" not in args.skip:
                    result.ours = console_run("asrtui", url, env, refreshes, idle=idle)
                    result.stock = console_run("stock", url, env, refreshes, idle=idle)
            results.append(result)
            failed, left_out = report([result], args.skip)  # each size as soon as it is measured
            failures += failed
            skipped += left_out
    print()
    for target in skipped + unmeasured_sizes(args.sizes):
        print(f"skipped  {target}")
    for failure in failures:
        print(f"FAIL  {failure}")
    if not failures:
        print("PASS  every target measured")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
