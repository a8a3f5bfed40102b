"""Stopping or deleting the marked tasks: the plan, the question, the run and its result.

A batch is a series of single actions, asked one after the other through the same source
(so through the same rate limiter as a single stop), each journalled on its own. A failure on
one task does not stop the others: the result counts what succeeded and what failed, and the
failed tasks stay marked so that the operator can try them again.

Stopping a task the screen shows as ended, or that is not running, would succeed and say
"stopped" when nothing was: `plan_batch` leaves such tasks out and says so in the question.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from asrtui.errors import AsrtuiError
from asrtui.redact import redact_text
from asrtui.ui.selection import count_tasks, name_ids
from asrtui.ui.taskbook import Row

__all__ = ["BatchKind", "BatchPlan", "BatchResult", "plan_batch", "run_batch"]

BatchKind = Literal["stop", "delete"]

_DONE = {"stop": "Stopped", "delete": "Deleted"}


@dataclass(frozen=True)
class BatchPlan:
    """What a batch will act on (``task_ids``) and what it leaves out (``skipped``)."""

    kind: BatchKind
    task_ids: tuple[str, ...]
    skipped: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        """The confirmation's title: ``Stop 3 tasks``."""
        return f"{self.kind.capitalize()} {count_tasks(len(self.task_ids))}"

    @property
    def question(self) -> str:
        """``Stop 3 tasks: a, b, c?`` with what it means, and what is left out."""
        text = f"{self.title}: {name_ids(self.task_ids)}?"
        if self.kind == "delete":
            text += "\nTheir configurations are removed; this cannot be undone."
        else:
            text += "\nRecognition of their streams ends now."
        if self.skipped:
            text += (
                f"\nLeft out, not running: {count_tasks(len(self.skipped))}"
                f" ({name_ids(self.skipped)})."
            )
        return text


def plan_batch(kind: BatchKind, rows: Sequence[Row]) -> BatchPlan:
    """The plan for the marked ``rows`` (in view order): a stop leaves out what is not running."""
    if kind == "delete":
        return BatchPlan(kind, tuple(row.task_id for row in rows))
    act = tuple(row.task_id for row in rows if not row.is_ended and row.task.is_running)
    skipped = tuple(row.task_id for row in rows if row.is_ended or not row.task.is_running)
    return BatchPlan(kind, act, skipped)


@dataclass
class BatchResult:
    """What a batch did: the tasks acted on, and each failure with its (masked) message."""

    kind: BatchKind
    done: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """``Stopped 3 of 4 tasks; 1 failed: a (why).`` or ``Stopped 4 tasks.``"""
        total = len(self.done) + len(self.failed)
        verb = _DONE[self.kind]
        if not self.failed:
            return f"{verb} {count_tasks(total)}."
        first_id, first_error = self.failed[0]
        names = name_ids([task_id for task_id, _ in self.failed])
        return (
            f"{verb} {len(self.done)} of {count_tasks(total)}; {len(self.failed)} failed:"
            f" {names}.\nFirst failure ({name_ids([first_id])}): {first_error}\n"
            "The failed tasks stay marked; the event log has every failure."
        )


async def run_batch(
    kind: BatchKind,
    task_ids: Sequence[str],
    act: Callable[[str], Awaitable[None]],
    each: Callable[[str, str | None], None],
) -> BatchResult:
    """Act on each task in turn; a failure is counted and the batch goes on.

    Args:
        kind: stop or delete.
        task_ids: the tasks, in order.
        act: the single action (the source's ``stop_task`` or ``delete_task``).
        each: told of every task once acted on: its id and ``None``, or the masked error.

    Returns:
        What succeeded and what failed.
    """
    result = BatchResult(kind)
    for task_id in task_ids:
        try:
            await act(task_id)
        except AsrtuiError as error:
            message = redact_text(str(error))
            result.failed.append((task_id, message))
            each(task_id, message)
        else:
            result.done.append(task_id)
            each(task_id, None)
    return result
