"""LiveClient over a real loopback socket: the emulator served by uvicorn in a thread."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from asrtui.client import LiveClient
from asrtui.credentials import Credentials
from asrtui.emulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, EmulatorApp, build_emulator
from asrtui.emulator.server import running_server
from asrtui.errors import ConnectError, TaskNotFoundError
from asrtui.ratelimit import WindowLimiter

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
