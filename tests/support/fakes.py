"""Test doubles for the console: a scriptable `TaskSource` and a clock that only moves when told."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

from textual.pilot import Pilot

from asrtui.credentials import Credentials
from asrtui.credentials.provider import CredentialsProvider
from asrtui.errors import AsrtuiError, TaskNotFoundError
from asrtui.models import Task, TaskList
from asrtui.protocols import QuotaStats
from asrtui.ui.app import AsrtuiApp
from asrtui.ui.screens.main import MainScreen
from asrtui.ui.settings import ConsoleSettings
from tests.support.clock import T0, FakeClock

#: The fixed wall-clock time every console test starts at.


def make_task(
    number: int,
    *,
    created: datetime | None = None,
    status: int | str | None = 1,
    language: str = "cn",
    tag: str = "",
    extra: dict[str, object] | None = None,
) -> Task:
    """A realistic task with a secret-bearing stream URL and account id."""
    task_id = f"asr-{number:08d}-0939-4288-973e-170082aa{number:04d}"
    created_at = created or T0 - timedelta(hours=3, minutes=12 + number)
    stream_url = (
        f"http://pull.example.com/caster/stream{number}.flv?auth_key=1715745062-0-0-secret{number}"
    )
    raw: dict[str, object] = {
        "taskId": task_id,
        "status": status,
        "mode": "live",
        "language": language,
        "callbackUrl": "default",
        "streamUrl": stream_url,
        "aliUid": "1119309225474343",
        "tag": tag,
        "createdAt": created_at.isoformat(),
        "updatedAt": (created_at + timedelta(seconds=1)).isoformat(),
        "reportInterval": "0",
        "autoTerminateDelay": "10",
    }
    raw.update(extra or {})
    return Task(
        task_id=task_id,
        status=status,
        mode="live",
        language=language,
        tag=tag,
        stream_url=stream_url,
        callback_url="default",
        created_at=created_at,
        updated_at=created_at + timedelta(seconds=1),
        report_interval=0,
        auto_terminate_delay=10,
        ali_uid="1119309225474343",
        extra=dict(extra or {}),
        raw=raw,
    )


@dataclass
class FakeTaskSource:
    """A `TaskSource` whose tasks, errors and latency a test scripts between refreshes.

    Attributes:
        tasks: the tasks by id, as the next `list_tasks` will report them.
        calls: how many times each method was called.
        priorities: the ``priority`` flag of each `list_tasks` call, in order.
        fail_next: how many of the next calls raise ``error``.
        fail_only: the method those calls are limited to (empty: any method).
        error: what those calls raise.
        latency: seconds each call waits before answering (0 answers at the next loop turn).
        gate: when set, every call waits for it first (to hold a request in flight).
        stopped / deleted: task ids acted on, in order.
    """

    tasks: dict[str, Task] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    priorities: list[bool] = field(default_factory=list)
    fail_next: int = 0
    fail_only: str = ""
    error: AsrtuiError = field(default_factory=lambda: AsrtuiError("Connection refused"))
    latency: float = 0.0
    gate: asyncio.Event | None = None
    stopped: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    quota_stats: QuotaStats = field(
        default_factory=lambda: QuotaStats(limit=20, effective_limit=20.0, used_last_second=2)
    )
    profile: str = "demo"
    region_id: str = "cn-shanghai"

    @classmethod
    def with_tasks(cls, count: int, **kwargs: object) -> FakeTaskSource:
        """A source holding tasks 1..count."""
        source = cls(**kwargs)  # type: ignore[arg-type]
        source.put(make_task(n) for n in range(1, count + 1))
        return source

    def put(self, tasks: Iterable[Task]) -> None:
        """Add or replace tasks."""
        for task in tasks:
            self.tasks[task.task_id] = task

    def remove(self, task_id: str) -> None:
        """Make a task disappear (it ended)."""
        del self.tasks[task_id]

    def change(self, task_id: str, **changes: object) -> Task:
        """Change fields of a task, as the server would between two answers."""
        task = replace(self.tasks[task_id], **changes)  # type: ignore[arg-type]
        self.tasks[task_id] = task
        return task

    def fail(self, times: int, error: AsrtuiError | None = None, *, only: str = "") -> None:
        """Make the next ``times`` calls (of method ``only``, if given) raise ``error``."""
        self.fail_next = times
        self.fail_only = only
        if error is not None:
            self.error = error

    @property
    def profile_name(self) -> str:
        return self.profile

    @property
    def region(self) -> str:
        return self.region_id

    async def _answer(self, method: str) -> None:
        self.calls[method] += 1
        if self.gate is not None:
            await self.gate.wait()
        await asyncio.sleep(self.latency)
        if self.fail_next > 0 and self.fail_only in ("", method):
            self.fail_next -= 1
            raise self.error

    async def list_tasks(self, *, priority: bool = False) -> TaskList:
        self.priorities.append(priority)
        await self._answer("list_tasks")
        return TaskList(tasks=tuple(self.tasks.values()), request_id="REQ-1")

    async def get_task(self, task_id: str) -> Task | None:
        await self._answer("get_task")
        return self.tasks.get(task_id)

    async def stop_task(self, task_id: str) -> None:
        await self._answer("stop_task")
        if task_id not in self.tasks:
            raise TaskNotFoundError("ConfigNotFound", f"{task_id} not found")
        self.stopped.append(task_id)
        self.tasks.pop(task_id)

    async def delete_task(self, task_id: str) -> None:
        await self._answer("delete_task")
        if task_id not in self.tasks:
            raise TaskNotFoundError("ConfigNotFound", f"{task_id} not found")
        self.deleted.append(task_id)
        self.tasks.pop(task_id)

    def quota(self) -> QuotaStats:
        self.calls["quota"] += 1
        return self.quota_stats


def console_settings(clock: FakeClock, **changes: Any) -> ConsoleSettings:
    """Settings for tests: fake clocks, UTC display, no debounce, no state file."""
    values: dict[str, Any] = {
        "clock": clock.now,
        "monotonic": clock.monotonic,
        "tz": UTC,
        "detail_debounce": 0.0,
        "theme": "textual-dark",
    }
    values.update(changes)
    return ConsoleSettings(**values)


@dataclass
class Notes:
    """What the app told the operator through toasts, and how often it rang the bell."""

    messages: list[tuple[str, str, str]] = field(default_factory=list)
    bells: int = 0
    copied: list[str] = field(default_factory=list)

    def texts(self) -> str:
        """Every toast title and message, one per line."""
        return "\n".join(f"{title}: {message}" for title, message, _ in self.messages)


class RecordingApp(AsrtuiApp):
    """The real app, recording toasts, bells and clipboard writes for assertions."""

    def __init__(
        self, source: FakeTaskSource, settings: ConsoleSettings, *, toasts: bool = False
    ) -> None:
        super().__init__(source, settings)
        self.notes = Notes()
        self.toasts = toasts
        """Whether toasts are also shown (snapshots); pilot tests only record them (faster)."""

    def notify(
        self, message: str, *, title: str = "", severity: Any = "information", **kw: Any
    ) -> None:
        self.notes.messages.append((title, message, severity))
        if self.toasts:
            super().notify(message, title=title, severity=severity, **kw)

    def bell(self) -> None:
        self.notes.bells += 1

    def copy_to_clipboard(self, text: str) -> None:
        self.notes.copied.append(text)
        super().copy_to_clipboard(text)


async def settle(pilot: Pilot[Any]) -> None:
    """Let messages, then every running worker, then their messages finish."""
    await pilot.pause()
    await settle_workers(pilot)


async def settle_workers(pilot: Pilot[Any]) -> None:
    """If workers are running, wait for them and for the messages they sent."""
    if any(not worker.is_finished for worker in pilot.app.workers):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


@dataclass
class Console:
    """A running console under test, with its collaborators at hand."""

    pilot: Pilot[Any]
    app: RecordingApp
    source: FakeTaskSource
    clock: FakeClock

    @property
    def screen(self) -> MainScreen:
        """The main screen (even while a dialog is on top)."""
        for screen in self.app.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        raise AssertionError("no MainScreen on the stack")

    async def advance(self, seconds: float) -> None:
        """Move the clocks, run what is due (refresh trigger, tick) and let it finish."""
        self.clock.advance(seconds)
        self.screen.refresh_if_due()
        self.screen.tick()
        await settle(self.pilot)

    async def press(self, *keys: str) -> None:
        """Press keys and let what they started finish."""
        if keys:
            await self.pilot.press(*keys)
            await settle_workers(self.pilot)
        else:
            await settle(self.pilot)


@asynccontextmanager
async def running_console(
    source: FakeTaskSource | None = None,
    *,
    size: tuple[int, int] = (100, 30),
    clock: FakeClock | None = None,
    settled: bool = True,
    **changes: Any,
) -> AsyncIterator[Console]:
    """Run the console headless on a fake source and clock, after its first refresh
    (``settled=False``: at once, for a test that holds that refresh)."""
    source = source if source is not None else FakeTaskSource.with_tasks(5)
    clock = clock or FakeClock()
    app = RecordingApp(source, console_settings(clock, **changes))
    async with app.run_test(size=size) as pilot:
        if settled:
            await settle(pilot)
        yield Console(pilot, app, source, clock)


async def no_sleep(seconds: float) -> None:
    """A sleep that returns at once: retries and backoff in tests cost no time."""
    return None


@contextlib.contextmanager
def no_hang(seconds: int = 20) -> Iterator[None]:
    """Fail instead of hanging for ever (a blocking open of a FIFO): a guard, not a timing."""

    def expired(signum: int, frame: FrameType | None) -> None:
        raise AssertionError("blocked: a file was opened in a blocking way")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def credentials_now(provider: CredentialsProvider) -> Credentials:
    """What ``provider`` hands out to a request now, asked from outside an event loop."""
    return asyncio.run(provider.get())
