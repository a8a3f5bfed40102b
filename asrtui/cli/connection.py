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

from asrtui import connect
from asrtui.answersize import (
    DEFAULT_MAX_ANSWER_MB,
    parse_max_answer_mb,
)
from asrtui.answersize import (
    ENV_VAR as ANSWER_SIZE_ENV,
)
from asrtui.answersize import (
    OPTION as ANSWER_SIZE_OPTION,
)
from asrtui.answersize import (
    PROFILE_KEY as ANSWER_SIZE_KEY,
)
from asrtui.connect import Connection, Overrides
from asrtui.errors import ConfigError

__all__ = [
    "add_connection_options",
    "environment",
    "option",
    "overrides_of",
    "resolve_connection",
]


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
    overrides = overrides_of(args)
    if overrides.signature not in {None, "v3", "rpc"}:
        raise ConfigError(f"Unknown signature version {overrides.signature!r}", "use v3 or rpc")
    if getattr(args, "demo", False):
        return overrides.demo_connection(env)
    return connect.resolve_connection(overrides, env)


def overrides_of(args: argparse.Namespace) -> Overrides:
    """The connection options given on the command line (`asrtui.connect.Overrides`)."""
    return Overrides(
        profile=option(args, "profile"),
        region=option(args, "region"),
        endpoint=option(args, "endpoint"),
        signature=option(args, "signature"),
        read_only=bool(getattr(args, "read_only", False)),
        shared_quota=option(args, "shared_quota"),
        max_answer_mb=max_answer_mb_option(args),
    )


def max_answer_mb_option(args: argparse.Namespace) -> int | None:
    """``--max-answer-mb``, or ``None`` when not given."""
    value = getattr(args, "max_answer_mb", None)
    return value if isinstance(value, int) else None


def _answer_mb(text: str) -> int:
    """The argparse type of ``--max-answer-mb``."""
    try:
        return parse_max_answer_mb(text, ANSWER_SIZE_OPTION)
    except ConfigError as error:
        raise argparse.ArgumentTypeError(f"{error.message}: {error.hint}") from None


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
    parser.add_argument(
        "--shared-quota",
        metavar="URL",
        default=default(None),
        help="share the account's quota across hosts through Redis (redis://[:password@]host"
        "[:port][/db] or rediss://; also: ASRTUI_SHARED_QUOTA, or the profile's shared_quota)",
    )
    parser.add_argument(
        ANSWER_SIZE_OPTION,
        metavar="MB",
        type=_answer_mb,
        default=default(None),
        help=f"refuse answers larger than MB MiB (default {DEFAULT_MAX_ANSWER_MB}, enough for "
        f"some 400,000 tasks; also: {ANSWER_SIZE_ENV}, or the profile's {ANSWER_SIZE_KEY})",
    )


def environment() -> Mapping[str, str]:
    """The process environment (a seam tests replace through ``monkeypatch.setenv``)."""
    return os.environ
