"""What the event log shows, kept until its panel is mounted.

The event log panel is hidden until the operator opens it, and its `RichLog` alone brings in
``rich.pretty`` and ``attrs``: it is not part of the first frame. Until it is mounted, the feed
keeps the last `EVENT_LOG_SIZE` notes and task events, and hands them over in order when the
panel arrives. Every note passes the one masking rule (`asrtui.redact.redact_text`) here,
whatever it quotes, whether the panel is mounted yet or not.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import TYPE_CHECKING

from asrtui.redact import redact_text
from asrtui.ui.taskbook import EVENT_LOG_SIZE, TaskEvent

if TYPE_CHECKING:
    from asrtui.ui.widgets.event_log import EventLog, NoteKind

__all__ = ["EventFeed"]


class EventFeed:
    """Notes and task events for the event log, buffered while the panel is not mounted."""

    def __init__(self) -> None:
        self._log: EventLog | None = None
        self._pending: deque[TaskEvent | tuple[datetime, NoteKind, str]] = deque(
            maxlen=EVENT_LOG_SIZE
        )

    @property
    def log(self) -> EventLog | None:
        """The panel the feed writes to, once attached."""
        return self._log

    @property
    def pending(self) -> int:
        """How many notes and events wait for the panel."""
        return len(self._pending)

    def note(self, at: datetime, kind: NoteKind, text: str) -> None:
        """Log a note (masked here, whatever it quotes)."""
        text = redact_text(text)
        if self._log is None:
            self._pending.append((at, kind, text))
        else:
            self._log.add_note(at, kind, text)

    def event(self, event: TaskEvent) -> None:
        """Log a task event (started, ended, changed...)."""
        if self._log is None:
            self._pending.append(event)
        else:
            self._log.add_task_event(event)

    def attach(self, log: EventLog) -> None:
        """Write to ``log`` from now on, after what was kept for it, in order."""
        for item in self._pending:
            if isinstance(item, TaskEvent):
                log.add_task_event(item)
            else:
                log.add_note(*item)
        self._pending.clear()
        self._log = log
