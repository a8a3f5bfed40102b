"""Opening the console parses the global options without the subcommands' parsers.

`asrtui.cli.console_arguments` is a shortcut: it must give exactly what the whole parser
(`build_parser` with `check_options`) gives, or ``None`` and leave the arguments to it. The
property draws argument lists from the global options (spelt out, abbreviated, with ``=``),
the subcommands' names, help and version flags and awkward values, and holds every answer
of the shortcut to the whole parser's.
"""

from __future__ import annotations

import argparse
import contextlib
import io
from collections.abc import Sequence

from hypothesis import example, given, settings
from hypothesis import strategies as st

from asrtui.cli import COMMANDS, build_parser, check_options, console_arguments


def _whole(argv: Sequence[str]) -> argparse.Namespace | None:
    """What the whole parser makes of ``argv`` (``None``: it printed and exited)."""
    parser = build_parser()
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        try:
            check_options(parser, argv)
            return parser.parse_args(argv)
        except SystemExit:
            return None


def _options() -> list[str]:
    parser = build_parser()
    return sorted({name for action in parser._actions for name in action.option_strings})


_OPTIONS = _options()
_VALUES = [
    "prod", "5", "300", "0", "-1", "x", "", "v3", "rpc", "debug", "http://127.0.0.1:9",
    "redis://h", "=", "--", "-", "1e9", "nan", "名前",
]  # fmt: skip
_TOKEN = st.one_of(
    st.sampled_from(_OPTIONS),
    st.sampled_from(_OPTIONS).map(lambda name: name[: max(3, len(name) - 2)]),  # abbreviated
    st.tuples(st.sampled_from(_OPTIONS), st.sampled_from(_VALUES)).map("=".join),
    st.sampled_from(sorted(COMMANDS)),
    st.sampled_from(["-h", "--help", "--version", "--bogus", "-x"]),
    st.sampled_from(_VALUES),
    st.text(max_size=6),
)


def test_the_commands_named_are_the_parsers() -> None:
    parser = build_parser()
    choices = next(
        action.choices
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
    )
    assert set(choices) == COMMANDS


@settings(max_examples=300, deadline=None)
@given(st.lists(_TOKEN, max_size=6))
@example(["--demo"])
@example(["--profile", "tasks", "--refresh", "5"])  # a command's name as a value
@example(["--profile", "tasks"])
@example(["--dem"])  # an abbreviation: the whole parser resolves it
@example(["--refresh", "0"])  # refused by the option's type
@example(["--refresh", "-1"])
@example(["--on-event", "notify-send", "--on-event-kinds", "all"])
@example(["-h"])
@example(["--version"])
def test_the_shortcut_agrees_with_the_whole_parser(argv: list[str]) -> None:
    quick = console_arguments(argv)
    if quick is None:
        return  # left to the whole parser: always allowed
    whole = _whole(argv)
    assert whole is not None, "the shortcut accepted what the whole parser refuses"
    assert vars(quick) == vars(whole)


def test_the_console_start_takes_the_shortcut() -> None:
    # Without this the shortcut could silently never apply, and every start pay again.
    for argv in ([], ["--demo"], ["--profile", "prod", "--refresh", "5"], ["--read-only"]):
        quick = console_arguments(argv)
        assert quick is not None, argv
        assert vars(quick) == vars(_whole(argv))
        assert quick.command is None
        assert getattr(quick, "func", None) is None


def test_anything_else_goes_to_the_whole_parser() -> None:
    for argv in (
        ["tasks"],
        ["--demo", "tasks", "--format", "json"],
        ["--profile", "tasks"],
        ["-h"],
        ["--help"],
        ["--version"],
        ["--dem"],
        ["--refresh", "0"],
        ["--", "--demo"],
        ["stray"],
    ):
        assert console_arguments(argv) is None, argv
