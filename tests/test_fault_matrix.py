"""The fault matrix: every emulator fault through the real client, in the console and in the CLI.

For each fault the console (the real `AsrtuiApp` with a `ClientTaskSource` over a `LiveClient`
talking to the emulator in process) must keep running, keep the last good rows on screen and
show STALE with an error naming the cause; once the fault ends it must be fresh again within
one refresh interval, measured with the console's injected monotonic clock. The headless CLI
(``asrtui tasks``, through `asrtui.__main__.main`) must exit 1 with one clear line on stderr
that names the code and the hint, never a traceback.

Time: the limiter, the client's backoff and the emulator's flow control share a `VirtualTime`
that moves only when something sleeps on it, and the console runs on `FakeClock`. The one real
wait is the read timeout itself (``latency`` fault): the in-process transport enforces the
client's read timeout the way a socket does, and the test keeps that timeout short.
"""

from __future__ import annotations

import asyncio
import builtins
import functools
import socket
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
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
    EmulatorBackend,
    FaultPlan,
)
from asrtui.ratelimit import WindowLimiter
from asrtui.tasksource import ClientTaskSource
from asrtui.ui.screens.main import MainScreen
from asrtui.ui.widgets.status_line import StatusSnapshot, render_status
from tests.fakes import Console, FakeClock, FakeTaskSource, running_console

ENDPOINT = "http://emulator.test"
#: Tasks the emulator starts with.
TASKS = 6
#: The console's refresh interval in these tests (the shortest the console allows).
INTERVAL = 1.0
#: The console's default refresh interval.
DEFAULT_INTERVAL = 5.0
#: The client's read timeout: short, because the ``latency`` fault really waits for it.
READ_TIMEOUT = 0.3
#: The ``latency`` fault's delay: far beyond the read timeout (the wait is cut short there).
LATENCY = 30.0
#: The seconds of ``x-acs-retry-after`` the ``retry_after`` fault asks for.
RETRY_AFTER = 2.5


# -- the rig ------------------------------------------------------------------------------------


class VirtualTime:
    """A monotonic clock that moves only when the limiter or the client's backoff sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.retry_sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)

    async def retry_sleep(self, seconds: float) -> None:
        self.retry_sleeps.append(seconds)
        await self.sleep(seconds)


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class Wire(httpx.AsyncBaseTransport):
    """The emulator in process, or a refused connection, as the client's transport.

    ``httpx.ASGITransport`` ignores timeouts; this enforces the request's read timeout on the
    whole exchange and raises ``httpx.ReadTimeout`` as httpcore does on a socket. With
    ``refuse`` set, requests go to a closed loopback port instead, for a real refusal.
    """

    def __init__(self, app: EmulatorApp) -> None:
        self.app = app
        self.refuse = False
        self.requests = 0
        self._asgi = httpx.ASGITransport(app=app)
        self._socket = httpx.AsyncHTTPTransport()
        self._port = closed_port()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.refuse:
            request.url = request.url.copy_with(host="127.0.0.1", port=self._port)
            return await self._socket.handle_async_request(request)
        timeouts = cast(Mapping[str, float | None], request.extensions.get("timeout") or {})
        try:
            async with asyncio.timeout(timeouts.get("read")):
                return await self._asgi.handle_async_request(request)
        except builtins.TimeoutError:
            raise httpx.ReadTimeout("timed out", request=request) from None

    async def aclose(self) -> None:
        await self._socket.aclose()
        await self._asgi.aclose()


class FixedVariant(FaultPlan):
    """A fault plan whose ``wrongtypes`` answer is always the same variant."""

    def __init__(self, variant: int) -> None:
        super().__init__()
        self.fixed = variant

    def variant(self, count: int) -> int:
        return self.fixed % count


def utc_now() -> datetime:
    return datetime.now(UTC)


def build_emulator(vt: VirtualTime, clock: Callable[[], datetime] = utc_now) -> EmulatorApp:
    """The emulator with a seeded backend and flow control on the virtual clock."""
    return EmulatorApp(
        EmulatorBackend(seed=5, tasks=TASKS, clock=clock),
        credentials={DEMO_ACCESS_KEY_ID: DEMO_ACCESS_KEY_SECRET},
        clock=clock,
        monotonic=vt.monotonic,
    )


def client_factory(wire: Wire, vt: VirtualTime, **overrides: Any) -> Callable[..., LiveClient]:
    """`LiveClient` with the rig's transport, limiter and virtual backoff, as a factory."""
    limiter = WindowLimiter(20, clock=vt.monotonic, sleep=vt.sleep)
    defaults: dict[str, Any] = {
        "transport": wire,
        "limiter": limiter,
        "sleep": vt.retry_sleep,
        "rng": lambda: 0.5,
        "monotonic": vt.monotonic,
        "timeout": httpx.Timeout(READ_TIMEOUT, connect=READ_TIMEOUT),
    }
    return functools.partial(LiveClient, **(defaults | overrides))


# -- the faults ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """One row of the matrix: how to cause it and what the operator must be told.

    Attributes:
        name: the test id.
        shares: fault kinds switched on (share of requests, 1.0 for all).
        latency: seconds the emulator waits before answering.
        retry_after_ms: ``x-acs-retry-after`` on throttling answers.
        variant: which ``wrongtypes`` answer to give.
        refuse: connect to a closed port instead of the emulator.
        client: `LiveClient` arguments this row needs (a lower body cap, a longer timeout).
        says: what the one-line error must contain: the code or kind, then part of the hint.
    """

    name: str
    shares: Mapping[str, float] = field(default_factory=dict)
    latency: float = 0.0
    retry_after_ms: int | None = None
    variant: int | None = None
    refuse: bool = False
    client: Mapping[str, Any] = field(default_factory=dict)
    says: tuple[str, ...] = ()

    def switch_on(self, wire: Wire) -> None:
        if self.variant is not None:
            wire.app.faults = FixedVariant(self.variant)
        plan = wire.app.faults
        for kind, share in self.shares.items():
            plan.set(kind, share)
        plan.set("latency", self.latency)
        if self.retry_after_ms is not None:
            plan.set("retry_after", self.retry_after_ms)
        wire.refuse = self.refuse

    def switch_off(self, wire: Wire) -> None:
        wire.app.faults.clear()
        wire.refuse = False


_MALFORMED_HINT = "not the Live API's wire format"
_DROPPED_HINT = "the connection was dropped or reset"

#: Faults that fail every request while they last.
PERSISTENT = [
    Fault(
        "latency",
        latency=LATENCY,
        says=("Timed out waiting for", "(ReadTimeout)", "the service may be slow"),
    ),
    Fault("500", {"500": 1.0}, says=("(InternalError)", "failed on its side; retry shortly")),
    Fault("503", {"503": 1.0}, says=("(ServiceUnavailable)", "unavailable; retry shortly")),
    Fault(
        "throttle",
        {"throttle": 1.0},
        says=("(Throttling.User)", "exceeded 20 calls/s", "asrtui slows down"),
    ),
    Fault(
        "retry_after",
        {"throttle": 1.0},
        retry_after_ms=int(RETRY_AFTER * 1000),
        says=("(Throttling.User)", "asrtui slows down"),
    ),
    Fault("refused", refuse=True, says=("Cannot connect to", "check the network")),
    Fault(
        "drop",
        {"drop": 1.0},
        says=("Server disconnected without sending a response", _DROPPED_HINT),
    ),
    Fault(
        "truncated",
        {"truncated": 1.0},
        says=("without sending complete message body", _DROPPED_HINT),
    ),
    Fault(
        "html",
        {"html": 1.0},
        says=("(HTTP502)", "an HTML page titled '502 Bad Gateway'", "failed on its side"),
    ),
    Fault("malformed", {"malformed": 1.0}, says=("truncated JSON", _MALFORMED_HINT)),
    Fault(
        "wrongtypes-number",
        {"wrongtypes": 1.0},
        variant=0,
        says=("Tasks is a JSON number (7)", _MALFORMED_HINT),
    ),
    Fault(
        "wrongtypes-list",
        {"wrongtypes": 1.0},
        variant=1,
        says=("Task entry #0 is a JSON number", _MALFORMED_HINT),
    ),
    Fault(
        "wrongtypes-strings",
        {"wrongtypes": 1.0},
        variant=2,
        says=("Tasks is a string", _MALFORMED_HINT),
    ),
    Fault(
        "big-over-the-cap",
        {"big": 1.0},
        client={"max_body_bytes": 1024 * 1024},
        says=("above the limit of 1.0 MiB", "raise the limit: --max-answer-mb"),
    ),
]

#: A 10 MB answer under the client's default cap is read, not refused.
BIG_UNDER_THE_CAP = Fault("big", {"big": 1.0}, client={"timeout": 30.0})
#: Valid JSON with odd types inside a task: the tolerant parser keeps the task, shown raw.
ODD_TASK = Fault("wrongtypes-odd-task", {"wrongtypes": 1.0}, variant=3)


def fault_ids(fault: Fault) -> str:
    return fault.name


# -- the console --------------------------------------------------------------------------------


@dataclass
class Rig:
    """A console on the real client and the in-process emulator."""

    console: Console
    wire: Wire
    vt: VirtualTime
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
    vt = VirtualTime()
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
    vt: VirtualTime


@pytest.fixture
def cli_rig(monkeypatch: pytest.MonkeyPatch, env_creds: None) -> Iterator[CliRig]:
    """``asrtui tasks --endpoint`` builds its client through this rig's factory."""
    vt = VirtualTime()
    wire = Wire(build_emulator(vt))
    rig = CliRig(wire, vt)
    yield rig
    asyncio.run(wire.aclose())


def run_cli(rig: CliRig, monkeypatch: pytest.MonkeyPatch, fault: Fault, *args: str) -> int:
    overrides = dict(fault.client)
    limit = overrides.pop("max_body_bytes", None)
    factory = client_factory(rig.wire, rig.vt, **overrides)
    monkeypatch.setattr(asrtui.connect, "LiveClient", factory)
    # The command line sets the answer size limit through its own option.
    options = [] if limit is None else ["--max-answer-mb", str(limit // (1024 * 1024))]
    return main(["tasks", "--endpoint", ENDPOINT, *options, *args])


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

    vt = VirtualTime()
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
