"""The detail pane: follows the highlight, fetches by id, masks secrets, raw JSON, history."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest
from rich.console import Console
from textual.widgets import Static

from asrtui.errors import ConnectError
from asrtui.ui.taskbook import TaskEvent
from asrtui.ui.widgets.detail import DetailModel, render_fields, render_history, render_raw
from tests.support.fakes import FakeTaskSource, make_task, running_console

FIRST = make_task(1).task_id
SECOND = make_task(2).task_id


def fetched_ids(source: FakeTaskSource) -> int:
    return source.calls["get_task"]


async def test_detail_shows_the_highlighted_task_and_fetches_it_by_id() -> None:
    source = FakeTaskSource.with_tasks(3)
    async with running_console(source) as console:
        detail = console.screen.detail
        assert detail.task_id == FIRST
        assert source.calls["get_task"] == 1
        await console.press("down")
        assert detail.task_id == SECOND
        assert source.calls["get_task"] == 2
        text = detail.as_text()
        assert SECOND in text
        assert "2024-05-14 00:46:00 +0000 (3h14m ago)" in text


async def test_detail_refetches_at_its_own_cadence_and_shows_the_fresh_copy() -> None:
    source = FakeTaskSource.with_tasks(2)
    async with running_console(source) as console:
        source.change(FIRST, tag="fresh-tag")
        await console.advance(1)
        assert source.calls["get_task"] == 1
        await console.advance(1)
        assert source.calls["get_task"] == 2
        assert source.calls["list_tasks"] == 1
        assert "fresh-tag" in console.screen.detail.as_text()
        assert "fetched" in console.screen.detail.as_text()


class HeldSleep:
    """A debounce wait that ends when the test says so, not after some real time (none is
    held until `hold`: the console's start settles first)."""

    def __init__(self) -> None:
        self.started = 0
        self._over: asyncio.Event | None = None

    def hold(self) -> None:
        self._over = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        if self._over is not None:
            self.started += 1
            await self._over.wait()

    def end(self) -> None:
        assert self._over is not None
        self._over.set()


async def test_cursor_movement_is_debounced_into_one_fetch() -> None:
    source = FakeTaskSource.with_tasks(5)
    rest = HeldSleep()
    async with running_console(source, detail_debounce=0.3, sleep=rest) as console:
        before = source.calls["get_task"]
        rest.hold()
        for _ in range(3):
            await console.pilot.press("down")
            await console.pilot.pause()
        # Each move waited to rest; none has fetched while the cursor moved.
        assert rest.started == 3
        assert source.calls["get_task"] == before
        rest.end()
        await console.press()
        # Only the wait of the task the cursor stopped on is left to fetch it.
        assert source.calls["get_task"] == before + 1
        assert console.screen.detail.task_id == make_task(4).task_id


async def test_hidden_pane_fetches_nothing() -> None:
    source = FakeTaskSource.with_tasks(2)
    async with running_console(source) as console:
        await console.press("d")
        assert not console.screen.detail.display
        await console.advance(2)
        await console.press("down")
        assert source.calls["get_task"] == 1
        await console.press("d")
        assert console.screen.detail.display
        assert source.calls["get_task"] == 2


async def test_reveal_shows_secrets_with_a_marker_and_masks_them_again() -> None:
    async with running_console() as console:
        detail = console.screen.detail
        text = detail.as_text()
        assert "auth_key=****" in text
        assert "secret1" not in text
        assert "************4343" in text
        assert "SECRETS SHOWN" not in text
        await console.press("v")
        text = detail.as_text()
        assert "auth_key=1715745062-0-0-secret1" in text
        assert "1119309225474343" in text
        assert "SECRETS SHOWN" in text
        assert detail.query_one("#detail-marker").display
        status = console.screen.status_line.snapshot
        assert status is not None
        assert status.revealed
        await console.press("v")
        text = detail.as_text()
        assert "secret1" not in text
        assert "SECRETS SHOWN" not in text


async def test_raw_json_view_is_masked_unless_revealed() -> None:
    async with running_console() as console:
        detail = console.screen.detail
        await console.press("J")
        text = detail.as_text()
        assert '"taskId": "asr-00000001' in text
        assert "auth_key=****" in text
        assert '"aliUid": "************4343"' in text
        await console.press("v")
        assert "secret1" in detail.as_text()
        await console.press("J")
        assert '"taskId"' not in detail.as_text()


async def test_unknown_fields_are_shown() -> None:
    source = FakeTaskSource()
    source.put([make_task(1, extra={"newField": "hello", "nested": {"a": 1}})])
    async with running_console(source) as console:
        text = console.screen.detail.as_text()
        assert "newField" in text
        assert "hello" in text
        assert '{"a": 1}' in text


async def test_field_view_masks_what_the_raw_view_masks() -> None:
    token = "1715745062-0-0-callbacksecret"
    extra = {
        "backupUrl": f"rtmp://b.example.com/s?auth_key={token}",
        "owner": {"aliUid": "1119309225474343"},
    }
    task = dataclasses.replace(
        make_task(1, extra=extra), callback_url=f"https://cb.example.com/hook?auth_key={token}"
    )
    model = DetailModel(task)
    console = Console(width=200, color_system=None)
    with console.capture() as capture:
        console.print(render_fields(model, revealed=False, tz=UTC))
    masked = capture.get()
    assert token not in masked
    assert "1119309225474343" not in masked
    assert "cb.example.com/hook?auth_key=****" in masked
    assert "b.example.com/s?auth_key=****" in masked
    assert "************4343" in masked
    with console.capture() as capture:
        console.print(render_fields(model, revealed=True, tz=UTC))
    revealed = capture.get()
    assert revealed.count(token) == 2
    assert "1119309225474343" in revealed


async def test_history_lists_the_tasks_own_events() -> None:
    source = FakeTaskSource.with_tasks(2)
    async with running_console(source) as console:
        source.change(FIRST, tag="evening-news")
        source.change(SECOND, tag="other")
        await console.advance(5)
        text = console.screen.detail.as_text()
        assert "started  running at session start" in text
        assert "changed  tag '' → 'evening-news'" in text
        assert "'other'" not in text


async def test_a_task_the_service_no_longer_knows_is_said_so() -> None:
    source = FakeTaskSource.with_tasks(2)
    async with running_console(source) as console:
        source.remove(FIRST)
        await console.advance(2)
        text = console.screen.detail.as_text()
        assert "no longer knows this task" in text
        assert FIRST in text


async def test_a_failed_fetch_is_noted_in_the_pane_without_marking_the_list_stale() -> None:
    source = FakeTaskSource.with_tasks(2)
    async with running_console(source) as console:
        source.fail(1, ConnectError("Connection reset [x]"), only="get_task")
        await console.advance(2)
        assert "Fetching this task failed: Connection reset [x]" in console.screen.detail.as_text()
        assert not console.screen.schedule.stale


async def test_enter_moves_focus_into_the_pane() -> None:
    async with running_console() as console:
        await console.press("d")
        await console.press("enter")
        assert console.screen.detail.display
        assert console.app.focused is console.screen.detail


@pytest.mark.parametrize("status", [7, "weird", None])
async def test_unknown_statuses_are_shown_raw(status: int | str | None) -> None:
    source = FakeTaskSource()
    source.put([make_task(1, status=status)])
    async with running_console(source) as console:
        expected = "?" if status is None else str(status)
        assert f"status     {expected}" in console.screen.detail.as_text()


async def test_server_strings_are_shown_as_text_not_markup() -> None:
    source = FakeTaskSource()
    source.put([make_task(1, tag="[bold red]alarm[/] [link=http://x]click")])
    async with running_console(source) as console:
        assert "[bold red]alarm[/] [link=http://x]click" in console.screen.detail.as_text()


def test_history_heading_style_stays_on_the_heading() -> None:
    at = datetime(2024, 5, 14, 4, 0, tzinfo=UTC)
    text = render_history([TaskEvent(at, "started", "asr-1", "running at session start")], UTC)
    console = Console()
    heading = text.get_style_at_offset(console, 0)
    assert heading.bold
    assert heading.underline
    for word in ("started", "running at session start"):
        style = text.get_style_at_offset(console, text.plain.index(word))
        assert not style.bold
        assert not style.underline


async def test_an_ended_task_says_ended_in_the_table_and_the_pane() -> None:
    source = FakeTaskSource.with_tasks(2)
    async with running_console(source) as console:
        assert "status     running" in console.screen.detail.as_text()
        source.remove(FIRST)
        await console.advance(5)
        screen = console.screen
        row = screen.book.get(FIRST)
        assert row is not None
        assert row.is_ended
        assert screen.table.cursor_task_id == FIRST
        text = screen.detail.as_text()
        assert "status     ended" in text
        assert "running" not in text.split("first seen")[0]
        assert "ended" in "".join(segment.text for segment in screen.table.render_line(1))


async def test_the_pane_is_redrawn_only_when_what_it_shows_changes() -> None:
    source = FakeTaskSource.with_tasks(2)
    async with running_console(source) as console:
        detail = console.screen.detail
        body = detail.query_one("#detail-body", Static)
        shown = body.content
        model = detail.model
        assert model is not None
        detail.show(model)
        assert body.content is shown
        layouts: list[bool] = []
        update = body.update

        def record(content: Any = "", *, layout: bool = True) -> None:
            layouts.append(layout)
            update(content, layout=layout)

        body.update = record  # type: ignore[method-assign]
        source.change(FIRST, tag="renamed")
        await console.advance(2)  # the pane's own fetch brings the change
        assert body.content is not shown
        assert "renamed" in detail.as_text()
        source.change(FIRST, tag="renamed-again")
        await console.advance(2)
        assert "renamed-again" in detail.as_text()
        # As many lines as before: the pane is redrawn, the screen is not laid out again.
        assert layouts
        assert not layouts[-1]


#: A server's text meant to act on the terminal: clear it, mirror the line, start a CSI, break.
HOSTILE = "x\x1b[2Jy\u202ez\x9b1m\u2028w"


def _rendered(renderable: object) -> str:
    """What a terminal would receive for ``renderable``, styles off."""
    console = Console(width=200, color_system=None, force_terminal=True)
    with console.capture() as capture:
        console.print(renderable)
    return capture.get()


def _assert_inert(output: str) -> None:
    for char in ("\x1b", "\u202e", "\x9b", "\u2028"):
        assert char not in output, repr(output)


def test_detail_fields_and_raw_json_show_server_control_characters_as_text() -> None:
    task = make_task(1, tag=HOSTILE, extra={"note": HOSTILE, HOSTILE: 1})
    model = DetailModel(task=task, row=None, history=(), now=None)
    fields = _rendered(render_fields(model, revealed=True, tz=UTC))
    _assert_inert(fields)
    assert "x\\x1b[2Jy\\u202ez\\x9b1m\\u2028w" in fields
    raw = _rendered(render_raw(task, revealed=False))
    _assert_inert(raw)
    assert "\\u001b[2Jy\\u202ez\\u009b1m\\u2028w" in raw


async def test_event_log_and_toasts_show_a_hostile_task_id_as_text() -> None:
    source = FakeTaskSource.with_tasks(1)
    async with running_console(source) as console:
        hostile = dataclasses.replace(make_task(2), task_id=HOSTILE)
        source.put([hostile])
        await console.advance(5)
        source.remove(HOSTILE)
        await console.advance(5)
        log = "\n".join(line.plain for line in console.screen.event_log.entries)
        assert "x\\x1b[2Jy" in log
        _assert_inert(log)
        _assert_inert(console.app.notes.texts())
        assert "x\\x1b[2Jy" in console.app.notes.texts()
