"""Reading the aliyun CLI's config.json: each mode, skipped ones with a reason, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from asrtui.credentials import Credentials
from asrtui.errors import ConfigError
from asrtui.profiles import Profile, read_aliyun_config
from asrtui.profiles.modes import ModeSettings

SECRET = "aliyun-secret-value-0123456789"


def aliyun_config() -> dict[str, object]:
    return {
        "current": "sts",
        "profiles": [
            {
                "name": "ak",
                "mode": "AK",
                "access_key_id": "FAKEak",
                "access_key_secret": SECRET,
                "region_id": "cn-hangzhou",
                "output_format": "json",
                "language": "en",
            },
            {
                "name": "sts",
                "mode": "StsToken",
                "access_key_id": "STS.id",
                "access_key_secret": SECRET,
                "sts_token": "sts-token-value",
                "region_id": "",
            },
            {"name": "ext", "mode": "External", "process_command": "get-creds --p 1"},
            {"name": "role", "mode": "RamRoleArn", "ram_role_arn": "acs:ram::1:role/x"},
            {"name": "ecs", "mode": "EcsRamRole", "ram_role_name": "r"},
            {"name": "uri", "mode": "CredentialsURI", "credentials_uri": "http://x"},
            {"name": "sso", "mode": "CloudSSO", "cloud_sso_sign_in_url": "https://x"},
            {"name": "oauth", "mode": "OAuth", "oauth_site_type": "CN"},
            {"name": "weird", "mode": "Quantum"},
            {"name": "half", "mode": "AK", "access_key_id": "FAKEhalf"},
            {"name": "nosts", "mode": "StsToken", "access_key_id": "a", "access_key_secret": "b"},
            {"name": "noproc", "mode": "External"},
            {"name": "bad name!", "mode": "AK", "access_key_id": "a", "access_key_secret": "b"},
            {"name": "badregion", "mode": "AK", "access_key_id": "a", "access_key_secret": "b",
             "region_id": "Nowhere Land"},
        ],
        "meta_path": "",
    }  # fmt: skip


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(aliyun_config()))
    return path


def test_imports_every_mode_asrtui_has(config_file: Path) -> None:
    result = read_aliyun_config(config_file)
    assert result.profiles == (
        Profile("ak", region="cn-hangzhou", credentials=Credentials("FAKEak", SECRET)),
        Profile("sts", credentials=Credentials("STS.id", SECRET, "sts-token-value")),
        Profile("ext", credential_command="get-creds --p 1"),
        Profile("ecs", mode=ModeSettings("EcsRamRole", ram_role_name="r")),
        Profile("uri", mode=ModeSettings("CredentialsURI", credentials_uri="http://x")),
    )
    assert result.current == "sts"


def test_role_modes_keep_their_settings(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    role = "acs:ram::123:role/asr"
    entries = [
        {"name": "src", "mode": "RamRoleArn", "access_key_id": "FAKEsrc",
         "access_key_secret": SECRET, "ram_role_arn": role, "ram_session_name": "me",
         "expired_seconds": 1800, "sts_region": "cn-hangzhou", "enable_vpc": True},
        {"name": "chain", "mode": "ChainableRamRoleArn", "source_profile": "src",
         "ram_role_arn": role, "external_id": "ext-1"},
        {"name": "pod", "mode": "OIDC", "ram_role_arn": role, "oidc_token_file": "/t",
         "oidc_provider_arn": "acs:ram::123:oidc-provider/ack", "role_session_name": "pod"},
    ]  # fmt: skip
    path.write_text(json.dumps({"current": "src", "profiles": entries}))
    found = {p.name: p for p in read_aliyun_config(path).profiles}
    assert found["src"].credentials == Credentials("FAKEsrc", SECRET)
    assert found["src"].mode == ModeSettings(
        "RamRoleArn",
        ram_role_arn=role,
        ram_session_name="me",
        expired_seconds=1800,
        sts_region="cn-hangzhou",
        enable_vpc=True,
    )
    assert found["chain"].mode == ModeSettings(
        "ChainableRamRoleArn", ram_role_arn=role, source_profile="src", external_id="ext-1"
    )
    assert found["pod"].mode is not None
    assert found["pod"].mode.ram_session_name == "pod"


def test_skipped_profiles_say_why(config_file: Path) -> None:
    reasons = dict(read_aliyun_config(config_file).skipped)
    assert set(reasons) == {
        "role", "sso", "oauth", "weird", "half", "nosts", "noproc", "bad name!", "badregion",
    }  # fmt: skip
    assert "RamRoleArn" in reasons["role"]
    assert "access_key_id" in reasons["role"]
    for browser in ("sso", "oauth"):
        assert "web browser" in reasons[browser]
        assert "RamRoleArn" in reasons[browser]  # what to use instead
    assert "Quantum" in reasons["weird"]
    assert "not supported" in reasons["weird"]
    assert "access_key_secret" in reasons["half"]
    assert "sts_token" in reasons["nosts"]
    assert "process_command" in reasons["noproc"]
    assert "name" in reasons["bad name!"]
    assert "region" in reasons["badregion"]
    assert SECRET not in repr(reasons)


def test_only_one(config_file: Path) -> None:
    result = read_aliyun_config(config_file, only="ext")
    assert [p.name for p in result.profiles] == ["ext"]
    assert result.skipped == ()
    assert result.current is None  # the current profile was not imported
    only_skipped = read_aliyun_config(config_file, only="role")
    assert only_skipped.profiles == ()
    assert [n for n, _ in only_skipped.skipped] == ["role"]
    with pytest.raises(ConfigError, match="No profile named 'nope'"):
        read_aliyun_config(config_file, only="nope")


def test_default_path_is_under_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".aliyun").mkdir()
    (tmp_path / ".aliyun" / "config.json").write_text(json.dumps(aliyun_config()))
    assert len(read_aliyun_config().profiles) == 5


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"No aliyun CLI config at .*--file"):
        read_aliyun_config(tmp_path / "nope.json")


def test_invalid_json_gives_position_not_content(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"profiles": [\n  {"access_key_secret": "' + SECRET + '" oops}]}')
    with pytest.raises(ConfigError, match="line 2, column") as excinfo:
        read_aliyun_config(path)
    assert SECRET not in str(excinfo.value)
    assert str(path) in str(excinfo.value)


@pytest.mark.parametrize("text", ["[]", '{"current": "x"}', '{"profiles": {}}'])
def test_not_an_aliyun_config(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match="no 'profiles' list"):
        read_aliyun_config(path)


def test_never_writes_the_file(config_file: Path) -> None:
    before = config_file.stat().st_mtime_ns, config_file.read_bytes()
    read_aliyun_config(config_file)
    assert (config_file.stat().st_mtime_ns, config_file.read_bytes()) == before
