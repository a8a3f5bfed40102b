"""The fault matrix: every emulator fault through the real client, in the console and in the CLI.

For each fault the console (the real `AsrtuiApp` with a `ClientTaskSource` over a `LiveClient`
talking to the emulator in process) must keep running, keep the last good rows on screen and
show STALE with an error naming the cause; once the fault ends it must be fresh again within
one refresh interval, measured with the console's injected monotonic clock. The headless CLI
(``asrtui tasks``, through `asrtui.__main__.main`) must exit 1 with one clear line on stderr
that names the code and the hint, never a traceback.

Time: the limiter, the client's backoff and the emulator's flow control share one `FakeClock`
that moves only when something sleeps on it, and the console runs on another. The one real
wait is the read timeout itself (``latency`` fault): the in-process transport enforces the
client's read timeout the way a socket does, and the test keeps that timeout short.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, cast

import httpx
import pytest

import asrtui.cli
import asrtui.connect
from asrtui.__main__ import main
from asrtui.client import LiveClient
from asrtui.credentials import Credentials
from asrtui.emulator import (
    DEMO_ACCESS_KEY_ID,
    DEMO_ACCESS_KEY_SECRET,
    EmulatorApp,
)
from asrtui.ratelimit import WindowLimiter
from asrtui.tasksource import ClientTaskSource
from asrtui.ui.screens.main import MainScreen
from asrtui.ui.widgets.status_line import StatusSnapshot, render_status
from tests.support.clock import FakeClock
from tests.support.fakes import Console, FakeTaskSource, running_console
from tests.support.fault_rig import (
    BIG_UNDER_THE_CAP,
    DEFAULT_INTERVAL,
    ENDPOINT,
    INTERVAL,
    ODD_TASK,
    PERSISTENT,
    RETRY_AFTER,
    TASKS,
    Fault,
    Wire,
    build_emulator,
    client_factory,
    fault_ids,
)

# -- the console --------------------------------------------------------------------------------


@dataclass
class Rig:
    """A console on the real client and the in-process emulator."""

    console: Console
    wire: Wire
    vt: FakeClock
    client: LiveClient

    @property
    def screen(self) -> MainScreen:
        return self.console.screen

    @property
    def emulator(self) -> EmulatorApp:
        return self.wire.app

    def status(self) -> StatusSnapshot:
        snapshot = self.screen.status_line.snapshot
        assert snapshot is not None
        return snapshot

    def shown_ids(self) -> set[str]:
        """Tasks shown as running (ended ones linger a while, dimmed, and are left out)."""
        return {row.task_id for row in self.screen.table.visible_rows() if not row.is_ended}

    def server_ids(self) -> set[str]:
        return set(self.emulator.backend.query(None) or {})

    async def next_refresh(self) -> None:
        """Move the console's clock to its next refresh and let that refresh finish."""
        clock = self.console.clock
        wait = self.screen.schedule.seconds_until_due(clock.monotonic())
        await self.console.advance(max(wait, 0.0))


@asynccontextmanager
async def console_rig(fault: Fault | None = None, **client: Any) -> AsyncIterator[Rig]:
    """The console after its first good refresh, with ``fault`` ready to be switched on."""
    vt = FakeClock()
    clock = FakeClock()
    wire = Wire(build_emulator(vt, clock.now))
    extra = {"max_attempts": 2, "clock": clock.now, **(fault.client if fault else {}), **client}
    factory = client_factory(wire, vt, **extra)
    credentials = Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
    async with factory(lambda: credentials, ENDPOINT, profile="matrix") as live:
        source = ClientTaskSource(live, profile_name="matrix", region="cn-shanghai")
        async with running_console(
            cast(FakeTaskSource, source),
            clock=clock,
            refresh_interval=INTERVAL,
            # The detail pane fetches only when the cursor moves: the matrix is about the list.
            detail_interval=3600.0,
        ) as console:
            yield Rig(console, wire, vt, live)
    await wire.aclose()


@pytest.mark.parametrize("fault", PERSISTENT, ids=fault_ids)
async def test_console_keeps_the_last_good_rows_shows_stale_and_recovers(fault: Fault) -> None:
    async with console_rig(fault) as rig:
        good = rig.shown_ids()
        assert len(good) == TASKS
        assert not rig.status().stale

        fault.switch_on(rig.wire)
        # The service changes while the console cannot see it.
        gone = sorted(good)[0]
        assert rig.emulator.backend.stop(gone)
        for _ in range(2):
            requests = rig.wire.requests
            await rig.next_refresh()
            assert rig.console.app.is_running
            assert rig.wire.requests > requests  # it did try
            status = rig.status()
            assert status.stale, status
            for text in fault.says:
                assert text in status.error, status.error
            assert "STALE" in render_status(status).plain
            assert rig.shown_ids() == good, "the last good rows must stay on screen"
            assert rig.screen.table.total_count == TASKS

        fault.switch_off(rig.wire)
        ended = rig.console.clock.monotonic()
        await rig.next_refresh()
        status = rig.status()
        assert not status.stale, status.error
        assert status.data_age == 0.0
        assert rig.console.clock.monotonic() - ended <= INTERVAL
        assert rig.shown_ids() == rig.server_ids() == good - {gone}
        ended_row = rig.screen.book.get(gone)
        assert ended_row is not None
        assert ended_row.is_ended
        assert "Refresh recovered" in "\n".join(e.plain for e in rig.screen.event_log.entries)


async def test_console_shows_throttling_slowing_the_limiter_and_honours_retry_after() -> None:
    fault = next(f for f in PERSISTENT if f.name == "retry_after")
    async with console_rig(fault) as rig:
        fault.switch_on(rig.wire)
        await rig.next_refresh()
        quota = rig.status().quota
        assert quota is not None
        assert quota.effective_limit < quota.limit
        assert quota.throttled_total >= 2
        assert "slowed from 20" in render_status(rig.status()).plain
        # The client waited as long as the server asked before its retry.
        assert rig.vt.retry_sleeps == [RETRY_AFTER]


async def test_console_recovers_within_one_default_interval_after_a_long_outage() -> None:
    """Failing for half a minute does not stretch the cadence: recovery is one interval away."""
    fault = next(f for f in PERSISTENT if f.name == "503")
    async with console_rig(fault) as rig:
        clock = rig.console.clock
        rig.screen.schedule.set_interval(DEFAULT_INTERVAL, clock.monotonic())
        await rig.next_refresh()
        fault.switch_on(rig.wire)
        for _ in range(6):
            before = clock.monotonic()
            await rig.next_refresh()
            assert rig.status().stale
            assert clock.monotonic() - before <= DEFAULT_INTERVAL
        fault.switch_off(rig.wire)
        ended = clock.monotonic()
        await rig.next_refresh()
        assert not rig.status().stale, rig.status().error
        assert clock.monotonic() - ended <= DEFAULT_INTERVAL


async def test_console_recovers_at_once_on_r_after_an_outage() -> None:
    """A manual refresh need not wait for the next attempt."""
    fault = next(f for f in PERSISTENT if f.name == "503")
    async with console_rig(fault) as rig:
        clock = rig.console.clock
        rig.screen.schedule.set_interval(DEFAULT_INTERVAL, clock.monotonic())
        fault.switch_on(rig.wire)
        for _ in range(2):
            await rig.next_refresh()
        assert rig.status().stale
        assert rig.screen.schedule.seconds_until_due(clock.monotonic()) > INTERVAL
        fault.switch_off(rig.wire)
        await rig.console.press("r")
        assert not rig.status().stale


async def test_console_reads_a_10_mb_answer_under_the_cap() -> None:
    async with console_rig(BIG_UNDER_THE_CAP) as rig:
        BIG_UNDER_THE_CAP.switch_on(rig.wire)
        await rig.next_refresh()
        assert not rig.status().stale
        assert rig.shown_ids() == rig.server_ids()


async def test_console_shows_an_odd_task_rather_than_failing() -> None:
    async with console_rig(ODD_TASK) as rig:
        ODD_TASK.switch_on(rig.wire)
        await rig.next_refresh()
        assert not rig.status().stale
        assert len(rig.shown_ids()) == 1  # shown with what could be read of it
        ODD_TASK.switch_off(rig.wire)
        await rig.next_refresh()
        assert rig.shown_ids() == rig.server_ids()


async def test_console_rides_out_one_burst_of_throttling() -> None:
    """A burst of three ``Throttling.User`` answers is absorbed by the client's retries."""
    async with console_rig(max_attempts=4) as rig:
        plan = rig.emulator.faults
        plan.set("throttle", 1.0)
        real = plan.draw

        def one_burst() -> str | None:
            drawn = real()
            plan.set("throttle", 0.0)  # the burst started: let it run its course, then stop
            return drawn

        plan.draw = one_burst  # type: ignore[method-assign]
        await rig.next_refresh()
        assert not rig.status().stale
        assert rig.emulator.stats.throttled == 3
        assert rig.shown_ids() == rig.server_ids()


# -- the headless CLI ---------------------------------------------------------------------------


@pytest.fixture
def env_creds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", DEMO_ACCESS_KEY_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", DEMO_ACCESS_KEY_SECRET)


@dataclass
class CliRig:
    wire: Wire
    vt: FakeClock


@pytest.fixture
def cli_rig(monkeypatch: pytest.MonkeyPatch, env_creds: None) -> Iterator[CliRig]:
    """``asrtui tasks --endpoint`` builds its client through this rig's factory."""
    vt = FakeClock()
    wire = Wire(build_emulator(vt))
    rig = CliRig(wire, vt)
    yield rig
    asyncio.run(wire.aclose())


def run_cli(rig: CliRig, monkeypatch: pytest.MonkeyPatch, fault: Fault, *args: str) -> int:
    factory = client_factory(rig.wire, rig.vt, **fault.client)
    monkeypatch.setattr(asrtui.connect, "LiveClient", factory)
    return main(["tasks", "--endpoint", ENDPOINT, *args])


def one_line(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("fault", PERSISTENT, ids=fault_ids)
def test_cli_exits_1_with_one_line_naming_the_code_and_the_hint(
    fault: Fault,
    cli_rig: CliRig,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fault.switch_on(cli_rig.wire)
    assert run_cli(cli_rig, monkeypatch, fault, "--format", "json") == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    line = one_line(captured.err)
    assert line.startswith("asrtui: ")
    for text in fault.says:
        assert text in line, line
    if fault.retry_after_ms is not None:
        # Every retry waited as long as the server asked.
        assert cli_rig.vt.retry_sleeps == [RETRY_AFTER] * 3
    # Secrets never reach the message.
    assert DEMO_ACCESS_KEY_SECRET not in captured.err


@pytest.mark.parametrize("fault", [BIG_UNDER_THE_CAP, ODD_TASK], ids=fault_ids)
def test_cli_reads_answers_that_are_odd_but_usable(
    fault: Fault,
    cli_rig: CliRig,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fault.switch_on(cli_rig.wire)
    assert run_cli(cli_rig, monkeypatch, fault, "--format", "csv") == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.startswith("task_id,")


def test_cli_recovers_when_the_fault_ends_within_its_retries(
    cli_rig: CliRig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two failed attempts, then the service answers: the CLI prints the tasks and exits 0."""
    fault = next(f for f in PERSISTENT if f.name == "500")
    fault.switch_on(cli_rig.wire)

    async def retry_then_heal(seconds: float) -> None:
        if len(cli_rig.vt.retry_sleeps) == 1:
            fault.switch_off(cli_rig.wire)
        await cli_rig.vt.retry_sleep(seconds)

    patched = Fault("500-then-ok", client={"sleep": retry_then_heal})
    assert run_cli(cli_rig, monkeypatch, patched, "--format", "csv") == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert len(captured.out.strip().splitlines()) == TASKS + 1
    assert cli_rig.wire.requests == 3


def test_cli_prints_a_hostile_error_answer_as_one_escaped_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env_creds: None,
) -> None:
    """A gateway (or a proxy) cannot move the cursor or add lines through an error message."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400,
            json={
                "Code": "Evil\x1b[2J",
                "Message": "first line\nsecond line\x1b]0;pwned\x07 \u2028end\x9b",
                "RequestId": "REQ\r\n-1",
            },
        )

    vt = FakeClock()
    factory = functools.partial(
        LiveClient,
        transport=httpx.MockTransport(answer),
        limiter=WindowLimiter(20, clock=vt.monotonic, sleep=vt.sleep),
        sleep=vt.retry_sleep,
    )
    monkeypatch.setattr(asrtui.connect, "LiveClient", factory)
    assert main(["tasks", "--endpoint", ENDPOINT]) == 1
    err = capsys.readouterr().err
    line = one_line(err)
    assert not any(char in err for char in "\x1b\x07\x9b\r\u2028")
    assert "first line second line\\x1b]0;pwned\\x07 end\\x9b (Evil\\x1b[2J)" in line
    assert line.endswith("[request REQ -1]")
