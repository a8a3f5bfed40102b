"""The console on temporary credentials: refreshed ahead of expiry with no gap, and a warning
in the status line when refreshing keeps failing. One fake clock drives the console, the
provider and the emulator (STS included), so hours of a broadcast take no time.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import cast

import httpx

from asrtui.client import LiveClient
from asrtui.credentials import Credentials
from asrtui.credentials.provider import StaticProvider
from asrtui.credentials.sts import RoleProvider, RoleSettings
from asrtui.emulator import EmulatorApp, IdentityServices, build_emulator
from asrtui.protocols import CredentialsStatus
from asrtui.ratelimit import WindowLimiter
from asrtui.tasksource import ClientTaskSource
from asrtui.ui.widgets.status_line import StatusSnapshot, render_status
from tests.support.clock import FakeClock
from tests.support.fakes import Console, FakeTaskSource, no_sleep, running_console

KEY_ID = "FAKEconsole"
SECRET = "console-secret-abcdef"
ROLE = "acs:ram::1234567890123456:role/asr-operator"
BASE = "http://emulator.invalid"
#: Every credential the emulator issues lives two minutes: a refresh each minute.
LIFETIME = 120


@asynccontextmanager
async def role_console() -> AsyncIterator[tuple[Console, RoleProvider, EmulatorApp]]:
    clock = FakeClock()
    identity = IdentityServices(clock=clock.now, lifetime=LIFETIME, rng=random.Random(7))
    app = build_emulator(credentials={KEY_ID: SECRET}, clock=clock.now, identity=identity, tasks=3)
    transport = httpx.ASGITransport(app=app)
    provider = RoleProvider(
        StaticProvider(Credentials(KEY_ID, SECRET)),
        RoleSettings(ROLE, session_name="console", endpoint=BASE),
        where="profile 'ops'",
        clock=clock.now,
        transport=transport,
    )
    client = LiveClient(
        provider,
        BASE,
        transport=transport,
        limiter=WindowLimiter(20),
        clock=clock.now,
        sleep=no_sleep,
        max_attempts=1,
    )
    async with client:
        source = ClientTaskSource(client, profile_name="ops", region="cn-shanghai")
        async with running_console(cast(FakeTaskSource, source), clock=clock) as console:
            yield console, provider, app


def snapshot(console: Console) -> StatusSnapshot:
    shown = console.screen.status_line.snapshot
    assert shown is not None
    return shown


async def test_refreshes_ahead_of_expiry_with_no_gap_for_ten_minutes() -> None:
    async with role_console() as (console, provider, app):
        assert app.identity is not None
        issued: list[str] = []
        expirations: list[datetime] = []
        for _ in range(120):  # 10 minutes, one console refresh every 5 s
            await console.advance(5)
            await provider.settled()
            shown = snapshot(console)
            assert not shown.stale, shown.error
            info = provider.info()
            if not issued or issued[-1] != info.access_key_id:
                issued.append(info.access_key_id)
                assert info.expiration is not None
                expirations.append(info.expiration)
        # A new key every minute (half of the 2-minute lifetime), each before the last expired.
        assert 9 <= len(issued) <= 11
        assert app.identity.calls["AssumeRole"] == len(issued)
        assert all(
            later - earlier <= timedelta(seconds=LIFETIME)
            for earlier, later in itertools.pairwise(expirations)
        )
        status = snapshot(console)
        assert status.credentials is not None
        assert status.credentials.mode == "RamRoleArn"
        assert "RamRoleArn" in render_status(status).plain


async def test_a_failing_refresh_warns_then_the_console_goes_stale_not_down() -> None:
    async with role_console() as (console, provider, app):
        assert app.identity is not None
        await console.advance(5)
        good = provider.info().access_key_id
        # The role is taken away: every refresh from now on fails.
        app.identity.roles = frozenset({"acs:ram::1:role/someone-else"})
        await console.advance(60)  # the refresh time: tried in the background, fails
        await provider.settled()
        await console.advance(5)
        shown = snapshot(console)
        assert not shown.stale  # the last good keys still work
        assert provider.info().access_key_id == good
        line = render_status(shown).plain
        assert "⚠ keys expire in" in line
        assert "refresh failing" in line
        assert SECRET not in line
        # Past the expiry nothing valid is left: the refresh fails, the console stays up.
        for _ in range(14):
            await console.advance(5)
            await provider.settled()
        shown = snapshot(console)
        assert shown.stale
        assert "EntityNotExist.Role" in shown.error
        assert "keys expired" in render_status(shown).plain


def test_long_term_keys_leave_the_status_line_as_it_was() -> None:
    plain = StatusSnapshot(profile="prod", region="cn-shanghai")
    with_key = StatusSnapshot(
        profile="prod", region="cn-shanghai", credentials=CredentialsStatus("AK")
    )
    assert render_status(plain) == render_status(with_key)
    sts = StatusSnapshot(
        profile="prod",
        region="cn-shanghai",
        credentials=CredentialsStatus("EcsRamRole"),
        credentials_left=3 * 3600 + 120,
    )
    assert "EcsRamRole 3h02m" in render_status(sts).plain


async def test_a_session_from_further_down_the_chain_can_be_switched_back_to(
    tmp_path: Path,
) -> None:
    """The aliyun CLI's profile (no asrtui profile): listed, active, and opened again."""
    from asrtui.connect import Connection
    from asrtui.credentials.chain import resolve_connection_settings
    from asrtui.profiles import ProfileStore
    from asrtui.tasksource import CHAIN_KEY, ClientConnector

    (tmp_path / ".aliyun").mkdir()
    entry = {"name": "cli", "mode": "AK", "access_key_id": "FAKEcli", "access_key_secret": SECRET}
    (tmp_path / ".aliyun" / "config.json").write_text(
        json.dumps({"current": "cli", "profiles": [entry]})
    )
    env = {"HOME": str(tmp_path)}
    store = ProfileStore(tmp_path / "asrtui")
    emulator = build_emulator(credentials={"FAKEcli": SECRET, "FAKEother": SECRET})

    def build(connection: Connection) -> LiveClient:
        assert connection.credentials is not None
        return LiveClient(
            connection.credentials,
            connection.endpoint,
            transport=httpx.ASGITransport(app=emulator),
            sleep=no_sleep,
        )

    settings = resolve_connection_settings(
        profile=None, endpoint=None, region=None, signature=None, env=env, store=store
    )
    connector = ClientConnector(env=env, store=store, client_factory=build)
    async with connector:
        session = await connector.start(Connection.from_settings(settings))
        assert session.key == CHAIN_KEY
        choices = {choice.key: choice for choice in connector.profiles()}
        assert choices[CHAIN_KEY].name == "aliyun:cli"
        assert choices[CHAIN_KEY].active
        assert "AK" in choices[CHAIN_KEY].credentials
        again = await connector.open(CHAIN_KEY)
        assert again.source.profile_name == "aliyun:cli"
