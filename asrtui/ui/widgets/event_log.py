"""The event log panel: task starts, ends and changes, refresh errors and recoveries."""

from __future__ import annotations

from collections import deque
from datetime import datetime, tzinfo
from typing import Literal

from rich.text import Text
from textual.widgets import RichLog

from asrtui.printable import printable_line
from asrtui.ui.durations import format_clock_time
from asrtui.ui.taskbook import TaskEvent

#: Kinds of lines the log shows besides task events.
NoteKind = Literal["error", "recovered", "action", "info"]

_STYLES: dict[str, str] = {
    "started": "green",
    "returned": "green",
    "ended": "yellow",
    "changed": "cyan",
    "error": "bold red",
    "recovered": "bold green",
    "action": "magenta",
    "info": "",
}

#: Lines kept; older ones scroll away.
MAX_LINES = 1000


class EventLog(RichLog):
    """A scrolling log of what happened this session, newest at the bottom.

    Args:
        tz: the zone times are shown in; ``None`` for this host's local zone.
    """

    DEFAULT_CSS = """
    EventLog {
        height: 8;
        border-top: solid $primary;
        background: $surface;
    }
    """

    def __init__(self, *, tz: tzinfo | None = None, id: str | None = None) -> None:
        super().__init__(max_lines=MAX_LINES, wrap=True, markup=False, highlight=False, id=id)
        self._tz = tz
        self.entries: deque[Text] = deque(maxlen=MAX_LINES)
        """The lines of the session (the newest `MAX_LINES`), kept while the panel is hidden."""

    def _line(self, at: datetime, kind: str, subject: str, detail: str) -> Text:
        stamp = format_clock_time(at, self._tz)
        text = Text.assemble(
            (stamp, "dim"),
            " ",
            (f"{kind:<9}", _STYLES.get(kind, "")),
            " ",
            (printable_line(subject), "bold"),
        )
        if detail:
            text.append(f"  {printable_line(detail)}")
        return text

    def _add(self, line: Text) -> None:
        self.entries.append(line)
        # A hidden RichLog queues writes without bound; over a six-hour session a hidden panel
        # must not, so lines wait in the bounded `entries` until the panel is shown.
        if self.display:
            self.write(line)

    def on_show(self) -> None:
        """Render the kept lines when the panel appears."""
        self.clear()
        for line in self.entries:
            self.write(line)

    def add_task_event(self, event: TaskEvent) -> None:
        """Log one `TaskEvent` (its detail never holds secrets)."""
        self._add(self._line(event.at, event.kind, event.task_id, event.detail))

    def add_note(self, at: datetime, kind: NoteKind, text: str) -> None:
        """Log an error, a recovery or an operator action; ``text`` is shown as plain text."""
        self._add(self._line(at, kind, text, ""))
