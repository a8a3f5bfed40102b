"""Snapshot tests of the console's main states, on a fixed clock and fixed tasks.

Regenerate with ``pytest tests/test_snapshots.py --snapshot-update`` after a deliberate change
of the look, and review the SVGs under ``tests/__snapshots__/`` before committing them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual.pilot import Pilot

from asrtui.errors import ConnectError
from asrtui.quotastats import QuotaStats
from asrtui.readonly import ReadOnly
from asrtui.ui.screens.main import MainScreen
from tests.support.clock import FakeClock
from tests.support.fakes import FakeTaskSource, RecordingApp, console_settings, make_task, settle

SnapCompare = Callable[..., bool]


def demo_source() -> FakeTaskSource:
    """Six tasks with a mix of languages, tags, statuses and unknown fields."""
    source = FakeTaskSource()
    source.put(
        [
            make_task(1, tag="evening-news", extra={"channel": "ch-1"}),
            make_task(2, language="en", tag="sports"),
            make_task(3, language="ja"),
            make_task(4, status=3, tag="[bold]markup[/] tag"),
            make_task(5, language="yue", tag="weather"),
            make_task(6, language="fspk"),
        ]
    )
    return source


def console_app(source: FakeTaskSource | None = None, **changes: Any) -> RecordingApp:
    clock = FakeClock()
    app = RecordingApp(source or demo_source(), console_settings(clock, **changes), toasts=True)
    app.fake_clock = clock  # type: ignore[attr-defined]
    return app


def after_first_refresh(*keys: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """A ``run_before`` that waits for the first refresh, then presses ``keys``."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run_before


def test_main_view(snap_compare: SnapCompare) -> None:
    assert snap_compare(console_app(), terminal_size=(140, 32), run_before=after_first_refresh())


def test_detail_raw_json_revealed(snap_compare: SnapCompare) -> None:
    assert snap_compare(
        console_app(),
        terminal_size=(140, 36),
        run_before=after_first_refresh("down", "down", "v", "J"),
    )


def test_filter_active(snap_compare: SnapCompare) -> None:
    assert snap_compare(
        console_app(),
        terminal_size=(120, 30),
        run_before=after_first_refresh("slash", "e", "n"),
    )


def test_stale_error_state(snap_compare: SnapCompare) -> None:
    source = demo_source()
    app = console_app(source)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        source.fail(3, ConnectError("Could not connect to live.aliyuncs.com", "check the network"))
        source.fail_only = "list_tasks"
        app.fake_clock.advance(65)  # type: ignore[attr-defined]
        app.screen.refresh_if_due()  # type: ignore[attr-defined]
        app.screen.tick()  # type: ignore[attr-defined]
        await settle(pilot)

    assert snap_compare(app, terminal_size=(120, 30), run_before=run_before)


def test_help_screen(snap_compare: SnapCompare) -> None:
    assert snap_compare(
        console_app(), terminal_size=(100, 50), run_before=after_first_refresh("question_mark")
    )


def test_narrow_80x24(snap_compare: SnapCompare) -> None:
    assert snap_compare(
        console_app(read_only=ReadOnly(flag=True)),
        terminal_size=(80, 24),
        run_before=after_first_refresh("down"),
    )


# ---------------------------------------------------------------- console controls


def test_detail_pane_focused_wide(snap_compare: SnapCompare) -> None:
    """Enter: the pane's title and edge are marked, the key bar shows the pane's keys."""
    assert snap_compare(
        console_app(), terminal_size=(140, 32), run_before=after_first_refresh("down", "enter")
    )


def test_detail_pane_focused_80x24(snap_compare: SnapCompare) -> None:
    assert snap_compare(
        console_app(), terminal_size=(80, 24), run_before=after_first_refresh("down", "enter")
    )


def test_tasks_ending_merge_into_one_toast_80x24(snap_compare: SnapCompare) -> None:
    """Three tasks end over two refreshes: one toast names them all, clear of the status line."""
    source = demo_source()
    app = console_app(source)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        for numbers in ((1,), (2, 3)):
            for number in numbers:
                source.remove(make_task(number).task_id)
            app.fake_clock.advance(5)  # type: ignore[attr-defined]
            screen.refresh_if_due()
            screen.tick()
            await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_field_filter_with_negation(snap_compare: SnapCompare) -> None:
    """``tag:news !lang:en``: field terms, ANDed, one negated."""
    assert snap_compare(
        console_app(),
        terminal_size=(120, 30),
        run_before=after_first_refresh("slash", *"tag:news !lang:en"),
    )


def test_marked_rows(snap_compare: SnapCompare) -> None:
    """Tasks 1, 2 and 4 marked: the gutter's ``*``, the row style and the status line's count."""
    assert snap_compare(
        console_app(),
        terminal_size=(120, 34),
        run_before=after_first_refresh("space", "space", "down", "space"),
    )


def test_batch_stop_confirmation_80x24(snap_compare: SnapCompare) -> None:
    """Every task marked, then ``x``: the question names the count and the first ids."""
    assert snap_compare(
        console_app(), terminal_size=(80, 24), run_before=after_first_refresh("a", "x")
    )


# ---------------------------------------------------------------- columns and the summary


def test_column_chooser_80x24(snap_compare: SnapCompare) -> None:
    """``o``: the tag hidden, the stream moved up; UPDATED and CALLBACK do not fit at 80."""
    assert snap_compare(
        console_app(),
        terminal_size=(80, 24),
        run_before=after_first_refresh("o", "j", "j", "j", "space", *["j"] * 4, "K", "K"),
    )


def summary_before(source: FakeTaskSource, app: RecordingApp, *keys: str) -> Any:
    """Two tasks end and one changes in the next answer; two errors in the last 5 minutes."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        source.remove(make_task(1).task_id)
        source.remove(make_task(2).task_id)
        source.change(make_task(3).task_id, status=3)
        source.quota_stats = QuotaStats(
            limit=20, effective_limit=20.0, used_last_second=2, errors_total=2
        )
        app.fake_clock.advance(5)  # type: ignore[attr-defined]
        screen.refresh_if_due()
        screen.tick()
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run_before


def test_summary_80x24(snap_compare: SnapCompare) -> None:
    """Running, ended and changed at 80 columns, errors over 5 minutes: one line, no wrap."""
    source = demo_source()
    app = console_app(source)
    assert snap_compare(app, terminal_size=(80, 24), run_before=summary_before(source, app))


def test_summary_120x34_with_the_sort_named(snap_compare: SnapCompare) -> None:
    """Sorted by UPDATED, which the table beside the detail pane has no room for: named."""
    source = demo_source()
    app = console_app(source)

    async def run_before(pilot: Pilot[Any]) -> None:
        await summary_before(source, app)(pilot)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        screen.table.sort_by("updated", reverse=True)
        screen.tick()
        await settle(pilot)

    assert snap_compare(app, terminal_size=(120, 34), run_before=run_before)
