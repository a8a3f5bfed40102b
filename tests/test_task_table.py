"""The virtualised task table, driven through Textual's pilot in a tiny app."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.style import Style
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from asrtui.models import Task
from asrtui.ui.taskbook import Row, TaskBook
from asrtui.ui.widgets.task_table import SORT_COLUMNS, TaskTable, layout_columns
from asrtui.ui.widgets.task_table.widget import LINE_CACHE_MIN_ROWS, line_cache_rows
from tests.support.clock import FakeClock

T0 = datetime(2024, 5, 15, 3, 0, 0, tzinfo=UTC)
SECRET = "1715745062-0-0-fbc68f2ccebb4d46b5ab6d4801ed9999"


class TableApp(App[None]):
    """Just the table, recording the messages it sends."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock
        self.highlighted: list[str | None] = []
        self.selected: list[str] = []

    def compose(self) -> ComposeResult:
        yield TaskTable(clock=self.clock, id="tasks")

    def on_task_table_highlighted(self, event: TaskTable.Highlighted) -> None:
        self.highlighted.append(event.task_id)

    def on_task_table_selected(self, event: TaskTable.Selected) -> None:
        self.selected.append(event.task_id)


def make_task(index: int, **changes: object) -> Task:
    base = Task(
        task_id=f"asr-{index:08d}-0939-4288-973e-170082aa0000",
        status=1,
        mode="live",
        language="cn",
        tag=f"tag-{index}",
        stream_url=f"http://pull.example.com/caster/s{index}.flv?auth_key={SECRET}",
        callback_url="default",
        created_at=T0 - timedelta(minutes=index),
        updated_at=T0 - timedelta(seconds=index),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def rows_of(tasks: list[Task]) -> list[Row]:
    return [Row(task, T0) for task in tasks]


def line(table: TaskTable, y: int) -> str:
    return "".join(segment.text for segment in table.render_line(y))


def screen(table: TaskTable) -> list[str]:
    return [line(table, y) for y in range(table.size.height)]


def ids(table: TaskTable) -> list[str]:
    return [row.task_id for row in table.visible_rows()]


async def start(pilot: Pilot[None], rows: list[Row]) -> TaskTable:
    table = pilot.app.query_one(TaskTable)
    table.set_rows(rows)
    table.focus()
    await pilot.pause()
    return table


async def test_shows_rows_with_header_and_essential_columns() -> None:
    app = TableApp(FakeClock(T0))
    async with app.run_test(size=(160, 20)) as pilot:
        tasks = [make_task(1, target_languages=("en", "ja")), make_task(2, status=7)]
        table = await start(pilot, rows_of(tasks))
        header = line(table, 0)
        for title in ("ID▲", "STATUS", "MODE", "LANG", "TAG", "UPTIME", "UPDATED"):
            assert title in header
        assert "STREAM" in header
        assert "CALLBACK" in header
        first, second = line(table, 1), line(table, 2)
        assert tasks[0].task_id in first
        assert "running" in first
        assert "cn→en,ja" in first
        assert "1m00s" in first  # uptime
        assert "1s ago" in first  # updated
        # app/stream, the part that differs (the host is the same on every row).
        assert " caster/s1.flv " in first
        assert "pull.example.com" not in first
        assert "default" in first
        assert " 7 " in second  # unknown status shown raw
        assert table.row_count == table.total_count == 2


async def test_narrow_80_columns_keeps_essential_columns() -> None:
    app = TableApp(FakeClock(T0))
    async with app.run_test(size=(80, 24)) as pilot:
        table = await start(pilot, rows_of([make_task(1)]))
        assert table.size.width <= 80
        header = line(table, 0)
        for title in ("ID", "STATUS", "LANG", "UPTIME", "STREAM"):
            assert title in header
        row = line(table, 1)
        assert row.startswith("  asr-00000001")
        assert "…" in row  # the id is truncated with an ellipsis
        assert "running" in row
        assert "caster/s1.flv" in row  # app/stream: the part that differs
        assert len(row) == table.size.width


def test_layout_fits_the_width_and_keeps_essentials() -> None:
    for width in (60, 80, 100, 120, 160, 240):
        layout = layout_columns(width)
        keys = [key for key, _ in layout]
        assert {"id", "status", "language", "uptime", "stream"} <= set(keys)
        used = 2 + sum(w for _, w in layout) + len(layout) - 1
        assert used <= width or width < 60
    assert "callback" not in dict(layout_columns(80))
    assert "callback" in dict(layout_columns(160))


async def test_cursor_stays_on_the_same_task_across_set_rows() -> None:
    app = TableApp(FakeClock(T0))
    async with app.run_test(size=(120, 20)) as pilot:
        tasks = [make_task(index) for index in range(10)]
        table = await start(pilot, rows_of(tasks))
        await pilot.press("down", "down", "down")
        target = tasks[3].task_id
        assert table.cursor_task_id == target
        # Two tasks sorted before it appear, one after it leaves.
        more = [make_task(-2), make_task(-1), *tasks[:9]]
        table.set_rows(rows_of(more))
        await pilot.pause()
        assert table.cursor_task_id == target
        assert ids(table).index(target) == 5
        assert table.scroll_y == 0  # the scroll stayed put


async def test_cursor_moves_to_the_neighbour_when_its_task_leaves() -> None:
    app = TableApp(FakeClock(T0))
    async with app.run_test(size=(120, 20)) as pilot:
        tasks = [make_task(index) for index in range(5)]
        table = await start(pilot, rows_of(tasks))
        await pilot.press("j", "j")
        assert table.cursor_task_id == tasks[2].task_id
        table.set_rows(rows_of([t for t in tasks if t is not tasks[2]]))
        assert table.cursor_task_id == tasks[3].task_id
        await pilot.press("G")
        table.set_rows(rows_of(tasks[:3]))
        assert table.cursor_task_id == tasks[2].task_id
        table.set_rows([])
        assert table.cursor_task_id is None
        assert "No tasks" in line(table, 1)


async def test_highlighted_and_selected_messages() -> None:
    app = TableApp(FakeClock(T0))
    async with app.run_test(size=(120, 20)) as pilot:
        tasks = [make_task(index) for index in range(3)]
        await start(pilot, rows_of(tasks))
        assert app.highlighted == [tasks[0].task_id]
        await pilot.press("down", "k", "k")  # the last "k" cannot move: no message
        await pilot.press("enter")
        await pilot.pause()
        assert app.highlighted == [tasks[0].task_id, tasks[1].task_id, tasks[0].task_id]
        assert app.selected == [tasks[0].task_id]
        # A refresh that leaves the cursor's task in place sends nothing.
        app.query_one(TaskTable).set_rows(rows_of(tasks))
        await pilot.pause()
        assert len(app.highlighted) == 3


# Values chosen so each column orders the tasks differently from the id.
SORT_TASKS = [
    make_task(
        index,
        status=(1, "9", 3, 1)[index],
        mode=("rtc", "live", "x", "a")[index],
        language=("ja", "cn", "yue", "en")[index],
        tag=("delta", "Alpha", "charlie", "bravo")[index],
        created_at=T0 - timedelta(minutes=(5, 50, 1, 20)[index]),
        updated_at=T0 - timedelta(seconds=(30, 2, 90, 7)[index]),
        stream_url=f"rtmp://{'dbca'[index]}.example.com/s?auth_key={SECRET}",
        callback_url=("https://z", "default", "https://a", "https://m")[index],
    )
    for index in range(4)
]
EXPECTED_ORDER = {
    "id": [0, 1, 2, 3],
    "status": [0, 3, 2, 1],  # running first, then raw values
    "mode": [3, 1, 0, 2],
    "language": [1, 3, 0, 2],
    "tag": [1, 3, 2, 0],  # case-insensitive
    "uptime": [2, 0, 3, 1],  # shortest first
    "updated": [1, 3, 0, 2],  # most recent first
    "stream": [3, 1, 2, 0],  # by app/stream (all "s"), then host: a, b, c, d
    "callback": [1, 2, 3, 0],
}


async def test_sort_by_each_column_and_reverse() -> None:
    app = TableApp(FakeClock(T0))
    async with app.run_test(size=(160, 20)) as pilot:
        table = await start(pilot, rows_of(SORT_TASKS))
        assert set(EXPECTED_ORDER) == set(SORT_COLUMNS)
        for column, order in EXPECTED_ORDER.items():
            expected = [SORT_TASKS[i].task_id for i in order]
            table.sort_by(column, reverse=False)
            assert table.sort_column == column
            assert not table.sort_reverse
            assert ids(table) == expected, column
            assert "▲" in line(table, 0)
            table.sort_by(column)  # the same column again: flips
            assert table.sort_reverse
            assert ids(table) == expected[::-1], column
            assert "▼" in line(table, 0)
        table.sort_by("tag")  # a new column starts ascending
        assert not table.sort_reverse


async def test_sort_keeps_the_cursor_task_and_cycle_sort_walks_columns() -> None:
    app = TableApp(FakeClock(T0))
    async with app.run_test(size=(160, 20)) as pilot:
        tasks = [make_task(index) for index in range(6)]
        table = await start(pilot, rows_of(tasks))
        await pilot.press("down")
        table.sort_by("id", reverse=True)
        assert table.cursor_task_id == tasks[1].task_id
        assert ids(table)[0] == tasks[5].task_id
        seen = [table.sort_column]
        for _ in SORT_COLUMNS:
            table.cycle_sort()
            seen.append(table.sort_column)
        assert seen == [*SORT_COLUMNS, "id"]
        with pytest.raises(ValueError, match="unknown column"):
            table.sort_by("nope")


async def test_filter_narrows_and_clears() -> None:
    app = TableApp(FakeClock(T0))
    async with app.run_test(size=(120, 20)) as pilot:
        tasks = [
            make_task(1, tag="Evening-News"),
            make_task(2, tag="sports", language="en", target_languages=("ja",)),
            make_task(3, stream_url=f"rtmp://edge.CDN.example.org/live/x?auth_key={SECRET}"),
            make_task(4),
        ]
        table = await start(pilot, rows_of(tasks))
        table.set_filter("n")
        assert table.row_count == 4  # "n" is in every stream host
        table.set_filter("ne")
        assert ids(table) == [tasks[0].task_id]  # case-insensitive tag match
        table.set_filter("new")
        assert ids(table) == [tasks[0].task_id]
        table.set_filter("cdn.example")  # stream host, from scratch
        assert ids(table) == [tasks[2].task_id]
        table.set_filter("ja")  # translation target
        assert ids(table) == [tasks[1].task_id]
        table.set_filter("00000004")  # task id
        assert ids(table) == [tasks[3].task_id]
        assert table.cursor_task_id == tasks[3].task_id
        table.set_filter(SECRET[:12])  # never matches the auth_key
        assert table.row_count == 0
        assert table.cursor_task_id is None
        assert "No task matches" in line(table, 1)
        table.filter_text = ""  # the reactive works too
        assert table.row_count == table.total_count == 4
        assert table.filter_text == ""


async def test_filter_applies_to_new_data() -> None:
    app = TableApp(FakeClock(T0))
    async with app.run_test(size=(120, 20)) as pilot:
        table = await start(pilot, rows_of([make_task(1, tag="keep"), make_task(2)]))
        table.set_filter("keep")
        table.set_rows(rows_of([make_task(1, tag="keep"), make_task(2), make_task(3, tag="keep")]))
        assert table.row_count == 2
        assert table.total_count == 3


async def test_new_rows_are_marked_and_the_mark_expires() -> None:
    clock = FakeClock(T0)
    app = TableApp(clock)
    async with app.run_test(size=(120, 20)) as pilot:
        book = TaskBook(new_for=30)
        book.update([make_task(1), make_task(3)], clock())
        book.update([make_task(1), make_task(2), make_task(3)], clock.advance(5))
        table = await start(pilot, list(book.rows()))
        await pilot.press("G")  # the cursor away from the rows compared
        new_color = table.get_component_rich_style("task-table--new").color
        assert new_color is not None
        old_line, new_line = table.render_line(1), table.render_line(2)
        assert "".join(s.text for s in new_line).startswith("+ ")
        assert "".join(s.text for s in old_line).startswith("  ")
        assert all(s.style is not None and s.style.color == new_color for s in new_line)
        assert not any(s.style is not None and s.style.color == new_color for s in old_line)
        clock.advance(31)
        assert line(table, 2).startswith("  ")
        assert not any(
            s.style is not None and s.style.color == new_color for s in table.render_line(2)
        )


async def test_ended_rows_are_dimmed_then_leave_after_linger() -> None:
    clock = FakeClock(T0)
    app = TableApp(clock)
    async with app.run_test(size=(120, 20)) as pilot:
        book = TaskBook(linger=60)
        book.update([make_task(1), make_task(2)], clock())
        book.update([make_task(1)], clock.advance(5))
        table = await start(pilot, list(book.rows()))
        ended = table.render_line(2)
        assert "".join(s.text for s in ended).startswith("x ")
        assert all(s.style is not None and s.style.dim for s in ended)
        assert not any(s.style is not None and s.style.dim for s in table.render_line(1))
        book.update([make_task(1)], clock.advance(59))
        table.set_rows(book.rows())
        assert table.total_count == 2
        book.update([make_task(1)], clock.advance(1))
        table.set_rows(book.rows())
        assert ids(table) == [make_task(1).task_id]


async def test_non_running_status_is_highlighted() -> None:
    app = TableApp(FakeClock(T0))
    async with app.run_test(size=(120, 20)) as pilot:
        table = await start(pilot, rows_of([make_task(1), make_task(2, status=3)]))
        alert = table.get_component_rich_style("task-table--status-alert")

        def status_style(y: int) -> Style | None:
            return next(s.style for s in table.render_line(y) if s.text.strip() in {"3"})

        assert status_style(2) is not None
        assert status_style(2).color == alert.color  # type: ignore[union-attr]
        assert all(s.style is None or s.style.color != alert.color for s in table.render_line(1))


async def test_cursor_is_drawn_with_the_cursor_style() -> None:
    app = TableApp(FakeClock(T0))
    async with app.run_test(size=(120, 20)) as pilot:
        table = await start(pilot, rows_of([make_task(1), make_task(2)]))
        cursor = table.get_component_rich_style("task-table--cursor")
        assert cursor.bgcolor is not None
        assert all(
            s.style is not None and s.style.bgcolor == cursor.bgcolor for s in table.render_line(1)
        )
        assert not any(
            s.style is not None and s.style.bgcolor == cursor.bgcolor for s in table.render_line(2)
        )
        await pilot.press("down")
        assert not any(
            s.style is not None and s.style.bgcolor == cursor.bgcolor for s in table.render_line(1)
        )


async def test_scrolls_to_the_cursor_in_10000_rows() -> None:
    app = TableApp(FakeClock(T0))
    async with app.run_test(size=(120, 24)) as pilot:
        tasks = [make_task(index) for index in range(10_000)]
        table = await start(pilot, rows_of(tasks))
        body = table.scrollable_content_region.height - 1
        await pilot.press("G")
        assert table.cursor_task_id == tasks[-1].task_id
        assert table.scroll_y == table.max_scroll_y > 9_000
        lines = screen(table)
        assert "ID" in lines[0]  # the header stays while scrolling
        assert tasks[-1].task_id in lines[body]
        await pilot.press("pageup")
        assert table.cursor_task_id == tasks[-1 - body].task_id
        assert tasks[-1 - body].task_id in line(table, 1)
        await pilot.press("g")
        assert table.scroll_y == 0
        assert tasks[0].task_id in line(table, 1)
        await pilot.press("pagedown", "pagedown")
        assert table.cursor_task_id == tasks[2 * body].task_id
        assert table.move_cursor(tasks[5_000].task_id)
        assert 5_000 - table.scroll_y in range(body)
        assert tasks[5_000].task_id in "\n".join(screen(table))
        assert not table.move_cursor("asr-missing")
        await pilot.press("G")
        table.set_rows(rows_of(tasks[:10]))  # the view shrinks under a deep scroll
        assert table.scroll_y == 0
        assert table.cursor_task_id == tasks[9].task_id
        assert tasks[9].task_id[:20] in line(table, 10)


async def test_clock_drives_uptime_and_age_columns() -> None:
    clock = FakeClock(T0)
    app = TableApp(clock)
    async with app.run_test(size=(160, 20)) as pilot:
        table = await start(pilot, rows_of([make_task(0)]))
        assert "just now" in line(table, 1)
        clock.advance(75)
        assert "1m15s ago" in line(table, 1)
        assert "1m15s" in line(table, 1)


async def test_no_secret_or_control_character_is_ever_rendered() -> None:
    app = TableApp(FakeClock(T0))
    async with app.run_test(size=(240, 20)) as pilot:
        tasks = [
            make_task(1),
            make_task(2, stream_url=f"rtmp://h.example.com/app/s;auth_key={SECRET}"),
            make_task(3, stream_url=f"http://h.example.com/s.flv#auth_key={SECRET}"),
            make_task(4, stream_url=f"http://user:{SECRET}@h.example.com/s.flv"),
            make_task(5, tag="\x1b[2J[bold red]boom[/]\u202e", ali_uid="1119309225474343"),
        ]
        table = await start(pilot, rows_of(tasks))
        text = "\n".join(screen(table))
        assert SECRET not in text
        assert SECRET[:10] not in text
        assert "1119309225474343" not in text
        assert "\x1b" not in text
        assert "\u202e" not in text
        assert "\ufffd[2J[bold red]" in text  # shown literally, never as markup
        assert " app/s;auth_key=****" in text


async def test_a_token_in_the_callback_url_is_masked() -> None:
    app = TableApp(FakeClock(T0))
    async with app.run_test(size=(240, 20)) as pilot:
        callback = f"https://cb.io/h?auth_key={SECRET}"
        table = await start(pilot, rows_of([make_task(1, callback_url=callback)]))
        text = "\n".join(screen(table))
        assert SECRET[:10] not in text
        assert "https://cb.io/h?auth_key=****" in text


async def test_set_rows_before_mount_is_shown_once_mounted() -> None:
    clock = FakeClock(T0)

    class EarlyApp(App[None]):
        def compose(self) -> ComposeResult:
            table = TaskTable(clock=clock)
            table.set_rows(rows_of([make_task(1)]))
            yield table

    app = EarlyApp()
    async with app.run_test(size=(120, 20)) as pilot:
        await pilot.pause()
        table = app.query_one(TaskTable)
        assert table.cursor_task_id == make_task(1).task_id
        assert make_task(1).task_id in line(table, 1)


async def test_cursor_style_follows_focus() -> None:
    app = TableApp(FakeClock(T0))
    async with app.run_test(size=(120, 20)) as pilot:
        table = await start(pilot, rows_of([make_task(1), make_task(2)]))
        focused = table.render_line(1)
        focused_bg = next(iter(focused)).style
        app.set_focus(None)
        await pilot.pause()
        assert not table.has_focus
        blurred_bg = next(iter(table.render_line(1))).style
        assert focused_bg is not None
        assert blurred_bg is not None
        assert focused_bg.bgcolor != blurred_bg.bgcolor


async def test_refresh_with_a_few_changes_keeps_the_sort_order_exact() -> None:
    app = TableApp(FakeClock(T0))
    async with app.run_test(size=(120, 20)) as pilot:
        tasks = [make_task(index, tag=f"t{(index * 37) % 101:03d}") for index in range(100)]
        book = TaskBook()
        book.update(tasks, T0)
        table = await start(pilot, list(book.rows()))
        for reverse in (False, True):
            table.sort_by("tag", reverse=reverse)
            changed = [replace(t, tag="t050x") if i % 30 == 0 else t for i, t in enumerate(tasks)]
            changed = [*changed[:-2], *(make_task(500 + i, tag="t007") for i in range(3))]
            book.update(changed, T0 + timedelta(seconds=5))
            table.set_rows(book.rows())
            expected = sorted(book.rows(), key=lambda r: (r.task.tag.lower(), r.task_id))
            if reverse:
                expected.reverse()
            assert ids(table) == [row.task_id for row in expected]
            tasks = changed


async def test_ended_rows_say_ended_in_the_status_column_and_sort_after_running_ones() -> None:
    clock = FakeClock(T0)
    app = TableApp(clock)
    async with app.run_test(size=(120, 20)) as pilot:
        book = TaskBook(linger=60)
        book.update([make_task(1), make_task(2)], clock())
        book.update([make_task(2)], clock.advance(5))  # task 1 vanished: its row lingers
        table = await start(pilot, list(book.rows()))
        assert ids(table) == [make_task(1).task_id, make_task(2).task_id]
        ended, running = line(table, 1), line(table, 2)
        assert " ended " in ended
        assert "running" not in ended
        assert " running " in running
        # Dimmed, like the rest of the ended row.
        status = next(s for s in table.render_line(1) if s.text.strip() == "ended")
        assert status.style is not None
        assert status.style.dim
        table.sort_by("status")
        assert ids(table) == [make_task(2).task_id, make_task(1).task_id]


async def test_rendered_lines_of_rows_that_left_are_dropped() -> None:
    app = TableApp(FakeClock(T0))
    async with app.run_test(size=(120, 20)) as pilot:
        table = await start(pilot, rows_of([make_task(n) for n in range(1, 6)]))
        await pilot.pause()
        cached = set(table._line_cache.keys())
        assert make_task(1).task_id in cached
        table.set_rows(rows_of([make_task(n) for n in range(2, 6)]))
        assert make_task(1).task_id not in set(table._line_cache.keys())


@pytest.mark.parametrize("height", [8, 24, 50])
async def test_the_rows_kept_drawn_are_a_few_screens_whatever_was_browsed(height: int) -> None:
    # A session that pages through a large account keeps the screens around the cursor, not
    # every row it ever drew; what is on screen is always among them.
    app = TableApp(FakeClock(T0))
    async with app.run_test(size=(120, height)) as pilot:
        table = await start(pilot, rows_of([make_task(n) for n in range(1, 601)]))
        body = table._body_height()
        kept = line_cache_rows(body)
        assert kept == max(LINE_CACHE_MIN_ROWS, 3 * body)
        for _ in range(600 // body + 2):
            await pilot.press("pagedown")
        await pilot.pause()
        for _ in range(3):
            await pilot.press("pageup")
        await pilot.pause()
        cached = set(table._line_cache.keys())
        assert len(cached) <= kept
        top = round(table.scroll_y)
        shown = {table._rows.view[i].task_id for i in range(top, min(top + body, 600))}
        assert shown <= cached


async def test_the_tick_redraws_the_rows_whose_time_texts_moved_on() -> None:
    clock = FakeClock(T0)
    app = TableApp(clock)
    async with app.run_test(size=(160, 20)) as pilot:
        # Task 0 is brand new (ages in seconds), task 120 two hours old (minutes).
        old = make_task(120, updated_at=T0 - timedelta(hours=2))
        table = await start(pilot, rows_of([make_task(0), old]))
        await pilot.pause()
        clock.advance(5)
        repainted: list[int] = []
        refresh_line = table.refresh_line

        def record(y: int) -> None:
            repainted.append(y)
            refresh_line(y)

        table.refresh_line = record  # type: ignore[method-assign]
        table._tick()
        assert repainted == [1]
        await pilot.pause()
        assert "5s ago" in app.export_screenshot().replace("\xa0", " ").replace("&#160;", " ")


@pytest.mark.parametrize("width", [60, 80, 100, 120, 160])
async def test_s_sorts_only_by_columns_on_screen(width: int) -> None:

    app = TableApp(FakeClock())
    async with app.run_test(size=(width, 20)) as pilot:
        table = await start(pilot, rows_of([make_task(n) for n in range(1, 4)]))
        shown = [key for key, _ in layout_columns(table.scrollable_content_region.width)]
        seen = []
        for _ in range(len(shown)):
            table.cycle_sort()
            seen.append(table.sort_column)
            assert table.sort_column in shown
            assert "▲" in "".join(s.text for s in table.render_line(0))
        assert sorted(seen) == sorted(shown)


async def test_a_table_that_never_got_data_does_not_say_no_tasks() -> None:

    app = TableApp(FakeClock())
    async with app.run_test(size=(100, 10)) as pilot:
        await pilot.pause()
        table = app.query_one(TaskTable)
        assert "No data yet" in line(table, 1)
        assert "No tasks" not in line(table, 1)
        table = await start(pilot, [])
        assert "No tasks" in line(table, 1)


async def test_a_line_is_rendered_again_only_when_its_state_changes() -> None:
    # Every state a row's line depends on (cursor, new marker, time texts) changes here, back
    # and forth; after each change, a second pass over the same state renders nothing new.
    clock = FakeClock(T0)
    app = TableApp(clock)
    async with app.run_test(size=(160, 20)) as pilot:
        book = TaskBook(new_for=30)
        book.update([make_task(1)], clock())
        book.update([make_task(1), make_task(2), make_task(3)], clock.advance(1))
        table = await start(pilot, list(book.rows()))
        steps = [
            table.action_cursor_down,
            table.action_cursor_down,
            table.action_cursor_up,
            lambda: clock.advance(61),  # uptime and ages move on, the new marker expires
            table.action_first,
            table.action_last,
        ]
        for step in steps:
            step()
            first = [table.render_line(y) for y in range(1, 4)]
            again = [table.render_line(y) for y in range(1, 4)]
            assert all(a is b for a, b in zip(first, again, strict=True)), step


async def test_a_refresh_where_nothing_changed_repaints_nothing() -> None:
    # The usual refresh of a quiet account: the same rows again. The lines on screen are still
    # right, so the table asks for no repaint at all (the tick redraws the ages that move).
    clock = FakeClock(T0)
    app = TableApp(clock)
    async with app.run_test(size=(160, 20)) as pilot:
        book = TaskBook()
        book.update([make_task(n) for n in range(40)], clock())
        table = await start(pilot, list(book.rows()))
        await pilot.press("down", "down")
        repaints: list[object] = []
        refresh, refresh_line = table.refresh, table.refresh_line

        def record_refresh(*regions: object, **options: bool) -> object:
            repaints.append(("refresh", regions))
            return refresh(*regions, **options)  # type: ignore[arg-type]

        def record_line(y: int) -> None:
            repaints.append(("line", y))
            refresh_line(y)

        table.refresh = record_refresh  # type: ignore[method-assign]
        table.refresh_line = record_line  # type: ignore[method-assign]
        before = app.export_screenshot()
        book.update([make_task(n) for n in range(40)], clock.advance(1))  # equal copies
        table.set_rows(book.rows())
        assert repaints == []
        assert table.cursor_task_id == make_task(2).task_id
        await pilot.pause()
        assert app.export_screenshot() == before
        # One task changed: repainted.
        book.update([make_task(n, tag="x" if n == 3 else f"tag-{n}") for n in range(40)], clock())
        table.set_rows(book.rows())
        assert repaints
        await pilot.pause()
        assert "x " in line(table, 4)


_table_steps = st.lists(
    st.one_of(
        st.tuples(st.just("same"), st.integers(0, 0)),
        st.tuples(st.just("vary"), st.integers(0, 59)),
        st.tuples(st.just("drop"), st.integers(0, 59)),
        st.tuples(st.just("clock"), st.integers(1, 90)),
        st.tuples(st.just("key"), st.integers(0, 3)),
        st.tuples(st.just("sort"), st.integers(0, len(SORT_COLUMNS) - 1)),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=_table_steps)
async def test_a_table_repainted_in_part_shows_what_a_full_repaint_shows(
    steps: list[tuple[str, int]],
) -> None:
    """Refreshes (the same rows, a changed or vanished task), ticks, keys and sorts: after each,
    the screen painted from only what was marked changed equals a full repaint."""
    clock = FakeClock(T0)
    app = TableApp(clock)
    keys = ("down", "up", "pagedown", "G")
    async with app.run_test(size=(160, 16)) as pilot:
        book = TaskBook(linger=60, new_for=30)
        tags = {n: f"tag-{n}" for n in range(60)}
        present = set(range(60))
        book.update([make_task(n) for n in sorted(present)], clock())
        table = await start(pilot, list(book.rows()))
        for kind, value in steps:
            if kind == "key":
                await pilot.press(keys[value])
            elif kind == "sort":
                table.sort_by(sorted(SORT_COLUMNS)[value])
            elif kind == "clock":
                clock.advance(value)
                table._tick()
            else:
                if kind == "vary":
                    tags[value] += "x"
                elif kind == "drop":
                    present ^= {value}
                answer = [make_task(n, tag=tags[n]) for n in sorted(present)]
                book.update(answer, clock())
                table.set_rows(book.rows())
            await pilot.pause()
            partial = app.export_screenshot()
            table.refresh()  # everything painted again
            await pilot.pause()
            assert partial == app.export_screenshot(), (kind, value)
