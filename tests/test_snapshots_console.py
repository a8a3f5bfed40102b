"""Snapshots of the operator's console controls: focus marking, and the rest as they come.

Regenerate with ``pytest tests/test_snapshots_console.py --snapshot-update`` after a deliberate
change of the look, and review the SVGs under ``tests/__snapshots__/`` before committing them.
"""

from __future__ import annotations

from tests.test_snapshots import SnapCompare, after_first_refresh, console_app


def test_detail_pane_focused_wide(snap_compare: SnapCompare) -> None:
    """Enter: the pane's title and edge are marked, the key bar shows the pane's keys."""
    assert snap_compare(
        console_app(), terminal_size=(140, 32), run_before=after_first_refresh("down", "enter")
    )


def test_detail_pane_focused_80x24(snap_compare: SnapCompare) -> None:
    assert snap_compare(
        console_app(), terminal_size=(80, 24), run_before=after_first_refresh("down", "enter")
    )
