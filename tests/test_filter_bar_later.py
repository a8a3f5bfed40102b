"""The filter bar is mounted by the first "/", not composed for the first frame.

Hidden until then, it cost every start the composing and styling of an `Input`. Mounted on
demand, it must behave as if it had always been there: keys typed in one burst after "/" land
in it, Escape before any "/" does nothing, and the panels keep their order (table, event log,
filter bar, key bar) whichever of the event log and the filter bar comes first.
"""

from __future__ import annotations

import pytest
from textual.widgets import Input

from tests.support.fakes import FakeTaskSource, running_console


async def test_the_first_frame_has_no_filter_bar_and_slash_brings_it() -> None:
    async with running_console(FakeTaskSource.with_tasks(3)) as console:
        screen = console.screen
        assert screen.table.row_count == 3
        assert not screen.query("#filter-bar")
        # Escape with nothing to clear: nothing happens, nothing is mounted.
        await console.press("escape")
        assert not screen.query("#filter-bar")
        assert console.app.focused is screen.table
        # Typed in one burst: every key after "/" reaches the field mounted for it.
        await console.press("slash", "0", "0", "0", "2")
        field = screen.query_one("#filter", Input)
        assert console.app.focused is field
        assert field.value == "0002"
        assert screen.table.row_count == 1
        await console.press("escape")
        assert screen.table.row_count == 3
        assert console.app.focused is screen.table
        # Opened again: the same bar, not a second one.
        await console.press("slash", "x")
        assert len(screen.query("#filter-bar")) == 1
        assert screen.query_one("#filter", Input).value == "x"


def _order(screen: object) -> list[str]:
    from asrtui.ui.screens.main import MainScreen

    assert isinstance(screen, MainScreen)
    return [child.id or "" for child in screen.children]


@pytest.mark.parametrize("first", ["events", "filter"])
async def test_the_panels_keep_their_order_whichever_comes_first(first: str) -> None:
    async with running_console(FakeTaskSource.with_tasks(2)) as console:
        screen = console.screen
        keys = {"events": ("e",), "filter": ("slash", "escape")}
        for which in (first, "filter" if first == "events" else "events"):
            await console.press(*keys[which])
        order = _order(screen)
        assert order.index("body") < order.index("events") < order.index("filter-bar")
        assert order.index("filter-bar") < order.index("keys")


@pytest.mark.parametrize("callers", [2, 3])
async def test_openings_while_the_bar_is_being_mounted_share_one_bar(callers: int) -> None:
    # "/" from the keys and the same action from the palette can both arrive before the
    # first mount has finished: each must get the one field, not mount a second bar.
    import asyncio

    async with running_console(FakeTaskSource.with_tasks(2)) as console:
        screen = console.screen
        await asyncio.gather(*(screen.action_open_filter() for _ in range(callers)))
        await console.pilot.pause()
        assert len(screen.query("#filter-bar")) == 1
        assert console.app.focused is screen.query_one("#filter", Input)
