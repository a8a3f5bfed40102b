"""Profiles: the on-disk store and aliyun CLI import (configuration, not the providers).

Modules, one concern each:

- `asrtui.profiles.model`: the `Profile` value and its validation rules;
- `asrtui.profiles.store`: `config_dir`, `ProfileStore` (atomic 0600 TOML files);
- `asrtui.profiles.aliyun`: `read_aliyun_config` (``~/.aliyun/config.json``).

Which profile (or environment) a session uses, and the providers built from it, are
`asrtui.credentials.chain`'s: this package stays free of the network stack, for the console.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from asrtui.profiles.aliyun import (
        AliyunImport,
        default_aliyun_config_path,
        read_aliyun_config,
    )
    from asrtui.profiles.model import Profile, credential_summary, validate_name
    from asrtui.profiles.store import ProfileSet, ProfileStore, config_dir

#: Where each public name lives. The package imports a module when one of its names is first
#: used (PEP 562): the parser of ``asrtui --demo`` needs the profile defaults of
#: `asrtui.profiles.model` only, not the store, TOML or the aliyun reader.
_HOMES = {
    "AliyunImport": "aliyun",
    "default_aliyun_config_path": "aliyun",
    "read_aliyun_config": "aliyun",
    "Profile": "model",
    "credential_summary": "model",
    "validate_name": "model",
    "ProfileSet": "store",
    "ProfileStore": "store",
    "config_dir": "store",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "AliyunImport",
    "Profile",
    "ProfileSet",
    "ProfileStore",
    "config_dir",
    "credential_summary",
    "default_aliyun_config_path",
    "read_aliyun_config",
    "validate_name",
]
