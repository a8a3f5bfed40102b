"""LiveClient against the emulator in process: operations, both error channels, retries, errors.

Time is virtual: the limiter, the client's backoff sleep and the emulator's flow-control clock
share one `VirtualTime`, so retries with multi-second waits run instantly.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from asrtui.client import LiveClient
from asrtui.credentials import Credentials
from asrtui.credentials.external import CommandResult, ExternalCredentials
from asrtui.emulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, EmulatorApp, build_emulator
from asrtui.errors import (
    AccessKeyError,
    ApiError,
    AsrtuiError,
    ClockSkewError,
    ConnectError,
    MalformedResponseError,
    PermissionDeniedError,
    RequestError,
    SecurityTokenError,
    ServerError,
    SignatureError,
    TaskNotFoundError,
    ThrottledError,
    TimeoutError,
    TlsError,
)
from asrtui.ratelimit import WindowLimiter

ENDPOINT = "http://emulator.test"
STS_KEY, STS_SECRET, STS_TOKEN = "sts-key", "sts-secret-value", "sts-token-value"


class VirtualTime:
    """A monotonic clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.retry_sleeps: list[float] = []
        self.on_retry_sleep: Callable[[int], None] | None = None

    def monotonic(self) -> float:
        return self.now

    async def limiter_sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)

    async def retry_sleep(self, seconds: float) -> None:
        self.retry_sleeps.append(seconds)
        if self.on_retry_sleep is not None:
            self.on_retry_sleep(len(self.retry_sleeps))
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


class Recorder(httpx.AsyncBaseTransport):
    """Passes requests to another transport and remembers their signing headers."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    def nonces(self) -> list[str]:
        out = []
        for request in self.requests:
            nonce = request.headers.get("x-acs-signature-nonce") or request.url.params.get(
                "SignatureNonce", ""
            )
            out.append(nonce)
        return out


@pytest.fixture
def vt() -> VirtualTime:
    return VirtualTime()


@pytest.fixture
def emulator(vt: VirtualTime) -> EmulatorApp:
    return build_emulator(
        seed=7,
        tasks=5,
        monotonic=vt.monotonic,
        credentials={
            DEMO_ACCESS_KEY_ID: DEMO_ACCESS_KEY_SECRET,
            STS_KEY: (STS_SECRET, STS_TOKEN),
        },
    )


def make_client(
    app: EmulatorApp | None,
    vt: VirtualTime,
    *,
    credentials: Credentials | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    limit: int = 20,
    **kwargs: object,
) -> LiveClient:
    creds = credentials or Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
    if transport is None:
        assert app is not None
        transport = httpx.ASGITransport(app=app)
    limiter = WindowLimiter(limit, clock=vt.monotonic, sleep=vt.limiter_sleep)
    return LiveClient(
        lambda: creds,
        ENDPOINT,
        transport=transport,
        limiter=limiter,
        sleep=vt.retry_sleep,
        rng=lambda: 0.5,
        monotonic=vt.monotonic,
        **kwargs,  # type: ignore[arg-type]
    )


def running_ids(app: EmulatorApp) -> set[str]:
    return set(app.backend.query(None) or {})


# -- operations ------------------------------------------------------------------------------


@pytest.mark.parametrize("signature", ["v3", "rpc"])
async def test_list_get_stop_delete_with_both_signatures(
    emulator: EmulatorApp, vt: VirtualTime, signature: str
) -> None:
    expected = running_ids(emulator)
    assert len(expected) == 5
    async with make_client(emulator, vt, signature=signature) as client:
        listed = await client.list_tasks()
        assert {task.task_id for task in listed.tasks} == expected
        assert listed.request_id
        first = sorted(expected)[0]
        task = await client.get_task(first)
        assert task is not None
        assert task.task_id == first
        assert task.is_running
        await client.stop_task(first)
        assert first not in running_ids(emulator)
        await client.delete_task(first)
        assert await client.get_task("asr-00000000-0000-4000-8000-000000000000") is None
    assert client.counters.errors_total == 0
    assert client.counters.last_latency is not None


async def test_sts_credentials_are_sent_and_checked(emulator: EmulatorApp, vt: VirtualTime) -> None:
    good = Credentials(STS_KEY, STS_SECRET, STS_TOKEN)
    async with make_client(emulator, vt, credentials=good) as client:
        assert len((await client.list_tasks()).tasks) == 5
    for bad in (Credentials(STS_KEY, STS_SECRET), Credentials(STS_KEY, STS_SECRET, "other")):
        async with make_client(emulator, vt, credentials=bad, signature="rpc") as client:
            with pytest.raises(SecurityTokenError):
                await client.list_tasks()


async def test_create_task_returns_the_new_id(emulator: EmulatorApp, vt: VirtualTime) -> None:
    async with make_client(emulator, vt) as client:
        task_id = await client.create_task(
            mode="live",
            language="en",
            callback_url="default",
            stream_url="http://pull.example.com/app/s.flv?auth_key=1-0-0-abc",
            translate_enabled=True,
            target_languages="cn,ja",
            report_interval=200,
            auto_terminate_enabled=False,
        )
        assert task_id in running_ids(emulator)
        created = emulator.backend.query(task_id) or {}
        assert created[task_id]["targetLanguages"] == "cn,ja"


# -- error channels ---------------------------------------------------------------------------


async def test_wrong_secret_is_signature_error_without_retry(
    emulator: EmulatorApp, vt: VirtualTime
) -> None:
    creds = Credentials(DEMO_ACCESS_KEY_ID, "wrong-secret")
    async with make_client(emulator, vt, credentials=creds, profile="prod") as client:
        with pytest.raises(SignatureError) as info:
            await client.list_tasks()
    assert info.value.code == "SignatureDoesNotMatch"
    assert "profile 'prod'" in str(info.value)
    assert "wrong-secret" not in str(info.value)
    assert emulator.stats.requests == 1
    assert vt.retry_sleeps == []
    assert client.counters.errors_total == 1


async def test_unknown_key_is_access_key_error(emulator: EmulatorApp, vt: VirtualTime) -> None:
    creds = Credentials("nobody", "x")
    async with make_client(emulator, vt, credentials=creds) as client:
        with pytest.raises(AccessKeyError) as info:
            await client.list_tasks()
    assert info.value.code == "InvalidAccessKeyId.NotFound"


async def test_unknown_task_on_stop_is_task_not_found(
    emulator: EmulatorApp, vt: VirtualTime
) -> None:
    async with make_client(emulator, vt) as client:
        with pytest.raises(TaskNotFoundError) as info:
            await client.stop_task("asr-missing")
    assert info.value.code == "ConfigNotFound"
    assert info.value.http_status == 400
    assert info.value.request_id


async def test_ret_code_channel_raises_api_error(emulator: EmulatorApp, vt: VirtualTime) -> None:
    async with make_client(emulator, vt) as client:
        with pytest.raises(ApiError) as info:
            await client.create_task(mode="live", language="xx", callback_url="default")
    assert info.value.code == "RetCode.4000"
    assert "Language" in info.value.message
    assert vt.retry_sleeps == []


async def test_clock_skew_error_explains_the_measured_offset(
    emulator: EmulatorApp, vt: VirtualTime
) -> None:
    def skewed() -> datetime:
        return datetime.now(UTC) + timedelta(minutes=20)

    async with make_client(emulator, vt, clock=skewed) as client:
        assert client.clock_offset is None
        with pytest.raises(ClockSkewError) as info:
            await client.list_tasks()
    assert client.clock_offset is not None
    assert 1190 < client.clock_offset < 1210
    assert "ahead of the server" in str(info.value)


def gateway(status: int, code: str, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"RequestId": "REQ-1", "HostId": "live.aliyuncs.com", "Code": code, "Message": code}
    return httpx.Response(status, json=body, headers=headers or {})


@pytest.mark.parametrize(
    ("action", "call"),
    [
        ("QueryRtcAsrTasks", lambda c: c.list_tasks()),
        ("StopRtcAsrTask", lambda c: c.stop_task("asr-1")),
    ],
)
async def test_forbidden_names_the_ram_action(
    vt: VirtualTime, action: str, call: Callable[[LiveClient], object]
) -> None:
    transport = httpx.MockTransport(lambda request: gateway(403, "Forbidden.RAM"))
    async with make_client(None, vt, transport=transport) as client:
        with pytest.raises(PermissionDeniedError) as info:
            await call(client)  # type: ignore[misc]
    assert f"live:{action}" in info.value.hint
    assert info.value.request_id == "REQ-1"


async def test_ret_code_from_a_scripted_answer(vt: VirtualTime) -> None:
    body = {"RequestId": "R", "RetCode": 4001, "Description": "quota of tasks exceeded"}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    async with make_client(None, vt, transport=transport) as client:
        with pytest.raises(ApiError) as info:
            await client.list_tasks()
    assert info.value.code == "RetCode.4001"


async def test_missing_parameter_is_request_error(vt: VirtualTime) -> None:
    transport = httpx.MockTransport(lambda request: gateway(400, "MissingParameter"))
    async with make_client(None, vt, transport=transport) as client:
        with pytest.raises(RequestError):
            await client.list_tasks()
    assert vt.retry_sleeps == []


# -- retries ----------------------------------------------------------------------------------


async def test_throttling_retries_honour_retry_after(
    emulator: EmulatorApp, vt: VirtualTime
) -> None:
    emulator.faults.set("retry_after", 700)
    emulator.faults.set("throttle", 1.0)
    # The first draw starts a burst of three throttling answers; then the fault is off.
    vt.on_retry_sleep = lambda n: emulator.faults.set("throttle", 0.0)
    async with make_client(emulator, vt) as client:
        listed = await client.list_tasks()
    assert len(listed.tasks) == 5
    assert len(vt.retry_sleeps) == 3
    assert all(delay >= 0.7 for delay in vt.retry_sleeps)
    assert client.counters.throttled_total == 3
    assert client.limiter.stats().throttled_total == 3
    assert client.limiter.effective_limit < 20
    assert client.counters.errors_total == 0


async def test_an_absurd_retry_after_is_capped(emulator: EmulatorApp, vt: VirtualTime) -> None:
    from asrtui.client import MAX_RETRY_AFTER

    emulator.faults.set("retry_after", 3_000_000)  # fifty minutes
    emulator.faults.set("throttle", 1.0)
    vt.on_retry_sleep = lambda n: emulator.faults.set("throttle", 0.0)
    async with make_client(emulator, vt) as client:
        await client.list_tasks()
    assert vt.retry_sleeps
    assert max(vt.retry_sleeps) == MAX_RETRY_AFTER


async def test_an_absurd_retry_after_does_not_hold_the_limiter_longer(
    emulator: EmulatorApp, vt: VirtualTime
) -> None:
    """The cap covers the limiter's hold on every grant too, not only the backoff sleep."""
    from asrtui.client import MAX_RETRY_AFTER

    emulator.faults.set("retry_after", 3_000_000)  # fifty minutes
    emulator.faults.set("throttle", 1.0)
    vt.on_retry_sleep = lambda n: emulator.faults.set("throttle", 0.0)
    start = vt.now
    async with make_client(emulator, vt) as client:
        await client.list_tasks()
        # Held for at most the cap from the last throttling answer, not fifty minutes.
        assert vt.now - start <= sum(vt.retry_sleeps) + MAX_RETRY_AFTER
        assert client.limiter.stats().throttled_total == len(vt.retry_sleeps)


async def test_throttling_exhausts_retries(emulator: EmulatorApp, vt: VirtualTime) -> None:
    emulator.faults.set("throttle", 1.0)
    async with make_client(emulator, vt, max_attempts=3) as client:
        with pytest.raises(ThrottledError) as info:
            await client.list_tasks()
    assert info.value.code == "Throttling.User"
    assert emulator.stats.requests == 3
    assert len(vt.retry_sleeps) == 2
    assert client.counters.errors_total == 1


@pytest.mark.parametrize(
    ("fault", "code"), [("500", "InternalError"), ("503", "ServiceUnavailable")]
)
async def test_server_errors_are_retried_then_succeed(
    emulator: EmulatorApp, vt: VirtualTime, fault: str, code: str
) -> None:
    emulator.faults.set(fault, 1.0)
    vt.on_retry_sleep = lambda n: emulator.faults.set(fault, 0.0) if n == 2 else None
    async with make_client(emulator, vt) as client:
        assert len((await client.list_tasks()).tasks) == 5
    assert emulator.stats.requests == 3
    # Full jitter with rng() == 0.5 over ceilings 0.2, 0.4.
    assert vt.retry_sleeps == pytest.approx([0.1, 0.2])


@pytest.mark.parametrize(
    ("fault", "code"), [("500", "InternalError"), ("503", "ServiceUnavailable")]
)
async def test_server_errors_exhaust_retries(
    emulator: EmulatorApp, vt: VirtualTime, fault: str, code: str
) -> None:
    emulator.faults.set(fault, 1.0)
    async with make_client(emulator, vt, retry_base=1.0, retry_cap=3.0) as client:
        with pytest.raises(ServerError) as info:
            await client.list_tasks()
    assert info.value.code == code
    assert emulator.stats.requests == 4
    assert vt.retry_sleeps == pytest.approx([0.5, 1.0, 1.5])


@pytest.mark.parametrize("fault", ["drop", "truncated", "malformed", "html"])
async def test_broken_answers_are_retried(
    emulator: EmulatorApp, vt: VirtualTime, fault: str
) -> None:
    emulator.faults.set(fault, 1.0)
    vt.on_retry_sleep = lambda n: emulator.faults.set(fault, 0.0)
    async with make_client(emulator, vt) as client:
        assert len((await client.list_tasks()).tasks) == 5
    assert emulator.stats.requests == 2


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("drop", ConnectError),
        ("truncated", ConnectError),
        ("malformed", MalformedResponseError),
        ("html", ServerError),
    ],
)
async def test_broken_answers_exhaust_retries(
    emulator: EmulatorApp, vt: VirtualTime, fault: str, error: type[AsrtuiError]
) -> None:
    emulator.faults.set(fault, 1.0)
    async with make_client(emulator, vt) as client:
        with pytest.raises(error) as info:
            await client.list_tasks()
    assert not isinstance(info.value, httpx.HTTPError)
    assert info.value.__cause__ is None
    assert emulator.stats.requests == 4


@pytest.mark.parametrize("signature", ["v3", "rpc"])
async def test_retries_are_signed_afresh(
    emulator: EmulatorApp, vt: VirtualTime, signature: str
) -> None:
    """A retry after flow control (which records the nonce) must carry a new nonce."""
    recorder = Recorder(httpx.ASGITransport(app=emulator))
    # The client's own limiter allows more than the emulator, so the emulator throttles.
    async with make_client(None, vt, transport=recorder, limit=100, signature=signature) as client:
        for _ in range(21):
            await client.list_tasks()
    assert emulator.stats.throttled == 1
    assert len(recorder.requests) == 22
    nonces = recorder.nonces()
    assert all(nonces)
    assert len(set(nonces)) == 22
    # The emulator asked to wait until the window frees up; the client did.
    assert vt.retry_sleeps == pytest.approx([1.0])
    assert emulator.stats.max_in_any_window() == 20


async def test_limiter_is_passed_by_every_attempt(emulator: EmulatorApp, vt: VirtualTime) -> None:
    emulator.faults.set("503", 1.0)
    async with make_client(emulator, vt) as client:
        with pytest.raises(ServerError):
            await client.list_tasks()
        assert client.limiter.stats().granted_total == 4
        assert client.counters.attempts_total == 4


# -- transport failures --------------------------------------------------------------------


def raising(exc: Exception) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return httpx.MockTransport(handler)


def tls_failure() -> httpx.ConnectError:
    try:
        raise ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] self-signed")
    except ssl.SSLError as cause:
        error = httpx.ConnectError("certificate verify failed")
        error.__cause__ = cause
        return error


@pytest.mark.parametrize(
    ("exc", "expected", "attempts"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), ConnectError, 4),
        (httpx.ConnectError("[Errno -2] Name or service not known"), ConnectError, 4),
        (httpx.ReadError("Connection reset by peer"), ConnectError, 4),
        (httpx.RemoteProtocolError("Server disconnected"), ConnectError, 4),
        # A timeout already took the whole wait: not retried (the next refresh is the retry).
        (httpx.ConnectTimeout("timed out"), TimeoutError, 1),
        (httpx.ReadTimeout("timed out"), TimeoutError, 1),
        (httpx.PoolTimeout("pool"), TimeoutError, 1),
        (tls_failure(), TlsError, 1),
    ],
)
async def test_httpx_exceptions_are_translated(
    vt: VirtualTime, exc: Exception, expected: type[AsrtuiError], attempts: int
) -> None:
    async with make_client(None, vt, transport=raising(exc)) as client:
        with pytest.raises(AsrtuiError) as info:
            await client.list_tasks()
    error = info.value
    assert type(error) is expected
    assert not isinstance(error, httpx.HTTPError)
    assert ENDPOINT in error.message
    assert error.hint
    assert client.counters.attempts_total == attempts


async def test_oversized_answer_is_refused_without_retry(vt: VirtualTime) -> None:
    async def chunks() -> object:
        for _ in range(100):
            yield b"x" * 100

    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=chunks()))  # type: ignore[arg-type]
    async with make_client(None, vt, transport=transport, max_body_bytes=1000) as client:
        with pytest.raises(MalformedResponseError, match="larger than 1000 bytes"):
            await client.list_tasks()
    assert client.counters.attempts_total == 1

    declared = httpx.MockTransport(lambda request: httpx.Response(200, content=b"{}" * 600))
    async with make_client(None, vt, transport=declared, max_body_bytes=1000) as client:
        with pytest.raises(MalformedResponseError):
            await client.list_tasks()


async def test_scripted_sequence_recovers_and_counts(vt: VirtualTime) -> None:
    answers: Iterator[httpx.Response] = iter(
        [
            gateway(400, "Throttling.User", {"x-acs-retry-after": "250"}),
            httpx.Response(200, content=b'{"RetCode": 2000, "Tasks": {'),
            httpx.Response(200, json={"RequestId": "R", "RetCode": 2000, "Tasks": {}}),
        ]
    )
    transport = httpx.MockTransport(lambda request: next(answers))
    async with make_client(None, vt, transport=transport) as client:
        listed = await client.list_tasks()
    assert listed.tasks == ()
    assert vt.retry_sleeps[0] == pytest.approx(0.25)
    assert client.counters.throttled_total == 1
    assert client.counters.attempts_total == 3


# -- hygiene ----------------------------------------------------------------------------------


async def test_debug_logs_carry_no_secrets(
    emulator: EmulatorApp, vt: VirtualTime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="asrtui.client")
    emulator.faults.set("503", 1.0)
    vt.on_retry_sleep = lambda n: emulator.faults.set("503", 0.0)
    creds = Credentials(STS_KEY, STS_SECRET, STS_TOKEN)
    async with make_client(emulator, vt, credentials=creds) as client:
        await client.list_tasks()
    text = caplog.text
    assert "QueryRtcAsrTasks" in text
    for secret in (STS_SECRET, STS_TOKEN, "auth_key"):
        assert secret not in text
    assert STS_SECRET not in repr(client)


async def test_use_outside_async_with_is_a_programming_error(vt: VirtualTime) -> None:
    client = make_client(None, vt, transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    with pytest.raises(RuntimeError):
        await client.list_tasks()


async def test_request_shape_matches_the_wire_contract(vt: VirtualTime) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"RequestId": "R", "RetCode": 2000, "Tasks": {}})

    async with make_client(
        None, vt, transport=httpx.MockTransport(handler), region="ap-south-1"
    ) as client:
        await client.get_task("asr-1 2*")
    request = seen[0]
    assert request.method == "POST"
    assert request.url.path == "/"
    assert request.headers["x-acs-action"] == "QueryRtcAsrTasks"
    assert request.headers["x-acs-version"] == "2016-11-01"
    assert request.headers["authorization"].startswith("ACS3-HMAC-SHA256 ")
    # The query is encoded the way it was signed: %20 for space, %2A for '*'.
    assert b"TaskId=asr-1%202%2A" in request.url.query
    assert b"RegionId=ap-south-1" in request.url.query


# -- credential commands ---------------------------------------------------------------------


async def test_a_due_credential_command_runs_off_the_event_loop(
    emulator: EmulatorApp, vt: VirtualTime
) -> None:
    """A slow credential command (up to 30 s) must not freeze the console while it runs."""
    loop_thread = threading.get_ident()
    ran_in: list[int] = []

    def slow_runner(argv: Sequence[str], timeout: float) -> CommandResult:
        ran_in.append(threading.get_ident())
        time.sleep(0.3)
        answer = {
            "mode": "AK",
            "access_key_id": DEMO_ACCESS_KEY_ID,
            "access_key_secret": DEMO_ACCESS_KEY_SECRET,
        }
        return CommandResult(0, json.dumps(answer).encode())

    provider = ExternalCredentials("get-keys --json", runner=slow_runner)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    limiter = WindowLimiter(20, clock=vt.monotonic, sleep=vt.limiter_sleep)
    client = LiveClient(
        provider,
        ENDPOINT,
        transport=httpx.ASGITransport(app=emulator),
        limiter=limiter,
        sleep=vt.retry_sleep,
        monotonic=vt.monotonic,
    )
    async with client:
        ticking = asyncio.create_task(ticker())
        try:
            answer = await client.list_tasks()
            assert len(answer.tasks) == 5
            assert ran_in
            assert loop_thread not in ran_in
            assert ticks >= 10  # the loop kept turning while the command slept 0.3 s
            await client.list_tasks()  # cached: the command does not run again
            assert len(ran_in) == 1
        finally:
            ticking.cancel()
