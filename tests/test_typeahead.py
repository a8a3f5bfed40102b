"""Type-ahead: keys typed in one burst reach the field or dialog they were meant for, in order.

A burst is every key handed to the app's driver before the app runs a single message: what a
paste, a password manager's auto-type or ``tmux send-keys`` delivers. Each case was typed with
pauses before the key gate and came out right; in a burst it put the whole line into the first
field (secret included) until the gate (`asrtui.ui.typeahead`).
"""

from __future__ import annotations

import asyncio
import string
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from textual import events
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.widgets import Input

from asrtui.profiles import ProfileStore
from asrtui.ui.app import AsrtuiApp
from asrtui.ui.dialogs import ConfirmDialog, ExportDialog
from asrtui.ui.screens.profiles import ProfileForm
from tests.fakes import FakeTaskSource, running_console, settle
from tests.test_app_profiles import FakeConnector, running, two_sources

SECRET = "secretA-0123456789abcdef"


def key_event(key: str) -> events.Key:
    """The event the terminal driver makes of one key name or character."""
    if len(key) == 1:
        name = key if key.isalnum() else _character_to_key(key)
        return events.Key(name, key)
    return events.Key(key, "\t" if key == "tab" else None)


async def burst(pilot: Pilot[Any], *keys: str) -> None:
    """Hand ``keys`` to the app all at once (no loop turn between them), then let them settle."""
    app = pilot.app
    assert isinstance(app, AsrtuiApp)
    driver = app._driver
    assert driver is not None
    for key in keys:
        event = key_event(key)
        event.set_sender(app)
        driver.send_message(event)
    await pilot.pause()
    await app.keys_settled()
    await settle(pilot)


def typed(text: str) -> list[str]:
    return list(text)


def field(screen: Any, field_id: str) -> str:
    value: str = screen.query_one(f"#{field_id}", Input).value
    return value


def stored(tmp_path: Path) -> ProfileStore:
    return ProfileStore(tmp_path / "config")


async def test_a_profile_form_typed_in_one_burst_fills_every_field(tmp_path: Path) -> None:
    connector = FakeConnector(two_sources(), active="prod", profile_store=stored(tmp_path))
    async with running(connector.sources["prod"], connector) as s:
        await burst(
            s.pilot,
            "P",
            "a",
            *typed("qa"),
            "tab",
            *typed("LTAIqa"),
            "tab",
            *typed(SECRET),
            "tab",
            *typed("tok-1"),
            "tab",
            *typed("vault x"),
        )
        form = s.app.screen
        assert isinstance(form, ProfileForm)
        assert field(form, "name") == "qa"
        assert field(form, "access-key-id") == "LTAIqa"
        assert field(form, "secret") == SECRET
        assert field(form, "token") == "tok-1"
        assert field(form, "command") == "vault x"
        assert field(form, "region") == "cn-shanghai"


_FIELD_TEXT = st.text(
    alphabet=string.ascii_letters + string.digits + "-_.:/@+=", min_size=1, max_size=12
)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(_FIELD_TEXT, min_size=4, max_size=4))
def test_any_text_typed_field_by_field_lands_in_its_field(
    tmp_path_factory: Any, values: list[str]
) -> None:
    """Whatever the text (keys bound elsewhere, like ``q`` or ``/``, included), it stays put."""

    async def scenario() -> None:
        path = tmp_path_factory.mktemp("store")
        connector = FakeConnector(two_sources(), active="prod", profile_store=stored(path))
        async with running(connector.sources["prod"], connector) as s:
            keys: list[str] = ["P", "a"]
            for index, value in enumerate(values):
                keys += (["tab"] if index else []) + typed(value)
            await burst(s.pilot, *keys)
            form = s.app.screen
            assert isinstance(form, ProfileForm)
            ids = ["name", "access-key-id", "secret", "token"]
            assert [field(form, field_id) for field_id in ids] == values

    asyncio.run(scenario())


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
