"""Tasks running at session start keep no set of their ids: their rows tell, as the set did.

A task listed in the first answer has "running at session start" as the first event of its
history, made when asked for. The book used to keep a set of those tasks' ids (4 MB at 100,000
tasks); it now knows them by their rows. `_SetBook` is the book with that set back; random
answers, prunes and journal recalls go through both, and every task's history must match.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from asrtui.models import Task
from asrtui.ui.taskbook import TaskBook, TaskEvent
from tests.support.book_steps import ANSWER, IDS, POOL, START


class _SetBook(TaskBook):
    """The book as it was: the ids of the first answer in a set, each dropped when its task
    got a history of its own or its row left."""

    def __init__(self, **kwargs: float) -> None:
        super().__init__(**kwargs)
        self._at_start: set[str] = set()

    def update(self, tasks: Sequence[Task], now: datetime) -> list[TaskEvent]:
        if not self._baseline_done:
            self._at_start = {task.task_id for task in tasks}
        return super().update(tasks, now)

    def _running_at_start(self, task_id: str) -> bool:
        return task_id in self._at_start

    def _history_of(self, task_id: str, *, create: bool) -> object:  # type: ignore[override]
        history = super()._history_of(task_id, create=create)
        if create:
            self._at_start.discard(task_id)
        return history

    def _forget(self, task_id: str) -> None:
        super()._forget(task_id)
        self._at_start.discard(task_id)

    def recall(self, history: dict[str, list[TaskEvent]]) -> None:
        super().recall(history)
        self._at_start -= history.keys()


_step = st.tuples(
    st.one_of(
        ANSWER.map(lambda answer: ("answer", answer)),
        st.just(("prune", [])),
        st.lists(st.sampled_from(IDS), max_size=2).map(lambda ids: ("recall", ids)),
    ),
    st.integers(0, 40),  # seconds to the step (rows linger 60 s)
)


@settings(max_examples=300, deadline=None)
@given(recall_first=st.lists(st.sampled_from(IDS), max_size=2), steps=st.lists(_step, max_size=10))
def test_the_start_event_is_where_the_set_put_it(
    recall_first: list[str], steps: list[tuple[tuple[str, list[object]], int]]
) -> None:
    books = (TaskBook(linger=60, new_for=30), _SetBook(linger=60, new_for=30))
    old_event = TaskEvent(START - timedelta(hours=1), "changed", "", "earlier")
    for book in books:
        book.recall({i: [dataclasses.replace(old_event, task_id=i)] for i in recall_first})
    now = START
    for (what, items), seconds in steps:
        now += timedelta(seconds=seconds)
        for book in books:
            if what == "answer":
                book.update(items, now)  # type: ignore[arg-type]
            elif what == "prune":
                book.prune(now)
            else:
                book.recall(
                    {i: [dataclasses.replace(old_event, task_id=i)] for i in items}  # type: ignore[misc]
                )
        for task_id in IDS:
            assert books[0].history(task_id) == books[1].history(task_id), task_id


def test_a_task_of_the_first_answer_has_the_start_event_and_a_new_one_has_not() -> None:
    book = TaskBook()
    book.update([POOL["asr-a"][0]], START)
    book.update([POOL["asr-a"][0], POOL["asr-b"][0]], START)  # the same instant: still new
    assert [e.detail for e in book.history("asr-a")] == ["running at session start"]
    assert [e.kind for e in book.history("asr-b")] == ["started"]
    assert book.history("asr-b")[0].detail != "running at session start"
