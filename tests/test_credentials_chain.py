"""The default chain: which source wins for each environment and set of files, and why.

One table, one row per step of `asrtui.credentials.chain` (and the places where steps meet).
`tests/test_credentials_crosscheck.py` resolves the same rows with the official library.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from asrtui.credentials import Credentials
from asrtui.credentials.chain import NothingConfiguredError, resolve_connection_settings
from asrtui.credentials.external import ExternalCredentials
from asrtui.credentials.provider import StaticProvider
from asrtui.credentials.sts import RoleProvider
from asrtui.errors import AsrtuiError, ConfigError, CredentialsError
from asrtui.profiles import Profile, ProfileStore
from asrtui.profiles.modes import ModeSettings

ROLE = "acs:ram::1234567890123456:role/asr"
OIDC_PROVIDER = "acs:ram::1234567890123456:oidc-provider/ack"
ENV_AK = {
    "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIenv",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "env-secret-abcdef",
}
CLI_AK = {"name": "cli", "mode": "AK", "access_key_id": "LTAIcli", "access_key_secret": "s-cli-1"}
CLI_STS = {
    "name": "clists",
    "mode": "StsToken",
    "access_key_id": "STS.cli",
    "access_key_secret": "s-clists",
    "sts_token": "tok-cli",
}
CLI_ROLE = {
    "name": "clirole",
    "mode": "RamRoleArn",
    "access_key_id": "LTAIclirole",
    "access_key_secret": "s-clirole",
    "ram_role_arn": ROLE,
}
CLI_SSO = {"name": "sso", "mode": "CloudSSO"}
INI_AK = "[default]\ntype = access_key\naccess_key_id = LTAIini\naccess_key_secret = s-ini # note\n"


@dataclass(frozen=True)
class Row:
    """One case: what is configured, and what must be chosen."""

    name: str
    env: Mapping[str, str] = field(default_factory=dict)
    aliyun: tuple[Mapping[str, object], ...] = ()
    current: str = ""
    ini: str = ""
    asrtui: tuple[Profile, ...] = ()
    default: str | None = None
    probe: str | None = None
    mode: str = ""
    key_id: str = ""
    profile: str = ""
    error: type[AsrtuiError] | None = None
    match: str = ""
    #: What the official library does differently here, on purpose (empty: the same).
    differs: str = ""


def _token(tmp: Path) -> str:
    path = tmp / "oidc-token"
    path.write_text("token")
    return str(path)


ROWS = [
    Row("nothing", error=NothingConfiguredError, match="No credentials configured"),
    Row("env AccessKey", env=ENV_AK, mode="AK", key_id="LTAIenv", profile="env"),
    Row(
        "env STS",
        env={**ENV_AK, "ALIBABA_CLOUD_SECURITY_TOKEN": "tok"},
        mode="StsToken",
        key_id="LTAIenv",
        profile="env",
    ),
    Row(
        "env spelling of the aliyun CLI",
        env={"ALICLOUD_ACCESS_KEY_ID": "LTAIalt", "ALICLOUD_ACCESS_KEY_SECRET": "s-alt"},
        mode="AK",
        key_id="LTAIalt",
        profile="env",
        differs="the SDK reads ALIBABA_CLOUD_* only",
    ),
    Row(
        "env AccessKey and a role ARN",
        env={**ENV_AK, "ALIBABA_CLOUD_ROLE_ARN": ROLE},
        mode="RamRoleArn",
        profile="env",
        differs="the SDK uses the AccessKey as it is and ignores the role ARN",
    ),
    Row(
        "env AccessKey before the OIDC trio",
        env={
            **ENV_AK,
            "ALIBABA_CLOUD_ROLE_ARN": ROLE,
            "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": OIDC_PROVIDER,
            "ALIBABA_CLOUD_OIDC_TOKEN_FILE": "/var/run/token",
        },
        mode="AK",
        key_id="LTAIenv",
        profile="env",
    ),
    Row(
        "aliyun CLI current profile",
        aliyun=(CLI_AK,),
        current="cli",
        mode="AK",
        key_id="LTAIcli",
        profile="aliyun:cli",
    ),
    Row(
        "aliyun CLI StsToken",
        aliyun=(CLI_AK, CLI_STS),
        current="clists",
        mode="StsToken",
        key_id="STS.cli",
        profile="aliyun:clists",
    ),
    Row(
        "ALIBABA_CLOUD_PROFILE picks the aliyun CLI profile",
        env={"ALIBABA_CLOUD_PROFILE": "clirole"},
        aliyun=(CLI_AK, CLI_ROLE),
        current="cli",
        mode="RamRoleArn",
        profile="aliyun:clirole",
    ),
    Row(
        "aliyun CLI switched off: the ini file",
        env={"ALIBABA_CLOUD_CLI_PROFILE_DISABLED": "true"},
        aliyun=(CLI_AK,),
        current="cli",
        ini=INI_AK,
        mode="AK",
        key_id="LTAIini",
        profile="ini:default",
    ),
    Row("ini file", ini=INI_AK, mode="AK", key_id="LTAIini", profile="ini:default"),
    Row(
        "ini file of a wrong type",
        ini="[default]\ntype = magic_key\n",
        error=ConfigError,
        match="type 'magic_key' is not one asrtui reads",
    ),
    Row(
        "ini file missing a value",
        ini="[default]\ntype = access_key\naccess_key_id = LTAI\n",
        error=ConfigError,
        match="needs access_key_secret",
    ),
    Row(
        "aliyun CLI before the ini file",
        aliyun=(CLI_AK,),
        current="cli",
        ini=INI_AK,
        mode="AK",
        key_id="LTAIcli",
        profile="aliyun:cli",
    ),
    Row(
        "CloudSSO is refused with why",
        aliyun=(CLI_SSO,),
        current="sso",
        error=CredentialsError,
        match="web browser",
    ),
    Row(
        "ECS role named",
        env={"ALIBABA_CLOUD_ECS_METADATA": "ecs-role"},
        mode="EcsRamRole",
        profile="ecs:ecs-role",
    ),
    Row(
        "credentials URI",
        env={"ALIBABA_CLOUD_CREDENTIALS_URI": "http://127.0.0.1:9/c"},
        mode="CredentialsURI",
        profile="env",
    ),
    Row(
        "credentials URI before a probed ECS role",
        env={"ALIBABA_CLOUD_CREDENTIALS_URI": "http://127.0.0.1:9/c"},
        probe="ecs-role",
        mode="CredentialsURI",
        profile="env",
        differs="the SDK probes the metadata service before the URI",
    ),
    Row(
        "probed ECS role, the last resort",
        probe="ecs-role",
        mode="EcsRamRole",
        profile="ecs:ecs-role",
    ),
    Row(
        "probe switched off",
        env={"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"},
        probe="ecs-role",
        error=NothingConfiguredError,
    ),
    Row(
        "asrtui default profile before the aliyun CLI",
        aliyun=(CLI_AK,),
        current="cli",
        asrtui=(Profile("mine", credentials=Credentials("LTAImine", "s-mine")),),
        default="mine",
        mode="AK",
        key_id="LTAImine",
        profile="mine",
        differs="the SDK does not know asrtui's profiles",
    ),
    Row(
        "env AccessKey before the asrtui default profile",
        env=ENV_AK,
        asrtui=(Profile("mine", credentials=Credentials("LTAImine", "s-mine")),),
        default="mine",
        mode="AK",
        key_id="LTAIenv",
        profile="env",
    ),
    Row(
        "ALIBABA_CLOUD_PROFILE names an asrtui profile",
        env={"ALIBABA_CLOUD_PROFILE": "other"},
        aliyun=(CLI_AK,),
        current="cli",
        asrtui=(
            Profile("mine", credentials=Credentials("LTAImine", "s-mine")),
            Profile("other", credentials=Credentials("LTAIother", "s-other")),
        ),
        default="mine",
        mode="AK",
        key_id="LTAIother",
        profile="other",
        differs="the SDK does not know asrtui's profiles",
    ),
    Row(
        "ALIBABA_CLOUD_PROFILE names nothing anywhere",
        env={"ALIBABA_CLOUD_PROFILE": "nope"},
        asrtui=(Profile("mine", credentials=Credentials("LTAImine", "s-mine")),),
        default="mine",
        error=ConfigError,
        match="No profile named 'nope'",
    ),
]


def _write(row: Row, home: Path) -> ProfileStore:
    home.mkdir(parents=True, exist_ok=True)
    if row.aliyun:
        (home / ".aliyun").mkdir(exist_ok=True)
        config = {"current": row.current, "profiles": list(row.aliyun)}
        (home / ".aliyun" / "config.json").write_text(json.dumps(config))
    if row.ini:
        (home / ".alibabacloud").mkdir(exist_ok=True)
        (home / ".alibabacloud" / "credentials.ini").write_text(row.ini)
    store = ProfileStore(home / "asrtui")
    for profile in row.asrtui:
        store.add(profile, make_default=profile.name == row.default)
    return store


def resolve_row(row: Row, home: Path) -> object:
    store = _write(row, home)
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
        "ALIBABA_CLOUD_OIDC_TOKEN_FILE": _token(tmp_path),
    }
    settings = resolve_row(Row("oidc", env=env), tmp_path)
    assert settings.credentials.info().mode == "OIDC"  # type: ignore[attr-defined]


def test_a_profile_of_each_mode_builds_its_provider(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path / "asrtui")
    key = Credentials("LTAIsrc", "s-src-123")
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
                oidc_token_file=_token(tmp_path),
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

    assert key_id() == "LTAIcli"
    # `aliyun configure` changes the key: seen without importing again.
    config.write_text(json.dumps({"profiles": [{**CLI_AK, "access_key_id": "LTAInew"}]}))
    assert key_id() == "LTAInew"


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
        credentials=Credentials("LTAIsrc", "s-src-123"),
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
