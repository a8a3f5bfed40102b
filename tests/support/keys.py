"""Keys typed in one burst: every key handed to the app's driver before it runs a message.

What a paste, a password manager's auto-type or ``tmux send-keys`` delivers; the console's key
gate (`asrtui.ui.typeahead`) must route each to the field it was meant for.
"""

from __future__ import annotations

from typing import Any

from textual import events
from textual.keys import _character_to_key
from textual.pilot import Pilot

from asrtui.ui.app import AsrtuiApp
from tests.support.fakes import settle


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
