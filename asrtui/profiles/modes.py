"""The credential modes a profile can have, as one table of rules.

A profile authenticates with a stored AccessKey (``AK``, ``StsToken``), a credential command
(``External``), or one of the modes below, whose settings live in ``config.toml`` and whose
only secret (the source AccessKey of ``RamRoleArn``) lives in ``credentials.toml``:

========================  =======================================================  ==========
mode                      settings (required first)                                stored key
========================  =======================================================  ==========
``RamRoleArn``            ram_role_arn; ram_session_name, expired_seconds,         yes
                          policy, external_id, sts_endpoint, sts_region, enable_vpc
``ChainableRamRoleArn``   ram_role_arn, source_profile; as RamRoleArn              no
``EcsRamRole``            ram_role_name (discovered when absent)                   no
``OIDC``                  ram_role_arn, oidc_provider_arn, oidc_token_file;         no
                          ram_session_name, expired_seconds, policy, sts_*
``CredentialsURI``        credentials_uri                                          no
``AliyunProfile``         aliyun_profile (read from ~/.aliyun/config.json each use) no
========================  =======================================================  ==========

The names are the aliyun CLI's (``~/.aliyun/config.json``), so that a profile reads the same
in both tools. `MODE_RULES` is what the command line and the console form check against: a new
mode is a new row. ``CloudSSO`` and ``OAuth`` are refused with the reason (`UNSUPPORTED`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from asrtui.credentials.value import http_uri_parts
from asrtui.errors import ConfigError

__all__ = [
    "MODE_RULES",
    "ROLE_MODES",
    "UNSUPPORTED",
    "ModeRule",
    "ModeSettings",
    "check_mode",
    "unsupported_reason",
]

#: Modes asrtui does not support, with why and what to use instead.
UNSUPPORTED: dict[str, str] = {
    "CloudSSO": (
        "signs in through a web browser (CloudSSO), which a console running over SSH for hours "
        "cannot do; run 'aliyun configure --mode CloudSSO' and point asrtui at it with an "
        "External profile ('aliyun configure export-credentials' style command), or use "
        "RamRoleArn"
    ),
    "OAuth": (
        "signs in through a web browser (OAuth), which a console running over SSH for hours "
        "cannot do; use RamRoleArn, EcsRamRole on an ECS jump host, or an External command"
    ),
    "RsaKeyPair": "uses an RSA key pair session, which the Live API no longer accepts",
}


@dataclass(frozen=True)
class ModeRule:
    """One row of the table: what a mode needs and what it may have.

    Attributes:
        mode: the mode's name.
        required: settings that must be set.
        optional: settings that may be set.
        stored_key: whether the profile keeps a source AccessKey in ``credentials.toml``.
        summary: one line for help texts.
        example: a one-line ``asrtui profile add`` example.
    """

    mode: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    stored_key: bool
    summary: str
    example: str


_STS_OPTIONS = ("sts_endpoint", "sts_region", "enable_vpc")
_ROLE_OPTIONS = ("ram_session_name", "expired_seconds", "policy", *_STS_OPTIONS)

MODE_RULES: dict[str, ModeRule] = {
    rule.mode: rule
    for rule in (
        ModeRule(
            "RamRoleArn",
            ("ram_role_arn",),
            (*_ROLE_OPTIONS, "external_id"),
            True,
            "assume a RAM role with a stored AccessKey (STS AssumeRole)",
            "asrtui profile add ops --mode RamRoleArn --access-key-id LTAI... "
            "--role-arn acs:ram::123:role/asr-operator",
        ),
        ModeRule(
            "ChainableRamRoleArn",
            ("ram_role_arn", "source_profile"),
            (*_ROLE_OPTIONS, "external_id"),
            False,
            "assume a RAM role with another profile's credentials",
            "asrtui profile add prod --mode ChainableRamRoleArn --source-profile ops "
            "--role-arn acs:ram::456:role/asr-prod",
        ),
        ModeRule(
            "EcsRamRole",
            (),
            ("ram_role_name",),
            False,
            "the ECS instance's RAM role, from the metadata service",
            "asrtui profile add jump --mode EcsRamRole [--role-name asr-ecs]",
        ),
        ModeRule(
            "OIDC",
            ("ram_role_arn", "oidc_provider_arn", "oidc_token_file"),
            _ROLE_OPTIONS,
            False,
            "assume a RAM role with an OIDC token file (ACK RRSA)",
            "asrtui profile add pod --mode OIDC --role-arn acs:ram::123:role/asr "
            "--oidc-provider-arn acs:ram::123:oidc-provider/ack --oidc-token-file /var/run/token",
        ),
        ModeRule(
            "CredentialsURI",
            ("credentials_uri",),
            (),
            False,
            "temporary credentials from an HTTP endpoint",
            "asrtui profile add site --mode CredentialsURI --credentials-uri http://127.0.0.1:8001/c",
        ),
        ModeRule(
            "AliyunProfile",
            ("aliyun_profile",),
            (),
            False,
            "an aliyun CLI profile, read from ~/.aliyun/config.json each time it is used",
            "asrtui profile add cli --aliyun-profile default",
        ),
    )
}

#: Modes that call STS.
ROLE_MODES = frozenset({"RamRoleArn", "ChainableRamRoleArn", "OIDC"})


@dataclass(frozen=True)
class ModeSettings:
    """The settings of one of `MODE_RULES`' modes (names as in the aliyun CLI's config)."""

    mode: str
    ram_role_arn: str = ""
    ram_session_name: str = ""
    expired_seconds: int = 0
    policy: str = ""
    external_id: str = ""
    source_profile: str = ""
    ram_role_name: str = ""
    oidc_provider_arn: str = ""
    oidc_token_file: str = ""
    credentials_uri: str = ""
    aliyun_profile: str = ""
    sts_endpoint: str = ""
    sts_region: str = ""
    enable_vpc: bool | None = None

    def items(self) -> dict[str, object]:
        """The settings that are set, by name (``mode`` first): what ``config.toml`` holds."""
        found: dict[str, object] = {"mode": self.mode}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name != "mode" and _is_set(value):
                found[item.name] = value
        return found


def _is_set(value: object) -> bool:
    """Whether a setting holds a value (``False`` does; ``""``, ``0`` and ``None`` do not)."""
    if isinstance(value, bool):
        return True
    return value not in ("", 0, None)


#: Every setting name a mode may have (``config.toml`` keys).
SETTING_NAMES = tuple(item.name for item in fields(ModeSettings) if item.name != "mode")


def unsupported_reason(mode: str) -> str | None:
    """Why ``mode`` is refused, or None when it is not one of `UNSUPPORTED`."""
    return UNSUPPORTED.get(mode)


def check_mode(
    settings: ModeSettings, *, profile: str, has_key: bool, has_command: bool
) -> ModeSettings:
    """``settings`` stripped if they follow their row of `MODE_RULES`, else `ConfigError`.

    Args:
        settings: the mode and its settings.
        profile: the profile's name, for messages.
        has_key: whether the profile stores an AccessKey.
        has_command: whether the profile has a credential command.
    """
    where = f"Profile {profile!r}"
    reason = unsupported_reason(settings.mode)
    if reason is not None:
        raise ConfigError(f"{where}: mode {settings.mode} is not supported", reason)
    rule = MODE_RULES.get(settings.mode)
    if rule is None:
        known = ", ".join(["AK", "StsToken", "External", *MODE_RULES])
        shown = settings.mode if len(settings.mode) <= 32 else settings.mode[:32] + "..."
        raise ConfigError(f"{where}: unknown mode {shown!r}", f"use one of {known}")
    stripped = replace(
        settings,
        **{
            name: getattr(settings, name).strip()
            for name in SETTING_NAMES
            if isinstance(getattr(settings, name), str)
        },
    )
    allowed = {*rule.required, *rule.optional}
    for name in SETTING_NAMES:
        value = getattr(stripped, name)
        if _is_set(value) and name not in allowed:
            raise ConfigError(
                f"{where}: {name} does not apply to mode {rule.mode}",
                f"mode {rule.mode} takes "
                + (", ".join((*rule.required, *rule.optional)) or "nothing"),
            )
    for name in rule.required:
        if not _is_set(getattr(stripped, name)):
            raise ConfigError(
                f"{where}: mode {rule.mode} needs {name}", f"for example: {rule.example}"
            )
    if has_command:
        raise ConfigError(f"{where} has both a credential command and mode {rule.mode}", "keep one")
    if rule.stored_key and not has_key:
        raise ConfigError(
            f"{where}: mode {rule.mode} needs the source AccessKey",
            f"add it: asrtui profile add {profile} --mode {rule.mode} --access-key-id ID ...",
        )
    if not rule.stored_key and has_key:
        raise ConfigError(
            f"{where}: mode {rule.mode} takes no stored AccessKey",
            "remove --access-key-id, or use mode RamRoleArn",
        )
    if stripped.expired_seconds and not 900 <= stripped.expired_seconds <= 43200:
        raise ConfigError(
            f"{where}: expired_seconds {stripped.expired_seconds} is out of range",
            "use 900 to 43200 seconds (and at most the role's maximum session duration)",
        )
    if stripped.credentials_uri:
        _check_uri(stripped.credentials_uri, where)
    return stripped


def _check_uri(uri: str, where: str) -> None:
    """A stored credentials URI is a setting (``config.toml``): no secret may ride in it."""
    parts = http_uri_parts(uri)
    if parts is None:
        raise ConfigError(f"{where}: credentials_uri is not an http(s) URL", "use http://HOST/PATH")
    if parts.query or parts.username or parts.password:
        raise ConfigError(
            f"{where}: credentials_uri holds a query or a password, which config.toml must not",
            "set a URI that carries a token in ALIBABA_CLOUD_CREDENTIALS_URI instead",
        )
