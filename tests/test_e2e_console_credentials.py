"""The console on every credential mode, over a loopback socket: the emulator serves the Live
API, STS, the metadata service and a credentials URI on one port, and each mode is resolved by
the chain as a user would configure it, opened by the composition root, and shown.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest

from asrtui.connect import Connection, open_client
from asrtui.credentials import Credentials
from asrtui.credentials.chain import resolve_connection_settings
from asrtui.emulator import EmulatorApp, IdentityServices, build_emulator
from asrtui.profiles import Profile, ProfileStore
from asrtui.profiles.modes import ModeSettings
from asrtui.tasksource import ClientTaskSource
from asrtui.ui.widgets.status_line import render_status
from tests.support.fakes import FakeTaskSource, running_console

pytest.importorskip("uvicorn")

from asrtui.emulator.server import running_server

KEY_ID = "FAKEconsolee2e"
SECRET = "console-e2e-secret-abcdef"
ROLE = "acs:ram::1234567890123456:role/asr-operator"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[EmulatorApp, str]]:
    identity = IdentityServices(instance_role="ecs-asr", oidc_tokens=["pod-token"])
    app = build_emulator(seed=9, tasks=4, credentials={KEY_ID: SECRET}, identity=identity)
    with running_server(app) as url:
        yield app, url


def _configure(mode: str, url: str, home: Path, store: ProfileStore) -> tuple[dict[str, str], str]:
    """The environment and --profile (or "") of a user of ``mode``."""
    env = {"HOME": str(home), "ALIBABA_CLOUD_STS_ENDPOINT": url, "ASRTUI_ECS_METADATA_URL": url}
    key = Credentials(KEY_ID, SECRET)
    if mode == "RamRoleArn":
        store.add(Profile("ops", credentials=key, mode=ModeSettings(mode, ram_role_arn=ROLE)))
        return env, "ops"
    if mode == "ChainableRamRoleArn":
        store.add(
            Profile("ops", credentials=key, mode=ModeSettings("RamRoleArn", ram_role_arn=ROLE))
        )
        chained = ModeSettings(mode, ram_role_arn=ROLE, source_profile="ops")
        store.add(Profile("prod", mode=chained))
        return env, "prod"
    if mode == "EcsRamRole":
        return {**env, "ALIBABA_CLOUD_ECS_METADATA": "ecs-asr"}, ""
    if mode == "OIDC":
        token = home / "token"
        token.write_text("pod-token")
        return {
            **env,
            "ALIBABA_CLOUD_ROLE_ARN": ROLE,
            "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": "acs:ram::1234567890123456:oidc-provider/ack",
            "ALIBABA_CLOUD_OIDC_TOKEN_FILE": str(token),
        }, ""
    if mode == "CredentialsURI":
        return {**env, "ALIBABA_CLOUD_CREDENTIALS_URI": url + "/credentials"}, ""
    # The aliyun CLI's file, read by the chain.
    (home / ".aliyun").mkdir()
    entry = {"name": "cli", "mode": "RamRoleArn", "access_key_id": KEY_ID,
             "access_key_secret": SECRET, "ram_role_arn": ROLE}  # fmt: skip
    (home / ".aliyun" / "config.json").write_text(
        json.dumps({"current": "cli", "profiles": [entry]})
    )
    return env, ""


@pytest.mark.parametrize(
    "mode",
    ["RamRoleArn", "ChainableRamRoleArn", "EcsRamRole", "OIDC", "CredentialsURI", "aliyun CLI"],
)
async def test_the_console_runs_on_each_mode(
    mode: str, served: tuple[EmulatorApp, str], tmp_path: Path
) -> None:
    _, url = served
    store = ProfileStore(tmp_path / "asrtui")
    env, profile = _configure(mode, url, tmp_path, store)
    settings = resolve_connection_settings(
        profile=profile or None, endpoint=url, region=None, signature=None, env=env, store=store
    )
    client = open_client(Connection.from_settings(settings))
    async with client:
        source = ClientTaskSource(
            client, profile_name=settings.profile, region=settings.settings.region
        )
        async with running_console(cast(FakeTaskSource, source)) as console:
            shown = console.screen.status_line.snapshot
            assert shown is not None
            assert not shown.stale, shown.error
            assert shown.total == 4
            expected = "RamRoleArn" if mode == "aliyun CLI" else mode
            line = render_status(shown).plain
            assert expected in line
            assert SECRET not in line
