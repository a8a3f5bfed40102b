"""The notification policy: levels, the bell, one toast per subject, never over a dialog."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st
from textual.widgets._toast import Toast

from asrtui.errors import ServerError
from asrtui.ui.app import MAX_TOASTS
from asrtui.ui.dialogs import ExportDialog
from asrtui.ui.notices import LEVELS, Burst, Kind, NoticeLevel, next_level, rings, shows
from tests.support.clock import FakeClock
from tests.support.fakes import Console, FakeTaskSource, RecordingApp, console_settings, settle

Q, N, V = NoticeLevel.QUIET, NoticeLevel.NORMAL, NoticeLevel.VERBOSE


@pytest.mark.parametrize(
    ("kind", "shown_at", "rung_at"),
    [
        ("error", {Q, N, V}, {Q, N, V}),
        ("ended", {N, V}, {N, V}),
        ("started", {V}, set()),
        ("action", {N, V}, set()),
        ("answer", {N, V}, set()),
    ],
)
def test_what_each_level_shows_and_rings(
    kind: Kind, shown_at: set[NoticeLevel], rung_at: set[NoticeLevel]
) -> None:
    assert {level for level in LEVELS if shows(level, kind)} == shown_at
    assert {level for level in LEVELS if rings(level, kind)} == rung_at


def test_every_kind_is_in_the_table() -> None:
    for kind in get_args(Kind):
        assert shows(V, kind)


def test_the_level_key_goes_round() -> None:
    assert [next_level(Q), next_level(N), next_level(V)] == [N, V, Q]


@given(st.lists(st.tuples(st.floats(0, 20), st.integers(0, 6)), min_size=1, max_size=12))
def test_a_burst_counts_every_task_since_its_toast_was_raised(
    steps: list[tuple[float, int]],
) -> None:
    burst = Burst("ended", window=5.0)
    now = 0.0
    last = float("-inf")
    expected = 0
    serial = 0
    for gap, count in steps:
        now += gap
        ids = [f"t{serial + i}" for i in range(count)]
        serial += count
        if count and now - last > 5.0:
            expected = 0
        if count:
            last = now
        notice = burst.add(ids, now)
        if not count:
            assert notice is None
            continue
        expected += count
        assert notice is not None
        assert notice.message.startswith(f"{expected} task{'s' if expected > 1 else ''} ended: ")
        assert notice.key == "ended"


def test_a_burst_names_three_and_counts_the_rest() -> None:
    burst = Burst("ended", window=5.0)
    burst.add(["a", "b"], 0.0)
    notice = burst.add(["c", "d", "e"], 1.0)
    assert notice is not None
    assert notice.message == "5 tasks ended: a, b, c and 2 more"


@asynccontextmanager
async def toasting(
    source: FakeTaskSource, size: tuple[int, int] = (80, 24), **changes: Any
) -> AsyncIterator[Console]:
    clock = FakeClock()
    app = RecordingApp(source, console_settings(clock, **changes), toasts=True)
    async with app.run_test(size=size, notifications=True) as pilot:
        await settle(pilot)
        yield Console(pilot, app, source, clock)


def live_toasts(c: Console) -> list[Toast]:
    return list(c.app.screen.query(Toast))


async def test_pressing_plus_five_times_leaves_one_toast() -> None:
    async with toasting(FakeTaskSource.with_tasks(3)) as c:
        await c.press(*"+++++")
        await c.press()
        toasts = live_toasts(c)
        assert len(toasts) == 1
        assert "Refresh every" in str(toasts[0].render())


async def test_toasts_never_reach_the_status_line_at_80x24() -> None:
    async with toasting(FakeTaskSource.with_tasks(3)) as c:
        for n in range(8):
            c.app.notify(
                f"error {n} " + "long words " * 12, title="Refresh failed", severity="error"
            )
            await c.press()
        assert len(live_toasts(c)) <= MAX_TOASTS
        status = c.screen.status_line.region
        shown = [t.region.intersection(c.screen.region) for t in live_toasts(c)]
        assert any(region.area for region in shown)
        assert not any(region.overlaps(status) for region in shown)


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 34), (200, 50)], ids=str)
async def test_a_refresh_failure_toast_leaves_the_event_logs_newest_lines_readable(
    size: tuple[int, int],
) -> None:
    """With the event log shown, toasts stand above it: a refresh failure's toast hid the right
    half of the log's newest lines (the failure's own line among them) at 100 columns."""
    source = FakeTaskSource.with_tasks(3)
    async with toasting(source, size=size) as c:
        await c.press("e")
        source.fail(1, ServerError("InternalError", "The service failed on its side. " * 4))
        await c.advance(5)
        await c.press()  # the toast laid out
        toasts = live_toasts(c)
        assert any("Refresh failed" in str(toast.render()) for toast in toasts)
        log, status = c.screen.event_log.region, c.screen.status_line.region
        assert any("Refresh failed" in line.plain for line in c.screen.event_log.entries)
        shown = [toast.region.intersection(c.screen.region) for toast in toasts]
        assert all(region.area for region in shown), [
            (str(t.render())[:30], t.region) for t in toasts
        ]
        assert not any(region.overlaps(log) for region in shown), (shown, log)
        assert not any(region.overlaps(status) for region in shown), (shown, status)
        # Hidden again, the log gives its room back to the toasts.
        await c.press("e")
        await c.press()
        bottom = c.screen.region.bottom - 1  # the key bar
        assert max(toast.region.bottom for toast in live_toasts(c)) > bottom - log.height


async def test_tasks_ending_merge_into_one_toast() -> None:
    source = FakeTaskSource.with_tasks(6)
    async with toasting(source, bell=True) as c:
        ids = list(source.tasks)
        source.remove(ids[0])
        await c.advance(5)
        source.remove(ids[1])
        source.remove(ids[2])
        await c.advance(5)
        await c.press()
        toasts = live_toasts(c)
        assert len(toasts) == 1
        assert "3 tasks ended: " in str(toasts[0].render())
        assert c.app.notes.bells == 2


async def test_quiet_shows_no_task_ends_and_rings_for_none_but_the_log_has_them() -> None:
    source = FakeTaskSource.with_tasks(3)
    async with toasting(source, bell=True) as c:
        await c.press("t", "t")  # normal -> verbose -> quiet
        assert c.screen.notice_level is NoticeLevel.QUIET
        before = len(c.app.notes.messages)
        gone = next(iter(source.tasks))
        source.remove(gone)
        await c.advance(5)
        assert len(c.app.notes.messages) == before
        assert c.app.notes.bells == 0
        lines = [line.plain for line in c.screen.event_log.entries]
        assert any(gone in line and "ended" in line for line in lines)


async def test_verbose_announces_tasks_starting() -> None:
    from tests.support.fakes import make_task

    source = FakeTaskSource.with_tasks(2)
    async with toasting(source) as c:
        await c.press("t")
        assert c.screen.notice_level is NoticeLevel.VERBOSE
        source.put([make_task(9)])
        await c.advance(5)
        assert "1 task started: " in c.app.notes.texts()


async def test_no_toast_draws_over_a_dialog_and_held_ones_show_when_it_closes() -> None:
    source = FakeTaskSource.with_tasks(4)
    async with toasting(source) as c:
        await c.press("+")
        assert live_toasts(c)
        await c.press("E")
        assert isinstance(c.app.screen, ExportDialog)
        assert live_toasts(c) == []
        # Nor under it, on the main screen, drawn beside a dialog that does not cover it all.
        assert list(c.screen.query(Toast)) == []
        source.remove(next(iter(source.tasks)))
        await c.advance(c.screen.schedule.interval)
        assert live_toasts(c) == []
        await c.press("escape")
        await c.press()
        assert any("1 task ended" in str(t.render()) for t in live_toasts(c)), [
            str(t.render()) for t in live_toasts(c)
        ]
