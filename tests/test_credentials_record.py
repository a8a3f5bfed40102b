"""Credential renewals reach the broadcast record: journaled, shown, offered to the hooks.

The refresh machinery counts renewals (`CredentialsInfo.renewals`); the console's record polls
that count through the source's ``credentials_status`` and writes ``credentials_refreshed`` (or
``credentials_recovered`` after failed refreshes) with the mode, the new expiry and a masked key
id, never a secret.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from asrtui.client import LiveClient
from asrtui.credentials import Credentials
from asrtui.credentials.provider import StaticProvider
from asrtui.credentials.refresh import RefreshingProvider
from asrtui.credentials.sts import RoleProvider, RoleSettings
from asrtui.emulator import EmulatorApp, IdentityServices, build_emulator
from asrtui.errors import CredentialsServiceError, SignatureError
from asrtui.events import (
    CREDENTIALS_RECOVERED,
    CREDENTIALS_REFRESHED,
    EVENT_KINDS,
    Event,
)
from asrtui.hooks import HookRunner, parse_hook
from asrtui.journal import Journal, read_journal
from asrtui.protocols import CredentialsStatus
from asrtui.ratelimit import WindowLimiter, reset_registry
from asrtui.record import CredentialsWatch, Recorder
from asrtui.tasksource import ClientTaskSource
from tests.support.clock import FakeClock
from tests.support.fakes import FakeTaskSource, running_console

KEY_ID = "FAKEsource-key-id"
SECRET = "source-secret-abcdefgh"
ROLE = "acs:ram::1234567890123456:role/asr-operator"
START = datetime(2026, 12, 6, 12, 0, 0, tzinfo=UTC)
BASE = "http://emulator.invalid"

#: Appends each event it is given (stdin, one JSON object) to the file named by argv[1].
HOOK = """
import sys
with open(sys.argv[1], "a") as out:
    out.write(sys.stdin.read().strip() + "\\n")
"""


@pytest.fixture(autouse=True)
def _fresh_limiters() -> None:
    reset_registry()


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def _status(renewals: int, error: str = "", key_id: str = "****abcd") -> CredentialsStatus:
    return CredentialsStatus("RamRoleArn", START, error, key_id=key_id, renewals=renewals)


# -- end to end: a short-lived STS from the in-process emulator ------------------------------


def test_a_renewal_of_short_lived_sts_is_journaled_and_hooked_without_a_secret(
    tmp_path: Path,
) -> None:
    clock = Clock()
    identity = IdentityServices(clock=clock, rng=random.Random(7))
    app: EmulatorApp = build_emulator(
        credentials={KEY_ID: SECRET}, clock=clock, identity=identity, tasks=2
    )
    transport = httpx.ASGITransport(app=app)
    provider = RoleProvider(
        StaticProvider(Credentials(KEY_ID, SECRET)),
        RoleSettings(ROLE, session_name="asrtui", duration=900, endpoint=BASE),
        where="profile 'ops'",
        clock=clock,
        transport=transport,
    )
    script = tmp_path / "hook.py"
    script.write_text(HOOK)
    received = tmp_path / "received.jsonl"
    hook = HookRunner(
        parse_hook(
            f"{sys.executable} {script} {received}",
            kinds=[CREDENTIALS_REFRESHED, CREDENTIALS_RECOVERED],
        )
    )
    path = tmp_path / "ops.jsonl"
    recorder = Recorder(Journal(path), [hook], clock=clock)
    recorder.start()
    handed_out: list[Credentials] = []

    async def scenario() -> None:
        client = LiveClient(
            provider, BASE, transport=transport, limiter=WindowLimiter(20), clock=clock
        )
        async with client:
            source = ClientTaskSource(client, profile_name="ops", region="cn-shanghai")

            async def poll() -> Event | None:
                # What a request does: the cached keys, a background refresh when due.
                await provider.get()
                await provider.settled()
                handed_out.append(await provider.get())
                return recorder.credentials(source.credentials_status())

            await client.list_tasks()
            # The first fetch is not a renewal.
            assert await poll() is None
            # Half-way through the 15 minutes: renewed in the background.
            clock.advance(600)
            refreshed = await poll()
            assert refreshed is not None
            assert refreshed.kind == CREDENTIALS_REFRESHED
            # The next refresh fails: the old keys stay, nothing is journaled yet.
            app.faults.set("503", 1.0)
            clock.advance(600)
            assert await poll() is None
            assert provider.info().refresh_error
            app.faults.set("503", 0.0)
            clock.advance(30)
            recovered = await poll()
            assert recovered is not None
            assert recovered.kind == CREDENTIALS_RECOVERED
            await client.list_tasks()  # the renewed keys sign
            # Nothing moves: nothing more.
            assert recorder.credentials(source.credentials_status()) is None
        await hook.idle()

    asyncio.run(scenario())
    recorder.close()

    events = [e for e in read_journal(path).events if e.kind.startswith("credentials_")]
    assert [e.kind for e in events] == [CREDENTIALS_REFRESHED, CREDENTIALS_RECOVERED]
    renewed = handed_out[1]
    first = events[0].detail
    assert first["mode"] == "RamRoleArn"
    assert first["expiration"] == (START + timedelta(seconds=600 + 900)).isoformat()
    assert first["key_id"].endswith(renewed.access_key_id[-4:])
    assert first["key_id"] != renewed.access_key_id
    assert "failed" in events[1].detail
    # No secret in any line: the source pair, every STS secret and token, a full key id.
    text = path.read_text()
    secrets = {SECRET, KEY_ID}
    for credentials in handed_out:
        secrets |= {credentials.access_key_secret, credentials.security_token}
        secrets.add(credentials.access_key_id)
    for secret in secrets:
        assert secret not in text, secret
    # The hook asked for these kinds and got exactly them.
    lines = [json.loads(line) for line in received.read_text().splitlines()]
    assert [line["kind"] for line in lines] == [CREDENTIALS_REFRESHED, CREDENTIALS_RECOVERED]
    assert all(secret not in received.read_text() for secret in secrets)


# -- the refresh machinery counts, a failure does not ------------------------------------------


def test_only_successful_fetches_count_as_renewals() -> None:
    clock = Clock()
    answers: list[Credentials | Exception] = [
        Credentials("STS.one-key-id", "s1", "t1"),
        CredentialsServiceError("the role service failed"),
        Credentials("STS.two-key-id", "s2", "t2"),
    ]

    async def fetch() -> tuple[Credentials, datetime | None]:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer, clock() + timedelta(minutes=20)

    provider = RefreshingProvider(fetch, mode="CredentialsURI", source="a URI", clock=clock)

    async def scenario() -> None:
        assert provider.info().renewals == 0
        await provider.get()
        assert (provider.info().renewals, provider.info().renewed_at) == (1, START)
        clock.advance(16 * 60)
        await provider.get()
        await provider.settled()
        assert provider.info().renewals == 1  # the failure is a refresh_error, not a renewal
        clock.advance(60)
        await provider.get()
        await provider.settled()
        assert provider.info().renewals == 2
        assert provider.info().renewed_at == clock()

    asyncio.run(scenario())


def test_fixed_credentials_never_renew() -> None:
    assert StaticProvider(Credentials("FAKEfixed-key", "secret")).info().renewals == 0


# -- the watch: which readings make which events ---------------------------------------------

#: (renewals, refresh_error) readings → the kinds they make, in order.
CASES = [
    ([(1, ""), (1, ""), (2, "")], [CREDENTIALS_REFRESHED]),
    ([(0, ""), (1, "")], []),  # the first fetch, seen late
    ([(0, "boom"), (1, "")], [CREDENTIALS_RECOVERED]),  # first fetch after failures
    (
        [(1, ""), (1, "boom"), (1, "boom"), (2, ""), (3, "")],
        [CREDENTIALS_RECOVERED, CREDENTIALS_REFRESHED],
    ),
    ([(3, ""), (1, ""), (2, "")], [CREDENTIALS_REFRESHED]),  # another provider: a new baseline
    ([(1, ""), (4, "")], [CREDENTIALS_REFRESHED]),  # several renewals between two ticks: one event
]


@pytest.mark.parametrize(("readings", "kinds"), CASES)
def test_the_watch_reports_each_renewal_once(
    readings: list[tuple[int, str]], kinds: list[str]
) -> None:
    watch = CredentialsWatch()
    made = [watch.observe(_status(n, error), START) for n, error in readings]
    assert [e.kind for e in made if e is not None] == kinds


@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=2), st.booleans()), min_size=1, max_size=30
    )
)
def test_an_event_exactly_when_the_count_moves_and_recovered_exactly_after_a_failure(
    steps: list[tuple[int, bool]],
) -> None:
    watch = CredentialsWatch()
    renewals = 1
    failed_since = False
    first = True
    for step, failing in steps:
        renewals += step
        error = "the role service failed" if failing and step == 0 else ""
        failed_since = failed_since or bool(error)
        event = watch.observe(_status(renewals, error), START)
        if first or step == 0:
            assert event is None
            first = False
            continue
        assert event is not None
        assert event.kind == (CREDENTIALS_RECOVERED if failed_since else CREDENTIALS_REFRESHED)
        assert event.detail["renewals"] == renewals
        failed_since = False


def test_refused_credentials_make_the_next_renewal_a_recovery(tmp_path: Path) -> None:
    recorder = Recorder(Journal(tmp_path / "p.jsonl"), clock=lambda: START)
    recorder.start()
    recorder.credentials(_status(1))
    recorder.failed(SignatureError("InvalidSecurityToken.Expired", "expired"))
    event = recorder.credentials(_status(2))
    assert event is not None
    assert event.kind == CREDENTIALS_RECOVERED
    recorder.close()


@pytest.mark.parametrize(
    "key_id",
    [
        "FAKE5tFullKeyIdNotMasked",
        "https://x.invalid/live?auth_key=1-0-0-deadbeefcafe",
        "id\x1b[31m\nnext line",
    ],
)
def test_the_event_holds_no_secret_and_one_line_whatever_it_is_handed(key_id: str) -> None:
    watch = CredentialsWatch()
    watch.observe(_status(1, key_id=key_id), START)
    event = watch.observe(_status(2, "SecurityToken=token-secret-value", key_id=key_id), START)
    assert event is not None
    line = event.to_line()
    assert "\n" not in line
    assert "\x1b" not in line
    assert "deadbeefcafe" not in line
    assert "token-secret-value" not in line


def test_the_new_kinds_are_selectable_by_a_hook() -> None:
    assert {CREDENTIALS_REFRESHED, CREDENTIALS_RECOVERED} <= set(EVENT_KINDS)
    spec = parse_hook("notify", kinds=[CREDENTIALS_RECOVERED])
    assert spec.kinds == frozenset({CREDENTIALS_RECOVERED})


# -- the console: polled each tick, shown in the event log -----------------------------------


class RenewingSource(FakeTaskSource):
    """A fake source whose credentials the test renews."""

    status = _status(1, key_id="****wxyz")

    def credentials_status(self) -> CredentialsStatus:
        return self.status


async def test_the_console_journals_a_renewal_and_shows_it(tmp_path: Path) -> None:
    path = tmp_path / "studio.jsonl"
    clock = FakeClock()
    source = RenewingSource.with_tasks(2)
    recorder = Recorder(Journal(path), clock=clock.now)
    async with running_console(source, clock=clock, recorder=recorder) as console:
        await console.advance(1)
        source.status = _status(2, key_id="****wxyz")
        await console.advance(1)
        await console.advance(1)
        log = "\n".join(line.plain for line in console.screen.event_log.entries)
        assert "RamRoleArn credentials renewed (****wxyz)" in log
    recorder.close()
    kinds = [e.kind for e in read_journal(path).events]
    assert kinds.count(CREDENTIALS_REFRESHED) == 1
