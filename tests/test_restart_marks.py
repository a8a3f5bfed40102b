"""The "restarted here" mark in each running task's history, made when the history is.

A restarted console used to give each task the journal left running a history holding only
that mark: a deque per task, ~60 MB at 100,000 tasks. The book now keeps the mark once
(`RestartMark`) and puts it in a task's history when that history is made or asked for.
`_EagerBook` is the book as it was (every mark put in at `recall`); random answers, prunes and
recalls go through both, and every task's history must match.
"""

from __future__ import annotations

import dataclasses
import tracemalloc
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from asrtui.models import Task
from asrtui.ui.taskbook import HISTORY_SIZE, RestartMark, TaskBook, TaskEvent
from tests.support.book_steps import ANSWER, IDS, POOL, START

#: Ids the journal may know that no answer lists (tasks that ended while no console ran).
GONE = ("asr-x", "asr-y")
MARK = "── restarted ──"
OLD = TaskEvent(START - timedelta(hours=1), "changed", "", "earlier")


class _EagerBook(TaskBook):
    """The book as it was: the mark put in the history of every running task at `recall`."""

    def recall(
        self, history: dict[str, list[TaskEvent]], restart: RestartMark | None = None
    ) -> None:
        if restart is None:
            super().recall(history)
            return
        marked = {task_id: list(events) for task_id, events in history.items()}
        for task_id in restart.running:
            marked.setdefault(task_id, []).append(restart.event(task_id))
        super().recall(marked)


_step = st.tuples(
    st.one_of(ANSWER.map(lambda answer: ("answer", answer)), st.just(("prune", []))),
    st.integers(0, 40),  # seconds to the step (rows linger 60 s)
)


def _run(books: tuple[TaskBook, ...], steps: list[tuple[tuple[str, list[Task]], int]]) -> None:
    for (what, answer), seconds in steps:
        for book in books:
            now = book.now + timedelta(seconds=seconds)  # type: ignore[attr-defined]
            book.now = now  # type: ignore[attr-defined]
            if what == "answer":
                book.update(answer, now)
            else:
                book.prune(now)


@settings(max_examples=400, deadline=None)
@given(
    first=ANSWER,
    before=st.lists(_step, max_size=4),
    recalled=st.lists(st.sampled_from(IDS + GONE), max_size=3, unique=True),
    running=st.sets(st.sampled_from(IDS + GONE)),
    after=st.lists(_step, max_size=8),
)
def test_every_history_is_as_when_each_mark_was_put_in_at_recall(
    first: list[Task],
    before: list[tuple[tuple[str, list[Task]], int]],
    recalled: list[str],
    running: set[str],
    after: list[tuple[tuple[str, list[Task]], int]],
) -> None:
    # As the console does: the first answer, maybe more, then the journal's recall.
    books = (TaskBook(linger=60, new_for=30), _EagerBook(linger=60, new_for=30))
    restart = RestartMark(START + timedelta(seconds=1), MARK, frozenset(running))
    for book in books:
        book.now = START  # type: ignore[attr-defined]
        book.update(first, START)
    _run(books, before)
    for book in books:
        book.recall({i: [dataclasses.replace(OLD, task_id=i)] for i in recalled}, restart)
        for task_id in IDS + GONE:  # asking for a history makes nothing
            book.history(task_id)
    _run(books, after)
    for task_id in IDS + GONE:
        assert books[0].history(task_id) == books[1].history(task_id), task_id


def test_the_mark_follows_the_journal_events_and_precedes_the_session_s() -> None:
    book = TaskBook()
    book.update([POOL["asr-a"][0], POOL["asr-b"][0]], START)
    restart = RestartMark(START, MARK, {"asr-a", "asr-b", "asr-x"})
    book.recall({"asr-a": [dataclasses.replace(OLD, task_id="asr-a")]}, restart)
    book.update([POOL["asr-a"][1], POOL["asr-b"][1]], START + timedelta(seconds=5))
    assert [e.detail for e in book.history("asr-a")][:3] == [
        "earlier",
        MARK,
        "running at session start",
    ]
    assert [e.detail for e in book.history("asr-b")][:2] == [MARK, "running at session start"]
    assert book.history("asr-b")[2].kind == "changed"
    assert [e.detail for e in book.history("asr-x")] == [MARK]  # ended while away
    assert [e.detail for e in book.history("asr-c")] == []  # never seen


def test_a_recall_before_the_first_answer_keeps_the_start_event() -> None:
    # The journal is read after 30 s even when no answer came: the first answer's tasks then
    # still get their "running at session start" event after the mark.
    book = TaskBook()
    book.recall({}, RestartMark(START, MARK, {"asr-a"}))
    book.update([POOL["asr-a"][0]], START + timedelta(seconds=40))
    assert [e.detail for e in book.history("asr-a")] == [MARK, "running at session start"]


def test_a_task_whose_row_left_loses_its_mark_with_its_history() -> None:
    book = TaskBook(linger=10)
    book.update([POOL["asr-a"][0]], START)
    book.recall({}, RestartMark(START, MARK, {"asr-a"}))
    book.update([], START + timedelta(seconds=1))  # ended: its history is made, marked
    assert book.history("asr-a")[0].detail == MARK
    book.prune(START + timedelta(seconds=30))  # the ended row leaves, and its history
    book.update([POOL["asr-a"][0]], START + timedelta(seconds=31))  # back: no mark now
    assert MARK not in [e.detail for e in book.history("asr-a")]


def test_the_history_is_bounded_with_the_mark_in() -> None:
    book = TaskBook()
    book.update([POOL["asr-a"][0]], START)
    old = [dataclasses.replace(OLD, task_id="asr-a") for _ in range(HISTORY_SIZE)]
    book.recall({"asr-a": old}, RestartMark(START, MARK, {"asr-a"}))
    history = book.history("asr-a")
    assert len(history) == HISTORY_SIZE
    assert history[-2].detail == MARK  # the oldest journal events make way


def _task_id(n: int) -> str:
    """A task id as long as the service's (a prefix and 32 hex digits)."""
    return f"asr-{n:032x}"


def test_a_restart_on_many_running_tasks_keeps_no_history_per_task() -> None:
    tasks = [Task(_task_id(n)) for n in range(20_000)]
    book = TaskBook()
    book.update(tasks, START)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        # The journal's ids are strings of their own, read from its lines.
        running = {_task_id(n) for n in range(20_000)}
        book.recall({}, RestartMark(START, MARK, running))
        del running
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # What is kept: a set of the ids (the rows' own strings), ~105 bytes a task. A deque and
    # an event per task were ~700; the journal's strings kept, ~140, and its set too, ~300.
    per_task = grown / len(tasks)
    assert per_task < 125, f"{per_task:.0f} bytes per running task"
    assert book.history(tasks[7].task_id)[0].detail == MARK
