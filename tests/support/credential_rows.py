"""The rows of the credentials chain: what is configured, and which source must win.

Shared by `tests/test_credentials_chain.py` (asrtui's resolution) and
`tests/test_credentials_crosscheck.py` (the official library's, on the same rows).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from asrtui.credentials import Credentials
from asrtui.credentials.chain import NothingConfiguredError
from asrtui.errors import AsrtuiError, ConfigError, CredentialsError
from asrtui.profiles import Profile, ProfileStore

__all__ = [
    "CLI_AK",
    "ENV_AK",
    "INI_AK",
    "OIDC_PROVIDER",
    "ROLE",
    "ROWS",
    "Row",
    "token_file",
    "write_row",
]

ROLE = "acs:ram::1234567890123456:role/asr"
OIDC_PROVIDER = "acs:ram::1234567890123456:oidc-provider/ack"
ENV_AK = {
    "ALIBABA_CLOUD_ACCESS_KEY_ID": "FAKEenv",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "env-secret-abcdef",
}
CLI_AK = {"name": "cli", "mode": "AK", "access_key_id": "FAKEcli", "access_key_secret": "s-cli-1"}
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
    "access_key_id": "FAKEclirole",
    "access_key_secret": "s-clirole",
    "ram_role_arn": ROLE,
}
CLI_SSO = {"name": "sso", "mode": "CloudSSO"}
INI_AK = "[default]\ntype = access_key\naccess_key_id = FAKEini\naccess_key_secret = s-ini # note\n"


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


def token_file(tmp: Path) -> str:
    """An OIDC token file under ``tmp``; its path."""
    path = tmp / "oidc-token"
    path.write_text("token")
    return str(path)


ROWS = [
    Row("nothing", error=NothingConfiguredError, match="No credentials configured"),
    Row("env AccessKey", env=ENV_AK, mode="AK", key_id="FAKEenv", profile="env"),
    Row(
        "env STS",
        env={**ENV_AK, "ALIBABA_CLOUD_SECURITY_TOKEN": "tok"},
        mode="StsToken",
        key_id="FAKEenv",
        profile="env",
    ),
    Row(
        "env spelling of the aliyun CLI",
        env={"ALICLOUD_ACCESS_KEY_ID": "FAKEalt", "ALICLOUD_ACCESS_KEY_SECRET": "s-alt"},
        mode="AK",
        key_id="FAKEalt",
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
        key_id="FAKEenv",
        profile="env",
    ),
    Row(
        "aliyun CLI current profile",
        aliyun=(CLI_AK,),
        current="cli",
        mode="AK",
        key_id="FAKEcli",
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
        key_id="FAKEini",
        profile="ini:default",
    ),
    Row("ini file", ini=INI_AK, mode="AK", key_id="FAKEini", profile="ini:default"),
    Row(
        "ini file of a wrong type",
        ini="[default]\ntype = magic_key\n",
        error=ConfigError,
        match="type 'magic_key' is not one asrtui reads",
    ),
    Row(
        "ini file missing a value",
        ini="[default]\ntype = access_key\naccess_key_id = FAKE\n",
        error=ConfigError,
        match="needs access_key_secret",
    ),
    Row(
        "aliyun CLI before the ini file",
        aliyun=(CLI_AK,),
        current="cli",
        ini=INI_AK,
        mode="AK",
        key_id="FAKEcli",
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
        asrtui=(Profile("mine", credentials=Credentials("FAKEmine", "s-mine")),),
        default="mine",
        mode="AK",
        key_id="FAKEmine",
        profile="mine",
        differs="the SDK does not know asrtui's profiles",
    ),
    Row(
        "env AccessKey before the asrtui default profile",
        env=ENV_AK,
        asrtui=(Profile("mine", credentials=Credentials("FAKEmine", "s-mine")),),
        default="mine",
        mode="AK",
        key_id="FAKEenv",
        profile="env",
    ),
    Row(
        "ALIBABA_CLOUD_PROFILE names an asrtui profile",
        env={"ALIBABA_CLOUD_PROFILE": "other"},
        aliyun=(CLI_AK,),
        current="cli",
        asrtui=(
            Profile("mine", credentials=Credentials("FAKEmine", "s-mine")),
            Profile("other", credentials=Credentials("FAKEother", "s-other")),
        ),
        default="mine",
        mode="AK",
        key_id="FAKEother",
        profile="other",
        differs="the SDK does not know asrtui's profiles",
    ),
    Row(
        "ALIBABA_CLOUD_PROFILE names nothing anywhere",
        env={"ALIBABA_CLOUD_PROFILE": "nope"},
        asrtui=(Profile("mine", credentials=Credentials("FAKEmine", "s-mine")),),
        default="mine",
        error=ConfigError,
        match="No profile named 'nope'",
    ),
]


def write_row(row: Row, home: Path) -> ProfileStore:
    """Write the row's files under ``home``; the asrtui profile store there."""
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
