"""The main screen's view, remembered per profile: restored at mount, saved on change.

The record and its file are `asrtui.ui.remembered`; this module reads the screen into a
`Remembered` and applies one back. Saving is polled, not wired into every key: the screen's
1 Hz tick (and a dialog opening, and the screen closing) compares the view with what was last
written and writes only a change. So every way of changing the view (keys, the palette, a
header click, a column choice) is remembered without each one saying so, and a burst of ``+``
presses costs one write. The write itself runs in a thread (`asrtui.ui.remembered_writer`): the
loop only hands the value over, and hears back what the write found.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from textual.css.query import NoMatches
from textual.widget import Widget

from asrtui.printable import printable_line
from asrtui.ui.notices import NoticeLevel
from asrtui.ui.refresh import RefreshSchedule
from asrtui.ui.remembered import Remembered, RememberedStore
from asrtui.ui.remembered_writer import WRITER, Outcome, RememberedWriter
from asrtui.ui.settings import clamp_interval
from asrtui.ui.widgets.task_table import DEFAULT_CHOICE, ColumnChoice, TaskTable

__all__ = ["RememberedScreen", "ViewMemory"]


class RememberedScreen(Protocol):
    """What of the main screen is remembered (`asrtui.ui.screens.main.MainScreen`)."""

    schedule: RefreshSchedule
    notice_level: NoticeLevel
    bell_enabled: bool

    @property
    def table(self) -> TaskTable: ...

    @property
    def maximized(self) -> Widget | None: ...

    def has_class(self, *class_names: str) -> bool: ...

    def set_class(self, add: bool, *class_names: str, update: bool = True) -> object: ...

    @property
    def event_log(self) -> Widget: ...

    def add_class(self, *class_names: str, update: bool = True) -> object: ...

    def maximize(self, widget: Widget, container: bool = True) -> object: ...

    def apply_column_choice(self, choice: ColumnChoice) -> None: ...


class ViewMemory:
    """One main screen's remembered view.

    Args:
        store: the file (a store with no path remembers nothing: the demo).
        profile: the profile the screen shows, the record's key.
        profile_interval: the profile's own refresh interval.
        note: writes a line to the event log (problems with the file, what was restored).
        writer: the thread that writes (the process's one, so every profile's writes keep
            their order).
    """

    def __init__(
        self,
        store: RememberedStore,
        profile: str,
        profile_interval: float,
        note: Callable[[str, bool], None],
        writer: RememberedWriter = WRITER,
    ) -> None:
        self._store = store
        self._writer = writer
        self._profile = profile
        self._name = printable_line(profile)
        self._base = clamp_interval(profile_interval)
        self._note = note
        # A write still on its way (this profile's, left a moment ago) is read back, not missed.
        writer.flush()
        loaded = store.load(profile)
        self.loaded = loaded.value
        """The record as read when the screen was made."""
        self._problems = list(loaded.problems)
        # A damaged record is written back cleaned by the first save (the mount's tick), so
        # the damage is said once.
        self._saved: Remembered | None = None if self._problems else loaded.value
        self._write_failed = False

    @property
    def enabled(self) -> bool:
        """Whether anything is read or written (not in the demo)."""
        return self._store.path is not None

    def interval(self) -> float:
        """The interval to start with: the remembered one, unless the profile's own changed."""
        value = self.loaded
        if value.interval is not None and value.interval_base == self._base:
            return value.interval
        return self._base

    def restore(self, screen: RememberedScreen) -> None:
        """Apply the remembered view to ``screen`` (its interval was applied when it was made).

        The event log names what differs from the defaults, so an operator who finds the
        table sorted or silenced knows why.
        """
        for problem in self._problems:
            self._note(problem, True)
        value = self.loaded
        was = self.capture(screen)
        table = screen.table
        applied: list[str] = []
        if self.interval() != self._base:
            applied.append(f"refresh every {self.interval():g} s")
        if value.notices is not None and value.notices != was.notices:
            screen.notice_level = value.notices
            applied.append(f"toasts {value.notices}")
        if value.bell is not None and value.bell != was.bell:
            screen.bell_enabled = value.bell
            applied.append("bell on" if value.bell else "bell off")
        if value.columns is not None:
            try:
                choice = ColumnChoice.from_json(value.columns)
            except ValueError as error:
                self._note(f"Remembered columns of profile {self._name} set aside: {error}", True)
            else:
                if choice != table.column_choice:
                    screen.apply_column_choice(choice)
                    applied.append("columns")
        sort = (value.sort, bool(value.sort_reverse))
        if value.sort is not None and sort != (was.sort, was.sort_reverse):
            table.sort_by(value.sort, reverse=sort[1])
            applied.append(f"sorted by {value.sort}{' (descending)' if sort[1] else ''}")
        if value.hide_ended is not None and value.hide_ended != was.hide_ended:
            table.set_hide_ended(value.hide_ended)
            applied.append("ended hidden" if value.hide_ended else "ended shown")
        if value.detail is not None and value.detail != was.detail:
            screen.set_class(not value.detail, "-no-detail")
            applied.append("detail shown" if value.detail else "detail hidden")
        if value.events and not was.events:
            screen.event_log  # noqa: B018 (mounts the panel)
            screen.add_class("-events")
            applied.append("events shown")
        if value.maximized and not was.maximized:
            screen.maximize(table, container=False)
            applied.append("table maximised")
        if applied:
            self._note(f"Remembered view of profile {self._name}: {', '.join(applied)}", False)

    def capture(self, screen: RememberedScreen) -> Remembered:
        """The screen's view now."""
        table = screen.table
        return Remembered(
            interval=screen.schedule.interval,
            interval_base=self._base,
            notices=screen.notice_level,
            bell=screen.bell_enabled,
            sort=table.sort_column,
            sort_reverse=table.sort_reverse,
            columns=None
            if table.column_choice == DEFAULT_CHOICE
            else table.column_choice.to_json(),
            detail=not screen.has_class("-no-detail"),
            events=screen.has_class("-events"),
            maximized=screen.maximized is not None,
            hide_ended=table.hide_ended,
        )

    def save(self, screen: RememberedScreen) -> bool:
        """Hand the view to the writer if it changed since the last time; returns whether it did.

        A failed write is said once (until a write succeeds again) and not retried until the
        view changes again; the console goes on either way.
        """
        if not self.enabled:
            return False
        try:
            value = self.capture(screen)
        except NoMatches:
            # The screen is being taken down (its widgets are gone): nothing left to read.
            return False
        if value == self._saved:
            return False
        self._saved = value
        self._writer.put(self._store, self._profile, value, self._written)
        return True

    def flush(self) -> None:
        """Wait until the views handed over so far are written (the app is ending)."""
        self._writer.flush()

    def _written(self, outcome: Outcome) -> None:
        """What a write found, said in the event log (a failure once until one succeeds)."""
        if isinstance(outcome, OSError):
            if not self._write_failed:
                reason = outcome.strerror or type(outcome).__name__
                self._note(
                    f"Could not remember the view of profile {self._name} in"
                    f" {self._store.path}: {reason}; check the state directory",
                    True,
                )
            self._write_failed = True
            return
        self._write_failed = False
        for problem in outcome:
            self._note(problem, True)
