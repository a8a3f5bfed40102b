"""Signing: documented known answers, encoding edge cases, the official SDK, and SignerAuth."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from urllib.parse import parse_qsl

import httpx
import pytest
from alibabacloud_tea_openapi.utils import Utils, get_canonical_query_string
from hypothesis import given, settings
from hypothesis import strategies as st

from asrtui.credentials import Credentials
from asrtui.signing import (
    SignerAuth,
    canonical_query,
    format_timestamp,
    new_nonce,
    parse_v3_authorization,
    percent_encode,
    rpc_signature,
    rpc_string_to_sign,
    v3_authorization,
    v3_canonical_request,
    v3_signature,
    v3_string_to_sign,
)

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

V3_KNOWN_HEADERS = {
    "host": "ecs.cn-shanghai.aliyuncs.com",
    "x-acs-action": "RunInstances",
    "x-acs-version": "2014-05-26",
    "x-acs-date": "2023-10-26T10:22:32Z",
    "x-acs-signature-nonce": "3156853299f313e23d1673dc12e1703d",
    "x-acs-content-sha256": EMPTY_SHA256,
}
V3_KNOWN_PARAMS = {
    "ImageId": "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd",
    "RegionId": "cn-shanghai",
}
V3_KNOWN_SIGNED = (
    "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"
)
V3_KNOWN_SIGNATURE = "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"

RPC_KNOWN = [
    (
        {
            "AccessKeyId": "testid",
            "Action": "DescribeDedicatedHosts",
            "Format": "JSON",
            "RegionId": "cn-beijing",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": "edb2b34af0af9a6d14deaf7c1a5315eb",
            "SignatureVersion": "1.0",
            "Timestamp": "2023-03-13T08:34:30Z",
            "Version": "2014-05-26",
        },
        "9NaGiOspFP5UPcwX8Iwt2YJXXuk=",
    ),
    (
        {
            "AccessKeyId": "testid",
            "Action": "DescribeRegions",
            "Format": "XML",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
            "SignatureVersion": "1.0",
            "Timestamp": "2016-02-23T12:46:24Z",
            "Version": "2014-05-26",
        },
        "OLeaidS1JvxuMvnyHOwuJ+uX5qY=",
    ),
]


# -- known answers -------------------------------------------------------------------------


def test_v3_known_answer_from_pure_functions() -> None:
    canonical = v3_canonical_request(
        "POST", "/", V3_KNOWN_PARAMS, V3_KNOWN_HEADERS, list(V3_KNOWN_HEADERS), EMPTY_SHA256
    )
    signature = v3_signature("YourAccessKeySecret", v3_string_to_sign(canonical))
    assert signature == V3_KNOWN_SIGNATURE
    assert v3_authorization("YourAccessKeyId", list(V3_KNOWN_HEADERS), signature) == (
        f"ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders={V3_KNOWN_SIGNED},"
        f"Signature={V3_KNOWN_SIGNATURE}"
    )


def test_v3_known_answer_through_signer_auth() -> None:
    auth = SignerAuth(
        lambda: Credentials("YourAccessKeyId", "YourAccessKeySecret"),
        clock=lambda: datetime(2023, 10, 26, 10, 22, 32, tzinfo=UTC),
        nonce=lambda: "3156853299f313e23d1673dc12e1703d",
    )
    request = httpx.Request(
        "POST",
        "https://ecs.cn-shanghai.aliyuncs.com/",
        params=V3_KNOWN_PARAMS,
        headers={"x-acs-action": "RunInstances", "x-acs-version": "2014-05-26"},
    )
    auth.sign(request)
    assert request.headers["authorization"] == (
        f"ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders={V3_KNOWN_SIGNED},"
        f"Signature={V3_KNOWN_SIGNATURE}"
    )
    assert request.headers["x-acs-content-sha256"] == EMPTY_SHA256
    assert request.url.query == canonical_query(V3_KNOWN_PARAMS).encode()


@pytest.mark.parametrize(("params", "expected"), RPC_KNOWN)
def test_rpc_known_answers(params: dict[str, str], expected: str) -> None:
    assert rpc_signature("testsecret", rpc_string_to_sign("GET", params)) == expected


def test_rpc_signature_depends_on_method_and_ignores_signature_param() -> None:
    params, expected = RPC_KNOWN[0]
    assert rpc_signature("testsecret", rpc_string_to_sign("POST", params)) != expected
    with_signature = {**params, "Signature": "anything"}
    assert rpc_signature("testsecret", rpc_string_to_sign("GET", with_signature)) == expected


def test_rpc_known_answer_through_signer_auth() -> None:
    params, expected = RPC_KNOWN[0]
    auth = SignerAuth(
        lambda: Credentials("testid", "testsecret"),
        version="rpc",
        clock=lambda: datetime(2023, 3, 13, 8, 34, 30, tzinfo=UTC),
        nonce=lambda: "edb2b34af0af9a6d14deaf7c1a5315eb",
    )
    request = httpx.Request(
        "GET",
        "https://ecs.cn-beijing.aliyuncs.com/",
        params={"RegionId": "cn-beijing"},
        headers={"x-acs-action": "DescribeDedicatedHosts", "x-acs-version": "2014-05-26"},
    )
    auth.sign(request)
    sent = dict(parse_qsl(request.url.query.decode()))
    assert sent.pop("Signature") == expected
    assert sent == params
    assert "authorization" not in request.headers


# -- encoding --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        ("AZaz09-_.~", "AZaz09-_.~"),
        (" ", "%20"),
        ("*", "%2A"),
        ("/", "%2F"),
        ("+", "%2B"),
        ("%", "%25"),
        ("=&?#", "%3D%26%3F%23"),
        ("中文", "%E4%B8%AD%E6%96%87"),
        ("é", "%C3%A9"),
        ("😀", "%F0%9F%98%80"),
        ("", ""),
    ],
)
def test_percent_encode(raw: str, encoded: str) -> None:
    assert percent_encode(raw) == encoded


def test_canonical_query_sorts_by_name_and_encodes_both_sides() -> None:
    assert canonical_query({"b": "2 3", "a b": "*", "A": "/"}) == "A=%2F&a%20b=%2A&b=2%203"
    assert canonical_query({}) == ""


def test_v3_canonical_request_layout_and_missing_signed_header() -> None:
    canonical = v3_canonical_request(
        "post", "/", {"b": "1"}, {"Host": " h ", "X-Acs-A": "v"}, ["x-acs-a", "HOST"], "ab"
    )
    assert canonical == "POST\n/\nb=1\nhost:h\nx-acs-a:v\n\nhost;x-acs-a\nab"
    with pytest.raises(ValueError, match="x-acs-missing"):
        v3_canonical_request("POST", "/", {}, {"host": "h"}, ["host", "x-acs-missing"], "ab")


def test_parse_v3_authorization_round_trip_and_rejects() -> None:
    value = v3_authorization("id", ["x-acs-date", "host"], "abc")
    assert parse_v3_authorization(value) == ("id", ["host", "x-acs-date"], "abc")
    for bad in (
        "",
        "ACS3-HMAC-SM3 Credential=a,SignedHeaders=host,Signature=b",
        "ACS3-HMAC-SHA256 Credential=a,Signature=b",
        "ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=b",
        "ACS3-HMAC-SHA256 garbage",
    ):
        with pytest.raises(ValueError):  # noqa: PT011 (several distinct messages)
            parse_v3_authorization(bad)


def test_format_timestamp_is_utc_and_refuses_naive_times() -> None:
    beijing = timezone(timedelta(hours=8))
    assert format_timestamp(datetime(2024, 5, 14, 11, 52, 2, tzinfo=beijing)) == (
        "2024-05-14T03:52:02Z"
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        format_timestamp(datetime(2024, 5, 14, 11, 52, 2))


def test_new_nonce_is_fresh() -> None:
    nonces = {new_nonce() for _ in range(100)}
    assert len(nonces) == 100
    assert all(len(nonce) == 32 for nonce in nonces)


# -- cross-check against the official SDK's utilities ----------------------------------------

_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
_UNRESERVED = st.text(
    st.sampled_from("ABCXYZabcxyz0189-_.~"),
    min_size=1,
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(
    params=st.dictionaries(
        st.text(st.characters(exclude_categories=("Cs",)), min_size=1).filter(
            lambda name: name != "Signature"  # the SDK signs before adding it; we skip it
        ),
        _TEXT,
    ),
    method=st.sampled_from(["GET", "POST"]),
    secret=_TEXT,
)
def test_rpc_signature_matches_official_sdk(
    params: dict[str, str], method: str, secret: str
) -> None:
    ours = rpc_signature(secret, rpc_string_to_sign(method, params))
    assert ours == Utils.get_rpcsignature(params, method, secret)


@settings(max_examples=150, deadline=None)
@given(params=st.dictionaries(_UNRESERVED, _TEXT))
def test_canonical_query_matches_official_sdk(params: dict[str, str]) -> None:
    # The SDK encodes values only; names of real parameters never need encoding.
    assert canonical_query(params) == get_canonical_query_string(params)


@settings(max_examples=150, deadline=None)
@given(
    params=st.dictionaries(_UNRESERVED, _TEXT),
    extra_headers=st.dictionaries(
        st.sampled_from(["accept", "user-agent", "x-acs-extra", "content-type"]),
        st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=20),
    ),
    secret=_TEXT,
    body=st.binary(max_size=64),
)
def test_v3_authorization_matches_official_sdk(
    params: dict[str, str], extra_headers: dict[str, str], secret: str, body: bytes
) -> None:
    headers = {**V3_KNOWN_HEADERS, **extra_headers}
    payload = hashlib.sha256(body).hexdigest()
    request = SimpleNamespace(method="POST", pathname="/", query=params, headers=headers)
    expected = Utils.get_authorization(request, "ACS3-HMAC-SHA256", payload, "AKID", secret)
    canonical = v3_canonical_request("POST", "/", params, headers, list(headers), payload)
    ours = v3_authorization(
        "AKID", list(headers), v3_signature(secret, v3_string_to_sign(canonical))
    )
    assert ours == expected


# -- SignerAuth --------------------------------------------------------------------------------


class _Ticking:
    def __init__(self) -> None:
        self.now = datetime(2024, 5, 14, 3, 52, 2, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def _verify_v3(request: httpx.Request, secret: str) -> None:
    key_id, signed, signature = parse_v3_authorization(request.headers["authorization"])
    params = dict(parse_qsl(request.url.query.decode(), keep_blank_values=True))
    canonical = v3_canonical_request(
        request.method,
        "/",
        params,
        dict(request.headers),
        signed,
        hashlib.sha256(request.content).hexdigest(),
    )
    assert signature == v3_signature(secret, v3_string_to_sign(canonical)), key_id


def _verify_rpc(request: httpx.Request, secret: str) -> None:
    params = dict(parse_qsl(request.url.query.decode(), keep_blank_values=True))
    assert params["Signature"] == rpc_signature(secret, rpc_string_to_sign(request.method, params))


async def _send_twice(auth: SignerAuth) -> list[httpx.Request]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        # A snapshot: the client sends the same (re-signed) request object again.
        seen.append(
            httpx.Request(
                request.method, request.url, headers=request.headers.copy(), content=request.content
            )
        )
        return httpx.Response(503 if len(seen) == 1 else 200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler), auth=auth) as client:
        request = client.build_request(
            "POST",
            "https://live.aliyuncs.com/",
            params={"TaskId": "asr-1 2*", "RegionId": "cn-shanghai"},
            headers={"x-acs-action": "StopRtcAsrTask", "x-acs-version": "2016-11-01"},
        )
        first = await client.send(request)
        second = await client.send(request)  # what a retrying client does
    assert (first.status_code, second.status_code) == (503, 200)
    return seen


async def test_v3_retry_is_signed_afresh_with_new_nonce_timestamp_and_credentials() -> None:
    tokens = iter(["token-1", "token-2"])
    auth = SignerAuth(
        lambda: Credentials("STS.key", "secret", next(tokens)),
        clock=_Ticking(),
        nonce=iter(["n-1", "n-2"]).__next__,
    )
    first, second = await _send_twice(auth)
    assert first.headers["x-acs-signature-nonce"] == "n-1"
    assert second.headers["x-acs-signature-nonce"] == "n-2"
    assert first.headers["x-acs-date"] != second.headers["x-acs-date"]
    assert first.headers["x-acs-security-token"] == "token-1"
    assert second.headers["x-acs-security-token"] == "token-2"
    assert first.headers["authorization"] != second.headers["authorization"]
    for request in (first, second):
        _verify_v3(request, "secret")
        assert b"+" not in request.url.query
        assert b"Action" not in request.url.query
        assert "x-acs-security-token" in request.headers["authorization"]


async def test_rpc_retry_is_signed_afresh_without_stale_parameters() -> None:
    auth = SignerAuth(
        lambda: Credentials("key", "secret"),
        version="rpc",
        clock=_Ticking(),
        nonce=iter(["n-1", "n-2"]).__next__,
    )
    first, second = await _send_twice(auth)
    for request, nonce in ((first, "n-1"), (second, "n-2")):
        pairs = parse_qsl(request.url.query.decode(), keep_blank_values=True)
        names = [name for name, _ in pairs]
        assert len(names) == len(set(names))
        params = dict(pairs)
        assert params["SignatureNonce"] == nonce
        assert params["TaskId"] == "asr-1 2*"
        assert params["Action"] == "StopRtcAsrTask"
        assert params["Format"] == "JSON"
        assert "SecurityToken" not in params
        _verify_rpc(request, "secret")
    assert b"%20" in first.url.query
    assert b"%2A" in first.url.query
    assert first.url.query != second.url.query


def test_rpc_signs_form_body_parameters_too() -> None:
    auth = SignerAuth(lambda: Credentials("key", "secret", "tok"), version="rpc")
    request = httpx.Request(
        "POST",
        "https://live.aliyuncs.com/",
        data={"TaskId": "asr-1"},
        headers={"x-acs-action": "StopRtcAsrTask", "x-acs-version": "2016-11-01"},
    )
    auth.sign(request)
    params = dict(parse_qsl(request.url.query.decode()))
    assert params["SecurityToken"] == "tok"
    assert "TaskId" not in params
    signed = {**params, "TaskId": "asr-1"}
    assert params["Signature"] == rpc_signature("secret", rpc_string_to_sign("POST", signed))


def test_v3_signs_content_type_and_drops_a_stale_token() -> None:
    credentials = iter([Credentials("k", "s", "tok"), Credentials("k", "s")])
    auth = SignerAuth(lambda: next(credentials))
    request = httpx.Request(
        "POST",
        "https://live.aliyuncs.com/",
        data={"TaskId": "asr-1"},
        headers={"x-acs-action": "StopRtcAsrTask", "x-acs-version": "2016-11-01"},
    )
    auth.sign(request)
    assert "content-type" in request.headers["authorization"]
    assert request.headers["x-acs-content-sha256"] == hashlib.sha256(b"TaskId=asr-1").hexdigest()
    auth.sign(request)
    assert "x-acs-security-token" not in request.headers
    assert "x-acs-security-token" not in request.headers["authorization"]
    _verify_v3(request, "s")


def test_signer_auth_needs_action_headers_and_a_known_version() -> None:
    auth = SignerAuth(lambda: Credentials("k", "s"))
    with pytest.raises(ValueError, match="x-acs-action"):
        auth.sign(httpx.Request("POST", "https://live.aliyuncs.com/"))
    with pytest.raises(ValueError, match="unknown signature version"):
        SignerAuth(lambda: Credentials("k", "s"), version="v4")  # type: ignore[arg-type]


def test_signer_auth_repr_shows_no_secret() -> None:
    auth = SignerAuth(lambda: Credentials("k", "very-secret"), version="rpc")
    assert "very-secret" not in repr(auth)
    assert repr(auth) == "SignerAuth(version='rpc')"
