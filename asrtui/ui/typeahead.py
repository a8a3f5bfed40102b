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

The gate waits for the app to stop working on a key, not for a time: under a loaded machine a
form took more than 2 s to open, and a bound on the whole wait handed the next key to a screen
whose fields had no focus yet (the first letter typed after ``P a`` was lost). A key is let go
early only when the app makes no progress on the one before it (see `STALL_TIMEOUT`).
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
from textual.widget import Widget

__all__ = ["STALL_TIMEOUT", "KeyGate"]

#: How long, in seconds, the app may make no progress on a key before the next one goes as
#: Textual would: a handler that awaits something slow (none of ours do: network calls run in
#: workers) must not hold the keys typed after it. Progress is a queue handling what the gate
#: asked of it, a widget of the active screen added or mounted, the focus or the screen
#: changing. Only time in which the loop was free to look counts: a loop kept busy (a form
#: composing on a loaded machine) is working, however long it takes.
STALL_TIMEOUT = 2.0
#: Looks at the progress per `STALL_TIMEOUT`; the stall is that many looks in a row, each on
#: time and each seeing nothing new.
_STALL_LOOKS = 4
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
        self._handled = 0

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
                await self._settle_unless_stalled()
        finally:
            if not self._keys:
                self._idle.set()

    async def _settle_unless_stalled(self) -> None:
        """Wait for the key to settle, or until the app stopped making progress on it."""
        settling = asyncio.ensure_future(self._settle())
        loop = asyncio.get_running_loop()
        interval = STALL_TIMEOUT / _STALL_LOOKS
        try:
            mark = self._progress()
            still = 0
            while True:
                asked = loop.time()
                done, _ = await asyncio.wait({settling}, timeout=interval)
                if done:
                    return
                late = loop.time() - asked > 2 * interval  # the loop was busy: working
                now = self._progress()
                if now != mark or late:
                    mark, still = now, 0
                    continue
                still += 1
                if still >= _STALL_LOOKS:
                    return
        finally:
            settling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await settling

    def _progress(self) -> tuple[int, ...]:
        """What changes while the app works on a key, and stays put while a handler waits."""
        app = self._app
        try:
            screen = app.screen
        except Exception:  # no screen yet, or the app is closing
            return (self._handled, len(app.screen_stack))
        nodes = list(screen.walk_children(Widget, with_self=True))
        mounted = len([node for node in nodes if node.is_mounted])
        return (self._handled, id(screen), len(nodes), mounted, id(app.focused))

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
            self._handled += 1
            if left == 0:
                done.set()

        for pump in self._pumps():
            if pump.call_later(one_done):
                left += 1
        if left:
            await done.wait()
