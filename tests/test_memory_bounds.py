"""What a console keeps over a long broadcast stays within stated caps, however long it runs.

A console runs for hours while tasks start and end all the time. Everything it keeps per task,
per event or per notification must be bounded: these tests drive many refresh cycles of
churning tasks on a fake clock and count the structures (not resident memory, which depends on
the allocator): rows, histories, departed ids, events, log lines, rendered lines, toasts.
"""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from asrtui.ui.app import MAX_TOASTS
from asrtui.ui.render_caches import TRIM_SECONDS, render_caches, trim_render_caches
from asrtui.ui.taskbook import DEPARTED_SIZE, EVENT_LOG_SIZE, HISTORY_SIZE
from asrtui.ui.widgets.event_log import MAX_LINES
from asrtui.ui.widgets.task_table.widget import line_cache_rows
from tests.support.clock import FakeClock
from tests.support.fakes import FakeTaskSource, RecordingApp, console_settings, make_task, settle


def toast_holders(app: RecordingApp) -> tuple[int, int]:
    """Toast holders in the racks of every screen on the stack: (all, empty)."""
    holders = [h for screen in app.screen_stack for h in screen.query("ToastRack > ToastHolder")]
    return len(holders), sum(1 for h in holders if not h.children)


async def notify_then_drop(app: RecordingApp, pilot: Pilot[Any], count: int) -> None:
    """Show ``count`` toasts, then have the rack remove them as it does expired ones.

    Textual's rack removes the toast of a notification it no longer holds and leaves the
    toast's holder: what happens when a notification expires just before its toast's timer
    fires and another notification arrives. Clearing the notifications takes the same path,
    deterministically.
    """
    for number in range(count):
        app.notify(f"note {number}")
    await pilot.pause()
    app.clear_notifications()
    await pilot.pause()


async def test_toast_holders_left_empty_are_removed_by_the_second_sweep() -> None:
    clock = FakeClock()
    app = RecordingApp(FakeTaskSource.with_tasks(3), console_settings(clock), toasts=True)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        # As many as are shown at once (the app drops the oldest beyond them).
        await notify_then_drop(app, pilot, MAX_TOASTS)
        # Textual leaves them (if it stops doing so, this test has nothing left to guard).
        assert toast_holders(app) == (MAX_TOASTS, MAX_TOASTS)
        # A holder may be empty for a moment before its toast mounts: one sweep spares it.
        assert app.sweep_toasts() == 0
        assert app.sweep_toasts() == MAX_TOASTS
        await pilot.pause()
        assert toast_holders(app) == (0, 0)


async def test_live_toasts_are_never_swept() -> None:
    clock = FakeClock()
    app = RecordingApp(FakeTaskSource.with_tasks(3), console_settings(clock), toasts=True)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        app.notify("still showing", timeout=600)
        await pilot.pause()
        for _ in range(3):
            assert app.sweep_toasts() == 0
        await pilot.pause()
        assert toast_holders(app) == (1, 0)


async def test_a_long_churning_session_keeps_every_structure_within_its_cap() -> None:
    """~1,200 tasks start and as many end over 100 refreshes; nothing grows past its cap."""
    clock = FakeClock()
    running = 40
    source = FakeTaskSource.with_tasks(running)
    app = RecordingApp(source, console_settings(clock), toasts=True)
    cycles, churn = 100, 12
    linger_rows = 0
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("e")  # the event log shown, so its widget keeps lines too
        next_number = running + 1
        for cycle in range(cycles):
            for task_id in list(source.tasks)[:churn]:
                source.remove(task_id)
            source.put(make_task(n) for n in range(next_number, next_number + churn))
            next_number += churn
            clock.advance(5)
            screen.refresh_if_due()
            screen.tick()
            await settle(pilot)
            if cycle % 10 == 9:
                # The toasts of the last refreshes leave as expired ones do under load.
                app.clear_notifications()
                await pilot.pause()
                app.sweep_toasts()
                app.sweep_toasts()
                await pilot.pause()
        book = screen.book
        # Ended rows linger 60 s: 12 refreshes of 12 ended tasks, at most.
        linger_rows = len(book) - running
        assert 0 < linger_rows <= churn * (int(book.linger // 5) + 1)
        assert len(book._history) <= len(book)
        assert all(len(h) <= HISTORY_SIZE for h in book._history.values())
        assert len(book._departed) == DEPARTED_SIZE  # full: ~1,200 tasks left
        assert len(book.events) == EVENT_LOG_SIZE
        assert screen.feed.pending == 0
        assert len(screen.event_log.entries) == MAX_LINES
        assert len(screen.event_log.lines) <= MAX_LINES
        kept = line_cache_rows(screen.table._body_height())
        assert len(screen.table._line_cache) <= min(kept, len(book))
        holders, empty = toast_holders(app)
        assert empty == 0
        assert holders <= len(app._notifications)


async def test_rendering_caches_are_emptied_and_the_console_trims_them_on_a_timer() -> None:
    clock = FakeClock()
    app = RecordingApp(FakeTaskSource.with_tasks(30), console_settings(clock), toasts=True)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await settle(pilot)
        app.notify("a toast, for the regions and styles it brings")
        await pilot.pause()
        caches = list(render_caches())
        assert sum(cache.cache_info().currsize for cache in caches) > 0
        assert trim_render_caches() > 0
        assert all(cache.cache_info().currsize == 0 for cache in caches)
        # Still drawn correctly afterwards.
        await pilot.pause()
        assert "asr-00000001" in app.export_screenshot()
        timers = [timer for timer in app._timers if timer._callback is trim_render_caches]
        assert [timer._interval for timer in timers] == [TRIM_SECONDS]
