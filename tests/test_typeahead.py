"""Type-ahead: keys typed in one burst reach the field or dialog they were meant for, in order.

A burst is every key handed to the app's driver before the app runs a single message: what a
paste, a password manager's auto-type or ``tmux send-keys`` delivers. Each case was typed with
pauses before the key gate and came out right; in a burst it put the whole line into the first
field (secret included) until the gate (`asrtui.ui.typeahead`).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from asrtui.profiles import ProfileStore
from asrtui.ui.dialogs import ConfirmDialog, ExportDialog
from asrtui.ui.screens.main import MainScreen
from tests.support.fakes import FakeTaskSource, running_console
from tests.support.keys import TEST_STALL, burst, send_burst, typed

SECRET = "secretA-0123456789abcdef"


def field(screen: Any, field_id: str) -> str:
    value: str = screen.query_one(f"#{field_id}", Input).value
    return value


def stored(tmp_path: Path) -> ProfileStore:
    return ProfileStore(tmp_path / "config")


async def test_the_filter_takes_the_keys_typed_right_after_the_slash() -> None:
    async with running_console(FakeTaskSource.with_tasks(5)) as c:
        await burst(c.pilot, "/", *typed("asr-00000003"))
        assert field(c.screen, "filter") == "asr-00000003"
        assert c.screen.table.row_count == 1


async def test_the_export_dialog_takes_the_path_typed_right_after_it_opens() -> None:
    async with running_console(FakeTaskSource.with_tasks(5)) as c:
        await burst(c.pilot, "E", "ctrl+a", "ctrl+k", *typed("/tmp/x.csv"))
        dialog = c.app.screen
        assert isinstance(dialog, ExportDialog)
        assert field(dialog, "path") == "/tmp/x.csv"


async def test_a_yes_typed_before_the_confirmation_appeared_is_not_an_answer() -> None:
    """``x`` then ``y`` in one burst: the ``y`` was typed before the question could be read."""
    source = FakeTaskSource.with_tasks(3)
    async with running_console(source) as c:
        await burst(c.pilot, "x", "y")
        assert isinstance(c.app.screen, ConfirmDialog)
        assert source.stopped == []
        await c.press("y")
        assert len(source.stopped) == 1


# ------------------------------------------------------------ a slow loop, a stalled handler


async def test_a_handler_that_never_returns_does_not_hold_the_keys_after_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The gate lets the next key go once the app makes no progress on the one before."""
    monkeypatch.setattr("asrtui.ui.typeahead.STALL_TIMEOUT", TEST_STALL)
    release = asyncio.Event()
    entered = asyncio.Event()

    async def stuck(self: MainScreen) -> None:
        entered.set()
        await release.wait()

    monkeypatch.setattr(MainScreen, "action_toggle_bell", stuck)
    async with running_console(FakeTaskSource.with_tasks(3)) as c:
        send_burst(c.app, "b", "p", "p")
        try:
            await asyncio.wait_for(entered.wait(), 30)
            await asyncio.wait_for(c.app.keys_settled(), 30)
            assert not release.is_set()
        finally:
            release.set()
