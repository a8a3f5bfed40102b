"""Start-up: the session's first task list, asked while the console is still starting.

The composition root (`asrtui.__main__`) creates a `FirstAnswer` just before the app runs, and
`asrtui.ui.screens.main.MainScreen` takes it as its first refresh instead of asking again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from asrtui.models import TaskList
from asrtui.protocols import TaskSource

__all__ = ["FirstAnswer"]


class FirstAnswer:
    """The session's first `TaskSource.list_tasks`, asked before the console is on screen.

    Textual takes a few tens of milliseconds to start (styles, driver, the screen's widgets)
    and the first answer about as long again. Asked by the composition root just before the
    app runs, the two overlap; when the answer is in by the time `MainScreen` mounts, the
    first frame already shows the tasks, and the screen is laid out once instead of twice.

    Must be created in the event loop the console runs in.

    Args:
        source: where the tasks come from (the main screen's source).
        monotonic: the clock the answer's latency is measured with.
    """

    def __init__(self, source: TaskSource, monotonic: Callable[[], float]) -> None:
        self.source = source
        """The source asked."""
        self._mono = monotonic
        self._started = monotonic()
        self._finished: float | None = None
        self._task = asyncio.ensure_future(self._ask())

    def __repr__(self) -> str:
        return f"FirstAnswer(source={self.source!r}, done={self.done()})"

    async def _ask(self) -> TaskList:
        try:
            return await self.source.list_tasks()
        finally:
            self._finished = self._mono()

    def done(self) -> bool:
        """Whether the answer (or the error) is in."""
        return self._task.done()

    @property
    def latency(self) -> float:
        """Seconds the answer took (so far, while it is awaited)."""
        end = self._finished if self._finished is not None else self._mono()
        return end - self._started

    def result(self) -> TaskList:
        """The answer, once `done`.

        Raises:
            AsrtuiError: the source failed.
            asyncio.InvalidStateError: not done yet.
        """
        return self._task.result()

    async def wait(self) -> TaskList:
        """The answer, once it is in.

        Raises:
            AsrtuiError: the source failed.
        """
        return await self._task

    def cancel(self) -> None:
        """Give up on an answer nobody took (the console ended first or showed no tasks).

        An error nobody will read is marked as seen, so asyncio does not log it at exit.
        """
        if not self._task.done():
            self._task.cancel()
        elif not self._task.cancelled():
            self._task.exception()
