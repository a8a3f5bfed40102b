"""The priority lane: the window's last places kept for user actions while an operator is at work.

One rule (`asrtui.quotaledger.PriorityLane`), applied by three windows: the in-process limiter
(on a virtual loop), the host ledger's file and the Redis script (side by side, real files and
a real redis-server, each "user" a ledger of its own as two processes or two hosts are). The
class: a background grant taking a place the lane keeps, a lane kept with nobody at the keys,
and a background request sleeping past the moment the lane is given back.
"""

from __future__ import annotations

import asyncio
import functools
import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asrtui.quotaledger import (
    BACKGROUND_LEAD,
    PRIORITY_LANE,
    PRIORITY_LANE_HOLD,
    PRIORITY_ROOM,
    PRIORITY_SHARE,
    PriorityLane,
)
from asrtui.ratelimit import DEFAULT_PACING, WindowLimiter
from asrtui.redisquota import RedisQuota
from asrtui.sharedquota import DEFAULT_MARGIN, QuotaLedger, SharedLedger, ledger_path
from tests.support.redis_server import redis_server
from tests.support.virtual_loop import VirtualLoop, run_virtual

KEY = "AKIDEXAMPLEPRIORITYLANE"
N = 20


# --- the rule ----------------------------------------------------------------------------------


@given(
    capacity=st.integers(1, 40),
    places=st.integers(0, 5),
    # Quarter seconds: exact in binary, so that "asked within the hold" has one answer.
    hold=st.integers(0, 40).map(lambda q: q / 4),
    asked_ago=st.one_of(st.none(), st.integers(0, 80).map(lambda q: q / 4)),
    priority=st.booleans(),
)
def test_background_leaves_the_lane_only_while_priority_asked_within_the_hold(
    capacity: int, places: int, hold: float, asked_ago: float | None, priority: bool
) -> None:
    now = 100.0
    asked_at = -math.inf if asked_ago is None else now - asked_ago
    lane = PriorityLane(places, hold)
    room = lane.room(capacity, priority=priority, asked_at=asked_at, now=now)
    kept = asked_ago is not None and asked_ago < hold and places > 0
    assert lane.active(asked_at, now) == kept
    if priority or not kept:
        assert room == capacity  # priority's own lane; nobody at the keys costs nothing
    else:
        assert room == max(1, capacity - places)
    assert room >= 1  # background is never shut out


@pytest.mark.parametrize(
    ("grants", "capacity", "room", "asked_at", "expected"),
    [
        # Not full for the room: at once.
        ([0.0, 0.1], 4, 3, 0.5, -math.inf),
        # Held to 3 of 4 places: the lane (given back at 0.5 + 2.0) ends before the place
        # frees (0.0 + 4.0), and the window has a place then.
        ([0.0, 0.1, 0.2], 4, 3, 0.5, 2.5 - 1.0),
        # The place frees first.
        ([-2.95, 0.1, 0.2], 4, 3, 0.5, 1.05 - 1.0),
        # Full for everybody: the lane's end does not help, the capacity's place does.
        ([0.0, 0.1, 0.2, 0.3], 4, 3, 0.5, 4.0 - 1.0),
        ([2.0, 2.1, 2.2, 2.3], 4, 3, 0.5, 6.0 - 1.0),
        # No lane in the room: the plain window.
        ([0.0, 0.1, 0.2, 0.3], 4, 4, 0.5, 4.0 - 1.0),
    ],
)
def test_a_request_held_by_the_lane_wakes_when_it_is_given_back(
    grants: list[float], capacity: int, room: int, asked_at: float, expected: float
) -> None:
    lane = PriorityLane(1, 2.0)
    wait = lane.wait(grants, 4.0, capacity, room, asked_at=asked_at, now=1.0)
    assert wait == pytest.approx(expected)


@pytest.mark.parametrize(("places", "hold"), [(-1, 1.0), (1, -0.1), (1, math.nan)])
def test_an_impossible_lane_is_refused(places: int, hold: float) -> None:
    with pytest.raises(ValueError, match="lane"):
        PriorityLane(places, hold)


def test_the_default_lane_leaves_background_most_of_the_window() -> None:
    assert PriorityLane() == PriorityLane(PRIORITY_LANE, PRIORITY_LANE_HOLD)
    assert 0 <= PRIORITY_LANE < (1 - PRIORITY_SHARE) * N
    assert PRIORITY_LANE_HOLD > 0


# --- the in-process limiter alone --------------------------------------------------------------


async def operator_at_work(
    lane: PriorityLane, *, user_until: float, seconds: float
) -> tuple[list[float], list[tuple[float, int]]]:
    """Saturating refreshes, and a user action every 0.23 s until ``user_until``.

    Returns the user's waits, and for each background grant its time and how many grants
    the window held before it.
    """
    loop = asyncio.get_running_loop()
    assert isinstance(loop, VirtualLoop)
    limiter = WindowLimiter(
        N, 1.0, clock=loop.time, sleep=asyncio.sleep, pacing=DEFAULT_PACING, lane=lane
    )
    answered: list[float] = []
    waits: list[float] = []
    background: list[tuple[float, int]] = []

    def in_window(now: float) -> int:
        return sum(1 for t in answered if t + 1.0 > now)

    async def refresh() -> None:
        while True:
            grant = await limiter.acquire()
            background.append((loop.time(), in_window(loop.time())))
            await asyncio.sleep(0.004)
            grant.done()
            answered.append(loop.time())

    async def user() -> None:
        await asyncio.sleep(0.0371)
        while loop.time() < user_until:
            asked = loop.time()
            grant = await limiter.acquire(priority=True)
            waits.append(loop.time() - asked)
            await asyncio.sleep(0.004)
            grant.done()
            answered.append(loop.time())
            await asyncio.sleep(0.23)

    tasks = [asyncio.create_task(refresh()) for _ in range(30)]
    tasks.append(asyncio.create_task(user()))
    await asyncio.sleep(seconds)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return waits, background


def test_the_limiter_keeps_the_lane_for_the_user_and_gives_it_back() -> None:
    lane = PriorityLane(1, 1.5)
    waits, background = run_virtual(lambda: operator_at_work(lane, user_until=6.0, seconds=10.0))
    assert len(waits) >= 20
    # The user finds a place at once every time: the window never waits for its next place.
    assert max(waits) < 0.002
    # While the user is at work, background never takes the window's last place...
    at_work = [held for t, held in background if 1.0 <= t < 6.0]
    assert at_work
    assert max(at_work) <= N - 1 - lane.places
    # ... and the lane is given back once the user stops: background fills the window again.
    after = [held for t, held in background if t >= 6.0 + lane.hold + 1.0]
    assert after
    assert max(after) == N - 1


def test_without_the_lane_the_user_waits_for_the_next_place() -> None:
    # The case the lane is for (the regression): the schedule keeps the window full.
    waits, _ = run_virtual(
        lambda: operator_at_work(PriorityLane(0, 0.0), user_until=6.0, seconds=7.0)
    )
    assert max(waits) > 0.01


# --- the host ledger and Redis, side by side ---------------------------------------------------

#: A long window with few places: the schedule's slot is about a second, so the machine's
#: delays are small beside what is measured.
WINDOW = 4.0
CAPACITY = 4
HOLD = 1.5


Users = tuple[QuotaLedger, QuotaLedger, QuotaLedger]


@pytest.fixture(params=["host", "redis"])
def make_users(
    request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[PriorityLane], Users]]:
    """Makes a window-only filler and two paced users of one budget, each a ledger of its own.

    The filler (no schedule, so no lane either) fills the window without waiting for slots.
    """
    if request.param == "host":
        (tmp_path / "host").mkdir(mode=0o700)
        path = ledger_path(KEY, tmp_path / "host")

        def on_host(lane: PriorityLane) -> Users:
            filler = SharedLedger(path, pacing=None)
            return filler, SharedLedger(path, lane=lane), SharedLedger(path, lane=lane)

        yield on_host
        return
    for server in redis_server(tmp_path_factory.mktemp("redis")):
        yield functools.partial(redis_users, server.url)


def redis_users(url: str, lane: PriorityLane) -> Users:
    """The filler and two users as hosts of their own on one Redis."""
    # No host ledger to fall back on: a fall-back would hide a Redis failure here.
    filler = RedisQuota(url, KEY, pacing=None)
    return filler, RedisQuota(url, KEY, lane=lane), RedisQuota(url, KEY, lane=lane)


@pytest.fixture
def users(make_users: Callable[[PriorityLane], Users]) -> Users:
    """The filler and two users, with a lane of one place held `HOLD` seconds."""
    return make_users(PriorityLane(1, HOLD))


async def ask(ledger: QuotaLedger, *, priority: bool = False) -> float:
    return await ledger.reserve(time.monotonic(), CAPACITY, WINDOW, priority=priority)


async def test_both_ledgers_keep_the_lane_across_users_and_give_it_back(
    users: tuple[QuotaLedger, QuotaLedger, QuotaLedger],
) -> None:
    filler, first, second = users
    assert await ask(filler) == 0
    assert await ask(filler) == 0
    # One user's action: granted, and from now on the lane is kept for every user.
    assert await ask(first, priority=True) == 0
    # The other's refresh may not take the last place (it would, without the lane)...
    kept = await ask(second)
    assert kept > 0
    # ... and is told to come back when the lane is given back, not when a place frees.
    assert HOLD - 0.5 < kept <= HOLD + 0.05
    # The other's action takes it at once.
    assert await ask(second, priority=True) == 0
    for ledger in users:
        assert ledger.degraded == ""


async def test_both_ledgers_give_the_lane_back_once_nobody_asks(
    make_users: Callable[[PriorityLane], Users],
) -> None:
    # Two places kept: with two of four taken, a refresh is held by the lane alone (the
    # window's last place, `PRIORITY_ROOM`, is not at stake).
    filler, first, second = make_users(PriorityLane(2, HOLD))
    assert await ask(filler) == 0
    assert await ask(first, priority=True) == 0
    kept = await ask(second)
    assert HOLD - 0.5 < kept <= HOLD + 0.05
    await asyncio.sleep(kept + 0.05)
    # Nobody asked since: the refresh takes a place the lane kept.
    assert await ask(second) == 0


async def test_both_ledgers_keep_no_lane_for_nobody(
    make_users: Callable[[PriorityLane], Users],
) -> None:
    # No user action ever: a console with nobody at the keys costs nothing.
    filler, first, _ = make_users(PriorityLane(2, HOLD))
    assert await ask(filler) == 0
    assert await ask(filler) == 0
    assert await ask(first) == 0


async def test_both_ledgers_keep_the_last_place_across_a_long_gap_while_an_operator_asks(
    make_users: Callable[[PriorityLane], Users],
) -> None:
    # No hard lane, an operator at work for the whole test: the softer rule alone. Three
    # places in a 4 s window (a slot is about 1.4 s); two taken leave one, and the next
    # frees only a window later, far more than `PRIORITY_ROOM` slots on.
    filler, first, second = make_users(PriorityLane(0, 60.0))

    async def ask3(ledger: QuotaLedger, *, priority: bool = False) -> float:
        return await ledger.reserve(time.monotonic(), 3, WINDOW, priority=priority)

    slot = (WINDOW + DEFAULT_MARGIN) / (3 * DEFAULT_PACING)
    assert await ask3(filler) == 0
    assert await ask3(first, priority=True) == 0
    # A background request waits until the first grant is PRIORITY_ROOM slots from leaving
    # (the schedule alone would let it in half a slot after the priority grant)...
    kept = await ask3(second)
    assert WINDOW + DEFAULT_MARGIN - PRIORITY_ROOM * slot - 0.3 < kept <= WINDOW + DEFAULT_MARGIN
    assert kept > (1 - BACKGROUND_LEAD) * slot + 0.3
    # ... and a priority request takes the last place at once.
    assert await ask3(second, priority=True) == 0
