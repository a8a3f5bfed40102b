"""LiveClient over a real loopback socket: the emulator served by uvicorn in a thread."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from asrtui.client import LiveClient
from asrtui.credentials import Credentials
from asrtui.emulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, EmulatorApp, build_emulator
from asrtui.emulator.server import running_server
from asrtui.errors import ConnectError, TaskNotFoundError
from asrtui.ratelimit import MAX_MARGIN, MIN_SAMPLES, WindowLimiter

pytest.importorskip("uvicorn")


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[EmulatorApp, str]]:
    app = build_emulator(seed=3, tasks=4)
    with running_server(app) as url:
        yield app, url


def client_for(url: str, sleeps: list[float], signature: str = "v3") -> LiveClient:
    async def no_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    creds = Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
    return LiveClient(
        lambda: creds,
        url,
        signature=signature,  # type: ignore[arg-type]
        limiter=WindowLimiter(20),
        sleep=no_sleep,
    )


@pytest.mark.parametrize("signature", ["v3", "rpc"])
async def test_list_get_stop_delete_over_a_socket(
    served: tuple[EmulatorApp, str], signature: str
) -> None:
    app, url = served
    assert url.startswith("http://127.0.0.1:")
    sleeps: list[float] = []
    async with client_for(url, sleeps, signature) as client:
        listed = await client.list_tasks()
        ids = sorted(task.task_id for task in listed.tasks)
        assert ids == sorted(app.backend.query(None) or {})
        assert ids
        target = ids[0]
        task = await client.get_task(target)
        assert task is not None
        assert task.task_id == target
        await client.stop_task(target)
        assert target not in {t.task_id for t in (await client.list_tasks()).tasks}
        await client.delete_task(target)
        with pytest.raises(TaskNotFoundError):
            await client.delete_task(target)
        # uvicorn sends a Date header: the offset to this machine's own clock is tiny.
        assert client.clock_offset is not None
        assert abs(client.clock_offset) < 5
    assert sleeps == []


async def test_dropped_connection_is_retried_over_a_socket(
    served: tuple[EmulatorApp, str],
) -> None:
    app, url = served
    sleeps: list[float] = []
    app.faults.set("drop", 1.0)
    try:
        async with client_for(url, sleeps) as client:
            with pytest.raises(ConnectError) as info:
                await client.list_tasks()
    finally:
        app.faults.clear()
    assert url in info.value.message
    assert len(sleeps) == 3
    # And the same client recovers once the fault is gone.
    async with client_for(url, sleeps) as client:
        assert (await client.list_tasks()).tasks


@pytest.fixture
def own_server() -> Iterator[str]:
    """An emulator of the test's own: no other test's requests in its 20/s window."""
    with running_server(build_emulator(seed=3, tasks=4)) as url:
        yield url


class SteppingClock:
    """A clock that moves 1 ms per reading, and as far as the test says: answers take time, and
    a test can step past the window a fresh connection keeps the slowest case for."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        self.now += 0.001
        return self.now


class CountingLimiter(WindowLimiter):
    """A real limiter that also keeps how many of its grants said they opened a connection."""

    def __init__(self, clock: SteppingClock) -> None:
        super().__init__(1000, pacing=None, clock=clock)
        self.fresh_reports = 0

    def _fresh_started(self) -> None:
        self.fresh_reports += 1
        super()._fresh_started()


@pytest.mark.parametrize(
    ("keep_alive", "requests", "fresh"),
    [(True, 8, 1), (False, 8, 8), (True, 1, 1)],
    ids=["pooled", "no-keep-alive", "first-request"],
)
async def test_the_client_tells_the_limiter_when_a_request_opens_a_connection(
    own_server: str, keep_alive: bool, requests: int, fresh: int
) -> None:
    url = own_server
    clock = SteppingClock()
    limiter = CountingLimiter(clock)
    creds = Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
    limits = httpx.Limits(max_keepalive_connections=None if keep_alive else 0)
    client = LiveClient(
        lambda: creds, url, limiter=limiter, transport=httpx.AsyncHTTPTransport(limits=limits)
    )
    async with client:
        for _ in range(requests):
            await client.list_tasks()
            clock.now += 1.5  # past the window of the last answer
    assert client.counters.throttled_total == 0
    assert limiter.fresh_reports == fresh
    # Warm answers measure the spread; requests that each open a connection never do.
    assert (limiter.margin == MAX_MARGIN) is (not keep_alive or requests < MIN_SAMPLES + 1)


async def test_a_connection_opened_mid_run_brings_the_slowest_case_back(own_server: str) -> None:
    url = own_server
    clock = SteppingClock()
    limiter = CountingLimiter(clock)
    creds = Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
    async with LiveClient(lambda: creds, url, limiter=limiter) as client:
        for _ in range(MIN_SAMPLES + 3):
            await client.list_tasks()
            clock.now += 1.5
        warm = limiter.margin
        # The pool loses its connection (the server closed it, or keep-alive expired).
        await client.aclose()
        client.open()
        await client.list_tasks()
        fresh = limiter.margin
        clock.now += 1.5
        after = limiter.margin
    assert limiter.fresh_reports == 2
    assert warm < MAX_MARGIN
    assert fresh == MAX_MARGIN
    assert after == warm
