"""The `Profile` value and the rules its fields follow (names, regions, limits)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from asrtui.credentials.value import (
    Credentials,
    check_credentials,
    command_program,
    mask_secret,
)
from asrtui.errors import ConfigError
from asrtui.profiles.modes import ModeSettings, check_mode
from asrtui.sessionsettings import Settings

__all__ = [
    "Profile",
    "check_credentials",
    "command_program",
    "credential_summary",
    "validate_command",
    "validate_name",
]

# ASCII only, starting with a letter or a digit. Names travel through TOML keys, shell command
# lines, ALIBABA_CLOUD_PROFILE and status lines: ASCII avoids look-alike Unicode names and
# normalisation surprises, and a leading letter/digit keeps a name from reading as an option.
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_MAX_NAME = 64


def validate_name(name: str) -> str:
    """Return ``name`` if it is a valid profile name, else raise `ConfigError`.

    Valid: 1 to 64 ASCII letters, digits, ``-``, ``_`` or ``.``, starting with a letter or digit.
    """
    if not _NAME_RE.fullmatch(name):
        shown = name if len(name) <= _MAX_NAME else name[:_MAX_NAME] + "..."
        raise ConfigError(
            f"Invalid profile name {shown!r}",
            "use 1 to 64 ASCII letters, digits, '-', '_' or '.', starting with a letter or digit",
        )
    return name


def validate_command(command: str) -> str:
    """Return ``command`` if it splits (``shlex``) into a program and arguments, else raise."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise ConfigError(
            f"Cannot parse the credential command: {exc}", "check its quoting"
        ) from None
    if not argv:
        raise ConfigError("Empty credential command", "name a program that prints credentials")
    return command


@dataclass(frozen=True)
class Profile(Settings):
    """One named account configuration: the `Settings` a session starts from, and credentials.

    Credentials come either from ``credentials`` (stored AccessKey pair, optionally with an STS
    token) or from ``credential_command`` (run on demand, see
    `asrtui.credentials.external.ExternalCredentials`), never both. A profile may have neither
    when its secrets were removed by hand; resolving it then fails with a hint.

    ``repr`` never shows a secret: `Credentials` hides the secret and the token, and the
    shared quota's URL is left out.

    Attributes:
        name: the profile name (see `validate_name`).
        credentials: the stored AccessKey pair, or ``None``; the source key of a
            ``RamRoleArn`` profile.
        credential_command: a ``credential_process``-style command, or ``None``.
        mode: the settings of a role, ECS, OIDC, URI or aliyun-profile mode
            (`asrtui.profiles.modes`), or ``None`` for a stored key or a command.

    The other fields are the settings' (`asrtui.sessionsettings.Settings`), keyword-only.
    """

    name: str
    credentials: Credentials | None = None
    credential_command: str | None = None
    mode: ModeSettings | None = None

    def __post_init__(self) -> None:
        validate_name(self.name)
        super().__post_init__()
        if self.credential_command is not None:
            validate_command(self.credential_command)
            if self.credentials is not None:
                raise ConfigError(
                    f"Profile {self.name!r} has both an AccessKey and a credential command",
                    "keep one of them",
                )
        if self.credentials is not None and not (
            self.credentials.access_key_id and self.credentials.access_key_secret
        ):
            raise ConfigError(
                f"Profile {self.name!r} has an empty AccessKey id or secret",
                f"add it again: asrtui profile add {self.name} --access-key-id ID --replace",
            )
        if self.credentials is not None:
            check_credentials(self.credentials, source=f"profile '{self.name}'")
        if self.mode is not None:
            checked = check_mode(
                self.mode,
                profile=self.name,
                has_key=self.credentials is not None,
                has_command=self.credential_command is not None,
            )
            object.__setattr__(self, "mode", checked)
        if self.on_event is not None:
            # The kinds are checked where the hook is made (`asrtui.hooks.parse_hook`).
            try:
                words = shlex.split(self.on_event)
            except ValueError as error:
                raise ConfigError(
                    f"Profile {self.name!r}: on_event cannot be split: {error}",
                    "quote it as a shell would",
                ) from None
            if not words:
                raise ConfigError(f"Profile {self.name!r}: on_event is empty", "remove it")

    @property
    def credential_kind(self) -> str:
        """``access-key``, ``sts``, ``command``, ``none`` or a mode's name (``RamRoleArn``)."""
        if self.mode is not None:
            return self.mode.mode
        if self.credential_command is not None:
            return "command"
        if self.credentials is None:
            return "none"
        return "sts" if self.credentials.is_sts else "access-key"


def credential_summary(profile: Profile) -> str:
    """How ``profile`` authenticates, for a listing: the AccessKey id masked, never a secret.

    ``command PROGRAM`` (the program only: the arguments may hold secrets), ``access key
    ****abcd``, ``sts ****abcd``, ``none``, or the mode with what identifies it
    (``RamRoleArn acs:ram::1:role/x, key ****abcd``).
    """
    if profile.mode is not None:
        return _mode_summary(profile)
    if profile.credential_command is not None:
        return "command " + command_program(profile.credential_command)
    if profile.credentials is None:
        return "none"
    kind = "sts" if profile.credentials.is_sts else "access key"
    return f"{kind} {mask_secret(profile.credentials.access_key_id)}"


def _mode_summary(profile: Profile) -> str:
    mode = profile.mode
    assert mode is not None
    if mode.mode == "RamRoleArn":
        key = mask_secret(profile.credentials.access_key_id) if profile.credentials else "?"
        return f"RamRoleArn {mode.ram_role_arn}, key {key}"
    if mode.mode == "ChainableRamRoleArn":
        return f"ChainableRamRoleArn {mode.ram_role_arn} from profile '{mode.source_profile}'"
    if mode.mode == "EcsRamRole":
        return f"EcsRamRole {mode.ram_role_name or '(role discovered)'}"
    if mode.mode == "OIDC":
        return f"OIDC {mode.ram_role_arn}"
    if mode.mode == "CredentialsURI":
        return f"CredentialsURI {mode.credentials_uri}"
    return f"aliyun CLI profile '{mode.aliyun_profile}'"
