"""The overall deadline of a request: a server that trickles its answer ends as a timeout.

httpx's own timeouts bound each read, not their sum, so a server that sends a byte now and then
would hold a request (and a console's refresh) forever. The servers here are real loopback
sockets that trickle bytes; the deadline is short (`DEADLINE`) so the suite stays fast, and the
tests assert outcomes only (the error, the STALE marker, the recovery), never durations.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, cast

import httpx
import pytest

from asrtui import client as client_module
from asrtui import sessionsettings as profile_model
from asrtui.__main__ import main
from asrtui.client import LiveClient
from asrtui.credentials import Credentials
from asrtui.emulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, EmulatorApp, build_emulator
from asrtui.errors import ConfigError, TimeoutError
from asrtui.profiles import Profile, ProfileStore
from asrtui.tasksource import ClientTaskSource
from asrtui.ui.widgets.status_line import render_status
from tests.support.cli import asrtui_command, run_cli
from tests.support.clock import FakeClock
from tests.support.fakes import FakeTaskSource, no_sleep, running_console

#: The deadline the tests give the client: short, so a failing deadline shows as a slow test.
DEADLINE = 0.3
#: The console's deadline: the answer after recovery must fit, even on a loaded machine.
CONSOLE_DEADLINE = 1.0
#: Seconds between two trickled bytes: far below any read timeout, so only the deadline helps.
GAP = 0.03
#: The console's refresh interval in these tests.
INTERVAL = 5.0

_Message = MutableMapping[str, Any]


def credentials() -> Credentials:
    return Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)


# -- a raw trickling server ---------------------------------------------------------------------


#: A complete, valid answer: if the deadline did not fire, the client would get it and succeed.
_VALID_BODY = b'{"RequestId":"R","RetCode":2000,"Tasks":{}}'


def _answer(pad: int) -> bytes:
    """An HTTP answer whose head carries ``pad`` bytes of padding before the valid body."""
    return (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-pad: "
        + b"a" * pad
        + b"\r\ncontent-length: "
        + str(len(_VALID_BODY)).encode()
        + b"\r\n\r\n"
        + _VALID_BODY
    )


@dataclass
class Served:
    """A trickling server's base URL and the connections it accepted."""

    url: str
    connections: int = 0


@asynccontextmanager
async def trickling_server(payload: bytes, *, head_at_once: int = 0) -> AsyncIterator[Served]:
    """Serve ``payload`` to every request: ``head_at_once`` bytes at once, then byte by byte."""
    handlers: set[asyncio.Task[Any]] = set()
    served = Served("")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        served.connections += 1
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(payload[:head_at_once])
            for index in range(head_at_once, len(payload)):
                writer.write(payload[index : index + 1])
                await writer.drain()
                await asyncio.sleep(GAP)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    served.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield served
    finally:
        server.close()
        for task in handlers:
            task.cancel()
        for task in handlers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await server.wait_closed()


#: How the answer trickles: the status line and headers, or the body after a complete head.
TRICKLES = {
    # 200 bytes of header at GAP each: seconds, where the deadline is a fraction of one.
    "headers": (_answer(200), 0),
    # The whole head at once, then a body announced as 200 bytes that comes one at a time.
    "body": (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n"
        + b" " * 150
        + _VALID_BODY[:50],
        69,
    ),
}


@pytest.mark.parametrize("trickle", sorted(TRICKLES))
async def test_a_trickling_answer_ends_as_a_timeout_with_a_hint(trickle: str) -> None:
    payload, head = TRICKLES[trickle]
    async with trickling_server(payload, head_at_once=head) as served:
        url = served.url
        client = LiveClient(
            credentials,
            url,
            request_timeout=DEADLINE,
            max_attempts=4,
            sleep=no_sleep,
        )
        async with client:
            with pytest.raises(TimeoutError) as info:
                await client.list_tasks()
    error = info.value
    assert url in error.message
    assert f"within {DEADLINE:g} s" in error.message
    assert "request_timeout" in error.hint
    assert error.retryable  # for the callers: the next refresh may work
    # Not retried by the client: four attempts would quadruple the wait before anyone knows.
    assert client.counters.attempts_total == 1
    assert served.connections == 1


async def test_a_steady_answer_within_the_deadline_still_succeeds() -> None:
    async with (
        trickling_server(_answer(0), head_at_once=10_000) as served,
        LiveClient(credentials, served.url, request_timeout=5.0) as client,
    ):
        listed = await client.list_tasks()
    assert listed.tasks == ()


def test_the_request_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="request_timeout"):
        LiveClient(credentials, "http://127.0.0.1:1", request_timeout=0)


def test_the_client_and_the_profiles_agree_on_the_default() -> None:
    assert client_module.DEFAULT_REQUEST_TIMEOUT == profile_model.DEFAULT_REQUEST_TIMEOUT


# -- the emulator on a socket, trickling on demand ------------------------------------------------


class Trickle:
    """The emulator's ASGI app, answering with a trickled body while ``on``."""

    def __init__(self, app: EmulatorApp) -> None:
        self.app = app
        self.on = False

    async def __call__(
        self,
        scope: Mapping[str, Any],
        receive: Callable[[], Awaitable[_Message]],
        send: Callable[[_Message], Awaitable[None]],
    ) -> None:
        if scope.get("type") != "http" or not self.on:
            await self.app(scope, receive, send)  # type: ignore[arg-type]
            return
        size = 100
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(size).encode()),
                ],
            }
        )
        # Bounded (a few seconds), so a server shutting down is never held for long; should
        # the deadline not fire, the client gets 100 spaces: a different error, and a red test.
        for _ in range(size):
            await send({"type": "http.response.body", "body": b" ", "more_body": True})
            await asyncio.sleep(GAP)
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture(scope="module")
def trickle_served() -> Iterator[tuple[Trickle, str]]:
    pytest.importorskip("uvicorn")
    from asrtui.emulator.server import running_server

    wrapped = Trickle(build_emulator(seed=5, tasks=4))
    with running_server(wrapped) as url:  # type: ignore[arg-type]
        yield wrapped, url


@pytest.fixture
def trickle(trickle_served: tuple[Trickle, str]) -> Iterator[tuple[Trickle, str]]:
    wrapped, url = trickle_served
    wrapped.on = False
    yield wrapped, url
    wrapped.on = False


async def test_the_console_goes_stale_on_a_trickling_server_and_recovers(
    trickle: tuple[Trickle, str],
) -> None:
    wrapped, url = trickle
    client = LiveClient(
        credentials,
        url,
        request_timeout=CONSOLE_DEADLINE,
        timeout=httpx.Timeout(5.0),
        sleep=no_sleep,
    )
    async with client:
        source = ClientTaskSource(client, profile_name="slow", region="cn-shanghai")
        async with running_console(
            cast(FakeTaskSource, source),
            clock=FakeClock(),
            refresh_interval=INTERVAL,
            detail_interval=3600.0,
        ) as console:
            running = set(wrapped.app.backend.query(None) or {})
            shown = {row.task_id for row in console.screen.table.visible_rows()}
            assert shown == running

            wrapped.on = True
            await console.advance(INTERVAL)
            status = console.screen.status_line.snapshot
            assert status is not None
            assert status.stale
            assert not status.refreshing
            assert "Timed out" in status.error
            assert "STALE" in render_status(status).plain
            # The last good rows stay on screen.
            assert {row.task_id for row in console.screen.table.visible_rows()} == shown

            wrapped.on = False
            await console.advance(console.screen.schedule.seconds_until_due(console.clock.mono))
            status = console.screen.status_line.snapshot
            assert status is not None
            assert not status.stale, status.error
            assert "STALE" not in render_status(status).plain


# -- the setting: profile add / show, and the command line on a trickling server ------------------


def test_profile_add_takes_a_request_timeout_and_show_prints_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", _Lines("s3cret\n"))
    args = ["profile", "add", "slow", "--access-key-id", "FAKEx", "--secret-stdin"]
    assert main([*args, "--request-timeout", "2.5"]) == 0
    assert main(["profile", "show", "slow"]) == 0
    assert re.search(r"^request timeout: +2\.5 s$", capsys.readouterr().out, re.MULTILINE)


@pytest.mark.parametrize("value", ["0", "0.5", "301", "nan", "-1"])
def test_profile_add_refuses_a_request_timeout_out_of_range(
    value: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", _Lines("s3cret\n"))
    args = ["profile", "add", "slow", "--access-key-id", "FAKEx", "--secret-stdin"]
    assert main([*args, "--request-timeout", value]) == 2
    err = capsys.readouterr().err
    assert "Invalid request timeout" in err
    assert "from 1 to 300" in err


@pytest.mark.parametrize("value", [True, "15", None, float("inf"), 0.99])
def test_the_request_timeout_setting_is_validated(value: object) -> None:
    with pytest.raises(ConfigError, match="request timeout"):
        profile_model.validate_request_timeout(value)  # type: ignore[arg-type]


def test_the_cli_on_a_trickling_server_exits_1_with_a_timeout(
    trickle: tuple[Trickle, str],
) -> None:
    """The whole program, as a user runs it: a profile with a 1 s deadline, a trickling server."""
    wrapped, url = trickle
    ProfileStore().add(
        Profile(
            "slow",
            endpoint=url,
            request_timeout=1,
            credentials=Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET),
        ),
        make_default=False,
        replace=False,
    )
    wrapped.on = True
    # The test's own user directories (see conftest) are in this environment.
    done = run_cli(asrtui_command("tasks", "--profile", "slow"), env=dict(os.environ))
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Timed out" in lines[0]
    assert "within 1 s" in lines[0]


class _Lines:
    """A stdin whose lines are given (not a terminal)."""

    def __init__(self, text: str) -> None:
        self._lines = iter(text.splitlines(keepends=True))

    def readline(self) -> str:
        return next(self._lines, "")

    def isatty(self) -> bool:
        return False
