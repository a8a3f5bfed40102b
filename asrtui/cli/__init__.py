"""The headless command line: the argument parser and how arguments become a connection.

Subcommand modules (`asrtui.cli.tasks`, `asrtui.cli.emulator`, and `asrtui.cli.profile` when
present) each expose ``register(subparsers)``; a subcommand sets ``func`` on its parser with
``set_defaults(func=handler)``, where ``handler(args) -> int`` returns the exit code.

`asrtui.cli.connection.resolve_connection` turns options, the environment and the profile store
into a `asrtui.connect.Connection`; `asrtui.connect` opens clients from it. Those names are
re-exported here.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import sys
from collections.abc import Sequence
from typing import Any, Final, NoReturn

from asrtui.cli.connection import (
    add_connection_options,
    environment,
    option,
    resolve_connection,
)
from asrtui.cli.hookopts import add_hook_options
from asrtui.connect import Connection, open_client, registering_secrets
from asrtui.printable import printable_line

__all__ = [
    "COMMANDS",
    "Connection",
    "add_connection_options",
    "build_parser",
    "console_arguments",
    "environment",
    "open_client",
    "option",
    "registering_secrets",
    "resolve_connection",
]


#: The subcommands' names, as their modules register them in `build_parser` (a test holds the
#: two equal): `console_arguments` knows by them, without loading those modules, that none is
#: given.
COMMANDS: Final = frozenset(
    {"tasks", "stop", "delete", "whoami", "create", "emulator", "journal", "report", "profile"}
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


def check_options(parser: argparse.ArgumentParser, argv: Sequence[str]) -> None:
    """Refuse an unknown ``--option`` by name, with the closest known one, before parsing.

    argparse alone reads a misspelt global option's value as the subcommand (``--profle x``:
    "invalid choice: 'x'") and reports a misspelt subcommand option with the top-level usage
    (``tasks --fromat``). Here the option is named, with the usage of the command it was given
    to, and exit code 2 as for every usage error.
    """
    current = parser
    for token in argv:
        if token == "--":
            return
        chooser = _subcommands(current)
        if chooser is not None and token in chooser.choices:
            current = chooser.choices[token]
            continue
        if not token.startswith("--") or token == "--":
            continue
        name = token.partition("=")[0]
        known = [o for a in current._actions for o in a.option_strings if o.startswith("--")]
        if name in known or any(o.startswith(name) for o in known):
            continue  # known, or an abbreviation argparse resolves (or calls ambiguous)
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        current.error(f"unknown option {name}{hint}")


def _subcommands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction[Any] | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return None


class _NotTheConsole(Exception):
    """`console_arguments` cannot tell alone: the whole parser decides (and says why)."""


class _ConsoleParser(_Parser):
    """The root parser without its subcommands: any error sends the arguments to the whole one."""

    def error(self, message: str) -> NoReturn:
        raise _NotTheConsole(message)


def console_arguments(argv: Sequence[str]) -> argparse.Namespace | None:
    """``argv`` parsed as `build_parser` parses it, when it opens the console; else ``None``.

    Opening the console takes the global options only, so the subcommands' modules (and
    what they load: the profile store, the output formats, the journal reader) are not
    imported for it: some 15 ms of every start. Whenever the answer could differ from the
    whole parser's (a subcommand's name anywhere, help, ``--version``, an option not spelt out
    in full, anything argparse would refuse), this says ``None`` and the caller uses
    `build_parser` and `check_options`, which say what is wrong as they always did.
    """
    if any(token in COMMANDS or token in _WHOLE_PARSER_ONLY for token in argv):
        return None
    parser = _root_parser(_ConsoleParser)
    spelt_out = {name for action in parser._actions for name in action.option_strings}
    if any(token.startswith("-") and token.partition("=")[0] not in spelt_out for token in argv):
        return None
    try:
        args = parser.parse_args(argv)
    except _NotTheConsole:
        return None
    args.command = None  # what the whole parser's subcommand chooser leaves when none is given
    return args


#: Tokens `console_arguments` leaves to the whole parser: it prints help or the versions.
_WHOLE_PARSER_ONLY: Final = frozenset({"-h", "--help", "--version", "--"})


def build_parser() -> argparse.ArgumentParser:
    """The root parser with every subcommand registered."""
    from asrtui.cli import create as create_cli
    from asrtui.cli import emulator as emulator_cli
    from asrtui.cli import journal as journal_cli
    from asrtui.cli import tasks as tasks_cli
    from asrtui.cli import whoami as whoami_cli

    parser = _root_parser(_Parser)
    common = argparse.ArgumentParser(add_help=False)
    add_connection_options(common, suppress=True)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    tasks_cli.register(subparsers, parents=[common])
    whoami_cli.register(subparsers, parents=[common])
    create_cli.register(subparsers, parents=[common])
    emulator_cli.register(subparsers)
    journal_cli.register(subparsers, parents=[common])
    try:
        # Written separately; plugs in when present.
        profile_cli = importlib.import_module("asrtui.cli.profile")
    except ImportError:
        pass
    else:
        profile_cli.register(subparsers)
    return parser


def _root_parser(kind: type[_Parser]) -> argparse.ArgumentParser:
    """The root parser with the global options and no subcommand (one place for both uses)."""
    # Typed as the base class: the subcommand modules take plain `ArgumentParser`s.
    parser: argparse.ArgumentParser = kind(
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
    # The console's quick parser never prints help (`console_arguments` leaves it to the
    # whole one): it goes without the help texts, and so without the hooks' module.
    add_hook_options(parser, described=not issubclass(kind, _ConsoleParser))
    return parser
