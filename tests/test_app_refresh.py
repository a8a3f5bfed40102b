"""The refresh worker: cadence, pause, manual refresh, staleness, backoff and recovery."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from typing import Any

import pytest

from asrtui.errors import AsrtuiError, ConnectError, ThrottledError
from asrtui.protocols import QuotaStats
from asrtui.readonly import ReadOnly
from asrtui.ui.app import AsrtuiApp
from asrtui.ui.first_answer import FirstAnswer
from asrtui.ui.refresh import RefreshSchedule, step_interval
from asrtui.ui.screens.main import MainScreen
from asrtui.ui.widgets.status_line import render_status
from tests.support.clock import FakeClock
from tests.support.fakes import FakeTaskSource, console_settings, make_task, running_console, settle


async def test_first_refresh_fills_the_table_and_the_status_line() -> None:
    async with running_console(FakeTaskSource.with_tasks(3)) as console:
        screen = console.screen
        assert console.source.calls["list_tasks"] == 1
        assert screen.table.total_count == 3
        status = screen.status_line.snapshot
        assert status is not None
        assert (status.profile, status.region, status.shown, status.total) == (
            "demo",
            "cn-shanghai",
            3,
            3,
        )
        assert status.data_age == 0.0
        assert status.next_in == 5.0
        assert not status.stale


async def test_refreshes_every_interval_by_the_injected_clock() -> None:
    async with running_console() as console:
        await console.advance(4.5)
        assert console.source.calls["list_tasks"] == 1
        await console.advance(0.5)
        assert console.source.calls["list_tasks"] == 2
        await console.advance(5)
        assert console.source.calls["list_tasks"] == 3
        assert console.source.priorities == [False, False, False]


async def test_new_data_reaches_the_table() -> None:
    async with running_console(FakeTaskSource.with_tasks(2)) as console:
        console.source.put([make_task(9)])
        await console.advance(5)
        assert console.screen.table.total_count == 3


async def test_a_slow_refresh_is_never_overlapped_and_pushes_the_next_one_back() -> None:
    source = FakeTaskSource.with_tasks(2)
    async with running_console(source) as console:
        source.gate = asyncio.Event()
        console.clock.advance(5)
        console.screen.refresh_if_due()
        await console.pilot.pause()
        assert console.screen.schedule.running
        for _ in range(3):
            console.clock.advance(10)
            console.screen.refresh_if_due()
            await console.pilot.pause()
        assert source.calls["list_tasks"] == 2
        source.gate.set()
        await settle(console.pilot)
        # Due again one interval after the slow run completed, not after it started.
        assert console.screen.schedule.seconds_until_due(console.clock.monotonic()) == 5.0
        await console.advance(4)
        assert source.calls["list_tasks"] == 2


async def test_pause_stops_refreshes_and_resume_restarts_them() -> None:
    async with running_console() as console:
        await console.press("p")
        assert console.screen.status_line.snapshot is not None
        assert console.screen.status_line.snapshot.paused
        await console.advance(30)
        assert console.source.calls["list_tasks"] == 1
        await console.press("p")
        assert console.source.calls["list_tasks"] == 2
        assert not console.screen.status_line.snapshot.paused


async def test_manual_refresh_is_a_priority_request_even_while_paused() -> None:
    async with running_console() as console:
        await console.press("p")
        await console.press("r")
        assert console.source.calls["list_tasks"] == 2
        assert console.source.priorities == [False, True]


async def test_manual_refreshes_during_a_run_coalesce_into_one() -> None:
    source = FakeTaskSource.with_tasks(2)
    async with running_console(source) as console:
        source.gate = asyncio.Event()
        await console.pilot.press("r")
        await console.pilot.pause()
        await console.pilot.press("r", "r", "r")
        await console.pilot.pause()
        assert source.calls["list_tasks"] == 2
        source.gate.set()
        await settle(console.pilot)
        console.screen.refresh_if_due()
        await settle(console.pilot)
        assert source.calls["list_tasks"] == 3
        assert source.priorities == [False, True, True]
        assert "another follows" in console.app.notes.texts()


@pytest.mark.parametrize(
    ("answers_first", "said", "not_said"),
    [
        (False, "No data yet; retrying every 5s.", "last good data"),
        (True, "Showing the last good data; retrying every 5s.", "No data yet"),
    ],
)
async def test_the_failure_toast_claims_data_only_when_there_is_some(
    answers_first: bool, said: str, not_said: str
) -> None:
    """A profile that never answered has no data to fall back on: the toast says so."""
    source = FakeTaskSource.with_tasks(3)
    if not answers_first:
        source.fail(1, ConnectError("Could not connect to 127.0.0.1:9", "check the network"))
    async with running_console(source) as console:
        if answers_first:
            source.fail(1, ConnectError("Could not connect to 127.0.0.1:9", "check the network"))
            await console.advance(5)
        failures = [m for title, m, _ in console.app.notes.messages if title == "Refresh failed"]
        assert len(failures) == 1
        assert said in failures[0]
        assert not_said not in failures[0]


async def test_failure_keeps_the_data_marks_it_stale_and_recovers() -> None:
    source = FakeTaskSource.with_tasks(3)
    async with running_console(source) as console:
        screen = console.screen
        source.fail(1, ConnectError("Could not connect to live.aliyuncs.com", "check network"))
        await console.advance(5)
        status = screen.status_line.snapshot
        assert status is not None
        assert status.stale
        assert status.error == "Could not connect to live.aliyuncs.com: check network"
        assert screen.table.total_count == 3
        assert "STALE" in render_status(status).plain
        assert any("Refresh failed" in title for title, _, _ in console.app.notes.messages)
        log = "\n".join(line.plain for line in screen.event_log.entries)
        assert "Refresh failed: Could not connect" in log

        await console.advance(5)  # the next attempt, one interval later, succeeds
        status = screen.status_line.snapshot
        assert status is not None
        assert not status.stale
        assert "Refresh recovered" in "\n".join(line.plain for line in screen.event_log.entries)
        assert "Recovered" in console.app.notes.texts()


async def test_stale_shows_the_age_of_the_last_good_data() -> None:
    source = FakeTaskSource.with_tasks(1)
    async with running_console(source) as console:
        source.fail(5, only="list_tasks")
        await console.advance(5)
        await console.advance(5)
        await console.advance(5)
        status = console.screen.status_line.snapshot
        assert status is not None
        assert status.data_age == 15.0
        assert "15s" in render_status(status).plain


async def test_a_long_outage_keeps_the_cadence_and_recovers_within_one_interval() -> None:
    """Attempts stay one interval apart however long it fails: no minute-long wait to recover."""
    source = FakeTaskSource.with_tasks(1)
    async with running_console(source) as console:
        schedule = console.screen.schedule
        source.fail(10, ThrottledError("Throttling.User", "Denied"), only="list_tasks")
        await console.advance(5)
        calls = source.calls["list_tasks"]
        waits = []
        for _ in range(9):
            wait = schedule.seconds_until_due(console.clock.monotonic())
            waits.append(wait)
            await console.advance(wait)
        assert waits == [5.0] * 9
        assert source.calls["list_tasks"] == calls + 9
        assert schedule.stale
        # The fault is over (ten failures); the next attempt, one interval later, is current.
        await console.advance(4.9)
        assert schedule.stale
        await console.advance(0.1)
        assert not schedule.stale
        status = console.screen.status_line.snapshot
        assert status is not None
        assert not status.stale


async def test_an_error_message_is_shown_as_text_not_markup() -> None:
    source = FakeTaskSource.with_tasks(1)
    async with running_console(source) as console:
        source.fail(1, AsrtuiError("bad [bold red]answer[/] from [link=x]server"))
        await console.advance(5)
        status = console.screen.status_line.snapshot
        assert status is not None
        assert "bad [bold red]answer[/] from [link=x]server" in render_status(status).plain


async def test_a_bug_in_the_source_is_reported_and_the_console_keeps_running() -> None:
    source = FakeTaskSource.with_tasks(1)
    async with running_console(source) as console:
        source.fail(1, AsrtuiError("x"))
        source.error = KeyError("boom http://h/s.flv?auth_key=abc123")  # type: ignore[assignment]
        await console.advance(5)
        assert console.app.is_running
        assert "Internal error in refresh: KeyError" in console.app.notes.texts()
        assert "abc123" not in console.app.notes.texts()
        assert console.screen.schedule.stale
        await console.advance(10)
        assert not console.screen.schedule.stale


async def test_plus_and_minus_step_the_interval_within_bounds() -> None:
    async with running_console() as console:
        schedule = console.screen.schedule
        await console.press("plus")
        assert schedule.interval == 10
        await console.press("minus", "minus", "minus", "minus", "minus", "minus")
        assert schedule.interval == 1
        for _ in range(20):
            console.screen.action_slower()
        assert schedule.interval == 300


async def test_status_line_shows_quota_and_slowdown() -> None:
    source = FakeTaskSource.with_tasks(1)
    source.quota_stats = QuotaStats(
        limit=20, effective_limit=10.0, used_last_second=7, throttled_total=3, errors_total=1
    )
    async with running_console(source, read_only=ReadOnly(flag=True)) as console:
        status = console.screen.status_line.snapshot
        assert status is not None
        text = render_status(status).plain
        assert "7/10 req/s (slowed from 20)" in text
        assert "throttled 3 err 1" in text
        assert "READ-ONLY" in text


@pytest.mark.parametrize(
    ("current", "direction", "expected"),
    [(5, 1, 10), (5, -1, 3), (1, -1, 1), (300, 1, 300), (7, 1, 10), (7, -1, 5)],
)
def test_step_interval(current: float, direction: int, expected: float) -> None:
    assert step_interval(current, direction) == expected


def test_schedule_is_due_at_once_then_every_interval() -> None:
    schedule = RefreshSchedule(5, now=100)
    assert schedule.due(100)
    assert not schedule.start()
    assert not schedule.due(100)
    schedule.succeed(101, 1.0)
    assert not schedule.due(105.9)
    assert schedule.due(106)


def test_schedule_retries_one_interval_after_a_failure() -> None:
    schedule = RefreshSchedule(120, now=0)
    for end in (3, 200):
        schedule.start()
        schedule.fail(end, "down")
        assert schedule.next_due == end + 120
    assert schedule.stale
    assert schedule.failures == 2


def test_schedule_interval_change_moves_the_due_time() -> None:
    schedule = RefreshSchedule(30, now=0)
    schedule.start()
    schedule.succeed(0, 0.1)
    schedule.set_interval(5, now=2)
    assert schedule.next_due == 5
    schedule.set_interval(1, now=4.5)
    assert schedule.next_due == 4.5


# ---------------------------------------------------------------- the first answer, asked early


def main_screen_of(app: AsrtuiApp) -> MainScreen:
    screen = app.screen
    assert isinstance(screen, MainScreen)
    return screen


async def test_a_first_answer_in_before_the_screen_mounts_is_shown_at_once() -> None:
    source = FakeTaskSource.with_tasks(3)
    source.gate = asyncio.Event()
    clock = FakeClock()
    first = FirstAnswer(source, clock.monotonic)
    clock.advance(0.25)
    source.gate.set()
    await first.wait()
    app = AsrtuiApp(source, console_settings(clock), first_answer=first)
    async with app.run_test() as pilot:
        screen = main_screen_of(app)
        # Shown while the screen mounted: no refresh worker was needed for it.
        assert not any(worker.group == "refresh" for worker in app.workers)
        assert screen.table.total_count == 3
        await settle(pilot)
        assert source.calls["list_tasks"] == 1
        status = screen.status_line.snapshot
        assert status is not None
        assert status.latency == 0.25
        assert status.next_in == 5.0
        assert not status.stale


async def test_a_first_answer_still_on_its_way_is_awaited_not_asked_again() -> None:
    source = FakeTaskSource.with_tasks(2)
    source.gate = asyncio.Event()
    clock = FakeClock()
    first = FirstAnswer(source, clock.monotonic)
    app = AsrtuiApp(source, console_settings(clock), first_answer=first)
    async with app.run_test() as pilot:
        await pilot.pause()
        screen = main_screen_of(app)
        assert screen.schedule.running
        assert screen.table.total_count == 0
        clock.advance(0.5)
        source.gate.set()
        await settle(pilot)
        assert screen.table.total_count == 2
        assert source.calls["list_tasks"] == 1
        assert screen.schedule.last_latency == 0.5


async def test_a_failed_first_answer_is_a_failed_refresh_that_is_retried() -> None:
    source = FakeTaskSource.with_tasks(2)
    source.fail(1, ConnectError("Could not connect to live.aliyuncs.com"), only="list_tasks")
    clock = FakeClock()
    first = FirstAnswer(source, clock.monotonic)
    with suppress(AsrtuiError):
        await first.wait()
    app = AsrtuiApp(source, console_settings(clock), first_answer=first)
    async with app.run_test() as pilot:
        await settle(pilot)
        screen = main_screen_of(app)
        assert screen.schedule.stale
        assert "Could not connect" in screen.schedule.error
        clock.advance(screen.schedule.seconds_until_due(clock.monotonic()))
        screen.refresh_if_due()
        await settle(pilot)
        assert source.calls["list_tasks"] == 2
        assert not screen.schedule.stale
        assert screen.table.total_count == 2


async def test_a_first_answer_from_another_source_is_not_used() -> None:
    other = FakeTaskSource.with_tasks(4)
    source = FakeTaskSource.with_tasks(1)
    clock = FakeClock()
    first = FirstAnswer(other, clock.monotonic)
    await first.wait()
    app = AsrtuiApp(source, console_settings(clock), first_answer=first)
    async with app.run_test() as pilot:
        await settle(pilot)
        assert main_screen_of(app).table.total_count == 1
        assert source.calls["list_tasks"] == 1


async def test_cancel_gives_up_on_an_answer_nobody_took() -> None:
    source = FakeTaskSource.with_tasks(1)
    source.gate = asyncio.Event()
    first = FirstAnswer(source, FakeClock().monotonic)
    await asyncio.sleep(0)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first.wait()
    assert first.done()


async def test_the_status_line_lays_the_screen_out_again_only_when_its_height_changes() -> None:
    source = FakeTaskSource.with_tasks(2)
    async with running_console(source, size=(120, 30)) as console:
        line = console.screen.status_line
        layouts: list[bool] = []
        update = line.update

        def record(content: Any = "", *, layout: bool = True) -> None:
            layouts.append(layout)
            update(content, layout=layout)

        line.update = record  # type: ignore[method-assign]
        await console.advance(1)  # the data ages by a second: same one line
        assert layouts
        assert not any(layouts)
        seen = len(layouts)
        source.fail(1, ConnectError("Could not connect to live.aliyuncs.com"), only="list_tasks")
        await console.advance(4)  # the refresh fails: a second line says so
        assert line.snapshot is not None
        assert line.snapshot.stale
        assert any(layouts[seen:])


@pytest.mark.parametrize("seconds", [1, 299, 300, 301, 3600])
async def test_the_tick_never_starts_a_refresh_whatever_the_clock_says(seconds: float) -> None:
    # A long interval: the timer armed on the real clock cannot fire during the test.
    async with running_console(refresh_interval=300) as console:
        due = seconds >= 300
        console.clock.advance(seconds)
        for _ in range(3):
            console.screen.tick()
        await settle(console.pilot)
        assert console.source.calls["list_tasks"] == 1
        # The one trigger starts it once, however often it is called while the run is on.
        source = console.source
        source.gate = asyncio.Event()
        console.screen.refresh_if_due()
        console.screen.refresh_if_due()
        console.screen.tick()
        await console.pilot.pause()
        assert source.calls["list_tasks"] == (2 if due else 1)
        source.gate.set()
        await settle(console.pilot)
        assert source.calls["list_tasks"] == (2 if due else 1)


async def test_the_refresh_timer_is_armed_again_when_a_run_ends() -> None:
    async with running_console(refresh_interval=300) as console:
        screen = console.screen
        timer = screen._due_timer
        assert timer is not None
        await console.advance(300)
        assert console.source.calls["list_tasks"] == 2
        assert screen._due_timer is not None
        assert screen._due_timer is not timer


async def test_revealing_is_screen_state_bound_down_to_the_detail_pane() -> None:
    async with running_console() as console:
        screen = console.screen
        assert not screen.revealed
        assert not screen.detail.revealed
        await console.press("v")
        assert screen.revealed
        assert screen.detail.revealed
        snapshot = screen.status_line.snapshot
        assert snapshot is not None
        assert snapshot.revealed
        await console.press("v")
        assert not screen.revealed
        assert not screen.detail.revealed


async def test_the_screen_tick_moves_the_table_ages_in_the_same_repaint() -> None:
    # One timer a second for the status line and the table's time columns, so both repaint in
    # one screen update (the table's own timer made a second one each second).
    async with running_console(FakeTaskSource.with_tasks(3), size=(160, 30)) as console:
        table = console.screen.table
        assert table._tick_timer is None
        before = [table.render_line(y) for y in range(1, 4)]
        repainted: list[int] = []
        refresh_line = table.refresh_line

        def record(y: int) -> None:
            repainted.append(y)
            refresh_line(y)

        table.refresh_line = record  # type: ignore[method-assign]
        console.clock.advance(61)  # uptime and ages move on, in minutes
        console.screen.tick()
        assert sorted(set(repainted)) == [1, 2, 3]
        await settle(console.pilot)
        after = [table.render_line(y) for y in range(1, 4)]
        assert all(a.text != b.text for a, b in zip(before, after, strict=True))
