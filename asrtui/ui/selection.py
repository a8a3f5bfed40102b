"""Marked tasks: which tasks the operator picked for stop, delete, copy and export together.

Pure Python (no Textual), kept by the task table (`asrtui.ui.widgets.task_table`). A mark
belongs to a task id, not to a row position, so it survives refreshes, re-sorts and filters;
the table drops the marks of tasks whose rows leave it (`Marks.keep_only`), so a mark never
outlives what the operator could see.

`name_ids` is how a batch names its tasks, in a confirmation ("Stop 3 tasks: a, b, c?") and
in the toast that answers a copy.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence

from asrtui.printable import printable_line

__all__ = ["FIRST_IDS", "Marks", "count_tasks", "name_ids"]

#: How many ids a confirmation or a toast names before "and N more".
FIRST_IDS = 3


class Marks:
    """The marked task ids, in the order they were marked."""

    __slots__ = ("_ids",)

    def __init__(self) -> None:
        # A dict as an ordered set: marking order is kept, membership is O(1).
        self._ids: dict[str, None] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, task_id: object) -> bool:
        return task_id in self._ids

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def toggle(self, task_id: str) -> bool:
        """Mark the task, or unmark it if it was; returns whether it is marked now."""
        if task_id in self._ids:
            del self._ids[task_id]
            return False
        self._ids[task_id] = None
        return True

    def add_all(self, task_ids: Iterable[str]) -> int:
        """Mark every task given; returns how many were not marked before."""
        before = len(self._ids)
        self._ids.update(dict.fromkeys(task_ids))
        return len(self._ids) - before

    def discard(self, task_ids: Iterable[str]) -> int:
        """Unmark the tasks given (those marked); returns how many were."""
        removed = 0
        for task_id in task_ids:
            if self._ids.pop(task_id, 0) is None:
                removed += 1
        return removed

    def clear(self) -> int:
        """Unmark everything; returns how many were marked."""
        count = len(self._ids)
        self._ids.clear()
        return count

    def keep_only(self, present: Collection[str]) -> int:
        """Drop the marks of tasks not in ``present`` (rows that left); returns how many."""
        gone = [task_id for task_id in self._ids if task_id not in present]
        for task_id in gone:
            del self._ids[task_id]
        return len(gone)


def count_tasks(count: int) -> str:
    """``1 task``, ``3 tasks``."""
    return f"{count} task" if count == 1 else f"{count} tasks"


def name_ids(task_ids: Sequence[str], first: int = FIRST_IDS) -> str:
    """The first ids, then how many more: ``a, b, c`` or ``a, b, c and 4 more``.

    Ids come from the server: each is made printable (a control character would drive the
    terminal the name is shown on).
    """
    shown = ", ".join(printable_line(task_id) for task_id in task_ids[:first])
    rest = len(task_ids) - first
    return f"{shown} and {rest} more" if rest > 0 else shown
