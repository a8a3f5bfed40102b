"""Type-ahead: every key reaches the widget that has the focus once the keys before it are done.

Textual (8.x) hands each key, as the terminal delivers it, to the widget focused *at that
moment*, by posting it to that widget's message queue, and acts on key bindings only when the
key has bubbled back up to the app. What a key does to the focus therefore lands after the keys
typed right behind it have already been handed out:

- ``Tab`` moves the focus from its binding, once the key has bubbled from the field to the app;
  the letters after it went to the field it leaves (a form typed at full speed put
  ``name+keyid+secret`` into the name field, the secret in clear);
- a key that opens a screen (``P``, ``a``, ``/``) pushes it, and the screen's widgets mount and
  take the focus over later turns of the loop; the keys after it went to the old screen, or to
  none.

`KeyGate` holds each key until the one before it has settled: handed to the focused widget,
bubbled, its bindings run, and every message that caused (a screen mounted, a focus moved) is
handled, measured by draining the message queues of the app and of every node of the active
screen. Then it hands out the next one, to whatever has the focus now. Keys keep their order;
a key with nothing typed before it is handed out at once, as Textual would.

One mechanism for every screen, form and dialog: no screen needs to route keys itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from textual import events
from textual.app import App
from textual.message_pump import MessagePump

__all__ = ["SETTLE_TIMEOUT", "KeyGate"]

#: Longest wait for one key to settle, in seconds. A handler that awaits something slow
#: (none of ours do: network calls run in workers) then lets the next key go as Textual would.
SETTLE_TIMEOUT = 2.0
#: Most drains for one key: each drain follows a message one hop further (a key bubbling up
#: five containers takes five), and a screen that keeps posting to itself must not hold keys.
_MAX_DRAINS = 50

Deliver = Callable[[events.Event], Awaitable[None]]


class KeyGate:
    """Hands keys (and pastes) to the app one at a time, each after the previous one settled.

    Args:
        app: the app whose queues are drained.
        deliver: what Textual does with a key from the terminal (the app's own ``on_event``).
    """

    def __init__(self, app: App[Any], deliver: Deliver) -> None:
        self._app = app
        self._deliver = deliver
        self._keys: deque[events.Event] = deque()
        self._runner: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    def put(self, event: events.Event) -> None:
        """Queue a key or paste from the terminal; it is handed out in its turn."""
        self._keys.append(event)
        self._idle.clear()
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run(), name="asrtui key gate")

    async def idle(self) -> None:
        """Return once every queued key has been handed out and has settled."""
        await self._idle.wait()

    def close(self) -> None:
        """Drop queued keys and stop (the app is ending)."""
        self._keys.clear()
        if self._runner is not None:
            self._runner.cancel()
        self._idle.set()

    async def _run(self) -> None:
        try:
            while self._keys:
                event = self._keys.popleft()
                await self._deliver(event)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._settle(), SETTLE_TIMEOUT)
        finally:
            if not self._keys:
                self._idle.set()

    async def _settle(self) -> None:
        """Drain the queues of the app and its active screen until none holds a message."""
        for _ in range(_MAX_DRAINS):
            await self._drain_once()
            if not self._pending():
                return

    def _pumps(self) -> list[MessagePump]:
        app = self._app
        try:
            screen = app.screen
        except Exception:  # no screen yet, or the app is closing: only the app's queue
            return [app]
        return [app, *screen.walk_children(with_self=True)]

    def _pending(self) -> bool:
        return any(pump.message_queue_size > 0 for pump in self._pumps())

    async def _drain_once(self) -> None:
        """Wait until every queue has handled what it held when this drain began."""
        left = 0
        done = asyncio.Event()

        def one_done() -> None:
            nonlocal left
            left -= 1
            if left == 0:
                done.set()

        for pump in self._pumps():
            if pump.call_later(one_done):
                left += 1
        if left:
            await done.wait()
