"""Keys typed in one burst: every key handed to the app's driver before it runs a message.

What a paste, a password manager's auto-type or ``tmux send-keys`` delivers; the console's key
gate (`asrtui.ui.typeahead`) must route each to the field it was meant for.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from textual import events
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widget import Widget

from asrtui.ui import typeahead
from asrtui.ui.app import AsrtuiApp
from tests.support.fakes import settle

#: The gate's stall bound in the slow-loop tests: small, so a real stall costs little.
TEST_STALL = 0.4


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
    send_burst(app, *keys)
    await pilot.pause()
    await app.keys_settled()
    await settle(pilot)


def typed(text: str) -> list[str]:
    return list(text)


def send_burst(app: AsrtuiApp, *keys: str) -> None:
    """Hand ``keys`` to the app's driver at once, without waiting for anything."""
    driver = app._driver
    assert driver is not None
    for key in keys:
        event = key_event(key)
        event.set_sender(app)
        driver.send_message(event)


def slow_mounts(monkeypatch: pytest.MonkeyPatch, screen: type[Screen[Any]], seconds: float) -> None:
    """Each widget mounting on a ``screen`` blocks the loop for ``seconds``.

    A form opening on a loaded machine, made repeatable: its opening takes many times the
    gate's stall bound (set to `TEST_STALL` here), and it is working all along.
    """
    monkeypatch.setattr(typeahead, "STALL_TIMEOUT", TEST_STALL)
    original = Widget._on_mount

    def slowed(self: Widget, event: events.Mount) -> None:
        if isinstance(self.screen, screen):
            time.sleep(seconds)
        original(self, event)

    monkeypatch.setattr(Widget, "_on_mount", slowed)
