"""How the command line's arguments and environment become a `asrtui.connect.Connection`.

`resolve_connection` is the one place that turns options, the environment and the profile
store into credentials, region, endpoint, signature version and read-only state (``--demo``
short-cuts it). Every subcommand and the console start from it; `asrtui.connect` opens the
client.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping

from asrtui.connect import Connection
from asrtui.endpoints import DEFAULT_REGION
from asrtui.errors import ConfigError
from asrtui.readonly import read_only_of

__all__ = ["add_connection_options", "environment", "option", "resolve_connection"]


def option(args: argparse.Namespace, name: str) -> str | None:
    """The value of string option ``name``, or ``None`` when absent or empty."""
    value = getattr(args, name, None)
    return value if isinstance(value, str) and value else None


def resolve_connection(args: argparse.Namespace, env: Mapping[str, str]) -> Connection:
    """Turn the global options, the environment and the profile store into a `Connection`.

    ``--demo`` needs nothing else. Otherwise the precedence is that of
    `asrtui.profiles.resolve_connection_settings`: ``--profile``, then the
    ``ALIBABA_CLOUD_*`` environment variables (as the official SDKs and the aliyun CLI read
    them), then the profile named by ``ALIBABA_CLOUD_PROFILE``, then the default profile;
    ``--region``, ``--endpoint`` and ``--signature`` override what those say. The session is
    read-only when ``--read-only``, ``ASRTUI_READ_ONLY`` or the profile says so
    (`asrtui.readonly`), the demo included.

    Raises:
        ConfigError: bad endpoint, region, signature or profile name, or an invalid
            ``ASRTUI_READ_ONLY``.
        CredentialsError: no credentials anywhere (the hint says what to run).
    """
    signature_opt = option(args, "signature")
    if signature_opt not in {None, "v3", "rpc"}:
        raise ConfigError(f"Unknown signature version {signature_opt!r}", "use v3 or rpc")
    read_only_flag = bool(getattr(args, "read_only", False))
    if getattr(args, "demo", False):
        return Connection.demo_of(
            region=option(args, "region") or DEFAULT_REGION,
            signature=signature_opt,
            read_only=read_only_of(flag=read_only_flag, env=env),
        )
    # Imported here, not by the demo: the profile store is most of a start-up's own imports.
    from asrtui.credentials.chain import resolve_connection_settings

    settings = resolve_connection_settings(
        profile=option(args, "profile"),
        endpoint=option(args, "endpoint"),
        region=option(args, "region"),
        signature=signature_opt,
        env=env,
    )
    return Connection.from_settings(settings, read_only_flag=read_only_flag, env=env)


def add_connection_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Add the global connection options.

    With ``suppress`` the options default to "absent", so a subcommand's parser can accept them
    after the subcommand name without overwriting values given before it.
    """

    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress else value

    parser.add_argument("--profile", metavar="NAME", default=default(None), help="profile to use")
    parser.add_argument(
        "--endpoint", metavar="URL", default=default(None), help="API endpoint override"
    )
    parser.add_argument("--region", metavar="ID", default=default(None), help="region id")
    parser.add_argument(
        "--signature",
        choices=("v3", "rpc"),
        default=default(None),
        help="signature version (default v3)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        default=default(False),
        help="use the built-in emulator instead of Alibaba Cloud",
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        default=default(False),
        help="refuse stop, delete and every other change (also: ASRTUI_READ_ONLY=1, or the "
        "profile's read_only setting)",
    )


def environment() -> Mapping[str, str]:
    """The process environment (a seam tests replace through ``monkeypatch.setenv``)."""
    return os.environ
