"""Reading one section of the SDKs' ``~/.alibabacloud/credentials.ini`` (never writing it).

The official SDKs' shared file (``ALIBABA_CLOUD_CREDENTIALS_FILE`` names another), one
section per profile with a ``type``::

    [default]
    type = access_key            # access_key_id, access_key_secret
    [ops]
    type = ram_role_arn          # access_key_id, access_key_secret, role_arn,
                                 # role_session_name, policy
    [pod]
    type = oidc_role_arn         # role_arn, oidc_provider_arn, oidc_token_file_path,
                                 # role_session_name, policy
    [jump]
    type = ecs_ram_role          # role_name

As the SDK reads it: ``#`` starts a comment anywhere in a value. A section with another type is
refused naming the type and the section; its values are never quoted.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from asrtui.credentials import Credentials, check_credentials
from asrtui.errors import AsrtuiError, ConfigError, CredentialsError
from asrtui.profiles.model import Profile
from asrtui.profiles.modes import ModeSettings

__all__ = ["INI_TYPES", "read_credentials_ini"]

#: The ``type`` values asrtui reads, by the mode they become.
INI_TYPES = {
    "access_key": "AK",
    "ram_role_arn": "RamRoleArn",
    "oidc_role_arn": "OIDC",
    "ecs_ram_role": "EcsRamRole",
}


def _values(section: Mapping[str, str]) -> dict[str, str]:
    return {key: value.split("#")[0].strip() for key, value in section.items()}


def read_credentials_ini(path: Path, section: str) -> Profile | None:
    """The profile of ``[section]`` in ``path``, or ``None`` when the section is absent.

    Raises:
        ConfigError: the file cannot be read or parsed, or the section's type is unknown
            or lacks a value it needs (named, never quoted).
        CredentialsError: a key value cannot be sent.
    """
    import configparser  # here, not at start-up: most consoles never have such a file

    parser = configparser.ConfigParser(interpolation=None)
    try:
        text = path.read_text(encoding="utf-8")
        parser.read_string(text, source=str(path))
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"Cannot read {path}: {reason}") from None
    except configparser.Error as exc:
        line = getattr(exc, "lineno", None)
        where = f" at line {line}" if line else ""
        raise ConfigError(
            f"Cannot read {path}: not an ini file{where} ({type(exc).__name__})",
            "fix the file (sections like [default] with key = value lines)",
        ) from None
    if not parser.has_section(section):
        return None
    values = _values(parser[section])
    where = f"[{section}] of {path}"
    kind = values.get("type", "")
    mode = INI_TYPES.get(kind)
    if mode is None:
        shown = kind if len(kind) <= 32 and kind.isprintable() else "?"
        hint = "use one of " + ", ".join(INI_TYPES)
        if kind == "rsa_key_pair":
            hint = "RSA key pair sessions are no longer accepted by the Live API; " + hint
        raise ConfigError(f"{where}: type {shown!r} is not one asrtui reads", hint)

    def need(key: str) -> str:
        value = values.get(key, "")
        if not value:
            raise ConfigError(f"{where}: type {kind} needs {key}", "add it to the section")
        return value

    credentials = None
    if mode in {"AK", "RamRoleArn"}:
        credentials = check_credentials(
            Credentials(need("access_key_id"), need("access_key_secret")), source=where
        )
    settings = None
    if mode == "RamRoleArn":
        settings = ModeSettings(
            mode,
            ram_role_arn=need("role_arn"),
            ram_session_name=values.get("role_session_name", ""),
            policy=values.get("policy", ""),
        )
    elif mode == "OIDC":
        settings = ModeSettings(
            mode,
            ram_role_arn=need("role_arn"),
            oidc_provider_arn=need("oidc_provider_arn"),
            oidc_token_file=need("oidc_token_file_path"),
            ram_session_name=values.get("role_session_name", ""),
            policy=values.get("policy", ""),
        )
    elif mode == "EcsRamRole":
        settings = ModeSettings(mode, ram_role_name=values.get("role_name", ""))
    name = section if _plain(section) else "default"
    try:
        return Profile(name, credentials=credentials, mode=settings)
    except CredentialsError:
        raise
    except AsrtuiError as exc:
        raise ConfigError(f"{where}: {exc.message}", exc.hint) from None


def _plain(name: str) -> bool:
    return bool(name) and len(name) <= 64 and all(c.isalnum() or c in "._-" for c in name)
