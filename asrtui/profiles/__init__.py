"""Profiles and credentials: the on-disk store, the environment, aliyun CLI import, commands.

Modules, one concern each:

- `asrtui.profiles.model`: the `Profile` value and its validation rules;
- `asrtui.profiles.store`: `config_dir`, `ProfileStore` (atomic 0600 TOML files);
- `asrtui.profiles.env`: `resolve_connection_settings` (options > environment > profile);
- `asrtui.profiles.external`: `ExternalCredentials` (``credential_process``-style commands);
- `asrtui.profiles.aliyun`: `read_aliyun_config` (``~/.aliyun/config.json``).
"""

from __future__ import annotations

from asrtui.profiles.aliyun import AliyunImport, default_aliyun_config_path, read_aliyun_config
from asrtui.profiles.env import (
    ENV_PROFILE_NAME,
    CredentialsProvider,
    ResolvedSettings,
    StaticCredentials,
    resolve_connection_settings,
)
from asrtui.profiles.external import ExternalCredentials
from asrtui.profiles.model import Profile, Signature, validate_name
from asrtui.profiles.store import ProfileSet, ProfileStore, config_dir

__all__ = [
    "ENV_PROFILE_NAME",
    "AliyunImport",
    "CredentialsProvider",
    "ExternalCredentials",
    "Profile",
    "ProfileSet",
    "ProfileStore",
    "ResolvedSettings",
    "Signature",
    "StaticCredentials",
    "config_dir",
    "default_aliyun_config_path",
    "read_aliyun_config",
    "resolve_connection_settings",
    "validate_name",
]
