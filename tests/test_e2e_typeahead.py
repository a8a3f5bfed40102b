"""End-to-end: a profile form typed at full speed into the installed console in tmux.

A password manager's auto-type, a paste or ``tmux send-keys`` delivers a whole form in one
burst: the key that opens the form, every field and the ``Tab`` between them, and ``ctrl+s``.
Before the key gate (`asrtui.ui.typeahead`) the text after each ``Tab`` went into the field
being left, the secret into the name field, shown in clear. Here one ``send-keys`` types the
whole first-run form and the saved profile is read back field by field; no capture may show
the secret.
"""

from __future__ import annotations

import os
import shlex
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from asrtui.credentials import Credentials
from asrtui.errors import ConfigError
from asrtui.profiles import Profile, ProfileStore
from asrtui.profiles.entry import CREDENTIAL_MODES
from tests.support.tmux import TmuxServer, console_env, installed_asrtui, private_server

pytestmark = pytest.mark.e2e

SECRET = "e2eSecretZq-0123456789abcdef"
TOKEN = "tokE2EZq-987"
#: How long the console may take to draw its first screen (a cold start on a busy machine).
START_TIMEOUT = 20.0
#: How long the typed form may take to be saved.
SAVE_TIMEOUT = 20.0

TMUX_CONF = """\
set -g status off
set -g remain-on-exit on
set -sg escape-time 10
set -g default-shell /bin/sh
"""


def _no_secret(screen: str) -> None:
    assert SECRET not in screen, "the secret was shown on screen"
    assert SECRET[:12] not in screen, "a part of the secret was shown on screen"


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[TmuxServer]:
    with private_server("asrtui-typeahead", tmp_path, TMUX_CONF, _no_secret) as server:
        yield server


def _fields_after(input_id: str) -> int:
    """How many credential fields the form shows after ``input_id`` (before the region)."""
    ids = [field.input_id for mode in CREDENTIAL_MODES for field in mode.fields]
    return len(ids) - ids.index(input_id) - 1


def _saved(store: ProfileStore, deadline: float) -> Profile:
    """The saved profile, once the console has written all of it."""
    while True:
        try:
            return store.load().get("qa-e2e")
        except ConfigError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_a_profile_form_typed_in_one_burst_saves_every_field(tmux: TmuxServer) -> None:
    script = installed_asrtui()
    env = [f"{name}={value}" for name, value in console_env().items()]
    command = shlex.join(["env", "TERM=tmux-256color", *env, str(script)])
    target = "typeahead"
    tmux.new_session(target, command, width=100, height=30)
    try:
        tmux.wait_for(
            target, lambda s: "Welcome to asrtui" in s, "the first-run screen", START_TIMEOUT
        )
        # One tmux command: the keys reach the console's terminal back to back.
        tmux.keys(
            target,
            "a",
            "qa-e2e",
            "Tab",
            "FAKEe2e0001",
            "Tab",
            SECRET,
            "Tab",
            TOKEN,
            # Past the other credential fields (left empty) and the region (kept).
            *["Tab"] * (_fields_after("token") + 2),
            "http://127.0.0.1:9",
            "C-s",
        )
        store = ProfileStore(Path(os.environ["XDG_CONFIG_HOME"]) / "asrtui")
        deadline = time.monotonic() + SAVE_TIMEOUT
        # Both files are written (the settings and the credentials, one after the other).
        while not (store.config_path.exists() and store.credentials_path.exists()):
            if time.monotonic() > deadline:
                pytest.fail("the form was not saved; screen:\n" + tmux.capture(target))
            time.sleep(0.05)
        profile = _saved(store, deadline)
        assert profile.credentials is not None
        assert profile.credentials.access_key_id == "FAKEe2e0001"
        assert profile.credentials.access_key_secret == SECRET
        assert profile.credentials.security_token == TOKEN
        assert profile.region == "cn-shanghai"
        assert profile.endpoint == "http://127.0.0.1:9"
        assert profile.credential_command in (None, "")
        # The console opens the new profile (it cannot connect: stale, and still up).
        tmux.wait_for(target, lambda s: "qa-e2e" in s, "the new profile's console", START_TIMEOUT)
    finally:
        tmux.kill_session(target)


def test_the_profile_switchers_form_typed_in_one_burst_saves_every_field(
    tmux: TmuxServer,
) -> None:
    """``P``, ``a`` and every field of the form, in one burst, on a running console.

    The issue's own case (the switcher's form, not the first run's), and every field a user
    fills: the prefilled ones are replaced (focus selects their text), the signature is picked
    with an arrow and space, the read-only box checked with space.
    """
    script = installed_asrtui()
    store = ProfileStore(Path(os.environ["XDG_CONFIG_HOME"]) / "asrtui")
    # A profile to start on; it cannot connect (stale, and the console still up).
    store.add(
        Profile(
            "base",
            endpoint="http://127.0.0.1:9",
            credentials=Credentials("FAKEbase0001", "base-secret-value-0001"),
        )
    )
    env = [f"{name}={value}" for name, value in console_env().items()]
    command = shlex.join(["env", "TERM=tmux-256color", *env, str(script)])
    target = "typeahead-switcher"
    tmux.new_session(target, command, width=100, height=30)
    try:
        tmux.wait_for(target, lambda s: " base · " in s, "the console on base", START_TIMEOUT)
        tmux.keys(
            target,
            "P",
            "a",
            "qa-full",
            "Tab",
            "FAKEe2e0002",
            "Tab",
            SECRET,
            "Tab",
            TOKEN,
            *["Tab"] * (_fields_after("token") + 1),
            "cn-beijing",
            "Tab",
            "http://127.0.0.1:9",
            "Tab",
            "Right",
            "Space",
            "Tab",
            "7",
            "Tab",
            "9",
            "Tab",
            "12",
            "Tab",
            "Space",
            "C-s",
        )
        deadline = time.monotonic() + SAVE_TIMEOUT
        while "qa-full" not in store.load().profiles:
            if time.monotonic() > deadline:
                pytest.fail("the form was not saved; screen:\n" + tmux.capture(target))
            time.sleep(0.05)
        profile = store.load().get("qa-full")
        assert profile.credentials is not None
        assert profile.credentials.access_key_id == "FAKEe2e0002"
        assert profile.credentials.access_key_secret == SECRET
        assert profile.credentials.security_token == TOKEN
        assert profile.credential_command in (None, "")
        assert profile.region == "cn-beijing"
        assert profile.endpoint == "http://127.0.0.1:9"
        assert profile.signature == "rpc"
        assert profile.rate_limit == 7
        assert profile.refresh == 9.0
        assert profile.request_timeout == 12.0
        assert profile.read_only is True
        tmux.wait_for(
            target, lambda s: "Saved profile qa-full" in s, "the switcher's answer", START_TIMEOUT
        )
    finally:
        tmux.kill_session(target)
