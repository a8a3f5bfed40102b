"""The seam between the console and the network: what the UI may ask for, as a Protocol.

The UI never imports httpx, the client, signing, the limiter or the emulator; the composition
root (`asrtui.__main__`) hands it an object that satisfies `TaskSource`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from asrtui.models import Task, TaskList


@dataclass(frozen=True)
class QuotaStats:
    """How the shared rate limiter is doing, for the status line.

    Attributes:
        limit: the configured calls per second for the account (20 unless lowered).
        effective_limit: the current limit after slowing down for throttling answers.
        used_last_second: requests sent in the last second.
        waiting: requests queued in the limiter right now.
        granted_total: requests let through since start.
        throttled_total: ``Throttling*`` answers seen since start.
        errors_total: failed calls (after retries) since start.
    """

    limit: int
    effective_limit: float
    used_last_second: int
    waiting: int = 0
    granted_total: int = 0
    throttled_total: int = 0
    errors_total: int = 0


@runtime_checkable
class TaskSource(Protocol):
    """Where the console gets tasks from and sends actions to.

    Every method raises only `asrtui.errors.AsrtuiError` subclasses.
    """

    @property
    def profile_name(self) -> str:
        """The profile shown in the status line (``demo`` in demo mode)."""
        ...

    @property
    def region(self) -> str:
        """The region id shown in the status line."""
        ...

    async def list_tasks(self, *, priority: bool = False) -> TaskList:
        """All running tasks; ``priority`` for a user-initiated (manual) refresh."""
        ...

    async def get_task(self, task_id: str) -> Task | None:
        """One task by id (a user-initiated, priority request); ``None`` when it is gone."""
        ...

    async def stop_task(self, task_id: str) -> None:
        """Stop a running task."""
        ...

    async def delete_task(self, task_id: str) -> None:
        """Delete a task."""
        ...

    def quota(self) -> QuotaStats:
        """Limiter and error counters for the status line."""
        ...
