"""The console's `TaskSource` over a `LiveClient`, and the in-process demo client.

The UI sees only `asrtui.source.TaskSource`; this adapter is how the composition root hands it
the real client (or a client wired to the in-process emulator for ``--demo``).
"""

from __future__ import annotations

from typing import Literal

import httpx

from asrtui.client import LiveClient
from asrtui.credentials import Credentials
from asrtui.models import Task, TaskList
from asrtui.ratelimit import WindowLimiter
from asrtui.source import QuotaStats

__all__ = ["DEMO_ENDPOINT", "DEMO_FAULTS", "ClientTaskSource", "open_demo_client"]

#: The base URL of the in-process emulator (never resolved: the ASGI transport answers).
DEMO_ENDPOINT = "http://emulator.asrtui.invalid"

#: Mild faults so the demo shows retries and the error paths without being unusable.
DEMO_FAULTS = "latency=0.05,503=0.02,throttle=0.01,retry_after=300"


class ClientTaskSource:
    """Satisfies `TaskSource` by delegating to a `LiveClient` (which the caller opens/closes).

    Args:
        client: an open client.
        profile_name: shown in the status line (``demo`` in demo mode).
        region: the region id shown in the status line.
    """

    def __init__(self, client: LiveClient, *, profile_name: str, region: str) -> None:
        self._client = client
        self._profile_name = profile_name
        self._region = region

    def __repr__(self) -> str:
        return f"ClientTaskSource(profile_name={self._profile_name!r}, region={self._region!r})"

    @property
    def profile_name(self) -> str:
        """The profile shown in the status line."""
        return self._profile_name

    @property
    def region(self) -> str:
        """The region id shown in the status line."""
        return self._region

    @property
    def client(self) -> LiveClient:
        """The underlying client (for the composition root, never the UI)."""
        return self._client

    async def list_tasks(self, *, priority: bool = False) -> TaskList:
        """All running tasks; ``priority`` for a user-initiated refresh."""
        return await self._client.list_tasks(priority=priority)

    async def get_task(self, task_id: str) -> Task | None:
        """One task by id (a priority request); ``None`` when it is gone."""
        return await self._client.get_task(task_id)

    async def stop_task(self, task_id: str) -> None:
        """Stop a running task."""
        await self._client.stop_task(task_id)

    async def delete_task(self, task_id: str) -> None:
        """Delete a task."""
        await self._client.delete_task(task_id)

    def quota(self) -> QuotaStats:
        """The shared limiter's stats plus the client's own counters."""
        stats = self._client.limiter.stats()
        counters = self._client.counters
        return QuotaStats(
            limit=stats.limit,
            effective_limit=stats.effective_limit,
            used_last_second=stats.used_last_window,
            waiting=stats.waiting,
            granted_total=stats.granted_total,
            throttled_total=counters.throttled_total,
            errors_total=counters.errors_total,
        )


def open_demo_client(
    *,
    seed: int = 0,
    tasks: int = 12,
    fault_spec: str = DEMO_FAULTS,
    lively: bool = True,
    signature: Literal["v3", "rpc"] = "v3",
    limiter: WindowLimiter | None = None,
    rate_limit: int = 20,
    region: str = "cn-shanghai",
) -> LiveClient:
    """A `LiveClient` wired to an in-process emulator with the demo credentials.

    Nothing leaves the process: requests go through ``httpx.ASGITransport`` to the emulator,
    which checks signatures, quota and wire format exactly as it does on a socket.

    Args:
        seed: the emulator's seed (task ids and lifecycles are deterministic per seed).
        tasks: how many tasks the emulator starts with.
        fault_spec: the emulator's fault plan (see ``asrtui emulator --fault``).
        lively: whether tasks start and end over time.
        signature: the signature version to use.
        limiter: the limiter; by default the process-wide one of the demo AccessKey id.
        rate_limit: calls per second for the default limiter.
        region: the region id sent (the emulator accepts any).
    """
    # Imported here: the emulator is only needed in demo mode.
    from asrtui.emulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, build_emulator

    app = build_emulator(seed=seed, tasks=tasks, lively=lively, fault_spec=fault_spec)
    credentials = Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
    return LiveClient(
        lambda: credentials,
        DEMO_ENDPOINT,
        region=region,
        signature=signature,
        limiter=limiter,
        rate_limit=rate_limit,
        profile="demo",
        transport=httpx.ASGITransport(app=app),
    )
