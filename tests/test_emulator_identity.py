"""The emulator's STS, ECS metadata service and credentials URI, spoken to on the wire."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from asrtui.emulator import IdentityServices, build_emulator
from asrtui.signing import canonical_query, format_timestamp, rpc_signature, rpc_string_to_sign

KEY_ID = "FAKEsource"
SECRET = "source-secret-abcdefgh"
ROLE = "acs:ram::1234567890123456:role/asr-operator"
START = datetime(2026, 12, 6, 12, 0, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def rpc_query(
    action: str,
    params: dict[str, str],
    *,
    key_id: str,
    secret: str,
    token: str = "",
    now: datetime,
    version: str = "2015-04-01",
) -> str:
    query = {
        **params,
        "Action": action,
        "Version": version,
        "Format": "JSON",
        "AccessKeyId": key_id,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": str(uuid.uuid4()),
        "Timestamp": format_timestamp(now),
    }
    if token:
        query["SecurityToken"] = token
    query["Signature"] = rpc_signature(secret, rpc_string_to_sign("GET", query))
    return canonical_query(query)


def serve(clock: Clock, **options: object) -> tuple[httpx.AsyncClient, IdentityServices]:
    identity = IdentityServices(clock=clock, rng=random.Random(1), **options)  # type: ignore[arg-type]
    app = build_emulator(credentials={KEY_ID: SECRET}, clock=clock, identity=identity)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e")
    return client, identity


def run(coroutine: object) -> object:
    return asyncio.run(coroutine)  # type: ignore[arg-type]


async def assume(
    client: httpx.AsyncClient,
    clock: Clock,
    *,
    key_id: str = KEY_ID,
    secret: str = SECRET,
    token: str = "",
    **params: str,
) -> httpx.Response:
    base = {"RoleArn": ROLE, "RoleSessionName": "asrtui", "DurationSeconds": "900"}
    base.update(params)
    query = rpc_query("AssumeRole", base, key_id=key_id, secret=secret, token=token, now=clock())
    return await client.get(f"/?{query}")


async def live_query(
    client: httpx.AsyncClient, clock: Clock, credentials: dict[str, str]
) -> httpx.Response:
    query = rpc_query(
        "QueryRtcAsrTasks",
        {"RegionId": "cn-shanghai"},
        key_id=credentials["AccessKeyId"],
        secret=credentials["AccessKeySecret"],
        token=credentials["SecurityToken"],
        now=clock(),
        version="2016-11-01",
    )
    return await client.get(f"/?{query}")


def test_assume_role_issues_credentials_the_live_api_accepts_until_they_expire() -> None:
    clock = Clock()

    async def scenario() -> None:
        client, identity = serve(clock)
        async with client:
            answer = await assume(client, clock)
            assert answer.status_code == 200, answer.text
            body = answer.json()
            credentials = body["Credentials"]
            assert credentials["AccessKeyId"].startswith("STS.")
            assert body["AssumedRoleUser"]["Arn"] == f"{ROLE}/asrtui"
            expiry = datetime.strptime(credentials["Expiration"], "%Y-%m-%dT%H:%M:%SZ")
            assert expiry.replace(tzinfo=UTC) == START + timedelta(seconds=900)
            ok = await live_query(client, clock, credentials)
            assert ok.status_code == 200, ok.text
            clock.now = START + timedelta(seconds=899)
            assert (await live_query(client, clock, credentials)).status_code == 200
            clock.now = START + timedelta(seconds=900)
            refused = await live_query(client, clock, credentials)
            assert refused.status_code == 400
            assert refused.json()["Code"] == "InvalidSecurityToken.Expired"
            assert identity.calls == {"AssumeRole": 1}

    run(scenario())


def test_a_role_chain_signs_with_temporary_credentials_and_their_token() -> None:
    clock = Clock()

    async def scenario() -> None:
        client, _ = serve(clock)
        async with client:
            first = (await assume(client, clock)).json()["Credentials"]
            second = await assume(
                client,
                clock,
                key_id=first["AccessKeyId"],
                secret=first["AccessKeySecret"],
                token=first["SecurityToken"],
            )
            assert second.status_code == 200, second.text
            missing_token = await assume(
                client, clock, key_id=first["AccessKeyId"], secret=first["AccessKeySecret"]
            )
            assert missing_token.json()["Code"] == "MissingSecurityToken"

    run(scenario())


@pytest.mark.parametrize(
    ("params", "secret", "code"),
    [
        ({}, "wrong-secret-abcdefgh", "SignatureDoesNotMatch"),
        ({"RoleArn": "arn:aws:iam::1:role/x"}, SECRET, "InvalidParameter.RoleArn"),
        ({"RoleArn": ""}, SECRET, "MissingRoleArn"),
        ({"RoleSessionName": "a b"}, SECRET, "InvalidParameter.RoleSessionName"),
        ({"DurationSeconds": "899"}, SECRET, "InvalidParameter.DurationSeconds"),
        ({"DurationSeconds": "43201"}, SECRET, "InvalidParameter.DurationSeconds"),
    ],
)
def test_assume_role_refusals(params: dict[str, str], secret: str, code: str) -> None:
    clock = Clock()

    async def scenario() -> None:
        client, _ = serve(clock)
        async with client:
            answer = await assume(client, clock, secret=secret, **params)
            assert answer.status_code >= 400
            assert answer.json()["Code"] == code

    run(scenario())


def test_only_known_roles_when_a_list_is_given() -> None:
    clock = Clock()

    async def scenario() -> None:
        client, _ = serve(clock, roles=[ROLE])
        async with client:
            assert (await assume(client, clock)).status_code == 200
            other = await assume(client, clock, RoleArn="acs:ram::1:role/other")
            assert other.status_code == 404
            assert other.json()["Code"] == "EntityNotExist.Role"

    run(scenario())


def test_assume_role_with_oidc_needs_no_signature_but_a_known_token() -> None:
    clock = Clock()
    params = {
        "Action": "AssumeRoleWithOIDC",
        "Version": "2015-04-01",
        "RoleArn": ROLE,
        "OIDCProviderArn": "acs:ram::1234567890123456:oidc-provider/ack-rrsa",
        "RoleSessionName": "pod",
        "Timestamp": format_timestamp(START),
    }

    async def scenario() -> None:
        client, _ = serve(clock, oidc_tokens=["good-token"])
        async with client:
            ok = await client.post("/", params={**params, "OIDCToken": "good-token"})
            assert ok.status_code == 200, ok.text
            assert (await live_query(client, clock, ok.json()["Credentials"])).status_code == 200
            bad = await client.post("/", params={**params, "OIDCToken": "other"})
            assert bad.json()["Code"] == "AuthenticationFail.OIDCToken.Invalid"
            empty = await client.post("/", params={**params, "OIDCToken": ""})
            assert empty.json()["Code"] == "MissingOIDCToken"

    run(scenario())


def test_metadata_service_imdsv2_then_v1_fallback_and_refusal() -> None:
    clock = Clock()
    roles = "/latest/meta-data/ram/security-credentials/"

    async def scenario() -> None:
        client, identity = serve(clock, instance_role="ecs-role")
        async with client:
            token = await client.put(
                "/latest/api/token", headers={"X-aliyun-ecs-metadata-token-ttl-seconds": "21600"}
            )
            assert token.status_code == 200
            header = {"X-aliyun-ecs-metadata-token": token.text}
            assert (await client.get(roles, headers=header)).text == "ecs-role"
            answer = await client.get(roles + "ecs-role", headers=header)
            body = answer.json()
            assert body["Code"] == "Success"
            assert (await live_query(client, clock, body)).status_code == 200
            assert (await client.get(roles + "ecs-role")).status_code == 200  # IMDSv1
            bad = await client.get(roles, headers={"X-aliyun-ecs-metadata-token": "forged"})
            assert bad.status_code == 401
            no_ttl = await client.put("/latest/api/token")
            assert no_ttl.status_code == 400
            identity.imdsv1 = False
            assert (await client.get(roles + "ecs-role")).status_code == 401
            assert (await client.get(roles + "ecs-role", headers=header)).status_code == 200

    run(scenario())


def test_credentials_uri_answers_success_with_an_expiration() -> None:
    clock = Clock()

    async def scenario() -> None:
        client, _ = serve(clock, lifetime=60)
        async with client:
            body = json.loads((await client.get("/credentials")).content)
            assert body["Code"] == "Success"
            assert body["Expiration"] == "2026-12-06T12:01:00Z"

    run(scenario())


def test_without_identity_services_the_paths_are_unknown() -> None:
    async def scenario() -> None:
        app = build_emulator(credentials={KEY_ID: SECRET})
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://e") as client:
            answer = await client.get("/latest/meta-data/ram/security-credentials/")
            assert answer.status_code == 404
            assert answer.json()["Code"] == "InvalidApi.NotFound"

    run(scenario())


def test_emulator_command_options(monkeypatch: pytest.MonkeyPatch) -> None:
    """``asrtui emulator --sts --metadata ROLE --sts-expiry S`` builds the services it says."""
    import asrtui.emulator.server
    from asrtui.__main__ import main

    built: list[object] = []

    def fake_serve(app: object, host: str, port: int, *, on_ready: object) -> None:
        built.append(app)

    monkeypatch.setattr(asrtui.emulator.server, "serve", fake_serve)
    assert main(["emulator", "--sts", "--metadata", "jump-role", "--sts-expiry", "30"]) == 0
    app = built[-1]
    identity = app.identity  # type: ignore[attr-defined]
    assert identity.instance_role == "jump-role"
    assert identity.lifetime == 30
    assert identity.imdsv1
    assert main(["emulator", "--metadata", "--imdsv2-only"]) == 0
    identity = built[-1].identity  # type: ignore[attr-defined]
    assert identity.instance_role == "asrtui-ecs-role"
    assert not identity.imdsv1
    assert main(["emulator"]) == 0
    assert built[-1].identity is None  # type: ignore[attr-defined]
    assert main(["emulator", "--sts-expiry", "0"]) == 2
