"""The status line's summary counts, kept from events, always equal a count of every row."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from asrtui.ui.summary import TaskCounter, TaskSummary, summarize
from asrtui.ui.taskbook import TaskBook
from tests.support.clock import T0
from tests.support.fakes import make_task

TASKS = [make_task(number) for number in range(8)]

# One step: an answer listing some tasks (each with a status), after some seconds; or a prune.
ANSWER = st.tuples(
    st.just("answer"),
    st.integers(0, 40),
    st.dictionaries(st.integers(0, 7), st.sampled_from([1, 1, 2, 3, "1", None]), max_size=8),
)
PRUNE = st.tuples(st.just("prune"), st.integers(0, 90), st.just({}))


@settings(max_examples=200)
@given(steps=st.lists(ANSWER | PRUNE, max_size=25))
def test_counts_kept_from_events_equal_a_full_count(steps: list[tuple[str, int, dict]]) -> None:
    book = TaskBook(linger=60.0)
    counter = TaskCounter()
    now = T0
    for kind, seconds, listed in steps:
        now += timedelta(seconds=seconds)
        if kind == "prune":
            if counter.summary is None:
                continue
            book.prune(now)
            kept = counter.pruned(book)
            assert kept == replace(summarize(book.rows()), changed=kept.changed)
            continue
        tasks = [replace(TASKS[n], status=status) for n, status in listed.items()]
        events = book.update(tasks, now)
        assert counter.answered(book, events) == summarize(book.rows(), events)


def test_the_first_answer_is_counted_row_by_row() -> None:
    book = TaskBook()
    counter = TaskCounter()
    tasks = [replace(TASKS[0], status=3), *TASKS[1:4]]
    assert counter.answered(book, book.update(tasks, T0)) == TaskSummary(3, 0, 0)
    # Two end, one starts, one stops running: four tasks changed.
    tasks = [replace(TASKS[1], status=2), TASKS[3], TASKS[5]]
    events = book.update(tasks, T0 + timedelta(seconds=5))
    assert counter.answered(book, events) == TaskSummary(2, 2, 4)
    # The ended rows leave after their minute, with no answer.
    book.prune(T0 + timedelta(seconds=70))
    assert counter.pruned(book) == TaskSummary(2, 0, 4)
