"""``--on-event CMD``: the alert hook options, shared by the console and ``tasks --watch``.

`asrtui.hooks` (process spawning, shell-like splitting) is loaded when a hook is named or the
options are described for ``--help``: most consoles run none, and their start does not wait
for it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from asrtui.errors import ConfigError

if TYPE_CHECKING:
    from asrtui.hooks import HookRunner, HookSpec

__all__ = ["add_hook_options", "hook_specs", "hooks_of"]


def add_hook_options(
    parser: argparse.ArgumentParser, *, suppress: bool = False, described: bool = True
) -> None:
    """``--on-event``, ``--on-event-kinds``, ``--on-event-timeout``.

    Args:
        parser: where the options go.
        suppress: leave an option not given out of the namespace (a subcommand's copy).
        described: with their help texts; a parser that never prints help (the console's
            quick one, `asrtui.cli.console_arguments`) goes without, and so without the
            hooks' module, which the texts quote.
    """

    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress else value

    kinds_help = timeout_help = None
    if described:
        from asrtui.events import EVENT_KINDS
        from asrtui.hooks import DEFAULT_KINDS, DEFAULT_TIMEOUT

        kinds_help = (
            "the events the hooks get, comma-separated, or 'all' (default: "
            f"{','.join(sorted(DEFAULT_KINDS))}; kinds: {', '.join(EVENT_KINDS)})"
        )
        timeout_help = f"kill a hook run after SECONDS (default {DEFAULT_TIMEOUT:g})"

    parser.add_argument(
        "--on-event",
        metavar="CMD",
        action="append",
        default=default(None),
        help="alert hook: run CMD (split like a shell, never run by one) with each chosen event "
        "as one JSON line on stdin; repeatable",
    )
    parser.add_argument(
        "--on-event-kinds",
        metavar="KINDS",
        default=default(None),
        help=kinds_help,
    )
    parser.add_argument(
        "--on-event-timeout",
        metavar="SECONDS",
        type=float,
        default=default(None),
        help=timeout_help,
    )


def hook_specs(args: argparse.Namespace) -> list[HookSpec]:
    """The hooks the options name.

    Raises:
        ConfigError: an empty or unsplittable command, an unknown kind, a bad timeout.
    """
    commands: list[str] = getattr(args, "on_event", None) or []
    kinds_text: str | None = getattr(args, "on_event_kinds", None)
    timeout: float | None = getattr(args, "on_event_timeout", None)
    if not commands and kinds_text is None and timeout is None:
        return []  # the usual case, answered without loading the hooks' module
    from asrtui.hooks import parse_hook, parse_kinds

    kinds = parse_kinds(kinds_text) if kinds_text is not None else None
    specs = []
    for command in commands:
        try:
            specs.append(parse_hook(command, kinds, timeout))
        except ValueError as error:
            raise ConfigError(f"Bad --on-event: {error}", "see asrtui --help") from None
    if (kinds_text is not None or timeout is not None) and not commands:
        raise ConfigError(
            "--on-event-kinds and --on-event-timeout need --on-event", "add --on-event CMD"
        )
    return specs


def hooks_of(args: argparse.Namespace, on_failure: Callable[[str], None]) -> list[HookRunner]:
    """A runner per hook the options name (see `hook_specs`)."""
    from asrtui.hooks import HookRunner

    return [HookRunner(spec, on_failure) for spec in hook_specs(args)]
