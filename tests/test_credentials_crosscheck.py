"""Every row of the chain, resolved by asrtui and by the official ``alibabacloud-credentials``.

Both read the same environment and files; both fetch temporary credentials from the same
emulator on a loopback socket (the official library's requests to ``*.aliyuncs.com`` and to
the metadata address are sent there instead, the way a resolver would point those names at a
test server). For each row both must pick the same mode and, for long-term keys, the same
AccessKey id; temporary keys must be ones the emulator issued. Where asrtui differs on purpose,
the row says how (`tests.support.credential_rows.Row.differs`) and this test checks that the
official library does what the row says it does.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from asrtui.credentials.chain import resolve_connection_settings
from asrtui.emulator import EmulatorApp, IdentityServices, build_emulator
from asrtui.errors import AsrtuiError
from tests.support.credential_rows import ROWS, Row, write_row

pytest.importorskip("alibabacloud_credentials")
pytest.importorskip("uvicorn")

from Tea.core import TeaCore

from asrtui.emulator.server import running_server

#: The official library's provider names, by asrtui's mode.
_MODES = {
    "static_ak": "AK",
    "static_sts": "StsToken",
    "ram_role_arn": "RamRoleArn",
    "oidc_role_arn": "OIDC",
    "ecs_ram_role": "EcsRamRole",
    "credential_uri": "CredentialsURI",
}


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[EmulatorApp, str]]:
    identity = IdentityServices(instance_role="ecs-role")
    keys = {
        "FAKEclirole": "s-clirole",
        "FAKEenv": "env-secret-abcdef",
        "FAKEini": "s-ini",
    }
    app = build_emulator(credentials=keys, identity=identity)
    with running_server(app) as url:
        yield app, url


@pytest.fixture
def to_emulator(served: tuple[EmulatorApp, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Send the official library's requests for Alibaba hosts to the emulator."""
    _, url = served
    target = urlsplit(url)
    compose = TeaCore.compose_url

    def redirected(request: object) -> str:
        composed = compose(request)
        parts = urlsplit(composed)
        host = parts.hostname or ""
        if host.endswith(".aliyuncs.com") or host == "100.100.100.200":
            query = f"?{parts.query}" if parts.query else ""
            return f"http://{target.netloc}{parts.path or '/'}{query}"
        return composed

    monkeypatch.setattr(TeaCore, "compose_url", staticmethod(redirected))


def _official(row: Row, home: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """(mode, key id) as the official library resolves the row, or ('error', message)."""
    write_row(row, home)
    for name in list(os.environ):
        if name.startswith("ALIBABA_CLOUD_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    for name, value in row.env.items():
        monkeypatch.setenv(name, value)
    if row.probe is None and "ALIBABA_CLOUD_ECS_METADATA" not in row.env:
        # Nothing answers at the metadata address for asrtui in this row; the official
        # library would wait for it instead of failing at once.
        monkeypatch.setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
    from alibabacloud_credentials.utils import auth_constant, auth_util

    importlib.reload(auth_util)
    importlib.reload(auth_constant)
    from alibabacloud_credentials.provider import default

    importlib.reload(default)
    try:
        credentials = default.DefaultCredentialsProvider().get_credentials()
    except Exception as exc:  # the official library raises several kinds
        return "error", str(exc)
    names = credentials.get_provider_name().split("/")
    mode = next((_MODES[n] for n in names if n in _MODES), names[-1])
    if mode == "env":
        mode = "StsToken" if credentials.get_security_token() else "AK"
    return mode, credentials.get_access_key_id()


def _ours(row: Row, home: Path) -> tuple[str, str]:
    store = write_row(row, home)
    try:
        settings = resolve_connection_settings(
            profile=None,
            endpoint=None,
            region=None,
            signature=None,
            env={"HOME": str(home), **row.env},
            store=store,
            probe=lambda _env: row.probe,
        )
        provider = settings.credentials
        key_id = asyncio.run(provider.get()).access_key_id
    except AsrtuiError as error:
        return "error", str(error)
    return provider.info().mode, key_id


def _with_emulator_uri(row: Row, url: str) -> Row:
    env = dict(row.env)
    if "ALIBABA_CLOUD_CREDENTIALS_URI" in env:
        env["ALIBABA_CLOUD_CREDENTIALS_URI"] = url + "/credentials"
    if row.mode in {"RamRoleArn", "ChainableRamRoleArn", "OIDC"}:
        env["ALIBABA_CLOUD_STS_ENDPOINT"] = url
    env.setdefault("ASRTUI_ECS_METADATA_URL", url)
    return Row(**{**row.__dict__, "env": env})


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
@pytest.mark.usefixtures("to_emulator")
def test_official_library_agrees(
    row: Row,
    tmp_path: Path,
    served: tuple[EmulatorApp, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, url = served
    row = _with_emulator_uri(row, url)
    if row.asrtui:
        # The official library does not know asrtui's profiles: the rest must agree.
        official = _official(Row(**{**row.__dict__, "asrtui": ()}), tmp_path / "sdk", monkeypatch)
    else:
        official = _official(row, tmp_path / "sdk", monkeypatch)
    ours = _ours(row, tmp_path / "ours")
    issued = app.identity
    assert issued is not None

    def same_key(a: str, b: str) -> bool:
        return a == b or (issued.lookup(a) is not None and issued.lookup(b) is not None)

    if row.name == "env AccessKey and a role ARN":
        assert ours[0] == "RamRoleArn"
        assert official == ("AK", "FAKEenv")  # the official library ignores the role ARN
    elif row.name == "env spelling of the aliyun CLI":
        assert ours == ("AK", "FAKEalt")
        assert official[0] == "error"  # it reads ALIBABA_CLOUD_* only
    elif row.name == "credentials URI before a probed ECS role":
        assert ours[0] == "CredentialsURI"
        assert official[0] == "EcsRamRole"  # it asks the metadata service first
    elif row.asrtui:
        assert ours[1] != official[1] or row.env.get("ALIBABA_CLOUD_ACCESS_KEY_ID")
    elif row.error is not None:
        assert ours[0] == "error"
        assert official[0] == "error", official
    else:
        assert ours[0] == official[0] == row.mode.replace("Chainable", ""), (ours, official)
        assert same_key(ours[1], official[1]), (ours, official)
        if row.key_id:
            assert ours[1] == official[1] == row.key_id


@pytest.mark.usefixtures("to_emulator")
def test_the_official_sts_sdk_calls_the_emulators_sts(served: tuple[EmulatorApp, str]) -> None:
    """tea-openapi's generic call, signed by the official code, against our STS."""
    from alibabacloud_tea_openapi import models as open_api_models
    from alibabacloud_tea_openapi.client import Client
    from alibabacloud_tea_util import models as util_models

    app, url = served
    config = open_api_models.Config(
        access_key_id="FAKEenv",
        access_key_secret="env-secret-abcdef",
        endpoint=urlsplit(url).netloc,
        protocol="http",
    )
    client = Client(config)
    params = open_api_models.Params(
        action="AssumeRole",
        version="2015-04-01",
        protocol="HTTP",
        pathname="/",
        method="POST",
        auth_type="AK",
        style="RPC",
        req_body_type="formData",
        body_type="json",
    )
    request = open_api_models.OpenApiRequest(
        query={
            "RoleArn": "acs:ram::1234567890123456:role/asr",
            "RoleSessionName": "sdk",
            "DurationSeconds": "900",
        }
    )
    answer = client.call_api(params, request, util_models.RuntimeOptions())
    body = answer["body"]
    assert app.identity is not None
    assert app.identity.lookup(body["Credentials"]["AccessKeyId"]) is not None
    assert json.dumps(body).count("SecurityToken") == 1
