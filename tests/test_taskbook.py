"""The task book: diffing answers into started/changed/ended/returned events and rows."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asrtui.models import Task
from asrtui.ui import taskbook
from asrtui.ui.taskbook import EVENT_LOG_SIZE, Row, TaskBook, TaskEvent

T0 = datetime(2024, 5, 15, 3, 0, 0, tzinfo=UTC)
SECRET = "1715745062-0-0-fbc68f2ccebb4d46b5ab6d4801ed9999"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def task(task_id: str, **changes: object) -> Task:
    base = Task(
        task_id=task_id,
        status=1,
        mode="live",
        language="cn",
        tag="",
        stream_url=f"http://pull.example.com/caster/{task_id}.flv?auth_key={SECRET}",
        callback_url="default",
        created_at=T0,
        updated_at=T0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def kinds(events: list[TaskEvent]) -> list[tuple[str, str]]:
    return [(event.kind, event.task_id) for event in events]


def test_first_update_is_the_baseline() -> None:
    book = TaskBook()
    assert book.update([task("a"), task("b")], T0) == []
    assert [row.task_id for row in book.rows()] == ["a", "b"]
    assert not book.events
    row = book.get("a")
    assert row is not None
    assert row.first_seen == T0
    assert not row.is_new(T0)
    assert kinds(book.history("a")) == [("started", "a")]
    assert "session start" in book.history("a")[0].detail


def test_empty_baseline_then_started() -> None:
    book = TaskBook(new_for=30)
    assert book.update([], T0) == []
    events = book.update([task("a", tag="news")], at(5))
    assert kinds(events) == [("started", "a")]
    assert "news" in events[0].detail
    row = book.get("a")
    assert row is not None
    assert row.is_new(at(5))
    assert row.is_new(at(34.9))
    assert not row.is_new(at(35))


def test_unchanged_tasks_keep_their_row_objects() -> None:
    book = TaskBook()
    book.update([task("a"), task("b")], T0)
    before = {row.task_id: row for row in book.rows()}
    # Equal but not identical tasks, as a new answer parsed from the wire gives.
    events = book.update([task("a"), task("b", tag="x")], at(5))
    assert kinds(events) == [("changed", "b")]
    assert book.get("a") is before["a"]
    assert book.get("b") is not before["b"]
    b_row = book.get("b")
    assert b_row is not None
    assert b_row.first_seen == T0
    assert b_row.task.tag == "x"


def test_changed_event_describes_status_and_fields_but_not_secrets() -> None:
    book = TaskBook()
    book.update([task("a")], T0)
    new_secret = "1715745999-0-0-00000000000000000000000000007777"
    changed = task(
        "a",
        status=3,
        tag="late",
        stream_url=f"http://pull.example.com/other.flv?auth_key={new_secret}",
        ali_uid="1119309225474343",
    )
    (event,) = book.update([changed], at(5))
    assert event.kind == "changed"
    assert "status running → 3" in event.detail
    assert "tag '' → 'late'" in event.detail
    assert "stream_url changed" in event.detail
    assert "ali_uid changed" in event.detail
    assert new_secret not in event.detail
    assert SECRET not in event.detail
    assert "1119309225474343" not in event.detail
    assert kinds(book.history("a")) == [("started", "a"), ("changed", "a")]


def test_changed_event_masks_a_token_in_other_fields() -> None:
    book = TaskBook()
    book.update([task("a")], T0)
    callback = f"https://cb.example.com/hook?auth_key={SECRET}"
    (event,) = book.update([task("a", callback_url=callback)], at(5))
    assert "callback_url 'default' → 'https://cb.example.com/hook?auth_key=****'" in event.detail
    assert SECRET not in event.detail


def test_updated_at_alone_updates_the_row_without_an_event() -> None:
    book = TaskBook()
    book.update([task("a")], T0)
    assert book.update([task("a", updated_at=at(5))], at(5)) == []
    row = book.get("a")
    assert row is not None
    assert row.task.updated_at == at(5)


def test_ended_rows_linger_dimmed_then_leave() -> None:
    book = TaskBook(linger=60)
    book.update([task("a"), task("b")], T0)
    events = book.update([task("a")], at(5))
    assert kinds(events) == [("ended", "b")]
    row = book.get("b")
    assert row is not None
    assert row.is_ended
    assert row.ended_at == at(5)
    assert row.task.task_id == "b"
    assert [r.task_id for r in book.rows()] == ["a", "b"]

    # Still there just before the linger period is over, with the same row object.
    assert book.update([task("a")], at(64)) == []
    assert book.get("b") is row
    # Gone once it has lingered 60 seconds.
    assert kinds(book.history("b")) == [("started", "b"), ("ended", "b")]
    assert book.update([task("a")], at(65)) == []
    assert book.get("b") is None
    assert [r.task_id for r in book.rows()] == ["a"]
    # Its history leaves with it: a long session does not keep every task it ever saw.
    assert book.history("b") == []
    assert kinds(book.history("a")) == [("started", "a")]


def test_prune_drops_lingering_rows_without_an_answer() -> None:
    book = TaskBook(linger=10)
    book.update([task("a"), task("b")], T0)
    book.update([task("a")], at(1))
    assert not book.prune(at(5))
    assert book.get("b") is not None
    assert kinds(book.history("b")) == [("started", "b"), ("ended", "b")]
    assert book.prune(at(11))
    assert book.get("b") is None
    assert len(book) == 1
    assert book.history("b") == []


def test_a_lingering_task_listed_again_returns() -> None:
    book = TaskBook(linger=60, new_for=30)
    book.update([task("a"), task("b")], T0)
    book.update([task("a")], at(5))
    events = book.update([task("a"), task("b")], at(10))
    assert kinds(events) == [("returned", "b")]
    row = book.get("b")
    assert row is not None
    assert not row.is_ended
    assert row.first_seen == T0
    assert row.is_new(at(10))
    assert kinds(book.history("b")) == [
        ("started", "b"),
        ("ended", "b"),
        ("returned", "b"),
    ]


def test_a_task_that_left_and_comes_back_returns() -> None:
    book = TaskBook(linger=10)
    book.update([task("a")], T0)
    book.update([], at(1))
    book.update([], at(20))
    assert book.get("a") is None
    events = book.update([task("a", status=2)], at(30))
    assert kinds(events) == [("returned", "a")]
    # The history before it left is gone; it starts again from its return.
    assert kinds(book.history("a")) == [("returned", "a")]


def test_a_task_pruned_while_refreshes_fail_still_returns() -> None:
    book = TaskBook(linger=10)
    book.update([task("a"), task("b")], T0)
    book.update([task("a")], at(1))
    assert book.prune(at(11))
    events = book.update([task("a"), task("b")], at(12))
    assert kinds(events) == [("returned", "b")]


def test_only_the_most_recent_departures_are_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(taskbook, "DEPARTED_SIZE", 2)
    book = TaskBook(linger=0)
    book.update([task("a"), task("b"), task("c")], T0)
    book.update([], at(1))  # all three end...
    book.update([], at(2))  # ...and leave, "a" first
    events = book.update([task("a"), task("b"), task("c")], at(3))
    assert kinds(events) == [("started", "a"), ("returned", "b"), ("returned", "c")]


def test_returned_task_that_also_changed_reports_both() -> None:
    book = TaskBook()
    book.update([task("a")], T0)
    book.update([], at(1))
    events = book.update([task("a", tag="again")], at(2))
    assert kinds(events) == [("returned", "a"), ("changed", "a")]


def test_events_are_bounded_and_in_order() -> None:
    book = TaskBook(linger=0)
    book.update([], T0)
    for index in range(EVENT_LOG_SIZE + 10):
        book.update([task(f"t{index}")], at(index + 1))
    assert len(book.events) == EVENT_LOG_SIZE
    times = [event.at for event in book.events]
    assert times == sorted(times)
    last = f"t{EVENT_LOG_SIZE + 9}"
    previous = f"t{EVENT_LOG_SIZE + 8}"
    # Within one answer: listed tasks first, then tasks that vanished.
    assert kinds(list(book.events)[-2:]) == [("started", last), ("ended", previous)]


def test_duplicate_ids_in_one_answer_keep_the_first() -> None:
    book = TaskBook()
    book.update([task("a", tag="first"), task("a", tag="second")], T0)
    row = book.get("a")
    assert row is not None
    assert row.task.tag == "first"
    assert len(book.rows()) == 1


def test_history_of_an_unknown_task_is_empty() -> None:
    assert TaskBook().history("nope") == []


def test_task_event_is_frozen() -> None:
    event = TaskEvent(T0, "started", "a", "")
    with pytest.raises(AttributeError):
        event.kind = "ended"  # type: ignore[misc]


def test_row_is_new_never_for_ended_rows() -> None:
    row = Row(task("a"), T0, ended_at=at(1), new_until=at(30))
    assert not row.is_new(at(2))


def test_large_update_reuses_rows_and_reports_only_changes() -> None:
    tasks = [task(f"t{index:05d}") for index in range(10_000)]
    book = TaskBook()
    book.update(tasks, T0)
    before = book.rows()
    changed = list(tasks)
    for index in range(0, 10_000, 100):
        changed[index] = replace(tasks[index], tag="changed")
    events = book.update(changed, at(5))
    assert len(events) == 100
    assert all(event.kind == "changed" for event in events)
    after = book.rows()
    reused = sum(1 for old, new in zip(before, after, strict=True) if old is new)
    assert reused == 9_900


def _field_walk(old: Task, new: Task) -> str:
    """`_describe_change` without its one-comparison shortcut: every field walked."""
    saved = taskbook._LOUD_FIELDS
    taskbook._LOUD_FIELDS = lambda task: object()  # never equal: the walk always runs
    try:
        return taskbook._describe_change(old, new)
    finally:
        taskbook._LOUD_FIELDS = saved


_NAN = float("nan")
_values = {
    "status": st.sampled_from([1, 2, "x", None]),
    "tag": st.sampled_from(["", "a", "b"]),
    "target_languages": st.sampled_from([(), ("en",), ("en", "ja")]),
    "translate_enabled": st.sampled_from([None, True, False]),
    "stream_url": st.sampled_from(["", f"http://h/s.flv?auth_key={SECRET}"]),
    "created_at": st.sampled_from([None, T0, T0 + timedelta(seconds=1)]),
    "updated_at": st.sampled_from([None, T0, T0 + timedelta(seconds=1)]),
    # A NaN shared (the same object) or parsed twice (equal to nothing).
    "report_interval": st.sampled_from([None, 1000, 1000.0, _NAN]) | st.just(float("nan")),
    "extra": st.sampled_from([{}, {"k": 1}, {"k": _NAN}]) | st.builds(lambda: {"k": 1}),
}
_tasks = st.fixed_dictionaries({}, optional=_values).map(lambda fields: task("a", **fields))


@given(old=_tasks, new=_tasks)
def test_a_quiet_change_is_told_in_one_comparison_as_the_field_walk_tells_it(
    old: Task, new: Task
) -> None:
    assert taskbook._describe_change(old, new) == _field_walk(old, new)
    assert taskbook._describe_change(old, old) == _field_walk(old, old) == ""


def test_updated_at_moving_on_every_task_makes_no_event() -> None:
    book = TaskBook()
    tasks = [task(f"t{n}", tag=f"tag-{n}") for n in range(50)]
    book.update(tasks, T0)
    moved = [replace(t, updated_at=at(1)) for t in tasks]
    assert book.update(moved, at(1)) == []
    assert all(row.task.updated_at == at(1) for row in book.rows())


@given(ids=st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=6))
def test_the_first_answer_makes_the_rows_the_constructor_makes(ids: list[str]) -> None:
    """The baseline's rows are made through their slots: equal to ``Row(task, now)``, in the
    answer's order, the first of a duplicate id kept, and later answers see them alike."""
    tasks = [task(task_id, tag=str(index)) for index, task_id in enumerate(ids)]
    book = TaskBook()
    assert book.update(tasks, T0) == []
    expected = {}
    for one in tasks:
        expected.setdefault(one.task_id, Row(one, T0))
    assert list(book.rows()) == list(expected.values())
    for row in book.rows():
        assert (row.task, row.first_seen, row.ended_at, row.new_until) == (
            expected[row.task_id].task,
            T0,
            None,
            None,
        )
        assert not hasattr(row, "__dict__")
    assert book.made == len(expected)
    if tasks:
        assert book.history(tasks[0].task_id)[0].detail == "running at session start"
    later = book.update(tasks[:1], at(1))
    assert [event.kind for event in later] == ["ended"] * (len(expected) - 1 if tasks else 0)
