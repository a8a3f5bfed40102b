"""The quota shared across hosts through Redis (`asrtui.redisquota`), against a real redis-server.

"Hosts" are processes with runtime directories of their own (so their host ledgers never
meet) that share nothing but the Redis URL; the judge is the emulator on a loopback socket,
counting what it accepts. Redis's outage is a real one: the server is stopped mid-run and
started again on the same port.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import time
from collections.abc import Callable, Iterator
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asrtui.errors import ConfigError
from asrtui.quotaurl import check_url, display_url, url_password
from asrtui.ratelimit import WindowLimiter
from asrtui.redisquota import (
    OP_TIMEOUT,
    PROBE_EVERY,
    RedisQuota,
    redis_keys,
)
from asrtui.sharedquota import (
    DEFAULT_MARGIN,
    PRIORITY_SHARE,
    QuotaLedger,
    SharedLedger,
    ledger_path,
)
from tests.support.redis_server import RedisServer, free_port, redis_server
from tests.support.virtual_loop import max_in_any_window

KEY = "AKIDEXAMPLEREDISQUOTA"
N = 20


def host_ledger(directory: Path) -> SharedLedger:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return SharedLedger(ledger_path(KEY, directory))


# --- the URL is a secret --------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "redis://localhost",
        "redis://:pw@10.0.0.5:6380/2",
        "rediss://user:pw@redis.example:6379",
        "redis://[::1]:6379/0",
    ],
)
def test_a_redis_url_is_accepted(url: str) -> None:
    assert check_url(f"  {url} ") == url


@pytest.mark.parametrize(
    "url",
    [
        "http://redis.example",
        "redis://",
        "redis://:secretpw@host:notaport",
        "redis://:secretpw@host/zero",
        "unix:///tmp/redis.sock",
        "secretpw",
    ],
)
def test_a_bad_url_is_refused_without_quoting_it(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        check_url(url)
    assert "secretpw" not in str(caught.value)
    assert caught.value.hint


@given(password=st.text(st.characters(codec="ascii", exclude_characters="/?#@[]"), min_size=4))
def test_display_url_never_shows_the_password(password: str) -> None:
    from urllib.parse import quote

    url = f"redis://user:{quote(password, safe='')}@redis.example:6379/0"
    shown = display_url(url)
    assert url_password(url) == password
    assert shown == "redis://user:****@redis.example:6379/0"


def test_the_keys_are_a_hash_of_the_key_id() -> None:
    keys = redis_keys(KEY)
    assert all(KEY not in key and KEY.lower() not in key for key in keys)
    assert redis_keys(KEY) == keys != redis_keys(KEY + "2")


def test_both_ledgers_keep_one_protocol(tmp_path: Path) -> None:
    assert isinstance(host_ledger(tmp_path / "host"), QuotaLedger)
    assert isinstance(RedisQuota("redis://127.0.0.1:1", KEY), QuotaLedger)


# --- Redis unreachable: at once to the host ledger ------------------------------------------


async def test_an_unreachable_redis_falls_back_at_once_and_hides_the_password(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pytest.importorskip("redis")
    changes: list[tuple[str, str]] = []
    url = f"redis://:hunter2-secret@127.0.0.1:{free_port()}/0"
    quota = RedisQuota(
        url, KEY, fallback=host_ledger(tmp_path / "host"), on_change=lambda *c: changes.append(c)
    )
    limiter = WindowLimiter(N, ledger=quota)
    caplog.set_level(logging.INFO)
    try:
        started = time.monotonic()
        await limiter.acquire(priority=True)
        assert time.monotonic() - started < OP_TIMEOUT + 1.0
        assert quota.where == "host"
        assert quota.degraded == "Redis unreachable"
        assert changes == [("host", "Redis unreachable")]
        # The host ledger counted it.
        assert host_ledger(tmp_path / "host").snapshot(time.monotonic()).used == 1
    finally:
        await quota.aclose()
    shown = caplog.text + repr(quota) + repr(limiter) + quota.url
    assert "hunter2" not in shown
    assert "redis://:****@127.0.0.1" in caplog.text


# --- a real Redis ---------------------------------------------------------------------------


async def test_two_quotas_on_one_redis_share_one_window(redis: RedisServer, tmp_path: Path) -> None:
    quotas = [
        RedisQuota(redis.url, KEY, fallback=host_ledger(tmp_path / f"host-{i}")) for i in range(2)
    ]
    limiters = [WindowLimiter(N, ledger=quota) for quota in quotas]
    grants: list[float] = []

    async def spend(limiter: WindowLimiter) -> None:
        while True:
            grant = await limiter.acquire()
            grants.append(time.monotonic())
            grant.done()

    tasks = [asyncio.create_task(spend(limiter)) for limiter in limiters for _ in range(3)]
    await asyncio.sleep(2.5)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for quota in quotas:
        assert quota.where == "redis", quota.degraded
        await quota.aclose()
    # One window for both, though each alone would allow 20 a second.
    assert max_in_any_window(grants, 1.0) <= N
    assert len(grants) >= N  # and the budget was used


def _host(url: str, runtime: str, target: str, seconds: float, barrier: Barrier) -> None:
    """Child "host": its own runtime dir, the Redis URL, a client saturating the emulator."""
    import faulthandler
    import os

    # A host that hangs says where before the parent gives up on it.
    faulthandler.dump_traceback_later(35, exit=True)
    os.environ["XDG_RUNTIME_DIR"] = runtime

    async def main() -> None:
        from asrtui.client import LiveClient
        from asrtui.credentials import Credentials
        from asrtui.sharedquota import SharedLedger

        quota = RedisQuota(url, KEY, fallback=SharedLedger.for_account(KEY))
        client = LiveClient(
            lambda: Credentials(KEY, "redis-quota-secret-not-real"),
            target,
            limiter=WindowLimiter(N, ledger=quota),
        )
        async with client:
            await asyncio.to_thread(barrier.wait, 60)

            end = time.monotonic() + seconds

            async def spend() -> None:
                # Ends by itself at the deadline: the run does not depend on a cancellation
                # reaching a request in flight (Python 3.11's asyncio.timeout can turn one that
                # meets its own deadline into a TimeoutError).
                while time.monotonic() < end:
                    await client.list_tasks()

            tasks = [asyncio.create_task(spend()) for _ in range(6)]
            await asyncio.wait(tasks, timeout=seconds + 10)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        await quota.aclose()

    asyncio.run(main())


def test_two_hosts_share_one_quota_through_redis_only(redis: RedisServer, tmp_path: Path) -> None:
    pytest.importorskip("uvicorn")
    from asrtui.emulator import build_emulator
    from asrtui.emulator.server import running_server

    app = build_emulator(
        seed=3, tasks=3, credentials={KEY: "redis-quota-secret-not-real"}, limit=N, jitter=0.02
    )
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(3)
    runtimes = []
    for i in range(2):
        runtime = tmp_path / f"runtime-{i}"
        runtime.mkdir(mode=0o700)
        runtimes.append(str(runtime))
    with running_server(app) as target:
        hosts = [
            context.Process(target=_host, args=(redis.url, runtime, target, 3.0, barrier))
            for runtime in runtimes
        ]
        for host in hosts:
            host.start()
        try:
            barrier.wait(timeout=60)  # a host that died before the start breaks it
            started = time.monotonic()
            for host in hosts:
                host.join(timeout=40)
                assert host.exitcode == 0
        finally:
            for host in hosts:
                if host.is_alive():
                    host.kill()
                    host.join()
    # Each host used a ledger of its own, and never saw the other's.
    assert all(list((Path(r) / "asrtui").iterdir()) for r in runtimes)
    # Together they never went over the limit at the server, and were never throttled.
    assert app.stats.throttled == 0
    assert app.stats.max_in_any_window(KEY) <= N
    accepted = [t for t in app.stats.accepted_times.get(KEY, ()) if t >= started]
    assert len(accepted) >= N  # the budget was used (loosely: the machine is busy)


async def test_a_redis_outage_mid_run_falls_back_and_sharing_resumes(
    redis: RedisServer, tmp_path: Path
) -> None:
    changes: list[tuple[str, str]] = []
    quota = RedisQuota(
        redis.url,
        KEY,
        fallback=host_ledger(tmp_path / "host"),
        on_change=lambda *change: changes.append(change),
    )
    limiter = WindowLimiter(N, ledger=quota)
    grants: list[float] = []
    longest = 0.0

    async def spend() -> None:
        nonlocal longest
        while True:
            asked = time.monotonic()
            grant = await limiter.acquire()
            now = time.monotonic()
            longest = max(longest, now - asked)
            grants.append(now)
            grant.done()

    async def wait_until(condition: Callable[[], object], what: str, within: float) -> None:
        deadline = time.monotonic() + within
        while not condition():
            assert time.monotonic() < deadline, f"{what} within {within} s"
            await asyncio.sleep(0.02)

    tasks = [asyncio.create_task(spend()) for _ in range(4)]
    try:
        await wait_until(lambda: len(grants) >= 10, "grants through Redis", 10)
        assert quota.where == "redis"
        redis.stop()
        await wait_until(lambda: quota.degraded, "the fall-back", 10)
        assert quota.where == "host"
        during = len(grants)
        await wait_until(lambda: len(grants) >= during + 10, "grants on the host ledger", 10)
        redis.start()
        await wait_until(lambda: quota.where == "redis", "sharing again", 10 * PROBE_EVERY)
        after = len(grants)
        await wait_until(lambda: len(grants) >= after + 10, "grants through Redis again", 10)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await quota.aclose()
    assert quota.where == "redis"
    assert changes[0] == ("host", "Redis unreachable") or changes[0][0] == "host"
    assert changes[-1] == ("redis", "")
    # Nobody waited for Redis longer than one deadline beyond the schedule's own pace.
    assert longest < OP_TIMEOUT + 1.0, longest
    # The quota held all along, Redis or not: this host never went over it.
    assert max_in_any_window(grants, 1.0) <= N


# --- one protocol, one behaviour: the host ledger and Redis side by side --------------------


@pytest.fixture(params=["host", "redis"])
def two_users(
    request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[QuotaLedger, QuotaLedger]]:
    """Two users of one account's budget: two processes of a host, or two hosts on Redis."""
    if request.param == "host":
        yield host_ledger(tmp_path / "host"), host_ledger(tmp_path / "host")
        return
    for server in redis_server(tmp_path_factory.mktemp("redis")):
        # No host ledger to fall back on: a fall-back would hide a Redis failure here.
        yield RedisQuota(server.url, KEY), RedisQuota(server.url, KEY)


async def grant(ledger: QuotaLedger, capacity: int, *, priority: bool = False) -> float:
    return await ledger.reserve(time.monotonic(), capacity, 1.0, priority=priority)


async def granted(ledger: QuotaLedger, capacity: int, *, priority: bool = False) -> None:
    """Ask until granted, waiting as long as the ledger says each time."""
    for _ in range(100):
        delay = await grant(ledger, capacity, priority=priority)
        if delay <= 0:
            return
        await asyncio.sleep(delay)
    pytest.fail("never granted")


async def test_both_ledgers_keep_one_window_between_their_users(
    two_users: tuple[QuotaLedger, QuotaLedger],
) -> None:
    first, second = two_users
    await granted(first, 2)
    await granted(second, 2)
    # Two in the window: the next waits for the first to leave it, whoever asks.
    refused = await grant(first, 2, priority=True)
    assert 0.4 < refused <= 1.0 + DEFAULT_MARGIN
    assert first.where == second.where != ""


async def test_both_ledgers_let_priority_ahead_of_the_schedule_within_its_share(
    two_users: tuple[QuotaLedger, QuotaLedger],
) -> None:
    # A long window (4 s for 4 grants: a slot a second) so that a busy machine's delays are
    # small beside the schedule; the priority share is then 2 grants.
    first, second = two_users

    async def ask(ledger: QuotaLedger, *, priority: bool) -> float:
        return await ledger.reserve(time.monotonic(), 4, 4.0, priority=priority)

    assert PRIORITY_SHARE * 4 == 2
    assert await ask(first, priority=False) == 0
    # A background request right after waits for its slot; a priority one goes ahead...
    assert await ask(second, priority=False) > 0
    assert await ask(second, priority=True) == 0
    assert await ask(first, priority=True) == 0
    # ... until priority requests had their share of the window: then, half a slot later
    # (when a priority request within its share would go ahead again), they wait their slot.
    await asyncio.sleep(0.6)
    assert await ask(second, priority=True) > 0
    assert first.degraded == second.degraded == ""


async def test_both_ledgers_share_a_throttling_answer(
    two_users: tuple[QuotaLedger, QuotaLedger],
) -> None:
    first, second = two_users
    first.report_throttled(time.monotonic(), 5.0, retry_after=0.6)
    await asyncio.sleep(0.05)  # Redis is told off the request path
    held = await grant(second, N, priority=True)
    assert 0.3 < held <= 0.6


async def test_both_ledgers_count_an_answered_grant_from_its_answer(
    two_users: tuple[QuotaLedger, QuotaLedger],
) -> None:
    first, second = two_users
    granted_at = time.monotonic()
    assert await first.reserve(granted_at, 1, 1.0, priority=True) == 0
    await asyncio.sleep(0.3)
    first.complete(granted_at, time.monotonic())
    await asyncio.sleep(0.05)
    # Held a window from the answer, not from the grant.
    assert await grant(second, 1, priority=True) > 0.8


@pytest.fixture(params=["host", "redis"])
def two_unpaced_users(
    request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[QuotaLedger, QuotaLedger]]:
    """`two_users` without the pacing schedule: only the window and the priority order act."""
    if request.param == "host":
        (tmp_path / "host").mkdir(mode=0o700)
        path = ledger_path(KEY, tmp_path / "host")
        yield SharedLedger(path, pacing=None), SharedLedger(path, pacing=None)
        return
    for server in redis_server(tmp_path_factory.mktemp("redis")):
        yield RedisQuota(server.url, KEY, pacing=None), RedisQuota(server.url, KEY, pacing=None)


async def test_both_ledgers_give_the_next_place_to_the_priority_request_that_asked_first(
    two_unpaced_users: tuple[QuotaLedger, QuotaLedger],
) -> None:
    first, second = two_unpaced_users

    async def ask(ledger: QuotaLedger, since: float) -> float:
        return await ledger.reserve(time.monotonic(), 4, 1.0, priority=True, since=since)

    # One grant, then three more 0.2 s later: the first place frees well before the others.
    assert await first.reserve(time.monotonic(), 4, 1.0) == 0
    await asyncio.sleep(0.2)
    for _ in range(3):
        assert await first.reserve(time.monotonic(), 4, 1.0) == 0
    # The window is full: a priority request of one user asks, then one of the other.
    earlier = time.monotonic()
    wait = await ask(second, earlier)
    assert wait > 0
    later = time.monotonic() + 0.05
    assert await ask(first, later) > 0
    await asyncio.sleep(wait + 0.02)  # the first place is free now
    # The one that asked later finds it kept for the one that asked first...
    assert await ask(first, later) > 0
    assert await ask(second, earlier) == 0
    # ... which, served, hands the turn on.
    await asyncio.sleep(await ask(first, later) + 0.02)
    assert await ask(first, later) == 0


async def test_a_priority_request_is_never_held_back_by_its_own_turn_on_redis(
    redis: RedisServer,
) -> None:
    # On Redis the time a request asked is told as "this long ago", so it moves with each
    # try's delay on the way; a try 20 ms slower than the first still finds its own turn.
    first, second = RedisQuota(redis.url, KEY, pacing=None), RedisQuota(redis.url, KEY, pacing=None)
    assert await first.reserve(time.monotonic(), 4, 1.0) == 0
    await asyncio.sleep(0.2)
    for _ in range(3):
        assert await first.reserve(time.monotonic(), 4, 1.0) == 0
    asked = time.monotonic()
    wait = await second.reserve(asked, 4, 1.0, priority=True, since=asked)
    assert wait > 0
    await asyncio.sleep(wait + 0.02)
    slower = time.monotonic() - 0.02  # as if this try had spent 20 ms more on the way
    assert await second.reserve(slower, 4, 1.0, priority=True, since=asked) == 0
    await first.aclose()
    await second.aclose()


class _RecordingLedger(SharedLedger):
    """The host ledger, noting when each priority request said it asked."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, pacing=None)
        self.asked: list[float | None] = []

    async def reserve(
        self,
        now: float,
        capacity: int,
        window: float,
        *,
        priority: bool = False,
        spread: float = 0.0,
        since: float | None = None,
    ) -> float:
        if priority:
            self.asked.append(since)
        return await super().reserve(
            now, capacity, window, priority=priority, spread=spread, since=since
        )


async def test_a_priority_request_tells_the_ledger_one_time_it_asked_over_all_its_tries(
    tmp_path: Path,
) -> None:
    # Another process filled the window; this one's priority request is refused at once (its
    # first try, before it queues), then tries again: the ledgers know it by that one time.
    (tmp_path / "host").mkdir(mode=0o700)
    path = ledger_path(KEY, tmp_path / "host")
    assert SharedLedger(path, pacing=None).try_grant(time.monotonic(), 2, 0.3) == 0
    assert SharedLedger(path, pacing=None).try_grant(time.monotonic(), 2, 0.3) == 0
    ledger = _RecordingLedger(path)
    limiter = WindowLimiter(2, 0.3, ledger=ledger, pacing=None)
    (await limiter.acquire(priority=True)).done()
    assert len(ledger.asked) >= 2
    assert len(set(ledger.asked)) == 1


async def test_both_ledgers_end_the_turn_of_a_priority_request_that_never_comes_back(
    two_unpaced_users: tuple[QuotaLedger, QuotaLedger],
) -> None:
    first, second = two_unpaced_users
    # One grant, then three more 0.6 s later: one place frees a window after the start, the
    # others 0.6 s after that.
    start = time.monotonic()
    assert await first.reserve(start, 4, 1.0) == 0
    await asyncio.sleep(0.6)
    for _ in range(3):
        assert await first.reserve(time.monotonic(), 4, 1.0) == 0
    # A priority request is refused and never comes back (its console quit).
    gone = time.monotonic()
    assert await second.reserve(gone, 4, 1.0, priority=True, since=gone) > 0
    # A later one keeps asking: it waits for that turn to end (the other's comeback, a
    # quarter of a second after the place freed), not for the next place 0.6 s later,
    # although its own refusals keep the window's mark on.
    later = time.monotonic() + 0.05
    for _ in range(100):
        if await first.reserve(time.monotonic(), 4, 1.0, priority=True, since=later) <= 0:
            break
        await asyncio.sleep(0.03)
    else:
        pytest.fail("never granted")
    assert time.monotonic() - start < 1.0 + DEFAULT_MARGIN + 0.45
