"""Temporary-credential providers against the emulator's STS, metadata service and URI.

Each provider is a `RefreshingProvider`; the rules of that class (first fetch waits, refresh in
the background ahead of expiry, single flight, last good kept, failures recorded) are tested
once per provider against real answers, on a fake clock shared with the emulator.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from asrtui.client import LiveClient
from asrtui.credentials import Credentials
from asrtui.credentials.ecs import EcsRoleProvider
from asrtui.credentials.provider import StaticProvider
from asrtui.credentials.refresh import RefreshingProvider
from asrtui.credentials.sts import OidcRoleProvider, RoleProvider, RoleSettings, sts_endpoint
from asrtui.credentials.uri import UriProvider
from asrtui.emulator import EmulatorApp, IdentityServices, build_emulator
from asrtui.errors import AsrtuiError, CredentialsError, CredentialsServiceError
from asrtui.ratelimit import WindowLimiter

KEY_ID = "FAKEsource"
SECRET = "source-secret-abcdefgh"
ROLE = "acs:ram::1234567890123456:role/asr-operator"
OIDC_PROVIDER = "acs:ram::1234567890123456:oidc-provider/ack-rrsa"
START = datetime(2026, 12, 6, 12, 0, 0, tzinfo=UTC)
BASE = "http://emulator.invalid"


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class World:
    """One emulator with identity services, and its transport, on a fake clock."""

    def __init__(self, **options: object) -> None:
        self.clock = Clock()
        self.identity = IdentityServices(clock=self.clock, rng=random.Random(3), **options)  # type: ignore[arg-type]
        self.app: EmulatorApp = build_emulator(
            credentials={KEY_ID: SECRET}, clock=self.clock, identity=self.identity, tasks=3
        )
        self.transport = httpx.ASGITransport(app=self.app)

    def role(self, **changes: object) -> RoleProvider:
        settings = RoleSettings(ROLE, session_name="asrtui", duration=900, endpoint=BASE)
        return RoleProvider(
            StaticProvider(Credentials(KEY_ID, SECRET)),
            settings if not changes else RoleSettings(**{**settings.__dict__, **changes}),  # type: ignore[arg-type]
            where="profile 'ops'",
            clock=self.clock,
            transport=self.transport,
        )

    def client(self, provider: RefreshingProvider) -> LiveClient:
        return LiveClient(
            provider,
            BASE,
            transport=self.transport,
            limiter=WindowLimiter(20),
            clock=self.clock,
        )


def run(coroutine: Awaitable[object]) -> object:
    return asyncio.run(coroutine)  # type: ignore[arg-type]


# -- RamRoleArn -----------------------------------------------------------------------------


def test_role_credentials_sign_live_calls_and_are_refreshed_ahead_of_expiry() -> None:
    world = World()
    provider = world.role()

    async def scenario() -> None:
        async with world.client(provider) as client:
            assert len((await client.list_tasks()).tasks) == 3
            first = await provider.get()
            assert first.access_key_id.startswith("STS.")
            assert provider.info().expiration == START + timedelta(seconds=900)
            assert provider.info().mode == "RamRoleArn"
            # Five minutes before expiry: still the old keys, a refresh behind them, and no
            # request waits for it.
            world.clock.advance(600)
            await client.list_tasks()
            await provider.settled()
            second = await provider.get()
            assert second != first
            assert world.identity.calls["AssumeRole"] == 2
            # The old keys expire at 15 minutes: the new ones keep working past that.
            world.clock.advance(350)
            await client.list_tasks()
            assert (await provider.get()).access_key_id == second.access_key_id

    run(scenario())


def test_concurrent_requests_share_one_assume_role() -> None:
    world = World()
    provider = world.role()

    async def scenario() -> None:
        answers = await asyncio.gather(*(provider.get() for _ in range(20)))
        assert len({a.access_key_id for a in answers}) == 1
        assert world.identity.calls["AssumeRole"] == 1
        world.clock.advance(600)
        await asyncio.gather(*(provider.get() for _ in range(20)))
        await provider.settled()
        assert world.identity.calls["AssumeRole"] == 2

    run(scenario())


def test_a_chained_role_signs_with_the_first_roles_temporary_credentials() -> None:
    world = World()
    first = world.role()
    chained = RoleProvider(
        first,
        RoleSettings("acs:ram::1234567890123456:role/second", session_name="chain", endpoint=BASE),
        where="profile 'chained'",
        mode="ChainableRamRoleArn",
        clock=world.clock,
        transport=world.transport,
    )

    async def scenario() -> None:
        async with world.client(chained) as client:
            await client.list_tasks()
        assert world.identity.calls["AssumeRole"] == 2
        assert chained.info().mode == "ChainableRamRoleArn"

    run(scenario())


def test_a_failing_background_refresh_keeps_the_last_good_and_says_so() -> None:
    world = World()
    provider = world.role()

    async def scenario() -> None:
        good = await provider.get()
        world.app.faults.set("503", 1.0)
        world.clock.advance(600)
        assert await provider.get() == good
        await provider.settled()
        info = provider.info()
        assert "failed" in info.refresh_error
        assert SECRET not in info.refresh_error
        # Tried again only after a pause, not on every request.
        assert await provider.get() == good
        await provider.settled()
        assert provider.fetches == 2
        world.clock.advance(30)
        world.app.faults.set("503", 0.0)
        await provider.get()
        await provider.settled()
        assert provider.fetches == 3
        assert provider.info().refresh_error == ""
        assert await provider.get() != good

    run(scenario())


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"role_arn": "arn:aws:iam::1:role/x"}, "is not a RAM role ARN"),
        ({"role_arn": ""}, "is not a RAM role ARN"),
        ({"session_name": "a b"}, "role session name"),
        ({"duration": 899}, "out of range"),
    ],
)
def test_role_settings_that_cannot_be_sent_are_refused_before_any_call(
    changes: dict[str, object], message: str
) -> None:
    world = World()
    with pytest.raises(CredentialsError, match=message) as caught:
        world.role(**changes)
    assert caught.value.exit_code == 2
    assert "profile 'ops'" in str(caught.value)
    assert world.identity.calls == {}


def test_sts_refusals_are_configuration_errors_naming_the_code() -> None:
    world = World(roles=["acs:ram::1:role/only-this"])
    provider = world.role()

    async def scenario() -> None:
        with pytest.raises(CredentialsError) as caught:
            await provider.get()
        assert "EntityNotExist.Role" in str(caught.value)
        assert caught.value.exit_code == 2

    run(scenario())


def test_a_wrong_source_secret_is_a_configuration_error() -> None:
    world = World()
    provider = RoleProvider(
        StaticProvider(Credentials(KEY_ID, "wrong-secret-abcdefg")),
        RoleSettings(ROLE, endpoint=BASE),
        where="profile 'ops'",
        clock=world.clock,
        transport=world.transport,
    )

    async def scenario() -> None:
        with pytest.raises(CredentialsError, match="SignatureDoesNotMatch") as caught:
            await provider.get()
        assert "wrong-secret" not in str(caught.value)

    run(scenario())


# -- OIDC -----------------------------------------------------------------------------------


def test_oidc_reads_the_token_file_again_at_each_refresh(tmp_path: Path) -> None:
    world = World(oidc_tokens=["token-one"])
    token_file = tmp_path / "token"
    token_file.write_text("token-one\n")
    provider = OidcRoleProvider(
        RoleSettings(ROLE, session_name="pod", duration=900, endpoint=BASE),
        provider_arn=OIDC_PROVIDER,
        token_file=token_file,
        where="the environment (OIDC)",
        clock=world.clock,
        transport=world.transport,
    )

    async def scenario() -> None:
        async with world.client(provider) as client:
            await client.list_tasks()
        # The pod's token rotates; the old one stops being accepted.
        token_file.write_text("token-two")
        world.identity.oidc_tokens = frozenset({"token-two"})
        world.clock.advance(600)
        await provider.get()
        await provider.settled()
        assert provider.info().refresh_error == ""
        assert world.identity.calls["AssumeRoleWithOIDC"] == 2

    run(scenario())


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "does not exist"), ("", "is empty"), ("  \n", "is empty"), ("\x00\x01", "token")],
)
def test_a_missing_or_empty_token_file_is_a_configuration_error(
    tmp_path: Path, content: str | None, message: str
) -> None:
    world = World()
    token_file = tmp_path / "token"
    if content is not None:
        token_file.write_text(content)
    provider = OidcRoleProvider(
        RoleSettings(ROLE, endpoint=BASE),
        provider_arn=OIDC_PROVIDER,
        token_file=token_file,
        where="the environment (OIDC)",
        clock=world.clock,
        transport=world.transport,
    )

    async def scenario() -> None:
        with pytest.raises(CredentialsError, match=message) as caught:
            await provider.get()
        assert caught.value.exit_code == 2
        assert str(token_file) in str(caught.value)

    run(scenario())


# -- EcsRamRole ------------------------------------------------------------------------------


def test_ecs_role_discovered_and_its_credentials_used() -> None:
    world = World(instance_role="ecs-asr")
    provider = EcsRoleProvider(base_url=BASE, clock=world.clock, transport=world.transport)

    async def scenario() -> None:
        async with world.client(provider) as client:
            await client.list_tasks()
        assert world.identity.calls == {"token": 1, "role": 1, "metadata": 1}
        assert provider.info().quota_key == "ecs-role:ecs-asr"

    run(scenario())


def test_ecs_imdsv2_only_service_and_disabled_v1() -> None:
    world = World(instance_role="ecs-asr", imdsv1=False)
    provider = EcsRoleProvider(
        "ecs-asr", base_url=BASE, imdsv1=False, clock=world.clock, transport=world.transport
    )

    async def scenario() -> None:
        assert (await provider.get()).security_token

    run(scenario())


def test_ecs_without_a_role_is_a_configuration_error() -> None:
    world = World(instance_role="")
    provider = EcsRoleProvider(base_url=BASE, clock=world.clock, transport=world.transport)

    async def scenario() -> None:
        with pytest.raises(CredentialsError, match="no RAM role attached"):
            await provider.get()

    run(scenario())


def _answering(status: int, body: bytes, content_type: str = "text/html") -> httpx.MockTransport:
    """A service that answers every request the same way (a proxy, a broken service)."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"content-type": content_type})

    return httpx.MockTransport(handler)


def test_ecs_metadata_that_refuses_put_falls_back_to_imdsv1() -> None:
    world = World(instance_role="ecs-asr")
    inner = world.transport

    class NoPut(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "PUT":
                return httpx.Response(403, content=b"Forbidden")
            return await inner.handle_async_request(request)

    provider = EcsRoleProvider("ecs-asr", base_url=BASE, clock=world.clock, transport=NoPut())
    disabled = EcsRoleProvider(
        "ecs-asr", base_url=BASE, imdsv1=False, clock=world.clock, transport=NoPut()
    )

    async def scenario() -> None:
        assert (await provider.get()).access_key_id.startswith("STS.")
        with pytest.raises(CredentialsServiceError, match="IMDSv1 is disabled") as caught:
            await disabled.get()
        assert caught.value.exit_code == 1

    run(scenario())


# -- CredentialsURI ------------------------------------------------------------------------------


def test_credentials_uri() -> None:
    world = World()
    provider = UriProvider(
        BASE + "/credentials?token=uri-secret-abc",
        where="the environment",
        clock=world.clock,
        transport=world.transport,
    )

    async def scenario() -> None:
        async with world.client(provider) as client:
            await client.list_tasks()
        assert "uri-secret-abc" not in repr(provider) + str(provider.info())

    run(scenario())


# -- bad answers: every provider, one table ----------------------------------------------------

EXPIRED = json.dumps(
    {
        "Code": "Success",
        "Credentials": {},
        "AccessKeyId": "STS.x",
        "AccessKeySecret": "leaked-secret-abcdef",
        "SecurityToken": "leaked-token-abcdef",
        "Expiration": "2020-01-01T00:00:00Z",
    }
).encode()
STS_EXPIRED = json.dumps(
    {
        "RequestId": "r",
        "Credentials": {
            "AccessKeyId": "STS.x",
            "AccessKeySecret": "leaked-secret-abcdef",
            "SecurityToken": "leaked-token-abcdef",
            "Expiration": "2020-01-01T00:00:00Z",
        },
    }
).encode()

BAD_ANSWERS = [
    (_answering(200, b"<html>captive portal</html>"), CredentialsServiceError, "HTML"),
    (_answering(500, b'{"Code":"InternalError"}', "application/json"), CredentialsServiceError, ""),
    (_answering(502, b"<html>Bad Gateway</html>"), CredentialsServiceError, ""),
    (_answering(302, b"", "text/plain"), CredentialsError, "redirect"),
    (_answering(200, b"{not json", "application/json"), CredentialsServiceError, "not JSON"),
    (_answering(200, b"[]", "application/json"), CredentialsServiceError, "not an object"),
]


def _providers(transport: httpx.AsyncBaseTransport, tmp_path: Path) -> list[RefreshingProvider]:
    token_file = tmp_path / "token"
    token_file.write_text("tok")
    role = RoleSettings(ROLE, endpoint=BASE)
    return [
        RoleProvider(
            StaticProvider(Credentials(KEY_ID, SECRET)),
            role,
            where="profile 'ops'",
            clock=Clock(),
            transport=transport,
        ),
        OidcRoleProvider(
            role,
            provider_arn=OIDC_PROVIDER,
            token_file=token_file,
            where="profile 'pod'",
            clock=Clock(),
            transport=transport,
        ),
        EcsRoleProvider("r", base_url=BASE, clock=Clock(), transport=transport),
        UriProvider(BASE + "/c", where="profile 'uri'", clock=Clock(), transport=transport),
    ]


@pytest.mark.parametrize(("transport", "kind", "message"), BAD_ANSWERS)
def test_bad_answers_become_errors_naming_the_source(
    tmp_path: Path, transport: httpx.MockTransport, kind: type[AsrtuiError], message: str
) -> None:
    async def scenario() -> None:
        for provider in _providers(transport, tmp_path):
            with pytest.raises(AsrtuiError) as caught:
                await provider.get()
            error = caught.value
            # An ECS service that refuses the token PUT with HTML is a failing service too.
            assert isinstance(error, kind) or isinstance(provider, EcsRoleProvider), error
            assert message in str(error) or isinstance(provider, EcsRoleProvider)
            assert BASE.split("//")[1] in str(error) or "profile" in str(error)

    run(scenario())


@pytest.mark.parametrize("body", [EXPIRED, STS_EXPIRED])
def test_already_expired_credentials_are_refused_without_quoting_them(
    tmp_path: Path, body: bytes
) -> None:
    transport = _answering(200, body, "application/json")

    async def scenario() -> None:
        for provider in _providers(transport, tmp_path):
            with pytest.raises(AsrtuiError) as caught:
                await provider.get()
            text = str(caught.value) + repr(caught.value)
            assert "leaked" not in text
            assert caught.value.exit_code == 1

    run(scenario())


def test_a_service_that_hangs_costs_the_timeout_not_more(tmp_path: Path) -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    class Hanging(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            return await hang(request)

    provider = EcsRoleProvider("r", base_url=BASE, clock=Clock(), transport=Hanging())

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(CredentialsServiceError, match="did not answer") as caught:
            await provider.get()
        assert loop.time() - started < 10
        assert caught.value.exit_code == 1

    run(scenario())


# -- the STS endpoint -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "options", "expected"),
    [
        ({}, {}, "https://sts.aliyuncs.com"),
        ({"ALIBABA_CLOUD_STS_REGION": "cn-hangzhou"}, {}, "https://sts.cn-hangzhou.aliyuncs.com"),
        (
            {
                "ALIBABA_CLOUD_STS_REGION": "cn-hangzhou",
                "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED": "true",
            },
            {},
            "https://sts-vpc.cn-hangzhou.aliyuncs.com",
        ),
        ({"ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED": "true"}, {}, "https://sts.aliyuncs.com"),
        ({"ALIBABA_CLOUD_STS_ENDPOINT": "sts.example.com"}, {}, "https://sts.example.com"),
        (
            {"ALIBABA_CLOUD_STS_ENDPOINT": "sts.example.com"},
            {"endpoint": "http://127.0.0.1:9"},
            "http://127.0.0.1:9",
        ),
        (
            {"ALIBABA_CLOUD_STS_REGION": "cn-hangzhou"},
            {"region": "cn-beijing", "vpc": True},
            "https://sts-vpc.cn-beijing.aliyuncs.com",
        ),
        (
            {
                "ALIBABA_CLOUD_STS_REGION": "cn-hangzhou",
                "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED": "true",
            },
            {"vpc": False},
            "https://sts.cn-hangzhou.aliyuncs.com",
        ),
    ],
)
def test_sts_endpoint_rules(env: dict[str, str], options: dict[str, object], expected: str) -> None:
    assert sts_endpoint(env, **options) == expected  # type: ignore[arg-type]


def test_the_provider_is_asked_once_per_attempt() -> None:
    """The client asks once per attempt, and the signer signs with exactly those credentials."""
    world = World()
    asked: list[int] = []
    static = Credentials(KEY_ID, SECRET)

    class Counting:
        async def get(self) -> Credentials:
            asked.append(1)
            return static

        def info(self) -> object:
            return StaticProvider(static).info()

    async def scenario() -> None:
        client = LiveClient(
            Counting(),  # type: ignore[arg-type]
            BASE,
            transport=world.transport,
            limiter=WindowLimiter(20),
            clock=world.clock,
        )
        async with client:
            await client.list_tasks()
        assert len(asked) == 1

    run(scenario())


# -- the ECS probe of the default chain ---------------------------------------------------------


def test_the_probe_asks_once_per_run_and_off_the_cloud_only_the_token() -> None:
    from asrtui.credentials.ecs import forget_probes, probe_instance_role

    asked: list[str] = []

    def nothing_there(request: httpx.Request) -> httpx.Response:
        asked.append(request.method)
        raise httpx.ConnectTimeout("timed out", request=request)

    forget_probes()
    env = {"ASRTUI_ECS_METADATA_URL": "http://probe-a.invalid"}
    transport = httpx.MockTransport(nothing_there)
    assert probe_instance_role(env, transport=transport) is None
    assert probe_instance_role(env, transport=transport) is None
    assert asked == ["PUT"]  # no IMDSv1 try after no answer, and no second probe

    def ecs(request: httpx.Request) -> httpx.Response:
        asked.append(request.method)
        if request.method == "PUT":
            return httpx.Response(200, text="v2-token")
        assert request.headers["X-aliyun-ecs-metadata-token"] == "v2-token"
        return httpx.Response(200, text="ecs-asr\n")

    other = {"ASRTUI_ECS_METADATA_URL": "http://probe-b.invalid"}
    assert probe_instance_role(other, transport=httpx.MockTransport(ecs)) == "ecs-asr"
    assert asked == ["PUT", "PUT", "GET"]
    forget_probes()


def test_the_probe_falls_back_to_imdsv1_unless_disabled() -> None:
    from asrtui.credentials.ecs import forget_probes, probe_instance_role

    def v1_only(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            return httpx.Response(403, text="Forbidden")
        assert "X-aliyun-ecs-metadata-token" not in request.headers
        return httpx.Response(200, text="old-role")

    forget_probes()
    env = {"ASRTUI_ECS_METADATA_URL": "http://probe-c.invalid"}
    assert probe_instance_role(env, transport=httpx.MockTransport(v1_only)) == "old-role"
    forget_probes()
    disabled = {**env, "ALIBABA_CLOUD_IMDSV1_DISABLED": "true"}
    assert probe_instance_role(disabled, transport=httpx.MockTransport(v1_only)) is None
    forget_probes()


# -- masking -----------------------------------------------------------------------------------


def test_temporary_secrets_are_masked_in_the_log_once_handed_out() -> None:
    from asrtui import logs
    from asrtui.credentials.provider import registering_secrets

    world = World()
    provider = registering_secrets(world.role())

    async def scenario() -> Credentials:
        return await provider.get()

    issued = asyncio.run(scenario())
    text = f"{issued.access_key_secret} {issued.security_token}"
    assert logs.redact_log_text(text) == "**** ****"


# -- any answer at all: an error of the tree, never a value of the answer -----------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(
        st.sampled_from(
            ["Code", "Credentials", "AccessKeyId", "AccessKeySecret", "SecurityToken",
             "Expiration", "RequestId", "x"]
        ),
        children,
        max_size=6,
    ),
    max_leaves=12,
)  # fmt: skip


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    status=st.sampled_from([200, 400, 403, 404, 500, 503]),
    body=_json
    | st.fixed_dictionaries(
        {"Code": st.text(max_size=90), "RequestId": st.text(max_size=90), "Message": st.text()}
    ),
)
def test_any_answer_becomes_an_error_of_the_tree_or_valid_credentials(
    tmp_path_factory: pytest.TempPathFactory, status: int, body: object
) -> None:
    marker = "Zq9LeakMarker"

    def poison(value: object) -> object:
        if isinstance(value, str):
            return marker + value
        if isinstance(value, list):
            return [poison(v) for v in value]
        if isinstance(value, dict):
            # Code and RequestId are the server's identifiers, shown on purpose (when they
            # have the shape of one): everything else of an answer is never quoted.
            return {k: v if k in {"Code", "RequestId"} else poison(v) for k, v in value.items()}
        return value

    transport = _answering(status, json.dumps(poison(body)).encode(), "application/json")
    tmp = tmp_path_factory.mktemp("any")

    async def scenario() -> list[str]:
        said: list[str] = []
        for provider in _providers(transport, tmp):
            try:
                await provider.get()
            except AsrtuiError as error:
                said.append(str(error) + repr(error))
        return said

    for text in asyncio.run(scenario()):
        assert marker not in text


def test_sts_queries_carry_each_actions_parameters_once(tmp_path: Path) -> None:
    """Both role actions send the common STS parameters, their own, the policy and (signed) a
    signature over all of them; read off the wire."""
    from asrtui.signing import rpc_signature, rpc_string_to_sign

    sent: list[list[tuple[str, str]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(list(request.url.params.multi_items()))
        return httpx.Response(500, content=b"{}")

    transport = httpx.MockTransport(handler)
    token_file = tmp_path / "token"
    token_file.write_text("tok")
    role = RoleSettings(
        ROLE, session_name="ss", duration=1800, policy='{"p":1}', external_id="x", endpoint=BASE
    )
    source = Credentials(KEY_ID, SECRET, "source-token")
    providers: list[RefreshingProvider] = [
        RoleProvider(StaticProvider(source), role, where="p", clock=Clock(), transport=transport),
        OidcRoleProvider(
            role,
            provider_arn=OIDC_PROVIDER,
            token_file=token_file,
            where="p",
            clock=Clock(),
            transport=transport,
        ),
    ]
    for provider in providers:
        with pytest.raises(AsrtuiError):
            run(provider.get())
    common = {
        "Format": "JSON",
        "Version": "2015-04-01",
        "DurationSeconds": "1800",
        "RoleArn": ROLE,
        "RoleSessionName": "ss",
        "Timestamp": "2026-12-06T12:00:00Z",
        "Policy": '{"p":1}',
    }
    assume, oidc = (dict(items) for items in (sent[0], sent[-1]))
    assert len(sent[0]) == len(assume)
    assert len(sent[-1]) == len(oidc)
    nonce = assume.pop("SignatureNonce")
    signature = assume.pop("Signature")
    assert len(nonce) == 32
    assert assume == {
        **common,
        "Action": "AssumeRole",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "AccessKeyId": KEY_ID,
        "ExternalId": "x",
        "SecurityToken": "source-token",
    }
    signed = {**assume, "SignatureNonce": nonce}
    assert signature == rpc_signature(SECRET, rpc_string_to_sign("GET", signed))
    assert oidc == {
        **common,
        "Action": "AssumeRoleWithOIDC",
        "OIDCProviderArn": OIDC_PROVIDER,
        "OIDCToken": "tok",
    }
