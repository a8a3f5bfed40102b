"""The notification policy: which events raise a toast and ring the bell, and how bursts merge.

A console watched for hours must not bury its own screen: every start, end and ``+``/``-`` used
to raise a toast of its own, and they stacked over the event log, the status line and dialogs.
The policy:

- **Levels**, switched with ``t``: *quiet* toasts errors only; *normal* adds tasks ending, the
  results of the operator's actions and the answers to keys; *verbose* adds tasks starting.
  The event log holds everything whatever the level.
- **The bell** rings for errors (every level) and, except in *quiet*, for tasks ending; only
  when it is on (``b``), and it is off in the demo.
- **One toast per subject**: a notice with a `key` replaces the live toast of the same key, so
  pressing ``+`` five times leaves one "Refresh every 30 s" and a burst of ends one
  "5 tasks ended: a, b, c and 2 more", the ids of every end since its toast was raised.
- **Never over a dialog**: the main screen's notices wait while a dialog is on top of it, and
  are shown (merged by key) when it closes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, Protocol

from asrtui.printable import printable_line

__all__ = [
    "LEVELS",
    "Burst",
    "Kind",
    "Notice",
    "NoticeLevel",
    "Notifier",
    "next_level",
    "rings",
    "shows",
]


class NoticeLevel(StrEnum):
    """How much raises a toast."""

    QUIET = "quiet"
    NORMAL = "normal"
    VERBOSE = "verbose"


LEVELS = (NoticeLevel.QUIET, NoticeLevel.NORMAL, NoticeLevel.VERBOSE)

#: What a notice is about: ``error`` (refresh or action failed, a bug), ``ended`` (tasks
#: ended), ``started`` (tasks started), ``action`` (stop, delete, export, copy, switch),
#: ``answer`` (what a key did: interval, pause, bell, reveal, level).
Kind = Literal["error", "ended", "started", "action", "answer"]

_SHOWN: dict[NoticeLevel, frozenset[str]] = {
    NoticeLevel.QUIET: frozenset({"error"}),
    NoticeLevel.NORMAL: frozenset({"error", "ended", "action", "answer"}),
    NoticeLevel.VERBOSE: frozenset({"error", "ended", "started", "action", "answer"}),
}
_RUNG: dict[NoticeLevel, frozenset[str]] = {
    NoticeLevel.QUIET: frozenset({"error"}),
    NoticeLevel.NORMAL: frozenset({"error", "ended"}),
    NoticeLevel.VERBOSE: frozenset({"error", "ended"}),
}


def shows(level: NoticeLevel, kind: Kind) -> bool:
    """Whether a notice of ``kind`` raises a toast at ``level``."""
    return kind in _SHOWN[level]


def rings(level: NoticeLevel, kind: Kind) -> bool:
    """Whether a notice of ``kind`` rings the bell (when it is on) at ``level``."""
    return kind in _RUNG[level]


def next_level(level: NoticeLevel) -> NoticeLevel:
    """The level after ``level``, round: quiet, normal, verbose, quiet..."""
    return LEVELS[(LEVELS.index(level) + 1) % len(LEVELS)]


@dataclass(frozen=True)
class Notice:
    """One toast to raise: replaces the live toast of the same ``key`` (none: stands alone)."""

    kind: Kind
    message: str
    title: str = ""
    severity: Literal["information", "warning", "error"] = "information"
    key: str | None = None


#: Task ids named in a merged notice; the rest are counted.
NAMED = 3


@dataclass
class Burst:
    """Task starts or ends merged into one notice while its toast is on screen.

    Args:
        kind: ``ended`` or ``started`` (also the verb of the message and the toast's key).
        window: seconds a toast stays (Textual's timeout); events within it join the burst.
    """

    kind: Literal["ended", "started"]
    window: float
    _ids: list[str] = field(default_factory=list)
    _since: float = float("-inf")

    def add(self, task_ids: Iterable[str], now: float) -> Notice | None:
        """Add tasks seen at ``now`` (monotonic); the merged notice, ``None`` for no task."""
        ids = list(task_ids)
        if not ids:
            return None
        if now - self._since > self.window:
            self._ids = []
        self._since = now
        self._ids += ids
        return self.notice()

    def notice(self) -> Notice:
        """The notice for every task in the burst: "3 tasks ended: a, b, c"."""
        count = len(self._ids)
        names = ", ".join(printable_line(task_id) for task_id in self._ids[:NAMED])
        more = f" and {count - NAMED} more" if count > NAMED else ""
        noun = "task" if count == 1 else "tasks"
        return Notice(
            self.kind,
            f"{count} {noun} {self.kind}: {names}{more}",
            severity="warning" if self.kind == "ended" else "information",
            key=self.kind,
        )


class Notifier(Protocol):
    """An app whose ``notify`` takes a ``key``: the live toast of the same key is replaced."""

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: Literal["information", "warning", "error"] = "information",
        timeout: float | None = None,
        markup: bool = True,
        key: str | None = None,
    ) -> None:
        """Raise a toast, replacing the live one of the same ``key``."""
