"""The headless command line: the argument parser and how arguments become a connection.

Subcommand modules (`asrtui.cli.tasks`, `asrtui.cli.emulator`, and `asrtui.cli.profile` when
present) each expose ``register(subparsers)``; a subcommand sets ``func`` on its parser with
``set_defaults(func=handler)``, where ``handler(args) -> int`` returns the exit code.

`resolve_connection` is the one place that turns options, the environment and the profile
store into credentials, region, endpoint and signature version (``--demo`` short-cuts it).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, NoReturn

from asrtui.client import DEFAULT_REQUEST_TIMEOUT, LiveClient
from asrtui.credentials import Credentials, RefreshingCredentials
from asrtui.endpoints import DEFAULT_REGION, resolve_endpoint
from asrtui.errors import ConfigError, CredentialsError
from asrtui.printable import printable_line
from asrtui.readonly import WRITABLE, ReadOnly, read_only_of

if TYPE_CHECKING:
    from asrtui.profiles import ResolvedSettings

__all__ = [
    "Connection",
    "add_connection_options",
    "build_parser",
    "environment",
    "open_client",
    "registering_secrets",
    "resolve_connection",
]

Signature = Literal["v3", "rpc"]


@dataclass(frozen=True)
class Connection:
    """Everything needed to open a client, resolved once from options, env and profile.

    Attributes:
        profile_name: shown in the status line and named in credential hints.
        region: the ``RegionId`` sent.
        endpoint: the base URL (ignored in demo mode).
        signature: ``v3`` or ``rpc``.
        credentials: returns the credentials to sign with (``None`` in demo mode).
        demo: whether to talk to the in-process emulator.
        rate_limit: calls per second allowed for the account.
        refresh: seconds between automatic refreshes of the console.
        read_only: whether (and because of what: the option, the environment, the profile)
            stop, delete and every other change are refused; false when none applies.
        request_timeout: seconds one request may take in all, connect to last byte.
    """

    profile_name: str
    region: str
    endpoint: str
    signature: Signature = "v3"
    credentials: Callable[[], Credentials] | None = field(default=None, repr=False)
    demo: bool = False
    rate_limit: int = 20
    refresh: float = 5.0
    read_only: ReadOnly = WRITABLE
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT

    @classmethod
    def from_settings(
        cls,
        settings: ResolvedSettings,
        *,
        read_only_flag: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> Connection:
        """The connection of resolved profile settings (the endpoint derived from the region).

        Args:
            settings: the resolved profile settings.
            read_only_flag: ``--read-only`` was given.
            env: the environment, for `asrtui.readonly.ENV_VAR` (none read when ``None``).

        Raises:
            ConfigError: `asrtui.readonly.ENV_VAR` holds an invalid value.
        """
        return cls(
            profile_name=settings.profile,
            region=settings.region,
            endpoint=resolve_endpoint(settings.region, settings.endpoint),
            signature=settings.signature,
            credentials=settings.credentials,
            rate_limit=settings.rate_limit,
            refresh=settings.refresh,
            read_only=read_only_of(
                flag=read_only_flag,
                env={} if env is None else env,
                profile=settings.profile,
                profile_read_only=settings.read_only,
            ),
            request_timeout=settings.request_timeout,
        )


def _option(args: argparse.Namespace, name: str) -> str | None:
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
    signature_opt = _option(args, "signature")
    if signature_opt not in {None, "v3", "rpc"}:
        raise ConfigError(f"Unknown signature version {signature_opt!r}", "use v3 or rpc")
    read_only_flag = bool(getattr(args, "read_only", False))
    if getattr(args, "demo", False):
        region = _option(args, "region") or DEFAULT_REGION
        return Connection(
            profile_name="demo",
            region=region,
            endpoint="",
            signature="rpc" if signature_opt == "rpc" else "v3",
            demo=True,
            read_only=read_only_of(flag=read_only_flag, env=env),
        )
    # Imported here, not by the demo: the profile store is most of a start-up's own imports.
    from asrtui.profiles import resolve_connection_settings

    settings = resolve_connection_settings(
        profile=_option(args, "profile"),
        endpoint=_option(args, "endpoint"),
        region=_option(args, "region"),
        signature=signature_opt,
        env=env,
    )
    return Connection.from_settings(settings, read_only_flag=read_only_flag, env=env)


class _RegisteringCredentials:
    """A credentials provider that registers what it hands out with the log redaction.

    The AccessKey secret and the STS token are masked in the log file and in crash reports
    from the moment they are first used (`asrtui.logs.register_secret`), so that even a line
    that quotes one by accident shows ``****``. New credentials are registered as they come
    (a credential command hands out a new STS token now and then). `is_due` passes through,
    so the client still runs a due refresh off the event loop (`RefreshingCredentials`).
    """

    def __init__(self, provider: Callable[[], Credentials]) -> None:
        self._provider = provider
        self._registered: Credentials | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._provider!r})"

    def __call__(self) -> Credentials:
        credentials = self._provider()
        if credentials is not self._registered:  # once per credentials, not per request
            # Imported here: a command that never signs a request never loads the log module.
            from asrtui.logs import register_secret

            register_secret(credentials.access_key_secret)
            register_secret(credentials.security_token)
            self._registered = credentials
        return credentials

    def is_due(self) -> bool:
        provider = self._provider
        return isinstance(provider, RefreshingCredentials) and provider.is_due()


def registering_secrets(provider: Callable[[], Credentials]) -> Callable[[], Credentials]:
    """``provider``, with the secret and the STS token of every answer masked in the log.

    Every real client gets its credentials through this (`open_client`, ``profile test``):
    it is where the command line and the console learn the secrets they sign with.
    """
    if isinstance(provider, _RegisteringCredentials):
        return provider
    return _RegisteringCredentials(provider)


def open_client(connection: Connection) -> LiveClient:
    """A client (not yet opened) for the connection: in-process emulator in demo mode.

    The credentials of a real connection are registered for masking as they are used
    (`registering_secrets`); the demo's are public.
    """
    if connection.demo:
        from asrtui.tasksource import open_demo_client

        return open_demo_client(
            signature=connection.signature,
            region=connection.region,
            read_only=connection.read_only,
        )
    if connection.credentials is None:
        raise CredentialsError("No credentials found", "pass --profile or set the environment")
    return LiveClient(
        registering_secrets(connection.credentials),
        connection.endpoint,
        region=connection.region,
        signature=connection.signature,
        rate_limit=connection.rate_limit,
        # Two consoles and a `tasks --watch` of one account spend one budget together.
        share_quota=True,
        profile=connection.profile_name,
        request_timeout=connection.request_timeout,
        read_only=connection.read_only,
    )


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


class _VersionAction(argparse.Action):
    """``--version``: computed only when asked, so start-up never pays for the metadata look-ups."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        from asrtui.logs import versions_text

        sys.stdout.write(versions_text().rstrip("\n") + "\n")
        parser.exit()


def _refresh_seconds(text: str) -> float:
    """``--refresh``: a number of seconds from 1 to 300."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 1.0 <= value <= 300.0:
        raise argparse.ArgumentTypeError(f"must be from 1 to 300 seconds, not {text}")
    return value


class _Parser(argparse.ArgumentParser):
    """An `ArgumentParser` whose error line shows the arguments it quotes escaped.

    argparse quotes some arguments as typed (``unrecognized arguments: ...``): a line break
    or an escape sequence in one would reach the terminal (`printable_line`). Subcommand
    parsers are made of the same class (`add_subparsers` uses the parent's by default).
    """

    def error(self, message: str) -> NoReturn:
        super().error(printable_line(message))


def build_parser() -> argparse.ArgumentParser:
    """The root parser with every subcommand registered."""
    from asrtui.cli import emulator as emulator_cli
    from asrtui.cli import tasks as tasks_cli

    # Typed as the base class: the subcommand modules take plain `ArgumentParser`s.
    parser: argparse.ArgumentParser = _Parser(
        prog="asrtui",
        description="Terminal console for Alibaba Cloud Live real-time ASR tasks.",
        epilog="Without a subcommand, opens the interactive console.",
    )
    parser.add_argument(
        "--version",
        action=_VersionAction,
        help="print the versions of asrtui, Textual, httpx and Python, then exit",
    )
    parser.add_argument(
        "--log-level",
        metavar="LEVEL",
        choices=("debug", "info", "warning", "error"),
        default=None,
        help="write a rotating, redacted log in the user log directory at this level",
    )
    parser.add_argument(
        "--refresh",
        metavar="SECONDS",
        type=_refresh_seconds,
        default=None,
        help="console: seconds between automatic refreshes (1-300; default: the profile's, 5)",
    )
    add_connection_options(parser, suppress=False)
    common = argparse.ArgumentParser(add_help=False)
    add_connection_options(common, suppress=True)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    tasks_cli.register(subparsers, parents=[common])
    emulator_cli.register(subparsers)
    try:
        # Written separately; plugs in when present.
        profile_cli = importlib.import_module("asrtui.cli.profile")
    except ImportError:
        pass
    else:
        profile_cli.register(subparsers)
    return parser


def environment() -> Mapping[str, str]:
    """The process environment (a seam tests replace through ``monkeypatch.setenv``)."""
    return os.environ
