"""The key bar: the main screen's key hints, from the bindings, cut to the width."""

from __future__ import annotations

from typing import ClassVar

from rich.cells import cell_len
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType

from asrtui.ui.widgets.key_bar import KeyBar
from tests.support.fakes import running_console


def bar_text(bar: KeyBar) -> str:
    return "".join(segment.text for segment in bar.render_line(0))


async def test_at_80_columns_help_filter_refresh_pause_and_quit_stay_visible() -> None:
    async with running_console(size=(80, 24)) as console:
        bar = console.screen.query_one(KeyBar)
        text = bar_text(bar)
        assert cell_len(text) == 80
        for hint in (" ? Help ", " / Filter ", " r Refresh ", " p Pause ", " q Quit "):
            assert hint in text
        assert text.rstrip().endswith("^p Commands")
        # Shown in the help screen and the palette, not here.
        for hidden in ("Reveal", "Events", "Export", "Stop"):
            assert hidden not in text


class BarApp(App[None]):
    """A key bar under two bindings, one of which can be disabled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "first", "First"),
        Binding("b", "second", "Second"),
        Binding("c", "hidden", "Hidden", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.second_enabled = True

    def compose(self) -> ComposeResult:
        yield KeyBar()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if action == "second" and not self.second_enabled else True


async def test_follows_the_bindings_and_dims_disabled_actions() -> None:
    app = BarApp()
    async with app.run_test(size=(60, 5)) as pilot:
        bar = app.query_one(KeyBar)
        text = bar_text(bar)
        assert " a First " in text
        assert " b Second " in text
        assert "Hidden" not in text

        def second_key_dimmed() -> bool:
            key = next(s for s in bar.render_line(0) if s.text == " b ")
            return key.style is not None and bool(key.style.dim)

        assert not second_key_dimmed()
        app.second_enabled = False
        app.refresh_bindings()
        await pilot.pause()
        assert second_key_dimmed()


async def test_keys_that_do_not_fit_are_cut() -> None:
    app = BarApp()
    async with app.run_test(size=(12, 5)):
        text = bar_text(app.query_one(KeyBar))
        assert cell_len(text) == 12
        assert text.startswith(" a First ")
