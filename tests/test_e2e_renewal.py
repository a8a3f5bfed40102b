"""Renewal of temporary credentials during a running console, on real time and a real socket.

The emulator serves the Live API and STS on a loopback port and issues credentials that live a
few seconds; the console refreshes every second on the real clock, through the chain and the
composition root as a user would run it. Across at least two renewals the key id in use
changes, no refresh fails (no ``InvalidSecurityToken.Expired`` on a key used too close to its
expiry, no stale status) and refreshes keep coming. The fake-clock test in
``test_app_credentials`` covers hours; this one proves the real loop, socket and timers agree.
"""

from __future__ import annotations

import itertools
import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import cast

import pytest

from asrtui.connect import Connection, open_client
from asrtui.credentials import Credentials
from asrtui.credentials.chain import resolve_connection_settings
from asrtui.emulator import EmulatorApp, IdentityServices, build_emulator
from asrtui.errors import AsrtuiError
from asrtui.models import TaskList
from asrtui.profiles import Profile, ProfileStore
from asrtui.profiles.modes import ModeSettings
from asrtui.tasksource import ClientTaskSource
from asrtui.ui.screens.main import MainScreen
from asrtui.ui.settings import ConsoleSettings
from tests.support.cli import ROOT, asrtui_command, demo_env
from tests.support.fakes import FakeTaskSource, RecordingApp

pytest.importorskip("uvicorn")

from asrtui.emulator.server import running_server

KEY_ID = "FAKErenewale2e"
SECRET = "renewal-e2e-secret-abcdef"
ROLE = "acs:ram::1234567890123456:role/asr-operator"
#: Seconds every issued credential lives (whole seconds, truncated: 3 to 4 s in effect).
LIFETIME = 4
#: Distinct temporary key ids to see: the first one and two renewals.
KEYS = 3
#: The longest the test waits for them, a guard against a hang (it takes about 6 s).
WALL = 15.0
#: The longest pause allowed between two answered refreshes at a 1 s cadence: generous for a
#: loaded 2-core machine, shorter than what one key lives, so a missed renewal shows.
MAX_GAP = 3.0


@dataclass
class Seen:
    """Each refresh the console made: when it ended, the key id in use, and any failure."""

    ends: list[float] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


class WatchedSource(ClientTaskSource):
    """The real task source, noting each list refresh for the assertions."""

    def __init__(self, source: ClientTaskSource, seen: Seen) -> None:
        super().__init__(source.client, profile_name=source.profile_name, region=source.region)
        self.seen = seen

    async def list_tasks(self, *, priority: bool = False) -> TaskList:
        try:
            answer = await super().list_tasks(priority=priority)
        except AsrtuiError as error:
            self.seen.failures.append(str(error))
            raise
        finally:
            self.seen.ends.append(time.monotonic())
        self.seen.keys.append(self.client.credentials_info.access_key_id)
        return answer


@pytest.fixture
def served() -> Iterator[tuple[EmulatorApp, str]]:
    identity = IdentityServices(lifetime=LIFETIME, oidc_tokens=["pod-token"])
    app = build_emulator(seed=3, tasks=3, credentials={KEY_ID: SECRET}, identity=identity)
    with running_server(app) as url:
        yield app, url


def _configure(mode: str, url: str, home: Path, store: ProfileStore) -> tuple[dict[str, str], str]:
    """The environment and --profile (or "") of a user of ``mode``."""
    env = {"HOME": str(home), "ALIBABA_CLOUD_STS_ENDPOINT": url}
    if mode == "RamRoleArn":
        key = Credentials(KEY_ID, SECRET)
        store.add(Profile("ops", credentials=key, mode=ModeSettings(mode, ram_role_arn=ROLE)))
        return env, "ops"
    token = home / "token"
    token.write_text("pod-token")
    return {
        **env,
        "ALIBABA_CLOUD_ROLE_ARN": ROLE,
        "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": "acs:ram::1234567890123456:oidc-provider/ack",
        "ALIBABA_CLOUD_OIDC_TOKEN_FILE": str(token),
    }, ""


@pytest.mark.parametrize("mode", ["RamRoleArn", "OIDC"])
async def test_the_console_renews_short_lived_credentials_with_no_gap(
    mode: str, served: tuple[EmulatorApp, str], tmp_path: Path
) -> None:
    emulator, url = served
    assert emulator.identity is not None
    store = ProfileStore(tmp_path / "asrtui")
    env, profile = _configure(mode, url, tmp_path, store)
    settings = resolve_connection_settings(
        profile=profile or None, endpoint=url, region=None, signature=None, env=env, store=store
    )
    seen = Seen()
    client = open_client(Connection.from_settings(settings))
    async with client:
        source = WatchedSource(
            ClientTaskSource(
                client, profile_name=settings.profile, region=settings.settings.region
            ),
            seen,
        )
        console = ConsoleSettings(
            refresh_interval=1.0, tz=UTC, detail_debounce=0.0, theme="textual-dark"
        )
        app = RecordingApp(cast(FakeTaskSource, source), console)
        async with app.run_test(size=(100, 30)) as pilot:
            started = time.monotonic()
            while len(set(seen.keys)) < KEYS and not seen.failures:
                assert time.monotonic() - started < WALL, (seen.keys, seen.failures)
                await pilot.pause(0.2)
            screen = app.screen
            assert isinstance(screen, MainScreen)
            shown = screen.status_line.snapshot
    assert not seen.failures, seen.failures
    assert shown is not None
    assert not shown.stale, shown
    assert shown.credentials is not None
    assert shown.credentials.mode == mode
    assert not shown.credentials.refresh_error
    # Renewed: each key took over from the one before, none came back.
    distinct = list(dict.fromkeys(seen.keys))
    assert len(distinct) >= KEYS
    assert all(key != KEY_ID for key in distinct)
    runs = [key for i, key in enumerate(seen.keys) if i == 0 or seen.keys[i - 1] != key]
    assert runs == distinct, seen.keys
    # No gap: refreshes kept coming at the console's cadence.
    gaps = [later - earlier for earlier, later in itertools.pairwise(seen.ends)]
    assert max(gaps) < MAX_GAP, gaps
    action = "AssumeRole" if mode == "RamRoleArn" else "AssumeRoleWithOIDC"
    assert emulator.identity.calls.get(action, 0) >= KEYS


def test_tasks_watch_renews_short_lived_oidc_credentials_with_no_gap(
    served: tuple[EmulatorApp, str], tmp_path: Path
) -> None:
    """The same over the CLI: ``asrtui tasks --watch 1`` in its own process, OIDC from the
    environment, every round answered and none more than `MAX_GAP` after the one before."""
    emulator, url = served
    assert emulator.identity is not None
    base = {k: v for k, v in demo_env().items() if not k.startswith("ALIBABA_CLOUD_")}
    env, _ = _configure("OIDC", url, tmp_path, ProfileStore(tmp_path / "asrtui"))
    env = {**base, **env, "XDG_CONFIG_HOME": str(tmp_path / "config")}
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    command = asrtui_command("tasks", "--endpoint", url, "--watch", "1", "--format", "json")
    rounds: list[tuple[float, str]] = []
    with subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None

        def read() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                rounds.append((time.monotonic(), line))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        started = time.monotonic()
        try:
            while emulator.identity.calls.get("AssumeRoleWithOIDC", 0) < KEYS + 1:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() - started < WALL + 5, rounds
                time.sleep(0.2)
        finally:
            process.send_signal(signal.SIGINT)
            _, errors = process.communicate(timeout=10)
        reader.join(5)
    assert process.returncode == 130, errors
    assert "Expired" not in errors
    assert SECRET not in errors
    answers = [json.loads(line) for _, line in rounds]
    assert len(answers) >= 2 * KEYS, answers
    ends = [when for when, _ in rounds]
    gaps = [later - earlier for earlier, later in itertools.pairwise(ends)]
    assert max(gaps) < MAX_GAP, gaps
