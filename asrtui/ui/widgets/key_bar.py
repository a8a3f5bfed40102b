"""The key bar: the main screen's line of key hints, drawn as one widget from the bindings.

Textual's `Footer` makes a widget per key and composes them all again whenever the screen
signals its bindings, which it does once just after the first frame: at start-up that is a
dozen widgets to style and a second layout of the whole screen, about a tenth of a bare Textual
app's start-up. This bar draws the same hints, the same way, as one line of text, and redraws
it only when they change. Keys that do not fit are cut, as the stock footer cuts them; every
key is in the help screen and the command palette.
"""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget

#: Drawn between the keys and the command palette's key on the right.
_SEPARATOR = "▏"

#: One hint: what to press, what it does, whether it can be done now.
_Hint = tuple[str, str, bool]


class KeyBar(Widget):
    """One line of key hints at the bottom of the screen.

    Shows the bindings with ``show=True`` of the focused widget, the screen and the app, in the
    order `Screen.active_bindings` gives them (one per action), then the command palette's key
    on the right; disabled actions are dimmed.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"key-bar--key", "key-bar--description"}

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        & > .key-bar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .key-bar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._hints: tuple[tuple[_Hint, ...], _Hint | None] | None = None
        self._line: tuple[int, Strip] | None = None

    def on_mount(self) -> None:
        """Follow the screen's bindings (focus changes, dynamic actions)."""
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        """Stop following the screen's bindings."""
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        hints = self._collect()
        if hints != self._hints:
            self._hints = hints
            self._line = None
            self.refresh()

    def notify_style_update(self) -> None:
        """Draw again with new styles (theme changes)."""
        super().notify_style_update()
        self._line = None

    @property
    def hints(self) -> tuple[tuple[_Hint, ...], _Hint | None]:
        """The hints shown: ``(key, description, enabled)`` on the left, and the palette's."""
        if self._hints is None:
            self._hints = self._collect()
        return self._hints

    def _collect(self) -> tuple[tuple[_Hint, ...], _Hint | None]:
        app = self.app
        active = self.screen.active_bindings
        seen: set[str] = set()
        hints: list[_Hint] = []
        for _, binding, enabled, _ in active.values():
            if binding.show and binding.action not in seen:
                seen.add(binding.action)
                hints.append((app.get_key_display(binding), binding.description, enabled))
        palette: _Hint | None = None
        found = active.get(app.COMMAND_PALETTE_BINDING)
        if app.ENABLE_COMMAND_PALETTE and found is not None:
            shown: Binding = found.binding
            palette = (app.get_key_display(shown), shown.description, found.enabled)
        return tuple(hints), palette

    def render_line(self, y: int) -> Strip:
        """Line 0 is the bar; the widget is one line high."""
        width = self.size.width
        base = self.rich_style
        if y:
            return Strip.blank(width, base)
        if self._line is not None and self._line[0] == width:
            return self._line[1]
        key_style = base + self.get_component_rich_style("key-bar--key")
        text_style = base + self.get_component_rich_style("key-bar--description")
        dim = Style(dim=True)
        left, palette = self.hints

        def segments(hint: _Hint) -> list[Segment]:
            key, description, enabled = hint
            extra = Style() if enabled else dim
            return [Segment(f" {key} ", key_style + extra), Segment(f"{description} ", text_style)]

        right: list[Segment] = []
        if palette is not None:
            right = [Segment(_SEPARATOR, base + dim), *segments(palette)]
        right_width = sum(segment.cell_length for segment in right)
        if right_width > width // 2:
            right, right_width = [], 0
        keys = Strip([segment for hint in left for segment in segments(hint)])
        strip = Strip.join(
            [keys.crop(0, width - right_width).extend_cell_length(width - right_width, base)]
            + ([Strip(right)] if right else [])
        )
        self._line = (width, strip)
        return strip
