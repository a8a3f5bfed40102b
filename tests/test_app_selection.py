"""Marks in the console: space, mark all in view, clear; stop, delete, copy and export act on them.

Each test runs the real console on a fake source and clock (`tests.support.fakes`).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from textual.widgets import Input, Label, Static

from asrtui.readonly import ReadOnly
from asrtui.ui.dialogs import ConfirmDialog, ExportDialog
from asrtui.ui.screens.main import MainScreen
from asrtui.ui.widgets.status_line import render_status
from asrtui.ui.widgets.task_table import TaskTable
from tests.support.fakes import Console, FakeTaskSource, make_task, running_console


def ids(*numbers: int) -> list[str]:
    return [make_task(n).task_id for n in numbers]


def gutter(table: TaskTable, task_id: str) -> str:
    """The two gutter cells of a task's row (new/ended marker, then the mark)."""
    for y in range(1, table.size.height):
        text = "".join(segment.text for segment in table.render_line(y))
        if task_id[:13] in text:
            return text[:2]
    raise AssertionError(f"{task_id} not on screen")


def status_text(c: Console) -> str:
    snapshot = c.screen.status_line.snapshot
    assert snapshot is not None
    return render_status(snapshot, 200).plain


def event_log(c: Console) -> str:
    return "\n".join(line.plain for line in c.screen.event_log.entries)


def marked(c: Console) -> list[str]:
    return [row.task_id for row in c.screen.table.marked_rows()]


async def test_space_marks_the_cursor_task_and_moves_down_and_the_row_shows_it() -> None:
    async with running_console(FakeTaskSource.with_tasks(5)) as c:
        table = c.screen.table
        await c.press("space", "space")
        assert marked(c) == ids(1, 2)
        assert table.cursor_task_id == ids(3)[0]
        # Readable without colour: a glyph in the gutter, none on unmarked rows.
        assert gutter(table, ids(1)[0]) == " *"
        assert gutter(table, ids(3)[0]) == "  "
        assert "2 MARKED" in status_text(c)
        await c.press("up", "space")
        assert marked(c) == ids(1)
        assert "1 MARKED" in status_text(c)


async def test_marks_survive_refreshes_and_resorts_and_leave_with_their_rows() -> None:
    source = FakeTaskSource.with_tasks(5)
    async with running_console(source) as c:
        await c.press("down", "space", "down", "space")
        assert marked(c) == ids(2, 4)
        await c.press("S")  # reverse: the same tasks, in view order
        assert marked(c) == ids(4, 2)
        await c.press("S", "s", "s")
        await c.advance(10)
        assert set(marked(c)) == set(ids(2, 4))
        source.remove(ids(4)[0])
        await c.advance(10)
        # Ended, its row still shown (dimmed): still marked.
        assert set(marked(c)) == set(ids(2, 4))
        await c.advance(120)
        # Its row left the table: the mark goes with it, and the count says so.
        assert marked(c) == ids(2)
        assert not c.screen.table.is_marked(ids(4)[0])
        assert "1 MARKED" in status_text(c)


async def test_mark_all_marks_the_view_after_the_filter_and_clear_unmarks_all() -> None:
    source = FakeTaskSource.with_tasks(5)
    source.change(ids(2)[0], tag="news")
    source.change(ids(5)[0], tag="news")
    async with running_console(source) as c:
        await c.advance(5)
        await c.press("slash", *"tag:news", "enter", "a")
        assert marked(c) == ids(2, 5)
        await c.press("escape")  # the filter closes: the marks stay, the view grows
        assert marked(c) == ids(2, 5)
        assert c.screen.table.row_count == 5
        await c.press("U")
        assert marked(c) == []
        assert "MARKED" not in status_text(c)


async def test_mark_all_leaves_out_hidden_ended_rows() -> None:
    source = FakeTaskSource.with_tasks(4)
    async with running_console(source) as c:
        source.remove(ids(1)[0])
        await c.advance(10)
        await c.press("h", "a")
        assert marked(c) == ids(2, 3, 4)


async def test_marks_the_filter_hides_are_counted_apart_and_not_acted_on() -> None:
    source = FakeTaskSource.with_tasks(4)
    async with running_console(source) as c:
        await c.press("a", "slash", *"00000001", "enter")
        assert marked(c) == ids(1)
        assert "1 MARKED  +3 hidden" in status_text(c)
        await c.press("x")
        dialog = c.app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert str(dialog.query_one("#title", Label).render()) == "Stop 1 task"
        await c.press("y")
        assert source.stopped == ids(1)


async def test_stop_asks_naming_the_count_and_first_ids_then_stops_each() -> None:
    source = FakeTaskSource.with_tasks(5)
    async with running_console(source) as c:
        await c.press("a", "x")
        dialog = c.app.screen
        assert isinstance(dialog, ConfirmDialog)
        first = ids(1, 2, 3)
        question = str(dialog.query_one("#question", Static).render())
        assert question.startswith(f"Stop 5 tasks: {', '.join(first)} and 2 more?")
        await c.press("y")
        assert source.stopped == ids(1, 2, 3, 4, 5)
        assert "Stopped 5 tasks." in c.app.notes.texts()
        # Each action is in the event log, and the tasks acted on are unmarked.
        log = event_log(c)
        for task_id in ids(1, 2, 3, 4, 5):
            assert f"{task_id} stopped" in log
        assert marked(c) == []


async def test_a_failure_on_one_task_does_not_stop_the_others_and_the_result_counts() -> None:
    source = FakeTaskSource.with_tasks(3)
    async with running_console(source) as c:
        await c.press("a", "x")
        # The server forgot the middle task since the last refresh: its stop fails.
        del source.tasks[ids(2)[0]]
        await c.press("y")
        assert source.stopped == ids(1, 3)
        texts = c.app.notes.texts()
        assert "Stopped 2 of 3 tasks; 1 failed" in texts
        assert ids(2)[0] in texts
        # The failed one stays marked for another try; the others are done.
        assert marked(c) == ids(2)
        log = event_log(c)
        assert f"stop {ids(2)[0]} failed" in log


async def test_delete_asks_then_deletes_every_marked_task() -> None:
    source = FakeTaskSource.with_tasks(4)
    async with running_console(source) as c:
        await c.press("down", "space", "space", "X")
        dialog = c.app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert str(dialog.query_one("#title", Label).render()) == "Delete 2 tasks"
        await c.press("n")
        assert source.deleted == []
        assert marked(c) == ids(2, 3)
        await c.press("X", "y")
        assert source.deleted == ids(2, 3)
        assert "Deleted 2 tasks." in c.app.notes.texts()


async def test_a_batch_stop_leaves_out_ended_tasks_and_says_so() -> None:
    source = FakeTaskSource.with_tasks(3)
    async with running_console(source) as c:
        source.remove(ids(1)[0])
        await c.advance(10)
        await c.press("a", "x")
        dialog = c.app.screen
        assert isinstance(dialog, ConfirmDialog)
        question = str(dialog.query_one("#question", Static).render())
        assert "Stop 2 tasks" in question
        assert f"Left out, not running: 1 task ({ids(1)[0]})" in question
        await c.press("y")
        assert source.stopped == ids(2, 3)


async def test_a_batch_stop_of_only_ended_tasks_is_refused_without_asking() -> None:
    source = FakeTaskSource.with_tasks(2)
    async with running_console(source) as c:
        source.remove(ids(1)[0])
        await c.advance(10)
        await c.press("space", "x")
        assert isinstance(c.app.screen, MainScreen)
        assert "nothing to stop" in c.app.notes.texts()
        assert source.calls["stop_task"] == 0


@pytest.mark.parametrize("key", ["x", "X"])
async def test_read_only_refuses_batch_actions_with_the_cause(key: str) -> None:
    source = FakeTaskSource.with_tasks(3)
    async with running_console(source, read_only=ReadOnly(flag=True)) as c:
        await c.press("a", key)
        assert isinstance(c.app.screen, MainScreen)
        verb = "stop" if key == "x" else "delete"
        cause = "read-only because the --read-only option is given"
        assert f"Cannot {verb} tasks: {cause}" in c.app.notes.texts()
        assert source.calls["stop_task"] == source.calls["delete_task"] == 0


async def test_copies_hold_every_marked_task_and_name_them() -> None:
    source = FakeTaskSource.with_tasks(4)
    async with running_console(source) as c:
        await c.press("space", "space", "c")
        assert c.app.notes.copied[-1] == "\n".join(ids(1, 2))
        assert f"task ids of 2 tasks: {ids(1)[0]}, {ids(2)[0]}" in c.app.notes.texts()
        await c.press("y")
        copied = json.loads(c.app.notes.copied[-1])
        assert [task["taskId"] for task in copied] == ids(1, 2)
        assert "secret1" not in c.app.notes.copied[-1]
        await c.press("u")
        urls = c.app.notes.copied[-1].splitlines()
        assert len(urls) == 2
        assert all(url.endswith("auth_key=****") for url in urls)


async def test_a_copy_of_an_ended_task_says_it_ended_and_when() -> None:
    source = FakeTaskSource.with_tasks(2)
    async with running_console(source) as c:
        source.remove(ids(1)[0])
        await c.advance(10)
        ended_at = c.screen.book.get(ids(1)[0]).ended_at  # type: ignore[union-attr]
        assert ended_at is not None
        await c.press("y")  # no marks: the cursor's task
        single = json.loads(c.app.notes.copied[-1])
        assert single["status"] == "ended"
        assert single["endedAt"] == ended_at.isoformat()
        await c.press("a", "y")
        both = json.loads(c.app.notes.copied[-1])
        assert [task["status"] for task in both] == ["ended", 1]
        assert "endedAt" not in both[1]


async def export(c: Console, target: Path) -> ExportDialog:
    await c.press("E")
    dialog = c.app.screen
    assert isinstance(dialog, ExportDialog)
    dialog.query_one("#path", Input).value = str(target)
    return dialog


async def test_export_with_marks_writes_the_marked_tasks_and_names_them(tmp_path: Path) -> None:
    source = FakeTaskSource.with_tasks(5)
    async with running_console(source) as c:
        await c.press("down", "space", "down", "space")
        dialog = await export(c, tmp_path / "marked.json")
        title = str(dialog.query_one("#title", Label).render())
        assert title == f"Export 2 marked tasks: {ids(2)[0]}, {ids(4)[0]}"
        await c.press("enter")
        data = json.loads((tmp_path / "marked.json").read_text())
        assert [task["taskId"] for task in data] == ids(2, 4)
        assert "Exported 2 task(s)" in c.app.notes.texts()


@pytest.mark.parametrize("fmt", ["json", "csv"])
async def test_an_export_writes_tasks_shown_as_ended_as_ended_with_when(
    tmp_path: Path, fmt: str
) -> None:
    source = FakeTaskSource.with_tasks(3)
    async with running_console(source) as c:
        source.remove(ids(2)[0])
        await c.advance(10)
        ended_at = c.screen.book.get(ids(2)[0]).ended_at  # type: ignore[union-attr]
        assert ended_at is not None
        target = tmp_path / f"out.{fmt}"
        await export(c, target)
        await c.press("enter")
        text = target.read_text()
        if fmt == "json":
            by_id = {task["taskId"]: task for task in json.loads(text)}
            assert by_id[ids(2)[0]]["status"] == "ended"
            assert by_id[ids(2)[0]]["endedAt"] == ended_at.isoformat()
            assert by_id[ids(1)[0]]["status"] == 1
            assert "endedAt" not in by_id[ids(1)[0]]
        else:
            rows = {row["task_id"]: row for row in csv.DictReader(text.splitlines())}
            assert rows[ids(2)[0]]["status"] == "ended"
            assert rows[ids(2)[0]]["ended_at"] == ended_at.isoformat()
            assert rows[ids(1)[0]]["status"] == "running"
            assert rows[ids(1)[0]]["ended_at"] == ""


# The class: whatever narrows the view (filter, hide-ended) or picks from it (marks), with
# ended rows in it, the dialog's count is the number written and the statuses are the screen's.
VIEWS = [
    ("", False, ""),
    ("", True, ""),
    ("status:ended", False, ""),
    ("!status:ended", False, ""),
    ("00000002", False, ""),
    ("nomatch", False, ""),
    ("", False, "a"),
    ("", True, "a"),
    ("status:ended", False, "a"),
    ("", False, "space"),
    ("tag:news", False, "a"),
    ("tag:news !status:ended", True, "a"),
]


@pytest.mark.parametrize(("query", "hide", "mark"), VIEWS)
async def test_the_dialog_count_is_the_count_written_for_any_view(
    tmp_path: Path, query: str, hide: bool, mark: str
) -> None:
    source = FakeTaskSource.with_tasks(6)
    for number in (2, 3, 6):
        source.change(ids(number)[0], tag="news")
    async with running_console(source) as c:
        for number in (3, 4):
            source.remove(ids(number)[0])
        await c.advance(10)
        keys = ["h"] if hide else []
        if query:
            keys += ["slash", *query.replace(" ", "\x00"), "enter"]
        keys = [("space" if key == "\x00" else key) for key in keys]
        await c.press(*keys)
        if mark:
            await c.press(mark)
        table = c.screen.table
        expected = table.marked_rows() or table.visible_rows()
        dialog = await export(c, tmp_path / "view.json")
        title = str(dialog.query_one("#title", Label).render())
        assert f"Export {len(expected)} " in title
        await c.press("enter")
        written = json.loads((tmp_path / "view.json").read_text())
        assert len(written) == len(expected)
        for row, task in zip(expected, written, strict=True):
            assert task["taskId"] == row.task_id
            assert (task["status"] == "ended") == row.is_ended
        assert f"Exported {len(expected)} task(s)" in c.app.notes.texts()


async def test_the_export_format_is_one_key_from_the_name_and_never_edits_it() -> None:
    async with running_console(FakeTaskSource.with_tasks(2)) as c:
        await c.press("E")
        dialog = c.app.screen
        assert isinstance(dialog, ExportDialog)
        path = dialog.query_one("#path", Input)
        name = path.value.removesuffix(".json")
        assert dialog.focused is path
        await c.press("tab")
        assert dialog.focused is dialog.query_one("#format")
        for key, fmt in [("2", "csv"), ("1", "json"), ("c", "csv"), ("j", "json")]:
            await c.press(key)
            assert dialog.chosen_format.value == fmt
            assert path.value == f"{name}.{fmt}"
        for key, fmt in [("right", "csv"), ("space", "json"), ("left", "csv")]:
            await c.press(key)
            assert dialog.chosen_format.value == fmt
            assert path.value == f"{name}.{fmt}"


async def test_enter_in_the_format_exports(tmp_path: Path) -> None:
    async with running_console(FakeTaskSource.with_tasks(2)) as c:
        await export(c, tmp_path / "tasks.json")
        await c.press("tab", "c", "enter")
        assert isinstance(c.app.screen, MainScreen)
        assert (tmp_path / "tasks.csv").read_text().startswith("task_id,status")
        assert not (tmp_path / "tasks.json").exists()


async def test_mark_all_and_clear_work_from_the_detail_pane_and_the_palette() -> None:
    async with running_console(FakeTaskSource.with_tasks(3)) as c:
        await c.press("enter")
        assert c.screen.detail.has_focus
        await c.press("a")
        assert marked(c) == ids(1, 2, 3)
        await c.press("U")
        assert marked(c) == []
        await c.screen.run_action("mark_all")  # what the palette's entry runs
        await c.press()
        assert marked(c) == ids(1, 2, 3)
