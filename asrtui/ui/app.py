"""The Textual application: handed a `TaskSource` and `ConsoleSettings`, it shows `MainScreen`.

Thin on purpose (as in braindrop and frogmouth): the app owns the theme, the command palette and
switching profiles (a new `MainScreen` on the new profile's source, since a screen's workers
die with it); the screens own everything else. It never builds its own source, so it never
knows whether it talks to Alibaba Cloud or to the demo emulator: a `Connector` opens sources.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.console import RenderableType
from textual import events, on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.driver import Driver
from textual.notifications import Notification, Notify, SeverityLevel
from textual.theme import Theme
from textual.worker import Worker, WorkerState

from asrtui.errors import AsrtuiError
from asrtui.protocols import Connector, ProfileSession, TaskSource
from asrtui.redact import redact_text
from asrtui.ui.first_answer import FirstAnswer
from asrtui.ui.lifecycle import exit_signals
from asrtui.ui.render_caches import TRIM_SECONDS, trim_render_caches
from asrtui.ui.screens.main import MainScreen
from asrtui.ui.settings import ConsoleSettings, load_theme, save_theme
from asrtui.ui.terminal_exit import console_driver
from asrtui.ui.toasts import SWEEP_SECONDS, ToastSweeper
from asrtui.ui.typeahead import KeyGate

if TYPE_CHECKING:
    from textual.command import Provider

    from asrtui.ui.screens.profiles import SwitchRequested


def _console_commands() -> type[Provider]:
    """The palette's provider of console commands, loaded when the palette first opens."""
    from asrtui.ui.commands import ConsoleCommands

    return ConsoleCommands


#: Most toasts on screen at once.
MAX_TOASTS = 3
#: Seconds a thread running Python code keeps the interpreter lock while another waits for it
#: (`sys.setswitchinterval`), while the console runs; Python's default is 0.005. A large
#: listing is decoded and parsed in a worker thread in short steps (about 60 ms of them a
#: refresh at 100,000 tasks), and the event loop, woken for a key, waited up to the whole
#: interval for the lock each time it needed it back. Measured with a 1 ms timer on the loop
#: while a thread read 100,000 tasks, unchanged and changed: p99 lateness 6.5 -> 3.1 ms and
#: 10.6 -> 3.5 ms, p99.9 15.8 -> 4.8 ms and 19.1 -> 13.1 ms.
SWITCH_INTERVAL = 0.001

__all__ = ["AsrtuiApp", "FirstAnswer", "run_console_async"]


class AsrtuiApp(App[int]):
    """The asrtui operator console.

    Args:
        source: where tasks come from and actions go to (built by the composition root);
            ``None`` on the first run, which starts on `FirstRunScreen` instead.
        settings: cadence, clocks, read-only mode, bell, theme and where the theme is remembered.
        connector: lists and opens profiles for the switcher; ``None``: no switching.
        first_answer: the first `list_tasks` of ``source``, already asked (see `FirstAnswer`).
    """

    # Absolute, so that subclasses in other directories (tests) find it too.
    CSS_PATH = Path(__file__).with_name("asrtui.tcss")
    TITLE = "asrtui"
    COMMANDS = App.COMMANDS | {_console_commands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+p", "command_palette", "Commands", show=False),
    ]

    def __init__(
        self,
        source: TaskSource | None,
        settings: ConsoleSettings,
        *,
        connector: Connector | None = None,
        first_answer: FirstAnswer | None = None,
    ) -> None:
        super().__init__()
        self.source = source
        """The task source of the main screen (``None`` until a profile is opened)."""
        self.settings = settings
        """The console settings of the current profile."""
        self.connector = connector
        """Opens profiles for the switcher."""
        self._base_settings = settings
        self._first_answer = first_answer
        self._switching = False
        self._toasts = ToastSweeper()
        self._keys = KeyGate(self, super().on_event)
        self._keyed: dict[str, Notification] = {}
        theme = load_theme(settings.state_path) or settings.theme
        if theme in self.available_themes:
            self.theme = theme

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver for the platform, erasing the alternate screen before leaving it.

        Otherwise tmux can reflow what the console drew into the shell's screen on exit after
        the window was resized (see `asrtui.ui.terminal_exit`).
        """
        return console_driver(super().get_driver_class())

    def on_mount(self) -> None:
        """Remember theme changes and show the main screen (or the first-run screen)."""
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch_interval, SWITCH_INTERVAL))
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        self.set_interval(SWEEP_SECONDS, self.sweep_toasts)
        # Textual's and Rich's process-wide caches grew ~20 MiB over the first 40 minutes of a
        # broadcast before reaching their caps; emptied every minute they stay small.
        self.set_interval(TRIM_SECONDS, trim_render_caches)
        if self.source is None:
            from asrtui.ui.screens.profiles import FirstRunScreen

            self.push_screen(FirstRunScreen(self.connector))
        else:
            first, self._first_answer = self._first_answer, None
            self.push_screen(MainScreen(self.source, self.settings, first_answer=first))

    async def on_event(self, event: events.Event) -> None:
        """Keys and pastes from the terminal go through the type-ahead gate, in order.

        Handed to the focused widget only once the key before them has settled (see
        `asrtui.ui.typeahead`), so a form typed at full speed fills each field.
        """
        if isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded:
            self._keys.put(event)
            return
        await super().on_event(event)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
        key: str | None = None,
    ) -> None:
        """Raise a toast; with ``key``, it replaces the live toast of the same key.

        One toast per subject (the refresh interval, the tasks that ended...) instead of a
        stack of them over the screen (see `asrtui.ui.notices`).
        """
        if key is None:
            super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)
            return
        old = self._keyed.pop(key, None)
        if old is not None and old in self._notifications:
            self._unnotify(old, refresh=False)
        if timeout is None:
            timeout = self.NOTIFICATION_TIMEOUT
        notification = Notification(message, title, severity, timeout, markup=markup)
        self._keyed[key] = notification
        self.post_message(Notify(notification))

    def _on_notify(self, event: Notify) -> None:
        """Show a notification, dropping the oldest beyond `MAX_TOASTS` (never a stack).

        What they said is in the event log; a screen full of toasts hides the tasks.
        """
        live = list(self._notifications)
        for old in live[: max(0, len(live) - MAX_TOASTS + 1)]:
            self._unnotify(old, refresh=False)
        super()._on_notify(event)

    def exit(
        self, result: int | None = None, return_code: int = 0, message: RenderableType | None = None
    ) -> None:
        """End the app (``q``, a signal), after saving the view changed since the last tick.

        The write runs in a thread (`asrtui.ui.remembered_writer`); it is waited for here, so
        the last change is on disk before the process ends.
        """
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                screen.memory.save(screen)
                screen.memory.flush()
        super().exit(result, return_code, message)

    def on_unmount(self) -> None:
        """Drop keys still queued, give back the lock's switch interval: the app is ending."""
        self._keys.close()
        sys.setswitchinterval(self._switch_interval)

    async def keys_settled(self) -> None:
        """Return once every key received so far has been handed out and has settled."""
        await self._keys.idle()

    async def _press_keys(self, keys: Iterable[str]) -> None:
        """Pilot's key presses (tests) return once the gate has handed every key out."""
        await super()._press_keys(keys)
        await self._keys.idle()

    def sweep_toasts(self) -> int:
        """Remove the empty toast holders Textual leaves behind (see `asrtui.ui.toasts`).

        Run every `SWEEP_SECONDS`: without it, a console notifying on every refresh gathered
        hundreds of them an hour, growing in memory and in CPU use.

        Returns:
            How many holders were removed.
        """
        return self._toasts.sweep(self.screen_stack)

    def _fatal_error(self) -> None:
        """Exit after an unhandled exception without Textual's traceback on the terminal.

        Textual prints a traceback with local variables, which could hold credentials; the
        composition root writes a redacted crash report instead and prints its path.
        """
        self._close_messages_no_wait()

    @property
    def crash(self) -> BaseException | None:
        """The unhandled exception that ended the app, if any."""
        return self._exception

    def _remember_theme(self, theme: Theme) -> None:
        try:
            save_theme(self.settings.state_path, theme.name)
        except OSError as error:
            reason = error.strerror or type(error).__name__
            self.notify(f"Could not remember the theme: {reason}", severity="warning", markup=False)

    # ------------------------------------------------------------------ profiles

    @on(MainScreen.ProfilesRequested)
    def _profiles_requested(self) -> None:
        self.action_profiles()

    def action_profiles(self) -> None:
        """Open the profile switcher."""
        if self.connector is None:
            self.notify("This session cannot switch profiles.", severity="warning")
            return
        from asrtui.ui.screens.profiles import ProfileSwitcher

        self.push_screen(ProfileSwitcher(self.connector), self._profile_chosen)

    def _profile_chosen(self, key: str | None) -> None:
        if key is not None:
            self.switch_profile(key)

    def on_switch_requested(self, message: SwitchRequested) -> None:
        """The first-run screen chose a profile (by name: its module loads when first shown)."""
        self.switch_profile(message.key)

    @work(group="profile", exit_on_error=False)
    async def switch_profile(self, key: str) -> None:
        """Open the profile ``key`` and show it; on failure the current profile stays."""
        connector = self.connector
        if connector is None:
            return
        if self._switching:
            self.notify("A profile is being opened; wait for it.", severity="warning")
            return
        self._switching = True
        try:
            try:
                session = await connector.open(key)
            except AsrtuiError as error:
                current = self.source.profile_name if self.source is not None else ""
                stays = f"\nStill using profile {current}." if current else ""
                self.notify(
                    f"{error}{stays}",
                    title="Could not open the profile",
                    severity="error",
                    markup=False,
                    timeout=10,
                )
                return
            await self._show_session(session)
            await connector.activate(session)
        finally:
            self._switching = False
        source = session.source
        self.notify(f"Now using profile {source.profile_name} in {source.region}.", markup=False)

    async def _show_session(self, session: ProfileSession) -> None:
        """Replace the main screen (and any dialog above it) with one on ``session``."""
        self.source = session.source
        old = self.settings.recorder
        if old is not None:
            old.acted("profile_switch", note=f"to {session.source.profile_name}")
            old.close()
        make = self._base_settings.new_recorder
        self.settings = replace(
            self._base_settings,
            recorder=make(session) if make else None,
            refresh_interval=session.settings.refresh,
            read_only=session.read_only,
            # The demo remembers nothing, and does not ring.
            state_path=None if session.demo else self._base_settings.state_path,
            bell=False if session.demo else self._base_settings.bell,
        )
        screen = MainScreen(session.source, self.settings)
        while len(self.screen_stack) > 2:
            await self.pop_screen()
        if len(self.screen_stack) == 2:
            # Removing the old screen cancels its refresh and detail workers.
            await self.switch_screen(screen)
        else:
            await self.push_screen(screen)

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        """A bug in switching is reported, and the console keeps running."""
        worker = event.worker
        if worker.group != "profile" or event.state is not WorkerState.ERROR:
            return
        self._switching = False
        error = worker.error
        message = redact_text(f"Internal error while switching: {type(error).__name__}: {error}")
        self.notify(message, title="Bug", severity="error", markup=False)


async def run_console_async(
    source: TaskSource | None,
    settings: ConsoleSettings,
    *,
    connector: Connector | None = None,
    first_answer: FirstAnswer | None = None,
) -> int:
    """Run the console in the running event loop (so the source's client can share it).

    Args:
        source: the task source, ``None`` for the first-run screen.
        settings: the console settings.
        connector: opens profiles for the switcher.
        first_answer: the first `list_tasks` of ``source``, asked while the console starts.

    Returns:
        The process exit code: 0 after a normal quit.
    """
    app = AsrtuiApp(source, settings, connector=connector, first_answer=first_answer)
    # SIGHUP (the SSH link dropping) and SIGTERM end the app like `q`: terminal restored.
    with exit_signals(app):
        await app.run_async()
    if app.crash is not None:
        raise app.crash
    return app.return_code or 0
