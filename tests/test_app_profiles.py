"""Profiles in the console: the switcher (P), the add/edit form, the first run, the connector."""

from __future__ import annotations

import asyncio
import os
import stat
import string
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from textual.pilot import Pilot
from textual.widgets import Input

import asrtui.__main__
from asrtui.client import LiveClient
from asrtui.connect import Connection
from asrtui.credentials import Credentials
from asrtui.credentials.provider import StaticProvider
from asrtui.emulator import EmulatorApp, build_emulator
from asrtui.errors import AsrtuiError, CredentialsError
from asrtui.profiles import Profile, ProfileStore
from asrtui.protocols import Connector, ProfileChoice, ProfileSession, QuotaStats
from asrtui.quotaurl import url_password
from asrtui.ratelimit import reset_registry
from asrtui.readonly import WRITABLE, ReadOnly
from asrtui.sessionsettings import Settings
from asrtui.tasksource import DEMO_KEY, ENV_KEY, ClientConnector, ClientTaskSource
from asrtui.ui.app import AsrtuiApp
from asrtui.ui.screens.main import MainScreen
from asrtui.ui.screens.profiles import FirstRunScreen, ProfileForm, ProfileSwitcher
from asrtui.ui.settings import ConsoleSettings
from tests.support.clock import FakeClock
from tests.support.fakes import FakeTaskSource, Notes, console_settings, no_sleep, settle
from tests.support.keys import TEST_STALL, burst, slow_mounts, typed

SECRET_A = "secretA-0123456789abcdef"
SECRET_B = "secretB-fedcba9876543210"


@pytest.fixture(autouse=True)
def _fresh_limiters() -> None:
    """Each test starts with no account limiters (they are process-wide)."""
    reset_registry()


# ---------------------------------------------------------------- doubles


@dataclass
class FakeConnector:
    """A `Connector` over fake sources: records opens, activations and closes."""

    sources: dict[str, FakeTaskSource]
    active: str
    profile_store: ProfileStore | None = None
    error: AsrtuiError | None = None
    opened: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    read_only: dict[str, bool] = field(default_factory=dict)

    @property
    def active_key(self) -> str | None:
        return self.active

    def profiles(self) -> list[ProfileChoice]:
        return [
            ProfileChoice(
                key=key,
                name=key,
                region=source.region_id,
                endpoint="https://live.aliyuncs.com",
                credentials="access key ****abcd",
                active=key == self.active,
            )
            for key, source in self.sources.items()
        ]

    def store(self) -> ProfileStore | None:
        return self.profile_store

    async def open(self, key: str) -> ProfileSession:
        if self.error is not None:
            raise self.error
        self.opened.append(key)
        read_only = ReadOnly(profile=key) if self.read_only.get(key, False) else WRITABLE
        return ProfileSession(
            key, self.sources[key], settings=Settings(refresh=2.0), read_only=read_only
        )

    async def activate(self, session: ProfileSession) -> None:
        self.closed.append(self.active)
        self.active = session.key

    async def aclose(self) -> None:
        self.closed.append(self.active)


class ProfilesApp(AsrtuiApp):
    """The real app with a connector, recording toasts."""

    def __init__(self, source: Any, settings: ConsoleSettings, connector: Connector | None) -> None:
        super().__init__(source, settings, connector=connector)
        self.notes = Notes()

    def notify(
        self, message: str, *, title: str = "", severity: Any = "information", **kw: Any
    ) -> None:
        self.notes.messages.append((title, message, severity))

    def bell(self) -> None:
        return None


@dataclass
class Session:
    pilot: Pilot[Any]
    app: ProfilesApp
    clock: FakeClock

    @property
    def main(self) -> MainScreen:
        screens = [s for s in self.app.screen_stack if isinstance(s, MainScreen)]
        assert len(screens) == 1, self.app.screen_stack
        return screens[0]

    async def press(self, *keys: str) -> None:
        await self.pilot.press(*keys)
        await settle(self.pilot)

    async def form(self, *keys: str) -> ProfileForm:
        """Press ``keys`` (``P a`` adds, ``P e`` edits) and return the profile form they open."""
        await self.press(*keys)
        form = self.app.screen
        assert isinstance(form, ProfileForm), form
        return form

    async def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.main.refresh_if_due()
        self.main.tick()
        await settle(self.pilot)


@asynccontextmanager
async def running(
    source: Any, connector: Connector | None, **changes: Any
) -> AsyncIterator[Session]:
    clock = FakeClock()
    app = ProfilesApp(source, console_settings(clock, **changes), connector)
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot)
        yield Session(pilot, app, clock)


def two_sources() -> dict[str, FakeTaskSource]:
    return {
        "prod": FakeTaskSource.with_tasks(3, profile="prod", region_id="cn-shanghai"),
        "staging": FakeTaskSource.with_tasks(5, profile="staging", region_id="cn-beijing"),
    }


def fill(form: ProfileForm, **values: str) -> None:
    """Type into the form's fields by id (``access_key_id`` for ``#access-key-id``)."""
    for name, value in values.items():
        form.query_one("#" + name.replace("_", "-"), Input).value = value


# ---------------------------------------------------------------- switcher


async def test_p_lists_profiles_with_the_active_one_highlighted() -> None:
    sources = two_sources()
    connector = FakeConnector(sources, active="staging")
    async with running(sources["staging"], connector) as s:
        await s.press("P")
        switcher = s.app.screen
        assert isinstance(switcher, ProfileSwitcher)
        assert [c.name for c in switcher.choices] == ["prod", "staging"]
        highlighted = switcher.highlighted
        assert highlighted is not None
        assert highlighted.name == "staging"


async def test_enter_switches_without_restarting_and_the_new_worker_uses_the_new_source() -> None:
    sources = two_sources()
    prod, staging = sources["prod"], sources["staging"]
    connector = FakeConnector(sources, active="prod", read_only={"staging": True})
    async with running(prod, connector) as s:
        old_screen = s.main
        assert old_screen.status_line.snapshot is not None
        assert old_screen.status_line.snapshot.profile == "prod"
        await s.press("P", "down", "enter")
        new_screen = s.main
        assert new_screen is not old_screen
        assert not old_screen.is_attached
        assert connector.opened == ["staging"]
        assert connector.closed == ["prod"]
        assert s.app.source is staging
        snapshot = new_screen.status_line.snapshot
        assert snapshot is not None
        assert (snapshot.profile, snapshot.region, snapshot.read_only) == (
            "staging",
            "cn-beijing",
            True,
        )
        assert new_screen.schedule.interval == 2.0
        assert new_screen.table.total_count == 5
        prod_calls = prod.calls["list_tasks"]
        staging_calls = staging.calls["list_tasks"]
        await s.advance(2)
        await s.advance(2)
        assert staging.calls["list_tasks"] == staging_calls + 2
        assert prod.calls["list_tasks"] == prod_calls
        assert "Now using profile staging in cn-beijing." in s.app.notes.texts()


async def test_escape_cancels_the_switcher() -> None:
    sources = two_sources()
    connector = FakeConnector(sources, active="prod")
    async with running(sources["prod"], connector) as s:
        screen = s.main
        await s.press("P", "down", "escape")
        assert s.app.screen is screen
        assert connector.opened == []
        assert connector.closed == []


async def test_enter_on_the_active_profile_keeps_it() -> None:
    sources = two_sources()
    connector = FakeConnector(sources, active="prod")
    async with running(sources["prod"], connector) as s:
        screen = s.main
        await s.press("P", "enter")
        assert s.app.screen is screen
        assert connector.opened == []
        assert "Already using profile prod." in s.app.notes.texts()


async def test_a_profile_that_fails_to_open_leaves_the_current_one_active() -> None:
    sources = two_sources()
    connector = FakeConnector(
        sources,
        active="prod",
        error=CredentialsError(
            "Credential command 'vault' of profile 'staging' failed with exit status 1",
            "run the command yourself to see what it prints",
        ),
    )
    async with running(sources["prod"], connector) as s:
        screen = s.main
        await s.press("P", "down", "enter")
        assert s.app.screen is screen
        assert s.app.source is sources["prod"]
        assert connector.closed == []
        texts = s.app.notes.texts()
        assert "Could not open the profile" in texts
        assert "exit status 1" in texts
        assert "Still using profile prod." in texts
        calls = sources["prod"].calls["list_tasks"]
        await s.advance(5)
        assert sources["prod"].calls["list_tasks"] == calls + 1


async def test_the_palette_offers_the_switcher() -> None:
    sources = two_sources()
    async with running(sources["prod"], FakeConnector(sources, active="prod")) as s:
        await s.pilot.press("ctrl+p", *"profiles")
        await s.pilot.pause(0.3)
        await s.press("enter")
        assert isinstance(s.app.screen, ProfileSwitcher)


async def test_without_a_connector_p_says_so() -> None:
    async with running(FakeTaskSource.with_tasks(1), None) as s:
        await s.press("P")
        assert isinstance(s.app.screen, MainScreen)
        assert "cannot switch profiles" in s.app.notes.texts()


# ---------------------------------------------------------------- the form


def stored(tmp_path: Path, *profiles: Profile) -> ProfileStore:
    store = ProfileStore(tmp_path / "config")
    for profile in profiles:
        store.add(profile)
    return store


async def test_a_new_profile_is_validated_and_the_error_keeps_what_was_typed(
    tmp_path: Path,
) -> None:
    store = stored(tmp_path)
    connector = FakeConnector(two_sources(), active="prod", profile_store=store)
    async with running(connector.sources["prod"], connector) as s:
        form = await s.form("P", "a")
        fill(form, name="qa", access_key_id="FAKEqa", secret=SECRET_A, rate_limit="25")
        await s.press("ctrl+s")
        assert form.is_current
        assert "Invalid rate limit 25" in form.error
        assert form.values().secret == SECRET_A
        assert form.values().name == "qa"
        fill(form, rate_limit="ten")
        await s.press("ctrl+s")
        assert "Invalid rate limit 'ten'" in form.error
        fill(form, rate_limit="5", region="", endpoint="ftp://x")
        await s.press("ctrl+s")
        assert "region" in form.error.lower()
        assert not store.config_path.exists()
        assert SECRET_A not in form.error


async def test_saving_writes_0600_files_and_lists_the_new_profile(tmp_path: Path) -> None:
    store = stored(tmp_path)
    connector = FakeConnector(two_sources(), active="prod", profile_store=store)
    async with running(connector.sources["prod"], connector) as s:
        form = await s.form("P", "a")
        fill(
            form,
            name="qa",
            access_key_id="FAKEqa",
            secret=SECRET_A,
            token="tok-1",
            region="cn-beijing",
            rate_limit="8",
            refresh="3",
        )
        await s.press("ctrl+s")
        assert isinstance(s.app.screen, ProfileSwitcher)
    profile = store.load().get("qa")
    assert profile.credentials == Credentials("FAKEqa", SECRET_A, "tok-1")
    assert (profile.region, profile.rate_limit, profile.refresh) == ("cn-beijing", 8, 3.0)
    for path in (store.config_path, store.credentials_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.directory.stat().st_mode) == 0o700
    assert SECRET_A not in store.config_path.read_text()


async def test_adding_an_existing_name_is_refused(tmp_path: Path) -> None:
    store = stored(tmp_path, Profile("qa", credentials=Credentials("FAKEqa", SECRET_A)))
    connector = FakeConnector(two_sources(), active="prod", profile_store=store)
    async with running(connector.sources["prod"], connector) as s:
        form = await s.form("P", "a")
        fill(form, name="qa", access_key_id="FAKEother", secret=SECRET_B)
        await s.press("ctrl+s")
        assert "already exists" in form.error
    assert store.load().get("qa").credentials == Credentials("FAKEqa", SECRET_A)


async def real_connector(
    store: ProfileStore, emulator: EmulatorApp, **kwargs: Any
) -> ClientConnector:
    def build(connection: Connection) -> LiveClient:
        assert connection.credentials is not None
        return LiveClient(
            connection.credentials,
            connection.endpoint,
            region=connection.settings.region,
            signature=connection.settings.signature,
            rate_limit=connection.settings.rate_limit,
            profile=connection.profile_name,
            transport=httpx.ASGITransport(app=emulator),
            sleep=no_sleep,
        )

    kwargs.setdefault("env", {})
    return ClientConnector(store=store, client_factory=build, **kwargs)


async def test_editing_never_shows_the_secret_and_an_empty_one_keeps_it(tmp_path: Path) -> None:
    store = stored(
        tmp_path,
        Profile("prod", credentials=Credentials("FAKEprod", SECRET_A, "tok-A")),
        Profile("staging", region="cn-beijing", credentials=Credentials("FAKEstg", SECRET_B)),
    )
    emulator = build_emulator(credentials={"FAKEprod": (SECRET_A, "tok-A"), "FAKEstg": SECRET_B})
    connector = await real_connector(store, emulator)
    session = await connector.open("prod")
    await connector.activate(session)
    async with connector, running(session.source, connector) as s:
        await s.press("P", "down", "e")
        form = s.app.screen
        assert isinstance(form, ProfileForm)
        assert form.values().secret == ""
        assert form.values().token == ""
        assert form.values().access_key_id == "FAKEstg"
        assert form.query_one("#name", Input).disabled
        fill(form, region="cn-hangzhou", refresh="9")
        await s.press("ctrl+s")
        assert isinstance(s.app.screen, ProfileSwitcher)
        # An edited active profile can be re-opened; here the edited one is switched to.
        await s.press("enter")
        assert s.app.source is not None
        assert (s.app.source.profile_name, s.app.source.region) == ("staging", "cn-hangzhou")
        assert s.main.schedule.interval == 9.0
        assert s.main.table.total_count == 8
    profile = store.load().get("staging")
    assert profile.credentials == Credentials("FAKEstg", SECRET_B)
    assert profile.region == "cn-hangzhou"
    assert store.load().get("prod").credentials == Credentials("FAKEprod", SECRET_A, "tok-A")


async def test_editing_with_a_new_key_id_needs_its_secret(tmp_path: Path) -> None:
    store = stored(tmp_path, Profile("prod", credentials=Credentials("FAKEprod", SECRET_A)))
    connector = FakeConnector({"prod": FakeTaskSource.with_tasks(1)}, "prod", store)
    async with running(connector.sources["prod"], connector) as s:
        form = await s.form("P", "e")
        fill(form, access_key_id="FAKEnew")
        await s.press("ctrl+s")
        assert "secret is empty" in form.error
        fill(form, secret=SECRET_B)
        await s.press("ctrl+s")
    assert store.load().get("prod").credentials == Credentials("FAKEnew", SECRET_B)


async def test_demo_mode_refuses_to_add_or_edit(tmp_path: Path) -> None:
    connector = ClientConnector(env={}, store=ProfileStore(tmp_path / "config"), demo_only=True)
    session = await connector.open(DEMO_KEY)
    await connector.activate(session)
    async with connector, running(session.source, connector) as s:
        await s.press("P")
        switcher = s.app.screen
        assert isinstance(switcher, ProfileSwitcher)
        assert [(c.name, c.active, c.kind) for c in switcher.choices] == [("demo", True, "demo")]
        await s.press("a")
        assert s.app.screen is switcher
        await s.press("e")
        assert s.app.screen is switcher
        assert s.app.notes.texts().count("The demo writes no files") == 2
    assert not (tmp_path / "config").exists()


# ---------------------------------------------------------------- first run


async def test_first_run_adds_a_profile_and_opens_it(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path / "config")
    emulator = build_emulator(tasks=4, credentials={"FAKEfirst": SECRET_A})
    connector = await real_connector(store, emulator, offer_demo=True)
    async with connector, running(None, connector) as s:
        assert isinstance(s.app.screen, FirstRunScreen)
        await s.press("a")
        form = s.app.screen
        assert isinstance(form, ProfileForm)
        fill(form, name="first", access_key_id="FAKEfirst", secret=SECRET_A)
        await s.press("enter")
        assert s.app.source is not None
        assert s.app.source.profile_name == "first"
        assert s.main.table.total_count == 4
        assert connector.active_key == "first"
    assert store.load().default == "first"
    assert stat.S_IMODE(store.credentials_path.stat().st_mode) == 0o600


async def test_first_run_can_start_the_demo_instead(tmp_path: Path) -> None:
    connector = ClientConnector(env={}, store=ProfileStore(tmp_path / "c"), offer_demo=True)
    async with connector, running(None, connector) as s:
        await s.press("d")
        assert s.app.source is not None
        assert s.app.source.profile_name == "demo"
        assert s.app.settings.state_path is None
        assert connector.active_key == DEMO_KEY
    assert not (tmp_path / "c").exists()


class _Tty:
    def isatty(self) -> bool:
        return True


def test_first_run_on_a_terminal_opens_the_console_on_the_first_run_screen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, Any] = {}

    async def fake_run(source: Any, settings: ConsoleSettings, *, connector: Any) -> int:
        seen.update(source=source, connector=connector, choices=connector.profiles())
        return 0

    monkeypatch.setattr("asrtui.ui.app.run_console_async", fake_run)
    monkeypatch.setattr(asrtui.__main__, "_interactive", lambda: True)
    assert asrtui.__main__.main([]) == 0
    assert seen["source"] is None
    assert [choice.kind for choice in seen["choices"]] == ["demo"]


def test_first_run_headless_prints_the_command_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", _Tty())  # stdout is captured, so not a terminal
    assert asrtui.__main__.main([]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "asrtui profile add NAME --access-key-id ID" in err
    assert "asrtui --demo" in err


def test_a_configured_profile_skips_the_first_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ProfileStore().add(Profile("only", credentials=Credentials("FAKEonly", SECRET_A)))
    seen: dict[str, Any] = {}

    async def fake_run(
        source: Any, settings: ConsoleSettings, *, connector: Any, first_answer: Any
    ) -> int:
        # Not awaited: it would go to the network. Given up (cancelled) when the console ends.
        seen.update(source=source, settings=settings, first=first_answer)
        return 0

    monkeypatch.setattr("asrtui.ui.app.run_console_async", fake_run)
    monkeypatch.setattr(asrtui.__main__, "_interactive", lambda: True)
    assert asrtui.__main__.main([]) == 0
    assert seen["source"].profile_name == "only"
    assert seen["first"].source is seen["source"]  # asked early, of the same source
    assert seen["first"].done()


# ---------------------------------------------------------------- the connector


async def test_connector_switch_closes_the_old_client_and_keeps_it_on_failure(
    tmp_path: Path,
) -> None:
    store = stored(
        tmp_path,
        Profile("prod", credentials=Credentials("FAKEprod", SECRET_A)),
        Profile("stg", rate_limit=5, credentials=Credentials("FAKEstg", SECRET_B)),
        Profile("broken", credential_command=f"{sys.executable} -c 'raise SystemExit(3)'"),
    )
    emulator = build_emulator(credentials={"FAKEprod": SECRET_A, "FAKEstg": SECRET_B})
    connector = await real_connector(store, emulator)
    async with connector:
        first = await connector.open("prod")
        await connector.activate(first)
        old_client = connector.client_of(first)
        assert old_client is not None
        with pytest.raises(CredentialsError, match="exit status 3"):
            await connector.open("broken")
        assert connector.active_key == "prod"
        assert len((await first.source.list_tasks()).tasks) == 8
        second = await connector.open("stg")
        assert connector.client_of(first) is old_client  # open alone closes nothing
        await connector.activate(second)
        assert connector.client_of(first) is None
        with pytest.raises(RuntimeError, match="outside 'async with'"):
            await old_client.list_tasks()
        await second.source.list_tasks()
        quota = second.source.quota()
        assert quota.limit == 5
        new_client = connector.client_of(second)
    assert new_client is not None
    with pytest.raises(RuntimeError):
        await new_client.list_tasks()


async def test_connector_lists_environment_and_stored_profiles_without_secrets(
    tmp_path: Path,
) -> None:
    store = stored(
        tmp_path,
        Profile("prod", credentials=Credentials("FAKEprod1234", SECRET_A, "tok-SECRET")),
        Profile("ext", credential_command="/usr/local/bin/get-creds --key SECRETARG"),
    )
    store.set_default("ext")
    env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "FAKEenv5678", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "x"}
    connector = ClientConnector(env=env, store=store)
    choices = connector.profiles()
    assert [(c.key, c.name, c.kind, c.default) for c in choices] == [
        (ENV_KEY, "env", "environment", False),
        ("prod", "prod", "profile", False),
        ("ext", "ext", "profile", True),
    ]
    assert choices[1].credentials == "sts ********1234"
    assert choices[1].endpoint == "https://live.aliyuncs.com"
    assert choices[2].credentials == "command get-creds"
    text = repr(choices) + repr(connector)
    for secret in (SECRET_A, "tok-SECRET", "SECRETARG", "FAKEprod1234", "FAKEenv5678"):
        assert secret not in text


async def test_connector_start_applies_options_to_the_initial_profile_only(
    tmp_path: Path,
) -> None:
    from asrtui.tasksource import Overrides

    store = stored(
        tmp_path,
        Profile("prod", credentials=Credentials("FAKEprod", SECRET_A)),
        Profile("stg", region="cn-beijing", credentials=Credentials("FAKEstg", SECRET_B)),
    )
    emulator = build_emulator(credentials={"FAKEprod": SECRET_A, "FAKEstg": SECRET_B})
    connector = await real_connector(
        store, emulator, overrides=Overrides(profile="prod", region="ap-southeast-1")
    )
    async with connector:
        connection = Connection(
            profile_name="prod",
            settings=Settings(region="ap-southeast-1", endpoint="https://live.aliyuncs.com"),
            credentials=StaticProvider(Credentials("FAKEprod", SECRET_A)),
        )
        first = await connector.start(connection)
        assert (first.key, first.source.region) == ("prod", "ap-southeast-1")
        other = await connector.open("stg")
        assert other.source.region == "cn-beijing"
        again = await connector.open("prod")
        assert again.source.region == "ap-southeast-1"


async def test_quota_carries_the_measured_clock_offset() -> None:
    emulator = build_emulator(credentials={"FAKEk": SECRET_A})
    client = LiveClient(
        lambda: Credentials("FAKEk", SECRET_A),
        "https://live.aliyuncs.com",
        transport=httpx.ASGITransport(app=emulator),
    )
    source = ClientTaskSource(client, profile_name="p", region="cn-shanghai")
    assert source.quota().clock_offset is None
    client.clock_offset = -42.5
    quota = source.quota()
    assert isinstance(quota, QuotaStats)
    assert quota.clock_offset == -42.5


def test_connector_satisfies_the_protocol() -> None:
    assert isinstance(ClientConnector(env={}), Connector)


def test_the_environment_entry_is_gone_without_environment_credentials(
    tmp_path: Path,
) -> None:
    connector = ClientConnector(env={}, store=ProfileStore(tmp_path / "c"))
    assert connector.profiles() == []
    assert os.environ.get("ALIBABA_CLOUD_ACCESS_KEY_ID") is None


async def test_the_form_shows_keeps_and_changes_the_request_timeout(tmp_path: Path) -> None:
    store = stored(
        tmp_path, Profile("prod", request_timeout=40, credentials=Credentials("FAKEprod", SECRET_A))
    )
    connector = FakeConnector({"prod": FakeTaskSource.with_tasks(1)}, "prod", store)
    async with running(connector.sources["prod"], connector) as s:
        form = await s.form("P", "e")
        assert form.values().request_timeout == "40"
        fill(form, request_timeout="0.2")
        await s.press("ctrl+s")
        assert "Invalid request timeout" in form.error
        fill(form, request_timeout="abc")
        await s.press("ctrl+s")
        assert "Invalid request timeout" in form.error
        fill(form, request_timeout="")  # empty keeps what is stored
        await s.press("ctrl+s")
        # The active profile was edited: it is opened again with its new settings.
        assert isinstance(s.app.screen, MainScreen)
        assert store.load().get("prod").request_timeout == 40.0
        form = await s.form("P", "e")
        fill(form, request_timeout="25")
        await s.press("ctrl+s")
    assert store.load().get("prod").request_timeout == 25.0


# ---------------------------------------------------------------- temporary modes in the form

ROLE_ARN = "acs:ram::1234567890123456:role/asr-operator"


async def test_the_form_adds_a_role_profile_with_its_source_key(tmp_path: Path) -> None:
    from asrtui.profiles.modes import ModeSettings

    store = stored(tmp_path, Profile("prod", credentials=Credentials("FAKEprod", SECRET_A)))
    connector = FakeConnector({"prod": FakeTaskSource.with_tasks(1)}, "prod", store)
    async with running(connector.sources["prod"], connector) as s:
        form = await s.form("P", "a")
        fill(form, name="ops", mode="RamRoleArn", ram_role_arn=ROLE_ARN)
        await s.press("ctrl+s")
        assert "needs the source AccessKey" in form.error
        fill(form, access_key_id="FAKEops", secret=SECRET_B)
        await s.press("ctrl+s")
        assert isinstance(s.app.screen, ProfileSwitcher), form.error
    ops = store.load().get("ops")
    assert ops.mode == ModeSettings("RamRoleArn", ram_role_arn=ROLE_ARN)
    assert ops.credentials == Credentials("FAKEops", SECRET_B)


@pytest.mark.parametrize(
    ("typed", "mode"),
    [
        ({"mode": "EcsRamRole"}, "EcsRamRole"),
        ({"mode": "EcsRamRole", "ram_role_name": "jump"}, "EcsRamRole"),
        ({"mode": "ChainableRamRoleArn", "ram_role_arn": ROLE_ARN, "source_profile": "prod"},
         "ChainableRamRoleArn"),
        ({"mode": "CredentialsURI", "credentials_uri": "http://127.0.0.1:8001/c"},
         "CredentialsURI"),
        ({"aliyun_profile": "default"}, "AliyunProfile"),
        ({"mode": "OIDC", "ram_role_arn": ROLE_ARN, "oidc_token_file": "/var/run/token",
          "oidc_provider_arn": "acs:ram::1234567890123456:oidc-provider/ack"}, "OIDC"),
    ],
)  # fmt: skip
async def test_the_form_adds_each_mode(tmp_path: Path, typed: dict[str, str], mode: str) -> None:
    store = stored(tmp_path, Profile("prod", credentials=Credentials("FAKEprod", SECRET_A)))
    connector = FakeConnector({"prod": FakeTaskSource.with_tasks(1)}, "prod", store)
    async with running(connector.sources["prod"], connector) as s:
        form = await s.form("P", "a")
        fill(form, name="new", **typed)
        await s.press("ctrl+s")
        assert isinstance(s.app.screen, ProfileSwitcher), form.error
    made = store.load().get("new")
    assert made.mode is not None
    assert made.mode.mode == mode
    assert made.credentials is None


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ({"mode": "CloudSSO"}, "web browser"),
        ({"mode": "OAuth"}, "web browser"),
        ({"mode": "Quantum"}, "unknown mode"),
        ({"mode": "OIDC", "ram_role_arn": ROLE_ARN}, "needs oidc_provider_arn"),
        ({"ram_role_arn": ROLE_ARN}, "No mode"),
        ({"mode": "EcsRamRole", "command": "get-creds"}, "Give either"),
        ({"mode": "CredentialsURI", "credentials_uri": "http://h/c?token=x"}, "query"),
    ],
)
async def test_the_form_refuses_a_mode_it_cannot_use_saying_why(
    tmp_path: Path, typed: dict[str, str], says: str
) -> None:
    store = stored(tmp_path, Profile("prod", credentials=Credentials("FAKEprod", SECRET_A)))
    connector = FakeConnector({"prod": FakeTaskSource.with_tasks(1)}, "prod", store)
    async with running(connector.sources["prod"], connector) as s:
        form = await s.form("P", "a")
        fill(form, name="new", **typed)
        await s.press("ctrl+s")
        assert isinstance(s.app.screen, ProfileForm)
        assert says in form.error
    assert "new" not in store.load().profiles


async def test_editing_a_role_profile_keeps_what_the_form_does_not_show(tmp_path: Path) -> None:
    from asrtui.profiles.modes import ModeSettings

    settings = ModeSettings(
        "RamRoleArn", ram_role_arn=ROLE_ARN, policy='{"Version": "1"}', expired_seconds=1800
    )
    store = stored(
        tmp_path,
        Profile("ops", credentials=Credentials("FAKEops", SECRET_A), mode=settings),
    )
    connector = FakeConnector({"ops": FakeTaskSource.with_tasks(1)}, "ops", store)
    async with running(connector.sources["ops"], connector) as s:
        form = await s.form("P", "e")
        values = form.values()
        assert (values.mode, values.ram_role_arn, values.secret) == ("RamRoleArn", ROLE_ARN, "")
        fill(form, refresh="10")
        await s.press("ctrl+s")
        # Saved (the profile in use: re-opened at once with its new settings).
        assert isinstance(s.app.screen, MainScreen), form.error
    ops = store.load().get("ops")
    assert ops.mode == settings
    assert ops.credentials == Credentials("FAKEops", SECRET_A)
    assert ops.refresh == 10.0


# ---------------------------------------------------------------- typed at full speed

TYPED_SECRET = "secretA-0123456789abcdef"


def field_value(screen: Any, field_id: str) -> str:
    value: str = screen.query_one(f"#{field_id}", Input).value
    return value


async def test_a_profile_form_typed_in_one_burst_fills_every_field(tmp_path: Path) -> None:
    connector = FakeConnector(
        two_sources(), active="prod", profile_store=ProfileStore(tmp_path / "config")
    )
    async with running(connector.sources["prod"], connector) as s:
        await burst(
            s.pilot,
            "P",
            "a",
            *typed("qa"),
            "tab",
            *typed("FAKEqa"),
            "tab",
            *typed(TYPED_SECRET),
            "tab",
            *typed("tok-1"),
            "tab",
            *typed("vault x"),
        )
        form = s.app.screen
        assert isinstance(form, ProfileForm)
        assert field_value(form, "name") == "qa"
        assert field_value(form, "access-key-id") == "FAKEqa"
        assert field_value(form, "secret") == TYPED_SECRET
        assert field_value(form, "token") == "tok-1"
        assert field_value(form, "command") == "vault x"
        assert field_value(form, "region") == "cn-shanghai"


async def test_a_profile_form_typed_while_it_opens_slowly_loses_no_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The full-suite flake: under load the form took longer to open than the gate waited.

    The first letter after ``P a`` then went to the form before its name field had the focus.
    """
    slow_mounts(monkeypatch, ProfileForm, TEST_STALL / 4)
    connector = FakeConnector(
        two_sources(), active="prod", profile_store=ProfileStore(tmp_path / "config")
    )
    async with running(connector.sources["prod"], connector) as s:
        await burst(s.pilot, "P", "a", *typed("qa"), "tab", *typed("FAKEqa"))
        form = s.app.screen
        assert isinstance(form, ProfileForm)
        assert field_value(form, "name") == "qa"
        assert field_value(form, "access-key-id") == "FAKEqa"


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
        connector = FakeConnector(
            two_sources(), active="prod", profile_store=ProfileStore(path / "config")
        )
        async with running(connector.sources["prod"], connector) as s:
            keys: list[str] = ["P", "a"]
            for index, value in enumerate(values):
                keys += (["tab"] if index else []) + typed(value)
            await burst(s.pilot, *keys)
            form = s.app.screen
            assert isinstance(form, ProfileForm)
            ids = ["name", "access-key-id", "secret", "token"]
            assert [field_value(form, field_id) for field_id in ids] == values

    asyncio.run(scenario())


async def test_the_read_only_box_and_the_signature_say_their_state_without_colour(
    tmp_path: Path,
) -> None:
    from textual.widgets import Checkbox, RadioButton

    connector = FakeConnector(two_sources(), active="prod", profile_store=stored(tmp_path))
    async with running(connector.sources["prod"], connector) as s:
        form = await s.form("P", "a")
        box = form.query_one("#read-only", Checkbox)
        assert str(box.render()).startswith("▐ ▌")
        box.value = True
        await s.press()
        assert str(box.render()).startswith("▐X▌")
        v3, rpc = form.query_one("#v3", RadioButton), form.query_one("#rpc", RadioButton)
        assert str(v3.render()).startswith("▐●▌")
        assert str(rpc.render()).startswith("▐ ▌")


async def test_editing_the_active_profile_applies_its_new_settings_at_once(tmp_path: Path) -> None:
    store = stored(
        tmp_path,
        Profile("prod", credentials=Credentials("FAKEprod", SECRET_A)),
        Profile("staging", region="cn-beijing", credentials=Credentials("FAKEstg", SECRET_B)),
    )
    emulator = build_emulator(credentials={"FAKEprod": SECRET_A, "FAKEstg": SECRET_B})
    connector = await real_connector(store, emulator)
    session = await connector.open("prod")
    await connector.activate(session)
    async with connector, running(session.source, connector) as s:
        assert s.main.schedule.interval == 5.0
        form = await s.form("P", "e")
        fill(form, refresh="9")
        await s.press("ctrl+s")
        # No Enter: the switcher closes and the console re-opens the profile it is using.
        assert isinstance(s.app.screen, MainScreen)
        assert s.app.source is not None
        assert s.app.source.profile_name == "prod"
        assert s.main.schedule.interval == 9.0


# ---------------------------------------------------------------- the shared quota in the form

REDIS_PASSWORD = "redisPW-9876/5432@1:0"


async def test_the_form_keeps_the_redis_password_hidden_and_kept(tmp_path: Path) -> None:
    url = "redis://:" + REDIS_PASSWORD.replace("/", "%2F").replace("@", "%40") + "@q.example:6379/0"
    store = stored(
        tmp_path,
        Profile("prod", credentials=Credentials("FAKEprod", SECRET_A), shared_quota=url),
    )
    connector = FakeConnector({"prod": FakeTaskSource.with_tasks(1)}, "prod", store)
    async with running(connector.sources["prod"], connector) as s:
        form = await s.form("P", "e")
        # The URL without its password; the password's own field empty and hidden.
        assert form.values().shared_quota == "redis://q.example:6379/0"
        assert form.values().shared_quota_password == ""
        assert form.query_one("#shared-quota-password", Input).password
        shown = "".join(str(w.render()) for w in form.query(Input))
        assert REDIS_PASSWORD not in shown
        fill(form, shared_quota="redis://q2.example:6380/1")  # empty password: kept
        await s.press("ctrl+s")
        assert isinstance(s.app.screen, MainScreen)
        kept = store.load().get("prod").shared_quota
        assert kept is not None
        assert kept.endswith("@q2.example:6380/1")
        assert url_password(kept) == REDIS_PASSWORD
        form = await s.form("P", "e")
        fill(form, shared_quota="http://nope")
        await s.press("ctrl+s")
        assert "must be redis://" in form.error
        assert REDIS_PASSWORD not in form.error
        fill(form, shared_quota="", shared_quota_password="")  # empty: the host only
        await s.press("ctrl+s")
    assert store.load().get("prod").shared_quota is None
    assert REDIS_PASSWORD not in store.config_path.read_text()


async def test_the_form_adds_a_shared_quota_with_a_new_password(tmp_path: Path) -> None:
    store = stored(tmp_path, Profile("prod", credentials=Credentials("FAKEprod", SECRET_A)))
    connector = FakeConnector({"prod": FakeTaskSource.with_tasks(1)}, "prod", store)
    async with running(connector.sources["prod"], connector) as s:
        form = await s.form("P", "e")
        assert form.values().shared_quota == ""
        fill(form, shared_quota="rediss://q.example/0", shared_quota_password=REDIS_PASSWORD)
        await s.press("ctrl+s")
    shared = store.load().get("prod").shared_quota
    assert shared is not None
    assert url_password(shared) == REDIS_PASSWORD
    assert REDIS_PASSWORD not in store.config_path.read_text()
    assert REDIS_PASSWORD not in repr(store.load().get("prod"))


@pytest.mark.parametrize(
    ("typed", "check_box", "applied"),
    [
        ({"refresh": "9"}, False, {"interval": 9.0}),
        ({"refresh": "1"}, False, {"interval": 1.0}),
        ({}, True, {"read_only": True}),
        (
            {"endpoint": "https://live.example.test"},
            False,
            {"endpoint": "https://live.example.test"},
        ),
        ({"region": "cn-beijing"}, False, {"region": "cn-beijing"}),
        ({"rate_limit": "7"}, False, {"rate_limit": 7}),
    ],
)
async def test_each_edit_of_the_active_profile_reaches_the_running_session(
    tmp_path: Path, typed: dict[str, str], check_box: bool, applied: dict[str, object]
) -> None:
    """Saved, the active profile is opened again through the composition root: whatever the
    form changed (cadence, read-only, endpoint, region, quota) is what the session now uses,
    the old client is closed, and the remembered view of the profile is kept."""
    from textual.widgets import Checkbox

    store = stored(tmp_path, Profile("prod", credentials=Credentials("FAKEprod", SECRET_A)))
    emulator = build_emulator(credentials={"FAKEprod": SECRET_A})
    connector = await real_connector(store, emulator)
    session = await connector.open("prod")
    await connector.activate(session)
    state = tmp_path / "state" / "console.json"
    async with connector, running(session.source, connector, state_path=state) as s:
        await s.press("h")
        form = await s.form("P", "e")
        fill(form, **typed)
        if check_box:
            form.query_one("#read-only", Checkbox).value = True
        await s.press("ctrl+s")
        assert isinstance(s.app.screen, MainScreen)
        active = connector.active_session
        assert active is not None
        assert active is not session
        client = connector.client_of(active)
        assert client is not None
        assert connector.client_of(session) is None  # closed
        now = {
            "interval": s.main.schedule.interval,
            "read_only": bool(s.app.settings.read_only),
            "endpoint": client.endpoint,
            "region": active.source.region,
            "rate_limit": active.source.quota().limit,
        }
        assert {key: now[key] for key in applied} == applied
        assert s.main.table.hide_ended
        if applied.get("read_only"):
            await s.press("x")
            assert "read-only" in s.app.notes.texts()
            assert s.app.screen is s.main
