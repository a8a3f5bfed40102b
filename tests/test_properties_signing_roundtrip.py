"""Property: any parameters, signed by `SignerAuth`, are accepted by the emulator's verifier.

Names and values are arbitrary Unicode (control characters, reserved URL characters, ``+``,
``%``, ``=``, ``&``, spaces, emoji, empty values), both signature versions, GET and POST. The
request goes through httpx to the emulator app in process; the emulator verifies the signature
independently and must answer ``RetCode`` 2000, and the parameters it decodes from the query
string must be exactly the ones signed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import parse_qsl

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asrtui.credentials import Credentials
from asrtui.emulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, EmulatorApp, build_emulator
from asrtui.emulator.app import ASGIReceive, ASGISend
from asrtui.signing import RPC_COMMON_PARAMS, SignerAuth

API_VERSION = "2016-11-01"
# The secret is only ever an HMAC key, so any text works; the key id and the token travel in
# V3 headers, which carry ASCII only (see the tests at the end for other characters).
STS_KEY, STS_SECRET, STS_TOKEN = "sts-key-id", "sts-secret-ÄÖ ü+/=", "CAIS+sts/token=="

_TRICKY = ["", " ", "+", "%", "%20", "=", "&", "a=b&c=d", "?", "#", "/", "~", "*", "'", "\x00",
           "\n", "\x7f", "é", "名前", "\U0001f600", "\u200b", "\ufeff", "%E4%B8%AD"]  # fmt: skip
TEXT = st.one_of(st.sampled_from(_TRICKY), st.text(max_size=30))
# Signature parameters are the signer's own: a business parameter never has one of those names.
NAMES = TEXT.filter(lambda name: name not in RPC_COMMON_PARAMS)
PARAMS = st.dictionaries(NAMES, TEXT, max_size=6)


class Recording:
    """The emulator app, remembering the query string of every request it received."""

    def __init__(self, app: EmulatorApp) -> None:
        self.app = app
        self.queries: list[list[tuple[str, str]]] = []

    async def __call__(
        self, scope: Mapping[str, object], receive: ASGIReceive, send: ASGISend
    ) -> None:
        raw = scope.get("query_string", b"")
        text = raw.decode("ascii") if isinstance(raw, bytes) else ""
        self.queries.append(parse_qsl(text, keep_blank_values=True))
        await self.app(scope, receive, send)


def _emulator() -> Recording:
    return Recording(
        build_emulator(
            seed=4,
            tasks=2,
            credentials={
                DEMO_ACCESS_KEY_ID: DEMO_ACCESS_KEY_SECRET,
                STS_KEY: (STS_SECRET, STS_TOKEN),
            },
            limit=1_000_000,  # flow control is not under test here
        )
    )


async def _send(
    recording: Recording,
    params: dict[str, str],
    version: Literal["v3", "rpc"],
    method: str,
    credentials: Credentials,
) -> httpx.Response:
    auth = SignerAuth(lambda: credentials, version=version)
    transport = httpx.ASGITransport(app=recording)
    async with httpx.AsyncClient(auth=auth, transport=transport) as http:
        return await http.request(
            method,
            "http://emulator.test/",
            params=params,
            headers={"x-acs-action": "QueryRtcAsrTasks", "x-acs-version": API_VERSION},
        )


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(
    params=PARAMS,
    version=st.sampled_from(["v3", "rpc"]),
    method=st.sampled_from(["POST", "GET"]),
    sts=st.booleans(),
)
def test_signed_parameters_are_accepted_and_arrive_intact(
    params: dict[str, str], version: Literal["v3", "rpc"], method: str, sts: bool
) -> None:
    credentials = (
        Credentials(STS_KEY, STS_SECRET, STS_TOKEN)
        if sts
        else Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
    )
    # A TaskId narrows the query; the answer is a success either way (possibly no tasks).
    recording = _emulator()
    response = asyncio.run(_send(recording, params, version, method, credentials))
    body: dict[str, Any] = response.json()
    assert response.status_code == 200, body
    assert body.get("RetCode") == 2000, body
    (received,) = recording.queries
    business = {name: value for name, value in received if name not in RPC_COMMON_PARAMS}
    assert business == params
    assert len(received) == len(dict(received))  # no parameter arrived twice
    if version == "rpc":
        signature_params = {name for name, _ in received if name in RPC_COMMON_PARAMS}
        assert {"Signature", "SignatureNonce", "Timestamp", "AccessKeyId"} <= signature_params
        assert ("SecurityToken" in signature_params) == sts


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=PARAMS, version=st.sampled_from(["v3", "rpc"]), name=NAMES, value=TEXT)
def test_a_parameter_changed_after_signing_is_refused(
    params: dict[str, str], version: Literal["v3", "rpc"], name: str, value: str
) -> None:
    """The verifier really checks: tampering with any parameter breaks the signature."""
    credentials = Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
    tampered = {**params, name: value + "!"}
    recording = _emulator()

    class Tamper(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            query = httpx.QueryParams(request.url.query.decode("ascii"))
            request.url = request.url.copy_with(params=query.merge(tampered))
            return await httpx.ASGITransport(app=recording).handle_async_request(request)

    async def send() -> httpx.Response:
        auth = SignerAuth(lambda: credentials, version=version)
        async with httpx.AsyncClient(auth=auth, transport=Tamper()) as http:
            return await http.post(
                "http://emulator.test/",
                params=params,
                headers={"x-acs-action": "QueryRtcAsrTasks", "x-acs-version": API_VERSION},
            )

    response = asyncio.run(send())
    assert response.status_code == 400
    assert response.json()["Code"] == "SignatureDoesNotMatch"


# -- credentials with characters a request cannot carry -----------------------------------------


async def test_the_client_refuses_a_token_that_a_header_cannot_carry() -> None:
    """A pasted STS token with a stray non-ASCII character is a credentials error (exit 2)."""
    from asrtui.client import LiveClient
    from asrtui.errors import CredentialsError

    token = "CAIS+sts/token==\u00a0"  # a non-breaking space copied along with it
    app = build_emulator(credentials={STS_KEY: (STS_SECRET, token)})
    credentials = Credentials(STS_KEY, STS_SECRET, token)
    async with LiveClient(
        lambda: credentials,
        "http://emulator.test",
        transport=httpx.ASGITransport(app=app),
        profile="prod",
    ) as client:
        with pytest.raises(CredentialsError) as caught:
            await client.list_tasks()
    message = str(caught.value)
    assert "STS token contains a character that cannot be sent" in message
    assert "profile 'prod'" in message
    assert token not in message
    assert caught.value.exit_code == 2


async def test_the_emulator_refuses_a_non_ascii_token_as_a_mismatch() -> None:
    """RPC carries any token in the query; a wrong one is refused, never an emulator crash."""
    recording = _emulator()
    credentials = Credentials(STS_KEY, STS_SECRET, STS_TOKEN + "✓")
    response = await _send(recording, {}, "rpc", "POST", credentials)
    assert response.status_code == 400
    assert response.json()["Code"] == "InvalidSecurityToken.MismatchWithAccessKey"
    good = await _send(recording, {}, "rpc", "POST", Credentials(STS_KEY, STS_SECRET, STS_TOKEN))
    assert good.json()["RetCode"] == 2000
