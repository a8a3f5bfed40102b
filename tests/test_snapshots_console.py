"""Snapshots of the operator's console controls: focus marking, and the rest as they come.

Regenerate with ``pytest tests/test_snapshots_console.py --snapshot-update`` after a deliberate
change of the look, and review the SVGs under ``tests/__snapshots__/`` before committing them.
"""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from asrtui.ui.screens.main import MainScreen
from tests.fakes import make_task, settle
from tests.test_snapshots import SnapCompare, after_first_refresh, console_app, demo_source


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
