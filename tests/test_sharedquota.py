"""Tests of the budget shared between processes: the state file, the gate, and real processes.

Most tests drive `SharedLedger` with explicit clock readings (the ledger never reads a clock
itself), or a `WindowLimiter` on the time-travelling loop of ``test_ratelimit``. Three tests use
real processes (``multiprocessing`` with spawn) because that is what the ledger is for: three
processes saturating one budget, a process killed while it holds the lock, and a child whose
grants must land in the same file.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import multiprocessing
import os
import signal
import stat
import struct
import time
from collections.abc import Iterator
from multiprocessing.synchronize import Barrier, Event
from pathlib import Path

import platformdirs
import pytest

from asrtui import sharedquota
from asrtui.ratelimit import MIN_MARGIN, WindowLimiter, limiter_for, reset_registry
from asrtui.sharedquota import (
    DEFAULT_MARGIN,
    DEFAULT_PACING,
    LOCK_RETRY,
    STUCK_AFTER,
    SharedLedger,
    ledger_dir,
    ledger_path,
)

try:
    import fcntl
except ImportError:  # pragma: no cover
    pytest.skip("sharing a quota needs fcntl", allow_module_level=True)

from tests.support.virtual_loop import max_in_any_window, run_virtual

N = 20
KEY = "FAKE-example-key-id-0001"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    directory = tmp_path / "quota"
    directory.mkdir(mode=0o700)
    return ledger_path(KEY, directory)


def window_only(path: Path, margin: float = 0.0) -> SharedLedger:
    """A ledger that is a plain shared sliding log: no margin, no pacing."""
    return SharedLedger(path, margin=margin, pacing=None)


def grant_all(
    ledger: SharedLedger, now: float, count: int, *, priority: bool = False
) -> list[float]:
    return [ledger.try_grant(now, N, 1.0, priority=priority) for _ in range(count)]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- the file ----------------------------------------------------------------------------------


def test_the_file_is_named_by_a_hash_of_the_key_and_is_private() -> None:
    directory = ledger_dir()
    assert directory == platformdirs.user_runtime_path("asrtui")
    path = ledger_path(KEY)
    assert path.parent == directory
    assert KEY not in path.name
    assert ledger_path(KEY) == path
    assert ledger_path(KEY + "x") != path
    assert SharedLedger(path).try_grant(1.0, N, 1.0) == 0.0
    assert mode(directory) == 0o700
    assert mode(path) == 0o600


def test_a_loose_directory_or_file_is_made_private(tmp_path: Path) -> None:
    directory = tmp_path / "loose"
    directory.mkdir(mode=0o755)
    directory.chmod(0o777)
    ledger = SharedLedger.for_account(KEY, directory=directory)
    assert ledger is not None
    assert mode(directory) == 0o700
    ledger.path.touch()
    ledger.path.chmod(0o644)
    assert ledger.try_grant(1.0, N, 1.0) == 0.0
    assert mode(ledger.path) == 0o600


def test_the_cache_dir_is_used_when_the_runtime_dir_is_unusable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A file where the directory should be: neither directory can be created.
    for name in ("runtime", "cache"):
        (tmp_path / name).mkdir(mode=0o700)
        (tmp_path / name / "asrtui").write_text("")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "runtime"))
    assert ledger_dir() == platformdirs.user_cache_path("asrtui")
    assert ledger_dir().is_dir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert SharedLedger.for_account(KEY) is None  # nowhere safe: each process alone


def test_a_symlinked_state_file_is_refused_and_left_alone(
    path: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    target = tmp_path / "elsewhere"
    target.write_bytes(b"precious")
    path.symlink_to(target)
    ledger = window_only(path)
    with caplog.at_level(logging.WARNING, "asrtui.sharedquota"):
        assert grant_all(ledger, 0.0, 2) == [0.0, 0.0]  # falls back to limiting alone
    assert target.read_bytes() == b"precious"
    assert "not shared" in caplog.text


# --- the window --------------------------------------------------------------------------------


def test_n_grants_pass_then_the_next_waits_for_the_oldest_to_leave(path: Path) -> None:
    ledger = window_only(path)
    assert grant_all(ledger, 0.0, N - 1) == [0.0] * (N - 1)
    assert ledger.try_grant(0.25, N, 1.0) == 0.0
    assert ledger.try_grant(0.5, N, 1.0) == pytest.approx(0.5)
    assert ledger.try_grant(0.999, N, 1.0) == pytest.approx(0.001)
    assert ledger.try_grant(1.0, N, 1.0) == 0.0  # the grants of 0.0 left
    assert ledger.snapshot(1.0).used == 2  # those of 0.25 and 1.0


def test_two_ledgers_on_one_file_share_one_window(path: Path) -> None:
    first, second = window_only(path), window_only(path)
    for _ in range(N // 2):
        assert first.try_grant(0.0, N, 1.0) == 0.0
        assert second.try_grant(0.0, N, 1.0) == 0.0
    assert first.try_grant(0.1, N, 1.0) == pytest.approx(0.9)
    assert second.try_grant(0.1, N, 1.0, priority=True) == pytest.approx(0.9)


def test_the_caller_s_limit_and_window_apply(path: Path) -> None:
    ledger = window_only(path)
    assert [ledger.try_grant(0.0, 5, 2.0) for _ in range(6)][-1] == pytest.approx(2.0)


def test_the_margin_widens_the_window(path: Path) -> None:
    ledger = window_only(path, margin=0.05)
    grant_all(ledger, 0.0, N)
    assert ledger.try_grant(1.0, N, 1.0) == pytest.approx(0.05)
    assert ledger.try_grant(1.05, N, 1.0) == 0.0


# --- pacing and priority -----------------------------------------------------------------------


def test_background_grants_are_paced_and_priority_ones_go_ahead(path: Path) -> None:
    ledger = SharedLedger(path, margin=0.0, pacing=1.0)
    slot = 1.0 / N
    assert ledger.try_grant(0.0, N, 1.0) == 0.0
    # The next background slot is one spacing on; background may take it half a slot early.
    assert ledger.try_grant(0.0, N, 1.0) == pytest.approx(slot * (1 - sharedquota.BACKGROUND_LEAD))
    # Priority requests may run PRIORITY_LEAD slots ahead of the schedule.
    assert grant_all(ledger, 0.0, 2, priority=True) == [0.0, 0.0]
    assert ledger.try_grant(0.0, N, 1.0, priority=True) == pytest.approx(
        slot * (3 - sharedquota.PRIORITY_LEAD)
    )
    # ... and background requests wait behind them.
    assert ledger.try_grant(0.0, N, 1.0) == pytest.approx(slot * (3 - sharedquota.BACKGROUND_LEAD))


def test_paced_saturation_from_three_processes_keeps_the_window_and_the_rate(path: Path) -> None:
    """Three ledgers saturate one file on a simulated clock (each retries when told)."""
    ledgers = [SharedLedger(path, margin=0.02) for _ in range(3)]
    next_try = [0.0, 0.0, 0.0]
    grants: list[float] = []
    while True:
        who = min(range(3), key=next_try.__getitem__)
        now = next_try[who]
        if now >= 20.0:
            break
        delay = ledgers[who].try_grant(now, N, 1.0)
        if delay <= 0:
            grants.append(now)
            delay = 0.001  # the caller sends, then asks again
        next_try[who] = now + delay
    assert max_in_any_window(grants, 1.0) <= N
    steady = [g for g in grants if 1.0 <= g < 20.0]
    rate = len(steady) / 19.0
    assert rate == pytest.approx(N * sharedquota.DEFAULT_PACING / 1.02, rel=0.02)
    # Evenly spread: no gap longer than two slots once the first window is over.
    gaps = [b - a for a, b in itertools.pairwise(steady)]
    assert max(gaps) < 2 * 1.02 / N


def test_a_refused_priority_request_gets_the_next_slot_that_leaves(path: Path) -> None:
    ledger = window_only(path)
    assert [ledger.try_grant(t, 2, 1.0) for t in (0.0, 0.5)] == [0.0, 0.0]
    assert ledger.try_grant(0.6, 2, 1.0, priority=True) == pytest.approx(0.4)
    other = window_only(path)  # another process's background request
    assert other.try_grant(1.0, 2, 1.0) == pytest.approx(0.5)
    assert ledger.try_grant(1.0, 2, 1.0, priority=True) == 0.0
    # Once no priority request waits any more, background requests use the whole window.
    assert other.try_grant(3.0, 2, 1.0) == 0.0
    assert other.try_grant(3.0, 2, 1.0) == 0.0


# --- throttling --------------------------------------------------------------------------------


def test_a_throttled_process_holds_and_slows_the_others(path: Path) -> None:
    throttled, other = window_only(path), window_only(path)
    throttled.report_throttled(10.0, effective_limit=10.0, retry_after=0.5)
    assert other.try_grant(10.1, N, 1.0) == pytest.approx(0.4)
    snap = other.snapshot(10.5)
    assert snap.hold_remaining == 0.0
    assert snap.shared_limit == pytest.approx(10.5)
    # At 10.5 the shared limit is 10.5: ten grants, then wait for the window.
    assert grant_all(other, 10.5, 10) == [0.0] * 10
    assert other.try_grant(10.5, N, 1.0) > 0
    # It regains one call per second: at 15.5 the limit is 15, so 15 pass in a fresh window.
    assert grant_all(other, 15.5, 15) == [0.0] * 15
    assert other.try_grant(15.5, N, 1.0) > 0
    assert other.snapshot(40.0).shared_limit == pytest.approx(40.0)
    assert other.try_grant(40.0, N, 1.0) == 0.0
    assert other.snapshot(40.0).shared_limit == math.inf  # recovered: forgotten


def test_a_throttling_report_made_while_the_lock_is_busy_is_applied_later(path: Path) -> None:
    ledger, other = window_only(path), window_only(path)
    ledger.try_grant(0.0, N, 1.0)
    with holding_lock(path):
        ledger.report_throttled(1.0, effective_limit=5.0, retry_after=2.0)
    assert other.try_grant(1.5, N, 1.0) == 0.0  # not applied yet
    assert ledger.try_grant(1.6, N, 1.0) == pytest.approx(1.4)  # the next lock applies it
    assert other.try_grant(1.7, N, 1.0) == pytest.approx(1.3)


def test_an_answered_grant_holds_its_slot_from_the_answer_for_every_process(path: Path) -> None:
    ledger, other = window_only(path), window_only(path)
    assert grant_all(ledger, 0.0, 2) == [0.0, 0.0]
    ledger.complete(0.0, 0.3)  # one answer came late: the server may have counted it at 0.3
    assert other.snapshot(1.1).used == 1
    assert [other.try_grant(1.1, 2, 1.0), other.try_grant(1.1, 2, 1.0)] == [0.0, pytest.approx(0.2)]
    ledger.complete(5.0, 5.5)  # a grant that already left the file counts again from 5.5
    assert other.snapshot(6.0).used == 1


def test_an_answer_reported_while_the_lock_is_busy_is_applied_later(path: Path) -> None:
    ledger, other = window_only(path), window_only(path)
    assert grant_all(ledger, 0.0, 1) == [0.0]
    with holding_lock(path):
        ledger.complete(0.0, 0.4)
    assert other.snapshot(1.2).used == 0  # not applied yet
    ledger.try_grant(1.2, N, 1.0)  # the next lock applies it
    assert other.snapshot(1.3).used == 2


def test_a_limiter_shares_its_throttling_answers() -> None:
    async def main(directory: Path) -> tuple[float, float]:
        loop = asyncio.get_running_loop()
        ledger_a = SharedLedger(ledger_path(KEY, directory), pacing=None)
        ledger_b = SharedLedger(ledger_path(KEY, directory), pacing=None)
        a = WindowLimiter(N, clock=loop.time, ledger=ledger_a)
        b = WindowLimiter(N, clock=loop.time, ledger=ledger_b)
        await a.acquire()
        a.on_throttled(retry_after=2.0)
        await b.acquire()  # process B was never throttled itself
        held_until = loop.time()
        assert b.effective_limit == N
        return held_until, ledger_b.snapshot(loop.time()).shared_limit

    directory = private_dir()
    held_until, shared = run_virtual(lambda: main(directory))
    assert held_until == pytest.approx(2.0)
    assert shared == pytest.approx(N / 2 + 2.0)


# --- corrupt and foreign files -----------------------------------------------------------------


def valid_bytes(path: Path) -> bytes:
    window_only(path).try_grant(5.0, N, 1.0)
    return path.read_bytes()


@pytest.mark.parametrize(
    "cut",
    [32, 12, 5],
    ids=["as-an-earlier-version-writes-it", "without-the-lane-as-the-last-version", "torn"],
)
def test_a_file_without_the_priority_order_is_read_as_it_is(
    path: Path, cut: int, caplog: pytest.LogCaptureFixture
) -> None:
    # An earlier version writes no trailer (the earliest waiting priority request's time) and
    # the last one no lane trailer (12 bytes after it): processes of all versions share the
    # file; only the order among priority requests, or when one last asked, is lost.
    good = valid_bytes(path)
    path.write_bytes(good[:-cut])
    ledger = window_only(path)
    with caplog.at_level(logging.WARNING, "asrtui.sharedquota"):
        assert ledger.try_grant(5.5, N, 1.0) == 0.0
    assert "reset" not in caplog.text
    assert ledger.snapshot(5.5).used == 2  # the grant before kept


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda good: b"\x00garbage\xff" * 7, id="foreign"),
        # Into the entries: the 32 bytes after them are optional (`_TRAILER`, `_LANE`).
        pytest.param(lambda good: good[:-35], id="truncated"),
        pytest.param(lambda good: good[:20] + bytes([good[20] ^ 0xFF]) + good[21:], id="crc"),
        pytest.param(lambda good: good[:12] + struct.pack("<I", 10**6) + good[16:], id="count"),
        pytest.param(lambda good: b"ASRTQL01", id="magic-only"),
        pytest.param(lambda good: b"{}", id="json"),
    ],
)
def test_a_damaged_file_is_reset_not_a_crash(
    path: Path, damage: object, caplog: pytest.LogCaptureFixture
) -> None:
    assert callable(damage)
    path.write_bytes(damage(valid_bytes(path)))
    ledger = window_only(path)
    with caplog.at_level(logging.WARNING, "asrtui.sharedquota"):
        assert ledger.try_grant(6.0, N, 1.0) == 0.0
    assert "reset" in caplog.text
    assert ledger.snapshot(6.0).used == 1  # rewritten, readable again
    assert ledger.try_grant(6.0, N, 1.0) == 0.0


def test_times_from_an_earlier_boot_reset_the_file(path: Path) -> None:
    # Written at uptime 5,000 s; read after a reboot at uptime 30 s.
    ledger = window_only(path)
    grant_all(ledger, 5000.0, N)
    ledger.report_throttled(5000.0, effective_limit=1.0, retry_after=60.0)
    assert ledger.try_grant(30.0, N, 1.0) == 0.0
    assert ledger.snapshot(30.0) == sharedquota.LedgerSnapshot(1, 0.0, math.inf)


def test_an_empty_file_is_a_fresh_state(path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path.touch(mode=0o600)
    with caplog.at_level(logging.WARNING, "asrtui.sharedquota"):
        assert window_only(path).try_grant(0.0, N, 1.0) == 0.0
    assert caplog.text == ""


# --- the lock ----------------------------------------------------------------------------------


class holding_lock:
    """Hold the state file's lock through a separate open file, as another process would."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd = -1

    def __enter__(self) -> None:
        self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        os.close(self._fd)


def test_a_busy_lock_means_try_again_shortly_never_blocking(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ledger = window_only(path)
    with holding_lock(path):
        assert ledger.try_grant(0.0, N, 1.0) == LOCK_RETRY
        assert ledger.try_grant(STUCK_AFTER / 2, N, 1.0) == LOCK_RETRY
        with caplog.at_level(logging.WARNING, "asrtui.sharedquota"):
            # Locked for longer than any holder needs: the holder is stopped; go alone.
            assert ledger.try_grant(STUCK_AFTER + 0.1, N, 1.0) == 0.0
        assert "stayed locked" in caplog.text
    assert ledger.snapshot(STUCK_AFTER + 0.2).used == 0  # nothing was recorded while locked
    assert ledger.try_grant(STUCK_AFTER + 0.2, N, 1.0) == 0.0
    assert ledger.snapshot(STUCK_AFTER + 0.2).used == 1


# --- the limiter with a ledger -----------------------------------------------------------------


def private_dir() -> Path:
    directory = ledger_dir()
    assert directory.is_dir()
    return directory


def test_two_limiters_sharing_a_ledger_keep_one_window_and_serve_priority_fast() -> None:
    async def main(directory: Path) -> tuple[list[float], list[float]]:
        loop = asyncio.get_running_loop()
        limiters = [
            WindowLimiter(N, clock=loop.time, ledger=SharedLedger(ledger_path(KEY, directory)))
            for _ in range(2)
        ]
        grants: list[float] = []
        waits: list[float] = []

        async def background(limiter: WindowLimiter) -> None:
            while True:
                grant = await limiter.acquire()
                grants.append(loop.time())
                await asyncio.sleep(0.003)  # the request itself
                grant.done()

        async def user(limiter: WindowLimiter, phase: float) -> None:
            await asyncio.sleep(phase)
            while True:
                asked = loop.time()
                await limiter.acquire(priority=True)
                grants.append(loop.time())
                waits.append(loop.time() - asked)
                await asyncio.sleep(0.2)

        tasks = [asyncio.create_task(background(lim)) for lim in limiters for _ in range(5)]
        tasks += [asyncio.create_task(user(lim, 0.05 + 0.07 * i)) for i, lim in enumerate(limiters)]
        await asyncio.sleep(6.0)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return grants, waits

    directory = private_dir()
    grants, waits = run_virtual(lambda: main(directory))
    assert max_in_any_window(grants, 1.0) <= N
    assert len([g for g in grants if 1.0 <= g < 6.0]) >= 0.9 * 5 * N
    assert len(waits) >= 50
    # Never more than two slots of the schedule (the window, the ledger's margin and the
    # limiter's measured one, its least here: every round trip takes 3 ms).
    assert max(waits) <= 2 * (1.0 + DEFAULT_MARGIN + MIN_MARGIN) / (N * DEFAULT_PACING)


def test_limiter_for_shares_only_when_asked() -> None:
    reset_registry()
    try:
        alone = limiter_for("AKIDEXAMPLE-alone")
        assert alone.ledger is None
        shared = limiter_for("AKIDEXAMPLE-shared", shared=True)
        assert shared.ledger is not None
        assert shared.ledger.path == ledger_path("AKIDEXAMPLE-shared")
        # A later shared request of an existing limiter starts sharing; the ledger stays.
        assert limiter_for("AKIDEXAMPLE-alone", shared=True).ledger is not None
        ledger = shared.ledger
        assert limiter_for("AKIDEXAMPLE-shared", shared=True).ledger is ledger
    finally:
        reset_registry()


def test_without_a_ledger_the_limiter_is_unchanged() -> None:
    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        limiter = WindowLimiter(N, clock=loop.time, pacing=None)
        times = []
        for _ in range(N + 1):
            await limiter.acquire()
            times.append(loop.time())
        return times

    assert run_virtual(main) == [0.0] * N + [1.0]


# --- real processes ----------------------------------------------------------------------------


def _saturate(path: str, out: str, seconds: float, barrier: Barrier) -> None:
    """Child: acquire as fast as its own limiter allows for ``seconds``; log grant times."""

    async def main() -> list[float]:
        limiter = WindowLimiter(N, ledger=SharedLedger(Path(path)))
        times: list[float] = []
        deadline = time.monotonic() + seconds

        async def worker() -> None:
            while True:
                await limiter.acquire()
                now = time.monotonic()
                if now >= deadline:
                    return
                times.append(now)

        await asyncio.gather(*(worker() for _ in range(4)))
        return times

    barrier.wait(timeout=60)
    times = asyncio.run(main())
    Path(out).write_text("\n".join(repr(t) for t in times), encoding="utf-8")


def test_three_processes_share_one_budget(path: Path, tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(3)
    outs = [tmp_path / f"grants-{i}.txt" for i in range(3)]
    children = [
        context.Process(target=_saturate, args=(str(path), str(out), 1.5, barrier)) for out in outs
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=60)
        assert child.exitcode == 0
    per_process = [[float(line) for line in out.read_text().split()] for out in outs]
    everything = sorted(t for times in per_process for t in times)
    assert all(per_process)  # every process got some of the budget
    assert max_in_any_window(everything, 1.0) <= N
    # Close to N per second: the first second's N (a little less, paced) plus half a second's.
    assert len(everything) >= 0.85 * 1.5 * N


def _hold_lock_forever(path: str, ready: Event) -> None:
    """Child: take the state file's lock and never let go."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    ready.set()
    while True:
        time.sleep(60)


@pytest.fixture
def lock_holder(path: Path) -> Iterator[multiprocessing.process.BaseProcess]:
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    child = context.Process(target=_hold_lock_forever, args=(str(path), ready), daemon=True)
    child.start()
    try:
        assert ready.wait(timeout=60)
        yield child
    finally:
        if child.is_alive():
            child.kill()
        child.join(timeout=10)


def test_a_process_killed_while_holding_the_lock_stalls_nobody(
    path: Path, lock_holder: multiprocessing.process.BaseProcess
) -> None:
    ledger = SharedLedger(path)
    assert ledger.try_grant(time.monotonic(), N, 1.0) == LOCK_RETRY
    assert lock_holder.pid is not None
    os.kill(lock_holder.pid, signal.SIGKILL)
    lock_holder.join(timeout=10)
    assert lock_holder.exitcode == -signal.SIGKILL

    async def acquire() -> None:
        limiter = WindowLimiter(N, ledger=ledger)
        await asyncio.wait_for(limiter.acquire(), timeout=1.0)

    asyncio.run(acquire())
    assert ledger.snapshot(time.monotonic()).used == 1
