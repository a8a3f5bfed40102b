"""The Textual application: handed a `TaskSource` and `ConsoleSettings`, it shows `MainScreen`.

Thin on purpose (as in braindrop and frogmouth): the app owns the theme and the command palette,
the screen owns everything else. It never builds its own source, so it never knows whether it
talks to Alibaba Cloud or to the demo emulator.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.theme import Theme

from asrtui.source import TaskSource
from asrtui.ui.commands import ConsoleCommands
from asrtui.ui.screens.main import MainScreen
from asrtui.ui.settings import ConsoleSettings, load_theme, save_theme


class AsrtuiApp(App[int]):
    """The asrtui operator console.

    Args:
        source: where tasks come from and actions go to (built by the composition root).
        settings: cadence, clocks, read-only mode, bell, theme and where the theme is remembered.
    """

    # Absolute, so that subclasses in other directories (tests) find it too.
    CSS_PATH = Path(__file__).with_name("asrtui.tcss")
    TITLE = "asrtui"
    COMMANDS = App.COMMANDS | {ConsoleCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+p", "command_palette", "Commands", show=False),
    ]

    def __init__(self, source: TaskSource, settings: ConsoleSettings) -> None:
        super().__init__()
        self.source = source
        """The task source every screen uses."""
        self.settings = settings
        """The console settings."""
        theme = load_theme(settings.state_path) or settings.theme
        if theme in self.available_themes:
            self.theme = theme

    def on_mount(self) -> None:
        """Remember theme changes and show the main screen."""
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        self.push_screen(MainScreen(self.source, self.settings))

    def _remember_theme(self, theme: Theme) -> None:
        try:
            save_theme(self.settings.state_path, theme.name)
        except OSError as error:
            reason = error.strerror or type(error).__name__
            self.notify(f"Could not remember the theme: {reason}", severity="warning", markup=False)


async def run_console_async(source: TaskSource, settings: ConsoleSettings) -> int:
    """Run the console in the running event loop (so the source's client can share it).

    Returns:
        The process exit code: 0 after a normal quit.
    """
    app = AsrtuiApp(source, settings)
    await app.run_async()
    return app.return_code or 0


def run_console(source: TaskSource, settings: ConsoleSettings) -> int:
    """Run the console until the operator quits; returns the process exit code."""
    app = AsrtuiApp(source, settings)
    app.run()
    return app.return_code or 0
