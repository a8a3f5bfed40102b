"""Command palette entries for every action of the main screen, generated from its bindings.

Generating them from ``MainScreen.BINDINGS`` keeps the palette, the footer and the help screen
in step: an action with a key is also a command, named by the binding's description and
explained by the first line of its ``action_*`` docstring.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from asrtui.ui.screens.main import MainScreen


@dataclass(frozen=True)
class Command:
    """One palette entry: what it is called, what it does, and the action it runs."""

    title: str
    help: str
    action: str


def main_screen_commands() -> list[Command]:
    """One command per action bound on the main screen, in binding order."""
    commands: dict[str, Command] = {}
    for binding in Binding.make_bindings(MainScreen.BINDINGS):
        if binding.action in commands or not binding.description:
            continue
        method = getattr(MainScreen, f"action_{binding.action}", None)
        doc = (method.__doc__ or "").strip().splitlines() if method is not None else []
        title = binding.description
        commands[binding.action] = Command(title, doc[0] if doc else title, binding.action)
    return list(commands.values())


class ConsoleCommands(Provider):
    """Offers the main screen's actions in the command palette (``ctrl+p``)."""

    def _entries(self) -> list[tuple[Command, MainScreen]]:
        # The palette is itself a screen: act on the screen it was opened from.
        screen = self.screen
        if not isinstance(screen, MainScreen):
            return []
        return [(command, screen) for command in main_screen_commands()]

    async def discover(self) -> Hits:
        """Every command, before anything is typed."""
        for command, screen in self._entries():
            yield DiscoveryHit(
                command.title, partial(screen.run_action, command.action), help=command.help
            )

    async def search(self, query: str) -> Hits:
        """Commands whose title fuzzily matches ``query``."""
        matcher = self.matcher(query)
        for command, screen in self._entries():
            score = matcher.match(command.title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(command.title),
                    partial(screen.run_action, command.action),
                    help=command.help,
                )
