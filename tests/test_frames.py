"""Frames are drawn as soon as the frame rate allows: `FrameTimer` and the screens that use it.

The timers run on a fake clock (their ``sleep`` waits for the test to move it), so every
figure here is exact and no test depends on how fast the machine is.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import itertools
import pkgutil
from types import SimpleNamespace
from typing import Any

import pytest
import textual.timer
from hypothesis import given, settings
from hypothesis import strategies as st
from textual.screen import ModalScreen, Screen
from textual.timer import Timer

import asrtui.ui
from asrtui.ui import frames
from asrtui.ui.frames import FrameTimer, PacedFrames
from tests.support.fakes import FakeTaskSource, make_task, running_console

PERIOD = 1 / 60


class FakeTime:
    """A clock that moves only when told, and a ``sleep`` that wakes when it has moved on."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def get_time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.now + max(seconds, 0.0), woken))
        await woken

    async def advance(self, to: float) -> None:
        """Move to ``to``, waking each sleeper at its own time on the way."""
        while True:
            due = [sleeper for sleeper in self._sleepers if sleeper[0] <= to]
            if not due:
                break
            sleeper = min(due, key=lambda item: item[0])
            self._sleepers.remove(sleeper)
            self.now = max(self.now, sleeper[0])
            sleeper[1].set_result(None)
            await _settle()
        self.now = max(self.now, to)
        await _settle()


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


class Target:
    """What a timer is for: any object a weak reference can point at."""


#: What happened, in order: ``("resume" | "tick", time)``.
Log = list[tuple[str, float]]


def _recording(base: type[Timer], clock: FakeTime, log: Log) -> Timer:
    """A paused ``base`` timer that, as a screen does, pauses itself on each tick."""

    class Recording(base):  # type: ignore[valid-type,misc]
        async def _tick(self, *, next_timer: float, count: int) -> None:
            self.pause()  # what `Screen._on_timer_update` does first
            log.append(("tick", clock.now))

    timer: Timer = Recording(Target(), PERIOD, name="screen_update", pause=True)
    return timer


def _ticks(log: Log) -> list[float]:
    return [at for kind, at in log if kind == "tick"]


async def _drive(base: type[Timer], resumes: list[float], monkeypatch: pytest.MonkeyPatch) -> Log:
    """What a ``base`` timer resumed at each of ``resumes`` (sorted times) did."""
    clock = FakeTime()
    fake = SimpleNamespace(get_time=clock.get_time, sleep=clock.sleep)
    monkeypatch.setattr(frames, "_time", fake)
    monkeypatch.setattr(textual.timer, "_time", fake)
    monkeypatch.setattr(textual.timer, "sleep", clock.sleep)
    log: Log = []
    timer = _recording(base, clock, log)
    timer._start()
    try:
        await _settle()
        for at in resumes:
            await clock.advance(at)
            log.append(("resume", clock.now))
            timer.resume()
            await _settle()
        await clock.advance(resumes[-1] + 3 * PERIOD if resumes else 1.0)
        return log
    finally:
        timer.stop()


def _late_ticks(log: Log) -> list[str]:
    """Where the frame rule is broken in ``log``: a tick sooner than a period after the one
    before, a tick without a resume before it, or a resume not answered by ``max(resume,
    previous tick + period)``."""
    broken: list[str] = []
    ticks = _ticks(log)
    for before, after in itertools.pairwise(ticks):
        if after - before < PERIOD - 1e-9:
            broken.append(f"ticks {before:.4f} and {after:.4f} closer than a period")
    previous = float("-inf")
    waiting: list[float] = []
    for kind, at in log:
        if kind == "resume":
            waiting.append(at)
            continue
        if not waiting:
            broken.append(f"tick at {at:.4f} with nothing to draw")
        elif at > max(waiting[0], previous + PERIOD) + 1e-9:
            due = max(waiting[0], previous + PERIOD)
            broken.append(f"resumed at {waiting[0]:.4f}, due {due:.4f}, ticked {at:.4f}")
        waiting.clear()
        previous = at
    if waiting:
        broken.append(f"resumed at {waiting[0]:.4f}, never ticked")
    return broken


#: Resume times (seconds): after a quiet spell, then again within a period (the key just after
#: a refresh's frame), bursts, exactly a period apart, long gaps.
CASES = [
    [1.0],
    [1.0, 1.001],
    [1.0, 1.0 + PERIOD / 2],
    [1.0, 1.0 + PERIOD],
    [1.0, 1.0 + 1.5 * PERIOD],
    [1.0, 1.002, 1.004, 1.006],
    [0.5, 0.9, 0.9004, 2.0, 2.016],
    [1.0, 1.02, 1.04, 1.06, 1.08],
]


@pytest.mark.parametrize("resumes", CASES)
async def test_a_frame_is_drawn_as_soon_as_the_frame_rate_allows(
    resumes: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    log = await _drive(FrameTimer, resumes, monkeypatch)
    assert _late_ticks(log) == []
    assert _ticks(log)[0] == resumes[0]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.floats(min_value=0.0, max_value=0.2, allow_nan=False),
        min_size=1,
        max_size=12,
    )
)
async def test_any_sequence_of_wanted_frames_keeps_the_rule(gaps: list[float]) -> None:
    resumes: list[float] = []
    at = 0.5
    for gap in gaps:
        at += gap
        resumes.append(at)
    with pytest.MonkeyPatch.context() as monkeypatch:
        log = await _drive(FrameTimer, resumes, monkeypatch)
    assert _late_ticks(log) == []


async def test_a_pause_while_waiting_out_the_period_holds_the_frame(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A screen laid out by other means pauses the timer: no frame until it is resumed."""
    clock = FakeTime()
    fake = SimpleNamespace(get_time=clock.get_time, sleep=clock.sleep)
    monkeypatch.setattr(frames, "_time", fake)
    log: Log = []
    timer = _recording(FrameTimer, clock, log)
    timer._start()
    try:
        await clock.advance(1.0)
        timer.resume()
        await _settle()
        await clock.advance(1.001)
        timer.resume()
        await _settle()
        timer.pause()
        await clock.advance(1.5)
        assert _ticks(log) == [1.0]
        timer.resume()
        await _settle()
        assert _ticks(log) == [1.0, 1.5]
    finally:
        timer.stop()


async def test_textual_own_timer_still_draws_the_second_frame_a_period_late(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Why `FrameTimer` exists. The day Textual's timer keeps the rule, this fails: the
    screens can then go back to it (drop `PacedFrames`)."""
    # Its first frame ever comes a period after the first resume; after that, the first
    # frame after a quiet spell comes at once, and the next one more than a period late.
    log = await _drive(Timer, [0.5, 1.0, 1.001], monkeypatch)
    ticks = _ticks(log)
    assert ticks[1] == 1.0
    assert ticks[2] > 1.0 + 1.5 * PERIOD
    assert _late_ticks(log) != []


def _screen_classes() -> list[type[Screen[Any]]]:
    found: dict[str, type[Screen[Any]]] = {}
    for module_info in pkgutil.walk_packages(asrtui.ui.__path__, "asrtui.ui."):
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, Screen)
                and value.__module__ == module.__name__
                and value is not PacedFrames
            ):
                found[f"{module.__name__}.{name}"] = value
    return [found[name] for name in sorted(found)]


def test_the_app_has_screens_and_each_is_paced() -> None:
    classes = _screen_classes()
    names = {cls.__name__ for cls in classes}
    assert {"MainScreen", "HelpScreen", "ConfirmDialog"} <= names
    assert [cls.__name__ for cls in classes if not issubclass(cls, PacedFrames)] == []
    ours = inspect.getattr_static(PacedFrames, "_update_timer")
    assert [
        c.__name__ for c in classes if inspect.getattr_static(c, "_update_timer") is not ours
    ] == []
    # Textual's CSS follows the first base only: a dialog keeps ModalScreen's styles.
    dialogs = [cls for cls in classes if issubclass(cls, ModalScreen)]
    assert len(dialogs) >= 5
    assert [c.__name__ for c in dialogs if "ModalScreen" not in c._css_type_names] == []


async def test_the_running_console_draws_with_a_frame_timer() -> None:
    async with running_console(FakeTaskSource.with_tasks(3)) as console:
        assert isinstance(console.screen._update_timer, FrameTimer)
        await console.press("down")
        assert console.screen.table.cursor_task_id == make_task(2).task_id


@pytest.mark.parametrize("action", ["cursor_down", "last", "page_down", "cursor_up", "first"])
async def test_the_detail_title_names_the_new_task_in_the_step_that_moves_the_cursor(
    action: str,
) -> None:
    """Before the table's frame is drawn, not a message later (a frame, 17-33 ms, later)."""
    async with running_console(FakeTaskSource.with_tasks(40)) as console:
        screen = console.screen
        table = screen.table
        if action in ("cursor_up", "first"):
            table.action_last()
            await console.press()
        before = table.cursor_task_id
        getattr(table, f"action_{action}")()
        # No await between the move and the check: nothing else has run.
        moved = table.cursor_task_id
        assert moved is not None
        assert moved != before
        assert screen.detail.task_id == moved
