"""A screen's next frame drawn as soon as Textual's frame rate allows, not up to a frame later.

Textual draws a screen from a timer of one period (1/60 s) that is paused while nothing needs
drawing and resumed when something does. Its timer keeps to a grid of periods, and when it
wakes up late (always, after a pause) it skips ahead to the grid point *after* the next one:
so the first frame after a quiet spell is drawn at once, and the frame after it 17-33 ms later
instead of at most 17 (Textual 8.2.8, ``Timer._run``: ``count = int((now - start) / _interval
+ 1)``, then ``next_timer = start + (count + 1) * _interval``). In the console that second
frame is the usual one after a key: the cursor moved just after the table was redrawn for a
refresh, the status line's tick or the detail pane's fetched task. Measured at 50,000 tasks
refreshed every second (``benchmarks/scale_bench.py``'s console harness, ``down`` every
150 ms): key to drawn cursor p99 53-56 ms with Textual's timer, 26-34 ms with this one.

`FrameTimer` keeps the rule the screen means, and no grid: a frame is drawn when one is
wanted, but never sooner than one period after the previous one. `PacedFrames` gives a screen
one in place of Textual's own (the screen asks for it through ``Screen._update_timer``, where
Textual makes its timer).
"""

from __future__ import annotations

from typing import TypeVar

from textual import _time
from textual.screen import UPDATE_PERIOD, Screen
from textual.timer import Timer

__all__ = ["FrameTimer", "PacedFrames"]

ResultT = TypeVar("ResultT")


class FrameTimer(Timer):
    """A repeating, paused-until-resumed timer that ticks as soon as it is resumed, but at
    least ``interval`` seconds after its previous tick.

    Pausing and resuming are Textual's (`Timer.pause`, `Timer.resume`); a pause that comes
    while the timer waits out the rest of a period holds the tick until the next resume.
    """

    async def _run(self) -> None:
        ticked = float("-inf")
        count = 0
        while True:
            await self._active.wait()
            wait = ticked + self._interval - _time.get_time()
            if wait > 0:
                await _time.sleep(wait)
                await self._active.wait()
            ticked = _time.get_time()
            count += 1
            await self._tick(next_timer=ticked, count=count)


class PacedFrames(Screen[ResultT]):
    """A screen drawn by a `FrameTimer` (see the module's docstring for why).

    The base of the app's screens: ``class MainScreen(PacedFrames[None])``, and after
    `ModalScreen` for a dialog: ``class Confirm(ModalScreen[bool], PacedFrames[bool])``.
    After, not before: Textual's CSS follows a class's first base only, and a dialog before
    which `PacedFrames` came would lose `ModalScreen`'s styles (and its type in selectors).
    """

    _frame_timer: FrameTimer | None = None

    @property
    def _update_timer(self) -> Timer:
        timer = self._frame_timer
        if timer is None:
            # What `MessagePump.set_interval` does, with the timer Textual's screen makes there.
            timer = FrameTimer(
                self,
                UPDATE_PERIOD,
                name="screen_update",
                callback=self._on_timer_update,
                pause=True,
            )
            timer._start()
            self._timers.add(timer)
            self._frame_timer = timer
        return timer
