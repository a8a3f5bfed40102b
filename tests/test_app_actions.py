"""Operator actions: filter, sort, copy, stop, delete, export, help, palette, events, layout."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from rich.console import Console as RichConsole
from textual.binding import Binding
from textual.widgets import Input, Static

from asrtui.errors import PermissionDeniedError
from asrtui.readonly import ReadOnly
from asrtui.ui.commands import main_screen_commands
from asrtui.ui.dialogs import ConfirmDialog, ExportDialog
from asrtui.ui.screens.help import HelpScreen
from asrtui.ui.screens.main import MainScreen
from asrtui.ui.settings import load_theme
from tests.support.fakes import Console, FakeTaskSource, make_task, running_console

FIRST = make_task(1).task_id
SECOND = make_task(2).task_id


def focused(console: Console) -> object:
    """The focused widget (a function, so type checkers do not narrow it between calls)."""
    return console.app.focused


# ---------------------------------------------------------------- filter and sort


async def test_filter_narrows_on_every_keystroke_enter_keeps_it_escape_clears_it() -> None:
    source = FakeTaskSource.with_tasks(3)
    source.change(SECOND, tag="evening")
    async with running_console(source) as console:
        screen = console.screen
        await console.press("slash")
        assert focused(console) is screen.query_one("#filter", Input)
        await console.press("e", "v")
        assert screen.table.row_count == 1
        assert screen.table.cursor_task_id == SECOND
        await console.press("enter")
        assert focused(console) is screen.table
        assert screen.table.row_count == 1
        await console.press("slash", "z", "z")
        assert screen.table.row_count == 0
        await console.press("escape")
        assert screen.table.row_count == 3
        assert not screen.has_class("-filtering")
        assert screen.query_one("#filter", Input).value == ""
        assert focused(console) is screen.table


async def test_letters_typed_in_the_filter_do_not_trigger_keys() -> None:
    async with running_console() as console:
        await console.press("slash", "r", "p", "x", "v")
        assert console.source.calls["list_tasks"] == 1
        assert not console.screen.schedule.paused
        assert not console.screen.detail.revealed
        assert console.screen.query_one("#filter", Input).value == "rpxv"


async def test_sort_keys_cycle_and_reverse() -> None:
    async with running_console() as console:
        table = console.screen.table
        assert str(table.sort_column) == "id"
        await console.press("s")
        assert str(table.sort_column) == "status"
        await console.press("S")
        assert table.sort_reverse
        await console.press("s")
        assert (table.sort_column, table.sort_reverse) == ("language", False)


# ---------------------------------------------------------------- clipboard


async def test_copy_keys_copy_id_and_masked_url_and_json() -> None:
    async with running_console() as console:
        copied = console.app.notes.copied
        await console.press("c")
        assert copied[-1] == FIRST
        await console.press("u")
        assert copied[-1] == "http://pull.example.com/caster/stream1.flv?auth_key=****"
        await console.press("y")
        data = json.loads(copied[-1])
        assert data["taskId"] == FIRST
        assert data["aliUid"] == "************4343"
        assert "secret1" not in copied[-1]
        assert "masked" in console.app.notes.texts()


async def test_copy_after_reveal_copies_the_secrets() -> None:
    async with running_console() as console:
        await console.press("v", "u")
        assert console.app.notes.copied[-1].endswith("auth_key=1715745062-0-0-secret1")
        await console.press("y")
        assert json.loads(console.app.notes.copied[-1])["aliUid"] == "1119309225474343"


async def test_copy_with_no_task_says_so() -> None:
    async with running_console(FakeTaskSource()) as console:
        await console.press("c")
        assert console.app.notes.copied == []
        assert "No task highlighted" in console.app.notes.texts()


# ---------------------------------------------------------------- stop and delete


async def test_stop_asks_and_stops_on_yes_then_refreshes() -> None:
    source = FakeTaskSource.with_tasks(2)
    async with running_console(source) as console:
        await console.press("x")
        assert isinstance(console.app.screen, ConfirmDialog)
        await console.press("y")
        assert source.stopped == [FIRST]
        assert source.priorities[-1] is True
        assert console.screen.book.get(FIRST) is not None
        assert console.screen.book.get(FIRST).is_ended  # type: ignore[union-attr]
        assert f"Task {FIRST} stopped" in console.app.notes.texts()


@pytest.mark.parametrize("answer", ["n", "escape", "enter"])
async def test_stop_does_nothing_on_no(answer: str) -> None:
    source = FakeTaskSource.with_tasks(2)
    async with running_console(source) as console:
        await console.press("x")
        await console.press(answer)
        assert isinstance(console.app.screen, MainScreen)
        assert source.stopped == []
        assert source.calls["stop_task"] == 0


async def test_delete_asks_and_deletes_on_yes() -> None:
    source = FakeTaskSource.with_tasks(2)
    async with running_console(source) as console:
        await console.press("down", "X")
        dialog = console.app.screen
        assert isinstance(dialog, ConfirmDialog)
        await console.press("y")
        assert source.deleted == [SECOND]


async def test_read_only_refuses_stop_and_delete_without_asking() -> None:
    source = FakeTaskSource.with_tasks(2)
    async with running_console(source, read_only=ReadOnly(flag=True)) as console:
        await console.press("x")
        assert isinstance(console.app.screen, MainScreen)
        await console.press("X")
        assert isinstance(console.app.screen, MainScreen)
        assert source.calls["stop_task"] == source.calls["delete_task"] == 0
        texts = console.app.notes.texts()
        assert "Cannot stop tasks: read-only because the --read-only option is given" in texts
        assert "Cannot delete tasks: read-only because the --read-only option is given" in texts


async def test_a_refused_stop_is_reported() -> None:
    source = FakeTaskSource.with_tasks(2)
    async with running_console(source) as console:
        source.fail(
            1,
            PermissionDeniedError("Forbidden.RAM", "User not authorized", "grant live:Stop"),
            only="stop_task",
        )
        await console.press("x", "y")
        assert console.app.is_running
        assert "Could not stop: User not authorized (Forbidden.RAM)" in console.app.notes.texts()
        assert source.stopped == []


# ---------------------------------------------------------------- export


async def export_via_dialog(console: Console, path: Path, csv_format: bool = False) -> None:
    await console.press("E")
    dialog = console.app.screen
    assert isinstance(dialog, ExportDialog)
    if csv_format:
        await console.press("shift+tab", "right", "space")
    dialog.query_one("#path", Input).value = str(path)
    dialog.query_one("#path", Input).focus()
    await console.press("enter")


async def test_export_json_writes_the_view_masked(tmp_path: Path) -> None:
    source = FakeTaskSource.with_tasks(3)
    source.change(SECOND, tag="keep")
    async with running_console(source) as console:
        await console.press("slash", "k", "e", "e", "p", "enter")
        target = tmp_path / "out.json"
        await export_via_dialog(console, target)
        data = json.loads(target.read_text())
        assert [task["taskId"] for task in data] == [SECOND]
        assert data[0]["streamUrl"].endswith("auth_key=****")
        assert data[0]["aliUid"] == "************4343"
        assert "Exported 1 task(s)" in console.app.notes.texts()


async def test_export_csv_is_masked_even_when_secrets_are_revealed(tmp_path: Path) -> None:
    async with running_console(FakeTaskSource.with_tasks(2)) as console:
        await console.press("v")
        target = tmp_path / "out.csv"
        await export_via_dialog(console, target, csv_format=True)
        text = target.read_text()
        assert "secret" not in text
        assert "1119309225474343" not in text
        rows = list(csv.DictReader(text.splitlines()))
        assert [row["task_id"] for row in rows] == [FIRST, SECOND]
        assert rows[0]["ali_uid"] == "************4343"


async def test_export_default_path_is_timestamped_and_follows_the_format() -> None:
    async with running_console() as console:
        await console.press("E")
        path_input = console.app.screen.query_one("#path", Input)
        assert path_input.value == "asrtui-tasks-20240514-040000.json"
        # Tab from the name reaches the format, where one key picks it.
        await console.press("tab", "2")
        assert path_input.value == "asrtui-tasks-20240514-040000.csv"
        await console.press("escape")
        assert isinstance(console.app.screen, MainScreen)


async def test_export_failure_is_reported(tmp_path: Path) -> None:
    async with running_console() as console:
        await export_via_dialog(console, tmp_path / "missing-dir" / "out.json")
        assert console.app.is_running
        texts = console.app.notes.texts()
        assert "Export failed" in texts
        assert "No such file or directory" in texts


# ---------------------------------------------------------------- help, palette, theme


async def test_help_lists_every_key_and_closes() -> None:
    async with running_console(size=(100, 60)) as console:
        await console.press("question_mark")
        help_screen = console.app.screen
        assert isinstance(help_screen, HelpScreen)
        console_out = RichConsole(width=100, record=True, file=io.StringIO())
        console_out.print(help_screen.query_one("#help-body", Static).content)
        text = console_out.export_text()
        for command in main_screen_commands():
            assert command.title in text
        assert "set-clipboard on" in text
        await console.press("escape")
        assert isinstance(console.app.screen, MainScreen)


def test_every_bound_action_is_a_palette_command() -> None:
    actions = {command.action for command in main_screen_commands()}
    bound = {binding.action for binding in Binding.make_bindings(MainScreen.BINDINGS)}
    assert bound - {"close_filter"} <= actions
    for action in actions:
        assert callable(getattr(MainScreen, f"action_{action}"))


async def test_palette_runs_a_command() -> None:
    async with running_console() as console:
        await console.press("ctrl+p")
        await console.pilot.press(*"pause")
        await console.pilot.pause(0.3)
        await console.press("enter")
        assert console.screen.schedule.paused


async def test_theme_choice_is_remembered(tmp_path: Path) -> None:
    state = tmp_path / "state" / "ui.json"
    async with running_console(state_path=state) as console:
        console.app.theme = "nord"
        await console.press()
    assert load_theme(state) == "nord"
    async with running_console(state_path=state) as console:
        assert console.app.theme == "nord"


async def test_demo_mode_writes_no_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    async with running_console(state_path=None) as console:
        console.app.theme = "nord"
        await console.press()
    assert not any(tmp_path.iterdir())  # noqa: ASYNC240 - a test's own temporary directory


# ---------------------------------------------------------------- events and bell


async def test_event_log_lists_task_events_and_toggles() -> None:
    source = FakeTaskSource.with_tasks(2)
    async with running_console(source) as console:
        log = console.screen.event_log
        assert not log.display
        source.remove(FIRST)
        source.put([make_task(7)])
        await console.advance(5)
        await console.press("e")
        assert log.display
        lines = [line.plain for line in log.entries]
        assert any(line.startswith("04:00:05 started") and "asr-00000007" in line for line in lines)
        assert any("ended" in line and FIRST in line for line in lines)
        assert len(log.lines) == len(lines)
        await console.press("e")
        assert not log.display


async def test_bell_rings_when_a_task_ends_and_can_be_turned_off() -> None:
    source = FakeTaskSource.with_tasks(3)
    async with running_console(source) as console:
        source.remove(FIRST)
        await console.advance(5)
        assert console.app.notes.bells == 1
        assert "1 task ended: " in console.app.notes.texts()
        await console.press("b")
        source.remove(SECOND)
        await console.advance(5)
        assert console.app.notes.bells == 1


async def test_bell_rings_when_errors_begin_not_on_every_failure() -> None:
    source = FakeTaskSource.with_tasks(1)
    async with running_console(source) as console:
        source.fail(3, only="list_tasks")
        await console.advance(5)
        await console.advance(10)
        assert console.app.notes.bells == 1


async def test_bell_setting_off_never_rings() -> None:
    source = FakeTaskSource.with_tasks(2)
    async with running_console(source, bell=False) as console:
        source.remove(FIRST)
        await console.advance(5)
        assert console.app.notes.bells == 0


# ---------------------------------------------------------------- layout


async def test_narrow_terminal_puts_the_detail_below_the_table() -> None:
    async with running_console(size=(80, 24)) as console:
        screen = console.screen
        assert not screen.has_class("-wide")
        table, detail = screen.table.region, screen.detail.region
        assert detail.y >= table.bottom
        assert detail.width == table.width == 80


async def test_wide_terminal_puts_the_detail_beside_the_table() -> None:
    async with running_console(size=(140, 30)) as console:
        screen = console.screen
        assert screen.has_class("-wide")
        table, detail = screen.table.region, screen.detail.region
        assert detail.x >= table.right
        assert detail.y == table.y
        await console.pilot.resize_terminal(90, 30)
        await console.press()
        assert not screen.has_class("-wide")


@pytest.mark.parametrize("how", ["ended", "status"])
async def test_stopping_a_task_that_is_not_running_says_so_and_sends_nothing(how: str) -> None:
    source = FakeTaskSource.with_tasks(2)
    async with running_console(source) as console:
        if how == "ended":
            source.remove(FIRST)
        else:
            source.change(FIRST, status=3)
        await console.advance(5)
        assert console.screen.table.move_cursor(FIRST)
        await console.press("x")
        assert isinstance(console.app.screen, MainScreen)
        assert "nothing to stop" in console.app.notes.texts()
        assert source.stopped == []
        assert source.calls["stop_task"] == 0
