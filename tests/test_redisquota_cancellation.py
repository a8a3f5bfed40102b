"""A refresh cancelled while its grant is asked of Redis ends at once, whatever Redis does.

The class: an await on Redis that swallows its caller's cancellation or outlives its deadline.
A swallowed cancellation leaves a refresh loop running after the console quit or switched
profiles (a benchmark's worker hung on one for a minute); an unbounded await holds up a
refresh or the end of a session. Against a real redis-server: cancellations at every point of
a grant's calls (a sweep over the event loop's turns, where the swallowing one was a single
turn), and a Redis that accepts connections and never answers (stopped with SIGSTOP).
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from asrtui.ratelimit import WindowLimiter
from asrtui.redisquota import OP_TIMEOUT, RedisQuota
from asrtui.sharedquota import SharedLedger, ledger_path
from tests.support.redis_server import RedisServer

KEY = "AKIDEXAMPLECANCELLED"
#: Event loop turns after which the sweep cancels a grant: a grant through Redis takes about
#: ten of them, so this covers every point of a dozen calls.
TURNS = 160
#: Grants a cancelled refresh loop would take before ending by itself.
LOOP_BOUND = 200
#: Generous bound on "at once" for a loaded machine: the deadline is `OP_TIMEOUT`.
PROMPTLY = OP_TIMEOUT * 8
#: Sweeps of one point at most, when Redis was away during the first (see the test).
ATTEMPTS = 5


def host_ledger(directory: Path) -> SharedLedger:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return SharedLedger(ledger_path(KEY, directory))


async def test_a_grant_cancelled_at_any_point_of_its_redis_call_ends_cancelled(
    redis: RedisServer, tmp_path: Path
) -> None:
    outages: list[str] = []  # each change of where the budget is kept (Redis away, back)
    shared = asyncio.Event()  # set while Redis keeps the budget
    shared.set()

    def changed(where: str, degraded: str) -> None:
        outages.append(f"{where} {degraded}".strip())
        if degraded:
            shared.clear()
        else:
            shared.set()

    quota = RedisQuota(
        redis.url,
        KEY,
        fallback=host_ledger(tmp_path / "host"),
        pacing=None,
        on_change=changed,
    )
    # A limit high enough that the loop below is always asking Redis, never sleeping.
    limiter = WindowLimiter(100_000, ledger=quota, pacing=None)
    returned = 0

    async def refresh_loop() -> None:
        """Like the console's refresh worker, which ends only when cancelled; bounded here, so
        that a swallowed cancellation shows as a loop that ended by itself, not as a hang."""
        nonlocal returned
        for _ in range(LOOP_BOUND):
            grant = await limiter.acquire(priority=True)
            returned += 1
            await asyncio.sleep(0)  # the request the grant was for (a refresh sends one)
            grant.done()

    async def cancelled_after(turns: int) -> str:
        """Cancel a refresh loop after ``turns`` turns; how it ended ("" when cancelled)."""
        task = asyncio.create_task(refresh_loop())
        for _ in range(turns):
            await asyncio.sleep(0)
        task.cancel()
        done, _ = await asyncio.wait((task,), timeout=PROMPTLY)
        if not done:
            await asyncio.wait((task,), timeout=PROMPTLY * 10)
            return f"{turns}: still running {PROMPTLY:g} s after its cancellation"
        if not task.cancelled():
            return f"{turns}: ended by itself"
        return ""

    lost: list[str] = []
    unserved: list[int] = []
    try:
        (await limiter.acquire()).done()  # connected
        for turns in range(TURNS):
            # A loaded machine can keep a call past `OP_TIMEOUT`: the quota then falls back to
            # the host ledger until its probe finds Redis again, and a point swept meanwhile did
            # not test a Redis call; it is swept again.
            for _attempt in range(ATTEMPTS):
                changes = len(outages)
                outcome = await cancelled_after(turns)
                if outcome:
                    lost.append(outcome)
                if len(outages) == changes and not quota.degraded:
                    break
                # The probe (every `PROBE_EVERY` s) finds Redis again.
                await asyncio.wait_for(shared.wait(), PROMPTLY * 10)
            else:
                unserved.append(turns)
    finally:
        await quota.aclose()
    assert lost == [], f"cancellation swallowed: {lost}"
    assert unserved == [], f"never swept through Redis (away: {outages}): {unserved}"
    # A grant cancelled while Redis was asked gave its local slot back: every slot counted
    # here went to a caller (the one at the start included).
    assert limiter.stats().granted_total == returned + 1


async def test_a_redis_that_never_answers_holds_nothing_up(
    redis: RedisServer, tmp_path: Path
) -> None:
    quota = RedisQuota(redis.url, KEY, fallback=host_ledger(tmp_path / "host"))
    limiter = WindowLimiter(20, ledger=quota)
    (await limiter.acquire()).done()  # connected, through Redis
    assert quota.where == "redis"
    process = redis._process
    assert process is not None
    os.kill(process.pid, signal.SIGSTOP)  # accepts (the kernel does), never answers
    try:
        # A grant asked now is cancelled while Redis is silent: it ends at once.
        task = asyncio.create_task(limiter.acquire(priority=True))
        await asyncio.sleep(OP_TIMEOUT / 5)
        assert not task.done()
        task.cancel()
        done, _ = await asyncio.wait((task,), timeout=PROMPTLY)
        assert done
        assert task.cancelled()
        # The next one runs out of Redis's deadline and is granted by the host ledger.
        async with asyncio.timeout(PROMPTLY):
            grant = await limiter.acquire(priority=True)
        grant.done()
        assert quota.degraded
        assert quota.where == "host"
        # Closing the session does not wait for Redis either (the probe is running).
        async with asyncio.timeout(PROMPTLY):
            await quota.aclose()
    finally:
        os.kill(process.pid, signal.SIGCONT)
