"""The emulator app on the wire: signatures, error envelopes, flow control and the actions."""

from __future__ import annotations

import hashlib
from collections import deque
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
import pytest

from asrtui.emulator import (
    DEMO_ACCESS_KEY_ID,
    DEMO_ACCESS_KEY_SECRET,
    EmulatorStats,
    build_emulator,
)
from asrtui.signing import (
    canonical_query,
    format_timestamp,
    rpc_signature,
    rpc_string_to_sign,
    v3_authorization,
    v3_canonical_request,
    v3_signature,
    v3_string_to_sign,
)
from tests.support.clock import FakeClock
from tests.support.emulator import (
    API_VERSION,
    KEY_ID,
    SECRET,
    STS_KEY_ID,
    STS_SECRET,
    STS_TOKEN,
    Rig,
    call,
    error_code,
    make_rig,
)

VERSIONS = ["v3", "rpc"]


@pytest.fixture
def rig() -> Rig:
    return make_rig()


def _v3_request(
    rig: Rig,
    *,
    action: str = "QueryRtcAsrTasks",
    params: dict[str, str] | None = None,
    extra: dict[str, str] | None = None,
    signed_body: bytes = b"",
    sent_body: bytes | None = None,
    date: str | None = None,
    sign_only: list[str] | None = None,
    authorization: str | None = None,
) -> httpx.Request:
    """A V3 request signed by hand, so single parts can be wrong on purpose."""
    params = params or {}
    payload = hashlib.sha256(signed_body).hexdigest()
    headers = {
        "host": "live.aliyuncs.com",
        "x-acs-action": action,
        "x-acs-version": API_VERSION,
        "x-acs-date": date or format_timestamp(rig.clock()),
        "x-acs-signature-nonce": "hand-made-nonce",
        "x-acs-content-sha256": payload,
        **(extra or {}),
    }
    signed = sign_only or list(headers)
    canonical = v3_canonical_request("POST", "/", params, headers, signed, payload)
    headers["authorization"] = authorization or v3_authorization(
        KEY_ID, signed, v3_signature(SECRET, v3_string_to_sign(canonical))
    )
    return httpx.Request(
        "POST",
        f"http://live.aliyuncs.com/?{canonical_query(params)}",
        headers=headers,
        content=signed_body if sent_body is None else sent_body,
    )


def _rpc_request(rig: Rig, method: str = "GET", **overrides: str) -> httpx.Request:
    """An RPC request signed by hand."""
    params = {
        "Action": "QueryRtcAsrTasks",
        "Version": API_VERSION,
        "Format": "JSON",
        "AccessKeyId": KEY_ID,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": "hand-made-nonce",
        "Timestamp": format_timestamp(rig.clock()),
        **overrides,
    }
    params["Signature"] = rpc_signature(SECRET, rpc_string_to_sign(method, params))
    return httpx.Request(method, f"http://live.aliyuncs.com/?{canonical_query(params)}")


# -- the happy paths -------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
async def test_query_answers_every_running_task(rig: Rig, version: str) -> None:
    async with rig.client(version) as client:  # type: ignore[arg-type]
        response = await call(client, "QueryRtcAsrTasks", RegionId="cn-shanghai")
    assert response.status_code == 200
    body = response.json()
    assert body["Description"] == "success"
    assert body["RetCode"] == 2000
    assert body["Tasks"] == rig.backend.query()
    assert len(body["Tasks"]) == 4
    assert response.headers["x-acs-request-id"] == body["RequestId"]
    assert parsedate_to_datetime(response.headers["date"]) == rig.clock()


@pytest.mark.parametrize("version", VERSIONS)
async def test_sts_credentials_are_accepted(rig: Rig, version: str) -> None:
    async with rig.client(
        version,  # type: ignore[arg-type]
        key_id=STS_KEY_ID,
        secret=STS_SECRET,
        token=STS_TOKEN,
    ) as client:
        response = await call(client, "QueryRtcAsrTasks")
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("version", VERSIONS)
async def test_stop_delete_and_query_one(rig: Rig, version: str) -> None:
    task_id = next(iter(rig.backend.query() or {}))
    async with rig.client(version) as client:  # type: ignore[arg-type]
        stopped = await call(client, "StopRtcAsrTask", TaskId=task_id)
        listed = await call(client, "QueryRtcAsrTasks")
        one = await call(client, "QueryRtcAsrTasks", TaskId=task_id)
        deleted = await call(client, "DeleteRtcAsrTask", TaskId=task_id)
        unknown = await call(client, "QueryRtcAsrTasks", TaskId=task_id)
    assert stopped.json() == {
        "Description": "success",
        "RequestId": stopped.json()["RequestId"],
        "RetCode": 2000,
    }
    assert task_id not in listed.json()["Tasks"]
    assert one.json()["Tasks"][task_id]["status"] == 0
    assert deleted.status_code == 200
    assert unknown.json()["Tasks"] == {}


@pytest.mark.parametrize("version", VERSIONS)
async def test_parameters_in_a_form_body_count(rig: Rig, version: str) -> None:
    task_id = next(iter(rig.backend.query() or {}))
    async with rig.client(version) as client:  # type: ignore[arg-type]
        response = await client.post(
            "/",
            data={"TaskId": task_id},
            headers={"x-acs-action": "StopRtcAsrTask", "x-acs-version": API_VERSION},
        )
    assert response.status_code == 200, response.text
    assert task_id not in (rig.backend.query() or {})


async def test_rpc_over_get(rig: Rig) -> None:
    async with rig.client("rpc") as client:
        response = await call(client, "QueryRtcAsrTasks", method="GET")
    assert response.status_code == 200


async def test_create_answers_a_task_id(rig: Rig) -> None:
    async with rig.client() as client:
        response = await call(
            client,
            "CreateRtcAsrTask",
            Mode="live",
            Language="cn",
            CallbackURL="https://cb.example.com/x?a=b c",
            StreamURL="rtmp://push/app/stream",
        )
    body = response.json()
    assert body["RetCode"] == 2000
    task = (rig.backend.query() or {})[body["TaskId"]]
    assert task["callbackUrl"] == "https://cb.example.com/x?a=b c"


async def test_create_with_a_bad_mode_answers_on_the_second_channel(rig: Rig) -> None:
    async with rig.client() as client:
        response = await call(
            client, "CreateRtcAsrTask", Mode="hls", Language="cn", CallbackURL="default"
        )
    assert response.status_code == 200
    body = response.json()
    assert body["RetCode"] != 2000
    assert isinstance(body["RetCode"], int)
    assert "Mode" in body["Description"]
    assert "TaskId" not in body


async def test_sdk_style_v3_with_extra_signed_headers(rig: Rig) -> None:
    request = _v3_request(
        rig, extra={"accept": "application/json", "user-agent": "AlibabaCloud Python/3.11"}
    )
    async with rig.raw_client() as client:
        response = await client.send(request)
    assert response.status_code == 200, response.text


# -- every error code --------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
async def test_wrong_secret_is_signature_does_not_match(rig: Rig, version: str) -> None:
    async with rig.client(version, secret="wrong") as client:  # type: ignore[arg-type]
        response = await call(client, "QueryRtcAsrTasks")
    assert (response.status_code, error_code(response)) == (400, "SignatureDoesNotMatch")
    assert "wrong" not in response.text
    assert SECRET not in response.text


@pytest.mark.parametrize("version", VERSIONS)
async def test_unknown_key(rig: Rig, version: str) -> None:
    async with rig.client(version, key_id="nobody") as client:  # type: ignore[arg-type]
        response = await call(client, "QueryRtcAsrTasks")
    assert (response.status_code, error_code(response)) == (404, "InvalidAccessKeyId.NotFound")


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("skew", "ok"), [(-16 * 60, False), (16 * 60, False), (14 * 60, True)])
async def test_timestamp_window(rig: Rig, version: str, skew: int, ok: bool) -> None:
    signer_clock = lambda: datetime.fromtimestamp(rig.clock().timestamp() + skew, UTC)  # noqa: E731
    async with rig.client(version, clock=signer_clock) as client:  # type: ignore[arg-type]
        response = await call(client, "QueryRtcAsrTasks")
    if ok:
        assert response.status_code == 200
    else:
        assert (response.status_code, error_code(response)) == (400, "InvalidTimeStamp.Expired")


async def test_badly_formatted_timestamps(rig: Rig) -> None:
    async with rig.raw_client() as client:
        rpc = await client.send(_rpc_request(rig, Timestamp="2024-05-14 03:52:02"))
        v3 = await client.send(_v3_request(rig, date="1715658722"))
    assert (rpc.status_code, error_code(rpc)) == (400, "InvalidTimeStamp.Format")
    assert (v3.status_code, error_code(v3)) == (400, "InvalidTimeStamp.Format")


@pytest.mark.parametrize("version", VERSIONS)
async def test_nonce_replay_within_the_window(rig: Rig, version: str) -> None:
    async with rig.client(version, nonce=lambda: "same") as client:  # type: ignore[arg-type]
        first = await call(client, "QueryRtcAsrTasks")
        rig.clock.advance(14 * 60)
        replay = await call(client, "QueryRtcAsrTasks")
        rig.clock.advance(2 * 60)
        later = await call(client, "QueryRtcAsrTasks")
    assert first.status_code == 200
    assert (replay.status_code, error_code(replay)) == (400, "SignatureNonceUsed")
    assert later.status_code == 200


async def test_same_nonce_with_another_key_is_fine(rig: Rig) -> None:
    async with (
        rig.client(nonce=lambda: "same") as one,
        rig.client(key_id="other-key", secret="other", nonce=lambda: "same") as other,
    ):
        assert (await call(one, "QueryRtcAsrTasks")).status_code == 200
        assert (await call(other, "QueryRtcAsrTasks")).status_code == 200


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("credentials", "code"),
    [
        ((STS_KEY_ID, STS_SECRET, ""), "MissingSecurityToken"),
        ((STS_KEY_ID, STS_SECRET, "stolen-token"), "InvalidSecurityToken.MismatchWithAccessKey"),
        ((KEY_ID, SECRET, "stray-token"), "InvalidSecurityToken.MismatchWithAccessKey"),
    ],
)
async def test_security_token_problems(
    rig: Rig, version: str, credentials: tuple[str, str, str], code: str
) -> None:
    key_id, secret, token = credentials
    async with rig.client(
        version,  # type: ignore[arg-type]
        key_id=key_id,
        secret=secret,
        token=token,
    ) as client:
        response = await call(client, "QueryRtcAsrTasks")
    assert (response.status_code, error_code(response)) == (400, code)
    assert STS_TOKEN not in response.text


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("action", "params", "missing"),
    [
        ("StopRtcAsrTask", {}, "TaskId"),
        ("DeleteRtcAsrTask", {}, "TaskId"),
        ("CreateRtcAsrTask", {"Language": "cn", "CallbackURL": "default"}, "Mode"),
        ("CreateRtcAsrTask", {"Mode": "live", "Language": "cn"}, "CallbackURL"),
    ],
)
async def test_missing_parameter(
    rig: Rig, version: str, action: str, params: dict[str, str], missing: str
) -> None:
    async with rig.client(version) as client:  # type: ignore[arg-type]
        response = await call(client, action, **params)
    assert (response.status_code, error_code(response)) == (400, "MissingParameter")
    assert f'"{missing}"' in response.json()["Message"]


@pytest.mark.parametrize("version", VERSIONS)
async def test_unknown_action(rig: Rig, version: str) -> None:
    async with rig.client(version) as client:  # type: ignore[arg-type]
        response = await call(client, "DescribeLiveStreams")
    assert (response.status_code, error_code(response)) == (404, "InvalidApi.NotFound")


async def test_unknown_path_or_method(rig: Rig) -> None:
    async with rig.client() as client:
        wrong_path = await client.post(
            "/v1/tasks", headers={"x-acs-action": "QueryRtcAsrTasks", "x-acs-version": API_VERSION}
        )
        wrong_method = await client.put(
            "/", headers={"x-acs-action": "QueryRtcAsrTasks", "x-acs-version": API_VERSION}
        )
    assert error_code(wrong_path) == "InvalidApi.NotFound"
    assert error_code(wrong_method) == "InvalidApi.NotFound"


async def test_wrong_api_version(rig: Rig) -> None:
    async with rig.client() as client:
        response = await call(client, "QueryRtcAsrTasks", version="2014-05-26")
    assert (response.status_code, error_code(response)) == (400, "InvalidVersion")


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("action", ["StopRtcAsrTask", "DeleteRtcAsrTask"])
async def test_unknown_task_id_is_config_not_found(rig: Rig, version: str, action: str) -> None:
    async with rig.client(version) as client:  # type: ignore[arg-type]
        response = await call(client, action, TaskId="asr-00000000-0000-4000-8000-000000000000")
    assert (response.status_code, error_code(response)) == (400, "ConfigNotFound")
    assert response.json()["Message"] == "task id not found, please check and try again later."
    assert response.json()["HostId"] == "live.aliyuncs.com"


async def test_rpc_signature_is_bound_to_the_method(rig: Rig) -> None:
    signed_for_post = _rpc_request(rig, method="POST")
    async with rig.raw_client() as client:
        response = await client.get(str(signed_for_post.url))
    assert error_code(response) == "SignatureDoesNotMatch"


async def test_body_that_does_not_match_its_hash(rig: Rig) -> None:
    request = _v3_request(rig, signed_body=b"", sent_body=b"TaskId=asr-1")
    async with rig.raw_client() as client:
        response = await client.send(request)
    assert (response.status_code, error_code(response)) == (400, "SignatureDoesNotMatch")


@pytest.mark.parametrize(
    "authorization",
    [
        "ACS3-HMAC-SHA256 nonsense",
        "Bearer abc",
        f"ACS3-HMAC-SHA256 Credential={KEY_ID},SignedHeaders=host;x-acs-missing,Signature=ab",
    ],
)
async def test_incomplete_signature(rig: Rig, authorization: str) -> None:
    async with rig.raw_client() as client:
        response = await client.send(_v3_request(rig, authorization=authorization))
    assert (response.status_code, error_code(response)) == (400, "IncompleteSignature")


async def test_unsigned_date_or_nonce_is_an_incomplete_signature(rig: Rig) -> None:
    request = _v3_request(rig, sign_only=["host", "x-acs-action", "x-acs-version"])
    async with rig.raw_client() as client:
        response = await client.send(request)
    assert error_code(response) == "IncompleteSignature"


async def test_an_unsigned_request(rig: Rig) -> None:
    async with rig.raw_client() as client:
        response = await client.post("/", params={"Action": "QueryRtcAsrTasks"})
    assert (response.status_code, error_code(response)) == (400, "MissingParameter")


# -- flow control --------------------------------------------------------------------------


async def test_twenty_first_request_in_one_second_is_throttled(rig: Rig) -> None:
    async with rig.client() as client, rig.client(key_id="other-key", secret="other") as other:
        statuses = [(await call(client, "QueryRtcAsrTasks")).status_code for _ in range(20)]
        throttled = await call(client, "QueryRtcAsrTasks")
        other_key = await call(other, "QueryRtcAsrTasks")
        rig.clock.advance(0.999)
        still = await call(client, "QueryRtcAsrTasks")
        rig.clock.advance(0.001)
        again = await call(client, "QueryRtcAsrTasks")
    assert statuses == [200] * 20
    assert (throttled.status_code, error_code(throttled)) == (400, "Throttling.User")
    assert throttled.headers["x-acs-retry-after"] == "1000"
    assert still.headers["x-acs-retry-after"] == "1"
    assert other_key.status_code == 200
    assert again.status_code == 200
    assert rig.app.stats.throttled == 2
    assert rig.app.stats.requests == 24
    assert len(rig.app.stats.accepted_times[KEY_ID]) == 21
    assert rig.app.stats.max_in_any_window(KEY_ID) == 20
    assert rig.app.stats.max_in_any_window() == 21


async def test_a_sliding_window_not_a_fixed_one(rig: Rig) -> None:
    async with rig.client("rpc") as client:
        for _ in range(10):
            assert (await call(client, "QueryRtcAsrTasks")).status_code == 200
        rig.clock.advance(0.6)
        for _ in range(10):
            assert (await call(client, "QueryRtcAsrTasks")).status_code == 200
        rig.clock.advance(0.6)  # the first ten left the window; the second ten have not
        results = [(await call(client, "QueryRtcAsrTasks")).status_code for _ in range(11)]
    assert results == [200] * 10 + [400]
    assert rig.app.stats.max_in_any_window(KEY_ID) == 20


async def test_retry_after_from_the_fault_plan_wins(rig: Rig) -> None:
    rig.faults.set("retry_after", 250)
    rig.app.limit = 1
    async with rig.client() as client:
        await call(client, "QueryRtcAsrTasks")
        response = await call(client, "QueryRtcAsrTasks")
    assert response.headers["x-acs-retry-after"] == "250"


def test_max_in_any_window() -> None:
    stats = EmulatorStats()
    assert stats.max_in_any_window() == 0
    stats.accepted_times["a"] = deque([0.0, 0.5, 0.99, 1.0, 1.2, 3.0])
    stats.accepted_times["b"] = deque([0.6])
    assert stats.max_in_any_window("a") == 4
    assert stats.max_in_any_window("b") == 1
    assert stats.max_in_any_window() == 5
    assert stats.max_in_any_window("a", window=0.1) == 2


# -- plumbing --------------------------------------------------------------------------------


async def test_lifespan_is_acknowledged(rig: Rig) -> None:
    inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return inbox.pop(0)

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    await rig.app({"type": "lifespan"}, receive, send)
    assert [m["type"] for m in sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]


async def test_build_emulator_uses_the_demo_key() -> None:
    app = build_emulator(seed=5, tasks=3, fault_spec="latency=0")
    rig = Rig(app=app, clock=FakeClock(datetime.now(UTC)))
    async with rig.client(key_id=DEMO_ACCESS_KEY_ID, secret=DEMO_ACCESS_KEY_SECRET) as client:
        response = await call(client, "QueryRtcAsrTasks")
    assert response.status_code == 200
    assert len(response.json()["Tasks"]) == 3
    assert DEMO_ACCESS_KEY_SECRET not in repr(app)
    with pytest.raises(ValueError, match="unknown fault kind"):
        build_emulator(fault_spec="explode=1")
