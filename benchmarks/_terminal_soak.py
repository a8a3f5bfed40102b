"""The real-terminal soak: the installed console in tmux against the emulator, in real time.

Used by ``soak.py --terminal``. The console runs as an operator runs it, in a tmux pane of a
private tmux server (its own socket name, no configuration file), with HOME and the XDG
directories pointed at a temporary directory, against ``asrtui emulator`` on a loopback port
(a separate process, as in the case it reproduces: the console's memory is what is measured).
Resident memory and CPU time of the console process are read from ``/proc`` every few seconds;
one line per minute is printed as the run goes.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.tmux import TmuxServer

MIB = 1024 * 1024
#: Target: resident memory may vary by at most this much after the warm-up.
TARGET_SPREAD_MIB = 2.0
#: Seconds between two samples of the console's memory and CPU time.
SAMPLE_SECONDS = 5.0
#: Seconds allowed for the emulator to listen and the console to draw its first table.
START_TIMEOUT = 60.0
#: The status line's task count, "313/313 tasks" (shown/total).
_TASKS = re.compile(r"(\d+)/(\d+) tasks")
_LISTENING = re.compile(r"listening on (http://\S+)")


@dataclass(frozen=True)
class Sample:
    """One reading of the console process."""

    seconds: float
    rss: int
    cpu: float


def installed_asrtui() -> str:
    """The ``asrtui`` console script of this environment, else the one on ``PATH``."""
    beside = Path(sys.executable).parent / "asrtui"
    if os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("asrtui")
    if found is None:
        raise SystemExit("soak: the asrtui console script is not installed (pip install -e .)")
    return found


def rss_of(pid: int) -> int:
    """Resident set size of process ``pid`` in bytes (``VmRSS`` of ``/proc/<pid>/status``)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def cpu_of(pid: int) -> float:
    """User plus system CPU seconds of process ``pid`` (``/proc/<pid>/stat``)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        text = stat.read()
    fields = text[text.rindex(")") + 2 :].split()
    # Fields 14 and 15 of the file (utime, stime); the split starts at field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of ``y`` over ``x``."""
    n = len(points)
    if n < 2:
        return 0.0
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    num = sum((x - mean_x) * (y - mean_y) for x, y in points)
    den = sum((x - mean_x) ** 2 for x, _ in points)
    return num / den if den else 0.0


def _wait_for_url(log: Path, emulator: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        match = _LISTENING.search(log.read_text(encoding="utf-8", errors="replace"))
        if match:
            return match.group(1)
        if emulator.poll() is not None:
            break
        time.sleep(0.2)
    raise RuntimeError(f"the emulator did not start: {log.read_text(errors='replace')[-500:]}")


def _status(tmux: TmuxServer) -> tuple[str, str]:
    """The task count and freshness read from the console's status line."""
    try:
        first = tmux.run("capture-pane", "-p", "-t", "soak", check=False).splitlines()[:1]
    except subprocess.TimeoutExpired:
        return "?", ""
    line = first[0] if first else ""
    match = _TASKS.search(line)
    return (match.group(0).removesuffix(" tasks") if match else "?"), (
        "STALE" if "STALE" in line else ""
    )


def run(
    *,
    minutes: float,
    warmup_minutes: float,
    tasks: int,
    refresh: float,
    lively: bool,
    seed: int,
    size: tuple[int, int],
) -> int:
    """Run the soak; print the curve and the verdict; 0 when the target is met."""
    tmux_exe = shutil.which("tmux")
    if tmux_exe is None:
        print("soak: --terminal needs tmux (apt install tmux)", file=sys.stderr)
        return 2
    asrtui = installed_asrtui()
    # A private server: its own socket, no configuration file, killed at the end.
    tmux = TmuxServer(tmux_exe, f"asrtui-soak-{os.getpid()}", Path("/dev/null"))
    emulator: subprocess.Popen[bytes] | None = None
    with tempfile.TemporaryDirectory(prefix="asrtui-soak-") as tmp:
        home = Path(tmp)
        user_dirs = {
            "HOME": home,
            "XDG_CONFIG_HOME": home / "config",
            "XDG_CACHE_HOME": home / "cache",
            "XDG_STATE_HOME": home / "state",
            "XDG_DATA_HOME": home / "data",
            "XDG_RUNTIME_DIR": home / "runtime",
        }
        for path in user_dirs.values():
            path.mkdir(mode=0o700, exist_ok=True)
        env = {name: str(path) for name, path in user_dirs.items()}
        env.update(PATH=os.environ.get("PATH", "/usr/bin:/bin"), LC_ALL="C.UTF-8")
        log = home / "emulator.log"
        try:
            emulator_argv = [asrtui, "emulator", "--port", "0", "--tasks", str(tasks)]
            emulator_argv += ["--seed", str(seed), *(["--lively"] if lively else [])]
            with log.open("wb") as out:
                emulator = subprocess.Popen(
                    emulator_argv,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env={**os.environ, **env},
                )
            url = _wait_for_url(log, emulator)
            console_env = {
                **env,
                "ALIBABA_CLOUD_ACCESS_KEY_ID": "asrtui-demo-key",
                "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "asrtui-demo-secret-not-real",
            }
            console = ["env", *(f"{k}={v}" for k, v in console_env.items())]
            console += [asrtui, "--endpoint", url, "--refresh", f"{refresh:g}"]
            width, height = size
            tmux.run(
                "new-session", "-d", "-s", "soak", "-x", str(width), "-y", str(height),
                "exec " + shlex.join(console),
            )  # fmt: skip
            pid = int(tmux.run("display-message", "-p", "-t", "soak", "#{pane_pid}").strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            if b"asrtui" not in cmdline:
                raise RuntimeError(f"the pane runs {cmdline!r}, not the console")
            deadline = time.monotonic() + START_TIMEOUT
            while _status(tmux)[0] == "?":
                if time.monotonic() > deadline:
                    raise RuntimeError("the console drew no task table within a minute")
                time.sleep(0.5)
            return _measure(
                tmux,
                pid,
                emulator.pid,
                minutes=minutes,
                warmup_minutes=warmup_minutes,
                tasks=tasks,
                refresh=refresh,
                lively=lively,
                size=size,
            )
        finally:
            tmux.kill()
            if emulator is not None:
                emulator.terminate()
                try:
                    emulator.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    emulator.kill()


def _measure(
    tmux: TmuxServer,
    pid: int,
    emulator_pid: int,
    *,
    minutes: float,
    warmup_minutes: float,
    tasks: int,
    refresh: float,
    lively: bool,
    size: tuple[int, int],
) -> int:
    width, height = size
    print(
        f"console pid {pid} in tmux {width}x{height}, refresh {refresh:g} s, "
        f"{tasks} tasks{' (lively)' if lively else ''}, {minutes:g} min "
        f"(warm-up {warmup_minutes:g} min)"
    )
    print("   min   console rss   cpu (1 core)   tasks shown/total   emulator rss")
    start = time.monotonic()
    samples: list[Sample] = []
    stale_minutes = 0
    next_line = 60.0
    last_line = (0.0, cpu_of(pid))
    end = minutes * 60.0
    while True:
        elapsed = time.monotonic() - start
        if not Path(f"/proc/{pid}").exists():
            print("FAIL: the console ended during the run")
            return 1
        samples.append(Sample(elapsed, rss_of(pid), cpu_of(pid)))
        if elapsed >= next_line or elapsed >= end:
            sample = samples[-1]
            share = (sample.cpu - last_line[1]) / max(elapsed - last_line[0], 1e-9) * 100
            last_line = (elapsed, sample.cpu)
            shown, stale = _status(tmux)
            stale_minutes += bool(stale)
            print(
                f"  {elapsed / 60:4.1f}   {sample.rss / MIB:7.1f} MiB   {share:6.1f} %"
                f"        {shown:>9}          {rss_of(emulator_pid) / MIB:6.1f} MiB  {stale}",
                flush=True,
            )
            next_line += 60.0
        if elapsed >= end:
            break
        time.sleep(min(SAMPLE_SECONDS, max(0.0, min(next_line, end) - elapsed)))
    warm = warmup_minutes * 60.0
    after = [s for s in samples if s.seconds >= warm]
    if len(after) < 2:
        print("FAIL: the run is too short to measure after the warm-up")
        return 1
    rss_after = [s.rss for s in after]
    spread = (max(rss_after) - min(rss_after)) / MIB
    per_hour = slope([(s.seconds, float(s.rss)) for s in after]) * 3600 / MIB
    span = after[-1].seconds - after[0].seconds
    cpu_share = (after[-1].cpu - after[0].cpu) / span * 100 if span else 0.0
    first = samples[0]
    print()
    print(
        f"rss: first sample {first.rss / MIB:.1f} MiB, at the end of the warm-up "
        f"{after[0].rss / MIB:.1f} MiB, at the end {after[-1].rss / MIB:.1f} MiB"
    )
    print(
        f"rss after the warm-up ({span / 60:.0f} min): min {min(rss_after) / MIB:.1f} MiB, "
        f"max {max(rss_after) / MIB:.1f} MiB, max-min {spread:.2f} MiB, "
        f"slope {per_hour:+.2f} MiB per hour"
    )
    print(
        f"cpu after the warm-up: {cpu_share:.1f} % of one core on average; "
        f"minutes with the status line STALE: {stale_minutes}"
    )
    ok = spread <= TARGET_SPREAD_MIB
    print(f"{'PASS' if ok else 'FAIL'}: rss max-min after the warm-up <= {TARGET_SPREAD_MIB:g} MiB")
    return 0 if ok else 1
