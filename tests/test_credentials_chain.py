"""The default chain: which source wins for each environment and set of files, and why.

One table, one row per step of `asrtui.credentials.chain` (and the places where steps meet).
`tests/test_credentials_crosscheck.py` resolves the same rows with the official library.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from asrtui.credentials import Credentials
from asrtui.credentials.chain import resolve_connection_settings
from asrtui.credentials.external import ExternalCredentials
from asrtui.credentials.provider import StaticProvider
from asrtui.credentials.sts import RoleProvider
from asrtui.errors import ConfigError, CredentialsError
from asrtui.profiles import Profile, ProfileStore
from asrtui.profiles.modes import ModeSettings
from tests.support.credential_rows import (
    CLI_AK,
    INI_AK,
    OIDC_PROVIDER,
    ROLE,
    ROWS,
    Row,
    token_file,
    write_row,
)


def resolve_row(row: Row, home: Path) -> object:
    store = write_row(row, home)
    env = {"HOME": str(home), **row.env}
    return resolve_connection_settings(
        profile=None,
        endpoint=None,
        region=None,
        signature=None,
        env=env,
        store=store,
        probe=lambda _env: row.probe,
    )


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_chain_row(row: Row, tmp_path: Path) -> None:
    if row.error is not None:
        with pytest.raises(row.error, match=row.match or None):
            resolve_row(row, tmp_path)
        return
    settings = resolve_row(row, tmp_path)
    provider = settings.credentials  # type: ignore[attr-defined]
    assert provider.info().mode == row.mode
    assert settings.profile == row.profile  # type: ignore[attr-defined]
    if row.key_id:
        assert isinstance(provider, StaticProvider)
        assert provider.credentials.access_key_id == row.key_id


def test_the_trail_says_why_each_earlier_source_was_passed_over(tmp_path: Path) -> None:
    row = Row("ini", ini=INI_AK)
    settings = resolve_row(row, tmp_path)
    trail = "\n".join(settings.trail)  # type: ignore[attr-defined]
    assert "ALIBABA_CLOUD_ACCESS_KEY_ID is not set" in trail
    assert "OIDC" in trail
    assert "asrtui profiles: none stored" in trail
    assert "config.json: no such file" in trail
    assert "s-ini" not in trail


def test_oidc_trio(tmp_path: Path) -> None:
    env = {
        "ALIBABA_CLOUD_ROLE_ARN": ROLE,
        "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": OIDC_PROVIDER,
        "ALIBABA_CLOUD_OIDC_TOKEN_FILE": token_file(tmp_path),
    }
    settings = resolve_row(Row("oidc", env=env), tmp_path)
    assert settings.credentials.info().mode == "OIDC"  # type: ignore[attr-defined]


def test_a_profile_of_each_mode_builds_its_provider(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path / "asrtui")
    key = Credentials("FAKEsrc", "s-src-123")
    store.add(Profile("src", credentials=key, mode=ModeSettings("RamRoleArn", ram_role_arn=ROLE)))
    store.add(
        Profile(
            "chained",
            mode=ModeSettings("ChainableRamRoleArn", ram_role_arn=ROLE, source_profile="src"),
        )
    )
    store.add(Profile("ecs", mode=ModeSettings("EcsRamRole")))
    store.add(Profile("uri", mode=ModeSettings("CredentialsURI", credentials_uri="http://h/c")))
    store.add(
        Profile(
            "pod",
            mode=ModeSettings(
                "OIDC",
                ram_role_arn=ROLE,
                oidc_provider_arn=OIDC_PROVIDER,
                oidc_token_file=token_file(tmp_path),
            ),
        )
    )
    store.add(Profile("cmd", credential_command="print-creds"))
    expected = {
        "src": "RamRoleArn",
        "chained": "ChainableRamRoleArn",
        "ecs": "EcsRamRole",
        "uri": "CredentialsURI",
        "pod": "OIDC",
        "cmd": "External",
    }
    for name, mode in expected.items():
        settings = resolve_connection_settings(
            profile=name, endpoint=None, region=None, signature=None, env={}, store=store
        )
        assert settings.credentials.info().mode == mode
    cmd = resolve_connection_settings(
        profile="cmd", endpoint=None, region=None, signature=None, env={}, store=store
    )
    assert isinstance(cmd.credentials, ExternalCredentials)
    chained = resolve_connection_settings(
        profile="chained", endpoint=None, region=None, signature=None, env={}, store=store
    ).credentials
    assert isinstance(chained, RoleProvider)


def test_a_role_chain_that_loops_is_refused(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path / "asrtui")
    for name, source in (("a", "b"), ("b", "a")):
        store.add(
            Profile(
                name,
                mode=ModeSettings("ChainableRamRoleArn", ram_role_arn=ROLE, source_profile=source),
            )
        )
    with pytest.raises(CredentialsError, match="loops: a -> b -> a"):
        resolve_connection_settings(
            profile="a", endpoint=None, region=None, signature=None, env={}, store=store
        )


def test_a_profile_pointing_at_the_aliyun_cli_reads_it_each_time(tmp_path: Path) -> None:
    (tmp_path / ".aliyun").mkdir()
    config = tmp_path / ".aliyun" / "config.json"
    config.write_text(json.dumps({"current": "cli", "profiles": [CLI_AK]}))
    store = ProfileStore(tmp_path / "asrtui")
    store.add(Profile("p", mode=ModeSettings("AliyunProfile", aliyun_profile="cli")))

    def key_id() -> str:
        settings = resolve_connection_settings(
            profile="p",
            endpoint=None,
            region=None,
            signature=None,
            env={"HOME": str(tmp_path)},
            store=store,
        )
        provider = settings.credentials
        assert isinstance(provider, StaticProvider)
        return provider.credentials.access_key_id

    assert key_id() == "FAKEcli"
    # `aliyun configure` changes the key: seen without importing again.
    config.write_text(json.dumps({"profiles": [{**CLI_AK, "access_key_id": "FAKEnew"}]}))
    assert key_id() == "FAKEnew"


@pytest.mark.parametrize(
    ("mode", "options", "match"),
    [
        ("CloudSSO", {}, "web browser"),
        ("OAuth", {}, "web browser"),
        ("Quantum", {}, "unknown mode"),
        ("RamRoleArn", {}, "needs ram_role_arn"),
        ("EcsRamRole", {"ram_role_arn": ROLE}, "does not apply"),
        ("CredentialsURI", {"credentials_uri": "http://h/c?token=secret"}, "query"),
        ("ChainableRamRoleArn", {"ram_role_arn": ROLE}, "needs source_profile"),
    ],
)
def test_profile_mode_rules(mode: str, options: dict[str, str], match: str) -> None:
    with pytest.raises(ConfigError, match=match) as caught:
        Profile("p", mode=ModeSettings(mode, **options))  # type: ignore[arg-type]
    assert "secret" not in str(caught.value).replace("a secret", "")


def test_modes_round_trip_through_the_store(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path / "asrtui")
    profile = Profile(
        "src",
        credentials=Credentials("FAKEsrc", "s-src-123"),
        mode=ModeSettings(
            "RamRoleArn",
            ram_role_arn=ROLE,
            expired_seconds=1800,
            enable_vpc=False,
            sts_region="cn-hangzhou",
        ),
    )
    store.add(profile)
    assert store.load().get("src") == profile
    assert "s-src-123" not in store.config_path.read_text()
    assert ROLE in store.config_path.read_text()
    assert ROLE not in store.credentials_path.read_text()
