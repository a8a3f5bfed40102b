"""A refresh where few tasks changed costs what changed: and it gives what a full rebuild gives.

The task book, the table's row view and the broadcast record each replace the changed rows in
place when an answer lists the same ids in the same order. These tests run random sequences of
answers (same tuple again, one task varied, an equal copy, tasks coming, going, repeating,
reordering) through each of them beside the same object with its in-place path turned off, and
require the same rows, order, cursor and events after every step.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asrtui.models import Task
from asrtui.record import Recorder
from asrtui.ui.taskbook import TaskBook
from asrtui.ui.widgets.task_table.view import RowView

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
IDS = ("asr-a", "asr-b", "asr-c", "asr-d")


def _variants(task_id: str, number: int) -> list[Task]:
    base = Task(
        task_id,
        tag=f"tag-{number % 3}",
        language="en",
        stream_url=f"rtmp://h/app/{task_id}?auth_key=1-0-0-{'a' * 32}",
        created_at=START - timedelta(minutes=number + 1),
    )
    return [
        base,
        dataclasses.replace(base, tag="changed"),
        dataclasses.replace(base, status=2),
        dataclasses.replace(base),  # equal to the first, another object
    ]


POOL = {task_id: _variants(task_id, n) for n, task_id in enumerate(IDS)}

_fresh = st.lists(st.tuples(st.sampled_from(IDS), st.integers(0, 3)), max_size=5)
_steps = st.lists(
    st.tuples(
        st.one_of(
            st.just(("same",)),
            st.tuples(st.just("vary"), st.integers(0, 9), st.integers(0, 3)),
            st.tuples(st.just("new"), _fresh),
        ),
        st.integers(0, 45),  # seconds to the next answer (rows linger 60 s)
        st.booleans(),  # prune on a tick before it
    ),
    min_size=1,
    max_size=12,
)


def _answers(first: list[tuple[str, int]], steps: list[Any]) -> list[tuple[Task, ...]]:
    answer = tuple(POOL[task_id][v] for task_id, v in first)
    out = [answer]
    for step, _, _ in steps:
        if step[0] == "vary" and answer:
            index = step[1] % len(answer)
            task_id = answer[index].task_id
            answer = (*answer[:index], POOL[task_id][step[2]], *answer[index + 1 :])
        elif step[0] == "new":
            answer = tuple(POOL[task_id][v] for task_id, v in step[1])
        out.append(answer)  # "same": the very tuple again
    return out


class _FullBook(TaskBook):
    def _update_in_place(self, tasks: Any, now: datetime) -> None:
        return None


class _FullView(RowView):
    def _replace_in_place(self, rows: Any) -> None:
        return None


class _FullRecorder(Recorder):
    def _diff_in_place(self, tasks: Any, now: datetime) -> None:
        return None


def _rows_of(book: TaskBook) -> list[tuple[Any, ...]]:
    return [(id(r.task), r.first_seen, r.ended_at, r.new_until) for r in book.rows()]


def _view_of(view: RowView) -> list[Any]:
    return [[id(info.row.task) for info in view.view], view.cursor, view.cursor_id]


def _events_of(events: list[Any]) -> list[tuple[Any, ...]]:
    return [(e.kind, e.task_id, e.detail) for e in events]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    first=_fresh,
    steps=_steps,
    column=st.sampled_from(["id", "status", "tag", "uptime", "stream"]),
    reverse=st.booleans(),
    hide_ended=st.booleans(),
    text=st.sampled_from(["", "tag-1", "changed", "!status:running"]),
    cursor=st.integers(0, 6),
)
def test_in_place_updates_match_a_full_rebuild(
    *,
    first: list[tuple[str, int]],
    steps: list[Any],
    column: str,
    reverse: bool,
    hide_ended: bool,
    text: str,
    cursor: int,
) -> None:
    quick_book, full_book = TaskBook(linger=60), _FullBook(linger=60)
    quick_view, full_view = RowView(), _FullView()
    quick_record, full_record = Recorder(None, clock=lambda: START), _FullRecorder(None)
    for recorder in (quick_record, full_record):
        recorder.begin(recorder.load())
    for view in (quick_view, full_view):
        view.sort_by(column, reverse)
        view.set_hide_ended(hide_ended)
        view.apply_filter(text)
    now = START
    for number, answer in enumerate(_answers(first, steps)):
        if number:
            _, seconds, prune = steps[number - 1]
            now += timedelta(seconds=seconds)
            if prune:
                assert quick_book.prune(now) == full_book.prune(now)
        before = list(quick_book.rows())
        quick_events = quick_book.update(answer, now)
        full_events = full_book.update(answer, now)
        # What the heap settler is told: the rows the answer made, the same either way.
        made = [row for row in quick_book.rows() if not any(row is old for old in before)]
        assert quick_book.made == full_book.made == len(made)
        assert _events_of(quick_events) == _events_of(full_events)
        assert _rows_of(quick_book) == _rows_of(full_book)
        assert quick_book.history("asr-a") == full_book.history("asr-a")
        for view, book in ((quick_view, quick_book), (full_view, full_book)):
            view.place_cursor(view.set_rows(book.rows()))
        assert _view_of(quick_view) == _view_of(full_view)
        for view in (quick_view, full_view):
            view.place_cursor(cursor)
        recorded = quick_record.answered(answer, now)
        assert [(e.kind, e.task_id, e.detail) for e in recorded] == [
            (e.kind, e.task_id, e.detail) for e in full_record.answered(answer, now)
        ]


def test_an_unchanged_answer_replaces_nothing() -> None:
    book, view = TaskBook(), RowView()
    answer = tuple(POOL[task_id][0] for task_id in IDS)
    book.update(answer, START)
    view.set_rows(book.rows())
    rows, infos = book.rows(), list(view.infos)
    assert book.update(answer, START + timedelta(seconds=1)) == []
    assert book.rows() is rows
    assert book.made == 0
    view.set_rows(book.rows())
    assert view.dropped == []
    assert all(a is b for a, b in zip(view.infos, infos, strict=True))


def test_one_changed_task_replaces_one_row_and_one_line() -> None:
    book, view = TaskBook(), RowView()
    pool = [_variants(f"asr-{n:02d}", n) for n in range(20)]
    answer = [variants[0] for variants in pool]
    book.update(tuple(answer), START)
    view.set_rows(book.rows())
    before = list(book.rows())
    answer[2] = pool[2][1]
    events = book.update(tuple(answer), START + timedelta(seconds=1))
    assert [(e.kind, e.task_id) for e in events] == [("changed", "asr-02")]
    assert book.made == 1
    after = book.rows()
    assert [n for n, (a, b) in enumerate(zip(before, after, strict=True)) if a is not b] == [2]
    view.set_rows(after)
    assert view.dropped == ["asr-02"]


def test_tasks_running_at_start_keep_no_history_object_until_something_happens() -> None:
    from asrtui.ui.taskbook import HISTORY_SIZE

    book = TaskBook()
    pool = [_variants(f"asr-{n:02d}", n) for n in range(50)]
    answer = [variants[0] for variants in pool]
    book.update(tuple(answer), START)
    assert book._history == {}  # 50 tasks, no deque each
    started = [(e.at, e.kind, e.detail) for e in book.history("asr-03")]
    assert started == [(START, "started", "running at session start")]
    for step in range(1, HISTORY_SIZE + 2):
        answer[3] = pool[3][step % 2]
        book.update(tuple(answer), START + timedelta(seconds=step))
        kinds = [e.kind for e in book.history("asr-03")]
        assert kinds[0] == ("started" if step < HISTORY_SIZE else "changed")
        assert len(kinds) == min(step + 1, HISTORY_SIZE)
    assert list(book._history) == ["asr-03"]
