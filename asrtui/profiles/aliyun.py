"""Reading profiles from the aliyun CLI's ``~/.aliyun/config.json`` (never writing it).

Every mode asrtui has is read: ``AK``, ``StsToken``, ``External`` (its ``process_command``
becomes the credential command), ``RamRoleArn``, ``ChainableRamRoleArn`` (its
``source_profile`` names another profile of the same file), ``EcsRamRole``, ``OIDC`` and
``CredentialsURI`` (`asrtui.profiles.modes`). ``CloudSSO`` and ``OAuth`` sign in through a
browser and are reported as skipped with why. The same reading serves ``profile import-aliyun``
(a copy) and a profile that points at an aliyun CLI profile (read afresh each time).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from asrtui.credentials import Credentials
from asrtui.errors import AsrtuiError, ConfigError
from asrtui.profiles.model import Profile, check_credentials, validate_name
from asrtui.profiles.modes import MODE_RULES, ModeSettings, unsupported_reason
from asrtui.sessionsettings import DEFAULT_REGION, validate_region

__all__ = ["AliyunImport", "default_aliyun_config_path", "read_aliyun_config"]


def default_aliyun_config_path() -> Path:
    """``~/.aliyun/config.json``, where the aliyun CLI keeps its profiles."""
    return Path.home() / ".aliyun" / "config.json"


@dataclass(frozen=True)
class AliyunImport:
    """The outcome of reading an aliyun CLI config.

    Attributes:
        profiles: the profiles that can be imported, in file order.
        skipped: ``(name, reason)`` for every profile that cannot.
        current: the aliyun CLI's current profile name, if it is among ``profiles``.
        current_name: the ``current`` of the file as it is (a profile that may be skipped).
    """

    profiles: tuple[Profile, ...]
    skipped: tuple[tuple[str, str], ...]
    current: str | None = None
    current_name: str | None = None


def read_aliyun_config(path: Path | None = None, *, only: str | None = None) -> AliyunImport:
    """Read the aliyun CLI config at ``path`` (``~/.aliyun/config.json`` by default).

    Args:
        path: the file to read.
        only: import just the profile of that name.

    Raises:
        ConfigError: the file is missing or not the aliyun CLI's JSON, or ``only`` names a
            profile the file does not have.
    """
    path = path if path is not None else default_aliyun_config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"No aliyun CLI config at {path}", "pass --file PATH to read another file"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"Cannot read {path}: {reason}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        # The position only: the message's excerpt could be part of a secret.
        raise ConfigError(
            f"Cannot read {path}: invalid JSON at line {exc.lineno}, column {exc.colno}"
        ) from None
    entries = data.get("profiles") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f"Cannot read {path}: no 'profiles' list (not an aliyun CLI config?)")

    profiles: list[Profile] = []
    skipped: list[tuple[str, str]] = []
    found = False
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            skipped.append((f"#{index + 1}", "not a JSON object"))
            continue
        name = entry.get("name")
        label = name if isinstance(name, str) and name else f"#{index + 1}"
        if only is not None and label != only:
            continue
        found = True
        try:
            profiles.append(_convert(label, entry))
        except _Skip as skip:
            skipped.append((label, skip.reason))
    if only is not None and not found:
        raise ConfigError(f"No profile named {only!r} in {path}")
    names = {p.name for p in profiles}
    current = data.get("current")
    return AliyunImport(
        tuple(profiles),
        tuple(skipped),
        current if isinstance(current, str) and current in names else None,
        current if isinstance(current, str) and current else None,
    )


class _Skip(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _text(entry: Mapping[str, object], key: str) -> str:
    value = entry.get(key)
    return value.strip() if isinstance(value, str) else ""


def _convert(name: str, entry: Mapping[str, object]) -> Profile:
    try:
        validate_name(name)
    except ConfigError:
        raise _Skip("its name is not a valid asrtui profile name") from None
    mode = _text(entry, "mode") or "AK"
    region = _text(entry, "region_id")
    if region:
        try:
            region = validate_region(region)
        except ConfigError:
            raise _Skip(f"its region_id {region!r} is not a region id") from None
    if mode in {"AK", "StsToken"}:
        key_id = _text(entry, "access_key_id")
        secret = _text(entry, "access_key_secret")
        token = _text(entry, "sts_token")
        if not key_id or not secret:
            raise _Skip(f"mode {mode} without access_key_id or access_key_secret")
        if mode == "StsToken" and not token:
            raise _Skip("mode StsToken without sts_token")
        credentials = Credentials(key_id, secret, token if mode == "StsToken" else "")
        try:
            check_credentials(
                credentials, source="the aliyun CLI config", names={"security_token": "sts_token"}
            )
        except ConfigError as exc:
            raise _Skip(exc.message) from None
        return _profile(name, region, credentials=credentials)
    if mode == "External":
        command = _text(entry, "process_command")
        if not command:
            raise _Skip("mode External without process_command")
        return _profile(name, region, credential_command=command)
    shown = mode if len(mode) <= 32 else mode[:32] + "..."
    reason = unsupported_reason(mode)
    if reason is not None:
        raise _Skip(f"mode {shown}: {reason}")
    if mode not in MODE_RULES or mode == "AliyunProfile":
        raise _Skip(f"mode {shown} is not supported by asrtui")
    settings = _mode_settings(mode, entry)
    source_key: Credentials | None = None
    if mode == "RamRoleArn":
        key_id = _text(entry, "access_key_id")
        secret = _text(entry, "access_key_secret")
        if not key_id or not secret:
            raise _Skip("mode RamRoleArn without access_key_id or access_key_secret")
        source_key = Credentials(key_id, secret)
        try:
            check_credentials(source_key, source="the aliyun CLI config")
        except ConfigError as exc:
            raise _Skip(exc.message) from None
    return _profile(name, region, credentials=source_key, mode=settings)


#: The aliyun CLI's keys, by asrtui's name where they differ (``role_session_name`` is the
#: OIDC mode's spelling of ``ram_session_name``).
_KEYS = {
    "ram_role_arn": ("ram_role_arn",),
    "ram_session_name": ("ram_session_name", "role_session_name"),
    "policy": ("policy",),
    "external_id": ("external_id",),
    "source_profile": ("source_profile",),
    "ram_role_name": ("ram_role_name",),
    "oidc_provider_arn": ("oidc_provider_arn",),
    "oidc_token_file": ("oidc_token_file",),
    "credentials_uri": ("credentials_uri",),
    "sts_endpoint": ("sts_endpoint",),
    "sts_region": ("sts_region",),
}


def _mode_settings(mode: str, entry: Mapping[str, object]) -> ModeSettings:
    rule = MODE_RULES[mode]
    allowed = {*rule.required, *rule.optional}
    values: dict[str, object] = {}
    for name, keys in _KEYS.items():
        if name not in allowed:
            continue
        for key in keys:
            text = _text(entry, key)
            if text:
                values[name] = text
                break
    seconds = entry.get("expired_seconds")
    if "expired_seconds" in allowed and isinstance(seconds, int) and not isinstance(seconds, bool):
        values["expired_seconds"] = seconds
    vpc = entry.get("enable_vpc")
    if "enable_vpc" in allowed and isinstance(vpc, bool):
        values["enable_vpc"] = vpc
    return ModeSettings(mode, **values)  # type: ignore[arg-type]


def _profile(
    name: str,
    region: str,
    *,
    credentials: Credentials | None = None,
    credential_command: str | None = None,
    mode: ModeSettings | None = None,
) -> Profile:
    try:
        return Profile(
            name,
            region=region or DEFAULT_REGION,
            credentials=credentials,
            credential_command=credential_command,
            mode=mode,
        )
    except AsrtuiError as exc:
        raise _Skip(exc.message) from None
