"""Marks, batch plans and results, and rows written as the screen shows them, without a terminal."""

from __future__ import annotations

import csv
import json
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from asrtui.errors import AsrtuiError, TaskNotFoundError
from asrtui.ui.batch import BatchResult, plan_batch, run_batch
from asrtui.ui.export import (
    ENDED_AT_COLUMN,
    ENDED_AT_KEY,
    ENDED_STATUS,
    as_shown,
    render_json,
    render_rows_csv,
)
from asrtui.ui.selection import Marks, name_ids
from asrtui.ui.taskbook import Row
from asrtui.ui.widgets.status_line import StatusSnapshot, render_status
from asrtui.ui.widgets.task_table import ENDED_LABEL
from tests.support.clock import T0
from tests.support.fakes import make_task

# ---------------------------------------------------------------- marks

_ID = st.sampled_from([f"asr-{n}" for n in range(8)])
_OP = st.one_of(
    st.tuples(st.just("toggle"), _ID),
    st.tuples(st.just("add_all"), st.lists(_ID, max_size=5)),
    st.tuples(st.just("discard"), st.lists(_ID, max_size=5)),
    st.tuples(st.just("keep_only"), st.frozensets(_ID, max_size=8)),
    st.tuples(st.just("clear"), st.none()),
)


@given(st.lists(_OP, max_size=30))
def test_marks_behave_as_an_ordered_set_of_ids(ops: list[tuple[str, object]]) -> None:
    """Any sequence of operations: the marks are what a plain model says, in marking order."""
    marks = Marks()
    model: list[str] = []
    for op, arg in ops:
        if op == "toggle":
            assert isinstance(arg, str)
            now = marks.toggle(arg)
            if arg in model:
                model.remove(arg)
            else:
                model.append(arg)
            assert now == (arg in model)
        elif op == "add_all":
            assert isinstance(arg, list)
            fresh = [task_id for task_id in dict.fromkeys(arg) if task_id not in model]
            assert marks.add_all(arg) == len(fresh)
            model.extend(fresh)
        elif op == "discard":
            assert isinstance(arg, list)
            gone = [task_id for task_id in dict.fromkeys(arg) if task_id in model]
            assert marks.discard(arg) == len(gone)
            model = [task_id for task_id in model if task_id not in gone]
        elif op == "keep_only":
            assert isinstance(arg, frozenset)
            assert marks.keep_only(arg) == sum(1 for task_id in model if task_id not in arg)
            model = [task_id for task_id in model if task_id in arg]
        else:
            assert marks.clear() == len(model)
            model = []
        assert list(marks) == model
        assert len(marks) == len(model)


def test_names_say_the_first_ids_then_how_many_more_and_never_drive_the_terminal() -> None:
    assert name_ids(["a"]) == "a"
    assert name_ids(["a", "b", "c"]) == "a, b, c"
    assert name_ids(["a", "b", "c", "d", "e"]) == "a, b, c and 2 more"
    assert "\x1b" not in name_ids(["asr-\x1b[2J", "b"])


# ---------------------------------------------------------------- batches


def row(number: int, *, ended: bool = False, status: int | str = 1) -> Row:
    ended_at = T0 + timedelta(seconds=number) if ended else None
    return Row(make_task(number, status=status), T0, ended_at=ended_at)


def test_a_stop_plan_leaves_out_ended_and_not_running_tasks_and_a_delete_keeps_all() -> None:
    rows = [row(1), row(2, ended=True), row(3, status=3), row(4)]
    stop = plan_batch("stop", rows)
    assert stop.task_ids == (rows[0].task_id, rows[3].task_id)
    assert stop.skipped == (rows[1].task_id, rows[2].task_id)
    assert stop.title == "Stop 2 tasks"
    assert stop.question.startswith(f"Stop 2 tasks: {rows[0].task_id}, {rows[3].task_id}?")
    assert "Left out, not running: 2 tasks" in stop.question
    delete = plan_batch("delete", rows)
    assert delete.task_ids == tuple(r.task_id for r in rows)
    assert delete.title == "Delete 4 tasks"
    assert "cannot be undone" in delete.question
    assert plan_batch("stop", [row(1)]).title == "Stop 1 task"


async def test_a_batch_goes_on_after_failures_and_counts_both() -> None:
    failing = {"b": TaskNotFoundError("ConfigNotFound", "b not found"), "d": AsrtuiError("x")}
    acted: list[str] = []
    told: list[tuple[str, str | None]] = []

    async def act(task_id: str) -> None:
        if task_id in failing:
            raise failing[task_id]
        acted.append(task_id)

    result = await run_batch("stop", ["a", "b", "c", "d"], act, lambda i, e: told.append((i, e)))
    assert acted == result.done == ["a", "c"]
    assert [task_id for task_id, _ in result.failed] == ["b", "d"]
    assert [task_id for task_id, _ in told] == ["a", "b", "c", "d"]
    assert "Stopped 2 of 4 tasks; 2 failed: b, d." in result.summary


def test_the_summary_of_a_clean_batch_is_short() -> None:
    assert BatchResult("delete", done=["a", "b"]).summary == "Deleted 2 tasks."


def test_a_failure_message_in_the_summary_is_masked() -> None:
    result = BatchResult("stop", done=[], failed=[("a", "boom")])
    assert "First failure (a): boom" in result.summary


# ---------------------------------------------------------------- as the screen shows it


def test_the_ended_status_is_the_tables() -> None:
    assert ENDED_STATUS == ENDED_LABEL


def test_a_listed_task_is_written_as_received_and_an_ended_one_as_ended_with_when() -> None:
    listed, ended = row(1), row(2, ended=True)
    assert as_shown(listed) is listed.task
    shown = as_shown(ended)
    assert shown.status_label == ENDED_STATUS
    assert ended.task.status == 1  # the book's task is never changed
    data = json.loads(render_json([as_shown(listed), shown]))
    assert data[0] == json.loads(render_json([listed.task]))[0]
    assert data[1]["status"] == ENDED_STATUS
    assert data[1][ENDED_AT_KEY] == (T0 + timedelta(seconds=2)).isoformat()
    assert "secret2" not in render_json([shown])


def test_a_task_built_without_its_raw_answer_is_written_as_ended_too() -> None:
    from dataclasses import replace

    bare = Row(replace(make_task(3), raw={}), T0, ended_at=T0)
    data = json.loads(render_json([as_shown(bare)]))[0]
    assert data["status"] == ENDED_STATUS
    assert data[ENDED_AT_KEY] == T0.isoformat()


@given(st.lists(st.booleans(), max_size=12))
def test_csv_writes_one_row_per_task_with_status_and_end_as_shown(ends: list[bool]) -> None:
    rows = [row(n, ended=is_ended) for n, is_ended in enumerate(ends, start=1)]
    written = list(csv.DictReader(render_rows_csv(rows).splitlines()))
    assert len(written) == len(rows)
    for source, line in zip(rows, written, strict=True):
        assert line["task_id"] == source.task_id
        assert (line["status"] == ENDED_STATUS) == source.is_ended
        expected = source.ended_at.isoformat() if source.ended_at is not None else ""
        assert line[ENDED_AT_COLUMN] == expected
        assert line["stream_url"].endswith("auth_key=****")


# ---------------------------------------------------------------- status line


def test_the_mark_count_shows_even_on_a_narrow_status_line() -> None:
    status = StatusSnapshot(profile="demo", region="cn-shanghai", marked=3, marked_hidden=2)
    assert "3 MARKED  +2 hidden" in render_status(status, 200).plain
    narrow = render_status(status, 60).plain.split("\n", 1)[0]
    assert "3 MARKED" in narrow[:60]
    assert "MARKED" not in render_status(StatusSnapshot(profile="p", region="r"), 200).plain
