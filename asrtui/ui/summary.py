"""The status line's summary of the tasks: how many run, how many ended, how many just changed.

The table shows rows; an operator watching a broadcast wants the totals at a glance without
counting dimmed lines. The counts are taken when the rows change (an answer, ended rows
leaving), not every second: the status line's tick reads the last `TaskSummary` as is, so a
100,000-task account costs one pass per answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from asrtui.ui.taskbook import Row, TaskEvent

__all__ = ["TaskSummary", "summarize"]


@dataclass(frozen=True, slots=True)
class TaskSummary:
    """What the status line's summary says.

    Attributes:
        running: listed tasks whose status is running.
        ended: rows shown as ended (dimmed): the task left the list, its row lingers.
        changed: tasks that started, ended, returned or changed in the last answer (one task
            counts once however many of its fields changed).
    """

    running: int = 0
    ended: int = 0
    changed: int = 0


def summarize(
    rows: Sequence[Row], events: Iterable[TaskEvent] | None = None, *, changed: int = 0
) -> TaskSummary:
    """Count the rows, and the tasks ``events`` name.

    Args:
        rows: every row of the book (`TaskBook.rows`), before the filter: the summary is
            about the account, the count beside it about the view.
        events: the last answer's events.
        changed: the count of changed tasks to keep when there are no new ``events`` (rows
            left between two answers: the last answer's changes still stand).
    """
    running = ended = 0
    for row in rows:
        if row.ended_at is not None:
            ended += 1
        elif row.task.is_running:
            running += 1
    if events is not None:
        changed = len({event.task_id for event in events})
    return TaskSummary(running, ended, changed)
