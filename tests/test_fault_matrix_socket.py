"""Part of the fault matrix again, on a real loopback socket: uvicorn serves the emulator.

Here the transport is httpx's own (real connections, real read timeouts, real dropped and
half-sent answers), and the CLI runs as a separate process (``python -m asrtui tasks``) with
credentials from the environment, as a user or a cron job runs it.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import cast

import httpx
import pytest

from asrtui.client import LiveClient
from asrtui.credentials import Credentials
from asrtui.emulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, EmulatorApp, build_emulator
from asrtui.tasksource import ClientTaskSource
from asrtui.ui.widgets.status_line import StatusSnapshot, render_status
from tests.support.cli import asrtui_command, demo_env, run_cli
from tests.support.clock import FakeClock
from tests.support.fakes import Console, FakeTaskSource, running_console
from tests.support.fault_rig import INTERVAL, PERSISTENT, TASKS, Fault

pytest.importorskip("uvicorn")

#: The client's read timeout for the ``latency`` fault (the console's, and the CLI's below).
#: Short, so that the fault costs the test little; twice what a loaded 2-core machine took.
READ_TIMEOUT = 1.0
#: Connecting is not what these faults test: a loaded machine must not time it out.
CONNECT_TIMEOUT = 10.0
#: Long enough past the read timeout; short enough that the server's shutdown is not held up.
LATENCY = 3.0

#: Over a socket, a dropped or half-sent answer is httpx's own ``RemoteProtocolError``.
SUBSET = [
    Fault(
        "latency",
        latency=LATENCY,
        says=("Timed out waiting for", "(ReadTimeout)", "the service may be slow"),
    ),
    next(f for f in PERSISTENT if f.name == "500"),
    Fault(
        "drop",
        {"drop": 1.0},
        says=("(RemoteProtocolError: Server disconnected", "dropped or reset"),
    ),
    Fault(
        "truncated",
        {"truncated": 1.0},
        says=("(RemoteProtocolError: peer closed connection", "dropped or reset"),
    ),
    next(f for f in PERSISTENT if f.name == "html"),
]


def fault_ids(fault: Fault) -> str:
    return fault.name


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[EmulatorApp, str]]:
    from asrtui.emulator.server import running_server

    app = build_emulator(seed=9, tasks=TASKS)
    with running_server(app) as url:
        yield app, url


@pytest.fixture
def emulator(served: tuple[EmulatorApp, str]) -> Iterator[tuple[EmulatorApp, str]]:
    """The served emulator, with no fault left on after the test."""
    app, url = served
    app.faults.clear()
    yield app, url
    app.faults.clear()


def switch_on(app: EmulatorApp, fault: Fault) -> None:
    for kind, share in fault.shares.items():
        app.faults.set(kind, share)
    app.faults.set("latency", fault.latency)


def running_ids(app: EmulatorApp) -> set[str]:
    return set(app.backend.query(None) or {})


@asynccontextmanager
async def socket_console(url: str) -> AsyncIterator[Console]:
    """The console on a client with httpx's real transport to ``url``."""
    vt = FakeClock()
    credentials = Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
    client = LiveClient(
        lambda: credentials,
        url,
        max_attempts=2,
        timeout=httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
        sleep=vt.retry_sleep,
        rng=lambda: 0.5,
    )
    async with client:
        source = ClientTaskSource(client, profile_name="socket", region="cn-shanghai")
        async with running_console(
            cast(FakeTaskSource, source),
            clock=FakeClock(),
            refresh_interval=INTERVAL,
            detail_interval=3600.0,
        ) as console:
            yield console


def status_of(console: Console) -> StatusSnapshot:
    snapshot = console.screen.status_line.snapshot
    assert snapshot is not None
    return snapshot


def shown_ids(console: Console) -> set[str]:
    return {row.task_id for row in console.screen.table.visible_rows() if not row.is_ended}


@pytest.mark.parametrize("fault", SUBSET, ids=fault_ids)
async def test_console_over_a_socket_keeps_rows_shows_stale_and_recovers(
    emulator: tuple[EmulatorApp, str], fault: Fault
) -> None:
    app, url = emulator
    async with socket_console(url) as console:
        good = shown_ids(console)
        assert good == running_ids(app)
        switch_on(app, fault)
        await console.advance(INTERVAL)
        status = status_of(console)
        assert console.app.is_running
        assert status.stale
        for text in fault.says:
            assert text in status.error, status.error
        assert "STALE" in render_status(status).plain
        assert shown_ids(console) == good

        app.faults.clear()
        ended = console.clock.monotonic()
        await console.advance(console.screen.schedule.seconds_until_due(ended))
        status = status_of(console)
        assert not status.stale, status.error
        assert status.data_age == 0.0
        assert console.clock.monotonic() - ended <= INTERVAL
        assert shown_ids(console) == running_ids(app)


def cli_command(fault: Fault, url: str) -> list[str]:
    """``python -m asrtui tasks --endpoint URL``; for ``latency`` with a short read timeout.

    The CLI has no timeout option, and its default read timeout (10 s, as the official SDK)
    times four attempts would make the test wait 40 s: the latency run lowers the default
    before handing over to the same entry point.
    """
    args = ["tasks", "--endpoint", url, "--format", "json"]
    if fault.latency:
        shorten = (
            "import httpx, runpy, asrtui.client as c; "
            f"c._DEFAULT_TIMEOUT = httpx.Timeout({READ_TIMEOUT}, connect={CONNECT_TIMEOUT}); "
            "runpy.run_module('asrtui', run_name='__main__', alter_sys=True)"
        )
        return [sys.executable, "-c", shorten, *args]
    return asrtui_command(*args)


@pytest.mark.parametrize("fault", SUBSET, ids=fault_ids)
def test_cli_process_exits_1_with_one_line_naming_the_code_and_the_hint(
    emulator: tuple[EmulatorApp, str], fault: Fault
) -> None:
    app, url = emulator
    switch_on(app, fault)
    requests = app.stats.requests
    done = run_cli(cli_command(fault, url), env=demo_env())
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    line = lines[0]
    assert line.startswith("asrtui: ")
    if not fault.shares.keys() & {"500", "html"}:
        assert url in line  # a transport failure names where it tried to go
    for text in fault.says:
        assert text in line, line
    assert DEMO_ACCESS_KEY_SECRET not in done.stderr
    # The CLI retried (four attempts in all) before giving up; a timeout is not retried at
    # once (its wait already took the whole timeout).
    assert app.stats.requests - requests == (1 if fault.latency else 4)
