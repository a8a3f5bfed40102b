"""Focus you can see and leave: the detail pane scrolls with the table's keys, Esc leaves it.

Before: Enter moved the focus into the detail pane, where j/k/g/G/Esc did nothing, the key bar
stayed the table's, and only Tab twice got back.
"""

from __future__ import annotations

import pytest

from asrtui.ui.dialogs import ConfirmDialog
from asrtui.ui.widgets.detail import TaskDetail
from asrtui.ui.widgets.key_bar import KeyBar
from asrtui.ui.widgets.task_table import TaskTable
from tests.support.fakes import FakeTaskSource, running_console


def bar_text(bar: KeyBar) -> str:
    return "".join(segment.text for segment in bar.render_line(0))


async def test_enter_moves_into_the_detail_pane_and_escape_back_to_the_table() -> None:
    async with running_console(FakeTaskSource.with_tasks(5), size=(80, 24)) as c:
        screen = c.screen
        assert isinstance(c.app.focused, TaskTable)
        await c.press("enter")
        assert isinstance(c.app.focused, TaskDetail)
        bar = bar_text(screen.query_one(KeyBar))
        assert bar.startswith(" Esc Back to table  j/k Scroll ")
        await c.press("escape")
        assert isinstance(c.app.focused, TaskTable)
        assert "Back to table" not in bar_text(screen.query_one(KeyBar))


@pytest.mark.parametrize(
    ("keys", "where"),
    [
        (("j",), "down"),
        (("down",), "down"),
        (("j", "j", "k"), "down"),
        (("G",), "end"),
        (("end",), "end"),
        (("G", "g"), "top"),
        (("G", "home"), "top"),
        (("pagedown",), "down"),
    ],
)
async def test_moving_keys_scroll_the_focused_detail_pane_not_the_cursor(
    keys: tuple[str, ...], where: str
) -> None:
    async with running_console(FakeTaskSource.with_tasks(5), size=(80, 24)) as c:
        table = c.screen.table
        detail = c.screen.detail
        await c.press("down", "enter")
        cursor = table.cursor_task_id
        assert detail.max_scroll_y > 2, "the pane must overflow for this test"
        await c.press(*keys)
        assert table.cursor_task_id == cursor
        if where == "top":
            assert detail.scroll_y == 0
        elif where == "end":
            assert detail.scroll_y == detail.max_scroll_y
        else:
            assert 0 < detail.scroll_y < detail.max_scroll_y


async def test_actions_name_the_task_the_detail_pane_shows() -> None:
    source = FakeTaskSource.with_tasks(5)
    async with running_console(source, size=(80, 24)) as c:
        await c.press("down", "down", "enter")
        shown = c.screen.detail.task_id
        assert shown is not None
        await c.press("j", "x")
        dialog = c.app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert shown in dialog._question
        await c.press("y")
        assert source.stopped == [shown]


async def test_m_maximises_the_table_and_m_or_escape_restores_it() -> None:
    async with running_console(FakeTaskSource.with_tasks(5), size=(80, 24)) as c:
        screen = c.screen
        await c.press("m")
        assert screen.maximized is screen.table
        assert screen.table.region.height > 20
        await c.press("m")
        assert screen.maximized is None
        await c.press("m", "escape")
        assert screen.maximized is None
        assert isinstance(c.app.focused, TaskTable)
