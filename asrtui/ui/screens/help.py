"""The help screen: every key of the console, generated from the bindings themselves."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from asrtui.ui.frames import PacedFrames

#: Tips for running inside tmux, shown under the keys.
TMUX_TIPS = (
    "In tmux: `set -sg escape-time 10` makes Escape react at once (the default waits 500 ms);\n"
    "`set -g set-clipboard on` lets the copy keys reach your terminal's clipboard (OSC 52)."
)


def binding_rows(
    bindings: Iterable[BindingType], key_display: dict[str, str]
) -> list[tuple[str, str]]:
    """``(keys, description)`` for each action, keys of the same action joined by ``/``.

    Args:
        bindings: a ``BINDINGS`` list.
        key_display: how to show a key (``ctrl+s`` → ``^s``); keys not in it are shown as is.
    """
    rows: dict[str, tuple[list[str], str]] = {}
    for binding in Binding.make_bindings(bindings):
        keys, _ = rows.setdefault(binding.action, ([], binding.description))
        shown = key_display.get(binding.key, binding.key)
        if shown not in keys:
            keys.append(shown)
    return [(" / ".join(keys), description) for keys, description in rows.values() if description]


class HelpScreen(ModalScreen[None], PacedFrames[None]):
    """A list of every key, by where it works; Escape, ``q`` or ``?`` closes it."""

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > VerticalScroll {
        width: 76;
        max-width: 100%;
        height: 90%;
        background: $panel;
        border: thick $primary;
        border-title-align: center;
        padding: 0 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close help"),
    ]

    def compose(self) -> ComposeResult:
        """The key tables in a scrolling panel."""
        scroll = VerticalScroll(Static(self._content(), id="help-body"), id="help")
        scroll.border_title = "asrtui keys"
        yield scroll

    def __init__(self, sections: Sequence[tuple[str, Sequence[BindingType]]]) -> None:
        """Show ``sections`` (a title and its bindings each), then the application's keys.

        The screens that open help say which keys are theirs, so this module depends on none.
        """
        super().__init__()
        self._given = [(title, list(bindings)) for title, bindings in sections]

    def _sections(self) -> list[tuple[str, list[BindingType]]]:
        # Bindings are inherited: list the app's own, then those of Textual's App and Screen
        # (ctrl+q, tab...), so that every key that works is listed.
        inherited: list[BindingType] = []
        for cls in (*type(self.app).__mro__, Screen):
            inherited.extend(cls.__dict__.get("BINDINGS", []))
        return [*self._given, ("Application", inherited)]

    def _display(self, bindings: Iterable[BindingType]) -> dict[str, str]:
        return {b.key: self.app.get_key_display(b) for b in Binding.make_bindings(bindings)}

    def _content(self) -> Group:
        parts: list[Table | Text] = []
        for title, bindings in self._sections():
            table = Table.grid(padding=(0, 2))
            table.add_column(style="bold", min_width=14)
            table.add_column()
            for keys, description in binding_rows(bindings, self._display(bindings)):
                table.add_row(Text(keys), Text(description))
            parts.append(Text(title, style="bold underline"))
            parts.append(table)
            parts.append(Text(""))
        parts.append(Text(TMUX_TIPS, style="dim"))
        return Group(*parts)
