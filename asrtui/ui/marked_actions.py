"""The operator's actions on the marked tasks: stop, delete, copy, and what an export names.

The main screen hands an action here when tasks are marked in view
(`asrtui.ui.widgets.task_table.TaskTable.marked_rows`), after its own checks (read-only mode
refuses first, as for a single task). Stop and delete ask first, naming the count and the first
ids; the batch (`asrtui.ui.batch`) goes through the screen's source, task by task, so through
the same rate limiter as a single action, and each action is logged and journalled. The tasks
acted on are unmarked; the failed ones stay marked for another try.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from asrtui.printable import printable_line
from asrtui.protocols import TaskSource
from asrtui.ui.broadcast import ScreenRecord
from asrtui.ui.event_feed import EventFeed
from asrtui.ui.notices import Notice
from asrtui.ui.selection import count_tasks, name_ids
from asrtui.ui.taskbook import Row
from asrtui.ui.widgets.task_table import TaskTable

if TYPE_CHECKING:
    # The batch runner loads with the first stop or delete of marked tasks (start-up time).
    from asrtui.ui.batch import BatchKind, BatchPlan

__all__ = ["CopyKind", "MarkedActions", "MarkingScreen"]

#: What a copy key copies.
CopyKind = Literal["id", "url", "json"]

_COPIED = {"id": "task ids", "url": "stream URLs", "json": "tasks as JSON"}


class MarkingScreen(Protocol):
    """What `MarkedActions` uses of the main screen."""

    @property
    def table(self) -> TaskTable: ...

    @property
    def revealed(self) -> bool: ...

    @property
    def feed(self) -> EventFeed: ...

    @property
    def record(self) -> ScreenRecord: ...

    @property
    def app(self) -> Any: ...

    def run_worker(self, work: Any, *, group: str = ..., exit_on_error: bool = ...) -> Any: ...


class MarkedActions:
    """Stop, delete and copy the marked tasks of one screen.

    Args:
        screen: the main screen: its table holds the marks, its record journals.
        source: where the actions go (the screen's, so through its limiter).
        clock: the wall clock of the event log.
        notice: how the screen answers (toast and bell, as its level says).
        refresh: asks the screen for a refresh once tasks were acted on.
    """

    def __init__(
        self,
        screen: MarkingScreen,
        *,
        source: TaskSource,
        clock: Callable[[], datetime],
        notice: Callable[[Notice], None],
        refresh: Callable[[], object],
    ) -> None:
        self._screen = screen
        self._source = source
        self._clock = clock
        self._notice = notice
        self._refresh = refresh

    def rows(self) -> list[Row]:
        """The marked rows in view, in view order (empty: the action is a single one)."""
        return self._screen.table.marked_rows()

    def export_title(self, rows: Sequence[Row]) -> str:
        """What the export dialog says it writes: ``3 marked tasks: a, b, c``."""
        return f"{count_tasks(len(rows)).replace(' ', ' marked ', 1)}: {name_ids(_ids(rows))}"

    def copy(self, kind: CopyKind, rows: Sequence[Row]) -> None:
        """Copy the ids, stream URLs or JSON of ``rows`` (as the screen shows them)."""
        # The export's module (CSV and JSON writers) and the clipboard texts' are loaded with
        # the first copy (start-up time).
        from asrtui.ui import clipboard
        from asrtui.ui.export import as_shown

        screen = self._screen
        revealed = screen.revealed
        tasks = [as_shown(row) for row in rows]
        if kind == "id":
            text = clipboard.task_ids(tasks, revealed=revealed)
        elif kind == "url":
            text = clipboard.stream_urls(tasks, revealed=revealed)
        else:
            text = clipboard.tasks_json(tasks, revealed=revealed)
        screen.app.copy_to_clipboard(text)
        masked = "" if revealed or kind == "id" else " (secrets masked; v reveals)"
        message = f"Copied the {_COPIED[kind]} of {count_tasks(len(rows))}{masked}:"
        self._notice(Notice("action", f"{message} {name_ids(_ids(rows))}.", key="copy"))

    def confirm(self, kind: BatchKind, rows: Sequence[Row]) -> None:
        """Ask "Stop 3 tasks: a, b, c?", then act on each; refuse when nothing is left to do."""
        from asrtui.ui.batch import plan_batch

        plan = plan_batch(kind, rows)
        screen = self._screen
        if not plan.task_ids:
            self._notice(
                Notice(
                    "error",
                    f"None of the {count_tasks(len(rows))} marked is running: nothing to stop"
                    f" ({name_ids(plan.skipped)}).",
                    severity="warning",
                    key="refused",
                )
            )
            return

        def answered(yes: bool | None) -> None:
            if yes:
                screen.run_worker(self._run(plan), group="action", exit_on_error=False)

        from asrtui.ui.dialogs import ConfirmDialog

        screen.app.push_screen(
            ConfirmDialog(plan.title, plan.question, kind.capitalize()), answered
        )

    async def _run(self, plan: BatchPlan) -> None:
        screen = self._screen
        kind = plan.kind
        source = self._source
        act = source.stop_task if kind == "stop" else source.delete_task
        done = "stopped" if kind == "stop" else "deleted"

        def each(task_id: str, error: str | None) -> None:
            shown = printable_line(task_id)
            now = self._clock()
            if error is None:
                screen.feed.note(now, "action", f"{shown} {done}")
                screen.record.acted(kind, task_id=task_id)
            else:
                screen.feed.note(now, "error", f"{kind} {shown} failed: {error}")
                screen.record.acted(kind, task_id=task_id, ok=False, note=error)

        from asrtui.ui.batch import run_batch

        result = await run_batch(kind, plan.task_ids, act, each)
        screen.table.unmark(result.done)
        if result.failed:
            self._notice(Notice("error", result.summary, f"Could not {kind} every task", "error"))
        else:
            self._notice(Notice("action", result.summary, key="batch"))
        if result.done:
            self._refresh()


def _ids(rows: Sequence[Row]) -> list[str]:
    return [row.task_id for row in rows]
