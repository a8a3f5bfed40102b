"""The console's column chooser (``o``), sorting over what is visible, and the status summary."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from textual.widgets import OptionList

from asrtui.quotastats import QuotaStats
from asrtui.ui.screens.columns import ColumnChooser
from asrtui.ui.screens.main import MainScreen
from asrtui.ui.summary import TaskSummary
from asrtui.ui.widgets.status_line import StatusSnapshot, render_status
from asrtui.ui.widgets.task_table import SORT_COLUMNS, ColumnChoice, TaskTable
from tests.support.clock import FakeClock
from tests.support.fakes import (
    FakeTaskSource,
    RecordingApp,
    console_settings,
    make_task,
    running_console,
    settle,
)


def header(table: TaskTable) -> str:
    return "".join(segment.text for segment in table.render_line(0))


def status_text(screen: MainScreen) -> str:
    snapshot = screen.status_line.snapshot
    assert snapshot is not None
    return render_status(snapshot).plain


# ---------------------------------------------------------------- the chooser


async def test_o_hides_a_column_and_enter_applies() -> None:
    async with running_console(size=(160, 40)) as c:
        table = c.screen.table
        assert "TAG" in header(table)
        await c.press("o")
        chooser = c.app.screen
        assert isinstance(chooser, ColumnChooser)
        # The list is the table's order; TAG is the fourth column.
        await c.press("j", "j", "j", "space", "enter")
        assert c.app.screen is c.screen
        assert table.column_choice.hidden == {"tag"}
        assert "TAG" not in header(table)


async def test_escape_leaves_the_table_as_it_was() -> None:
    async with running_console(size=(140, 34)) as c:
        before = header(c.screen.table)
        await c.press("o", "j", "space", "J", "J", "escape")
        assert c.app.screen is c.screen
        assert c.screen.table.column_choice == ColumnChoice()
        assert header(c.screen.table) == before


async def test_moving_a_column_changes_the_table_order() -> None:
    async with running_console(size=(140, 34)) as c:
        # STREAM is 8th: up six places with K and shift+up, to just after ID.
        await c.press("o", *["j"] * 7, *["K"] * 3, *["shift+up"] * 3, "enter")
        titles = header(c.screen.table).split()
        assert titles[:2] == ["ID▲", "STREAM"]
        assert c.screen.table.column_choice.order[:2] == ("id", "stream")


async def test_the_id_cannot_be_hidden_and_r_restores_the_built_in_order() -> None:
    async with running_console(size=(140, 34)) as c:
        await c.press("o", "space", "J", "j", "space")
        chooser = c.app.screen
        assert isinstance(chooser, ColumnChooser)
        assert "id" not in chooser.choice.hidden
        assert chooser.choice.order[:2] == ("status", "id")
        await c.press("r", "enter")
        assert c.screen.table.column_choice == ColumnChoice()


async def test_the_chooser_says_which_columns_the_width_leaves_out() -> None:
    async with running_console(size=(80, 24)) as c:
        await c.press("o")
        chooser = c.app.screen
        assert isinstance(chooser, ColumnChooser)
        options = chooser.query_one("#columns", OptionList).options
        lines = {str(option.id): str(option.prompt) for option in options}
        assert "core, always shown" in lines["id"]
        assert "too narrow now" in lines["updated"]
        assert "narrow" not in lines["tag"]
        # Hiding the tag makes room: the list says so before Enter.
        await c.press("j", "j", "j", "space")
        lines = {
            str(o.id): str(o.prompt) for o in chooser.query_one("#columns", OptionList).options
        }
        assert lines["tag"].startswith("[ ] TAG")
        assert "hidden" in lines["tag"]
        assert "too narrow now" not in lines["mode"]
        await c.press("escape")


async def test_an_applied_choice_is_announced_for_keeping() -> None:
    chosen: list[ColumnChoice] = []

    class KeepingApp(RecordingApp):
        def on_main_screen_columns_chosen(self, event: MainScreen.ColumnsChosen) -> None:
            chosen.append(event.choice)

    clock = FakeClock()
    app = KeepingApp(FakeTaskSource.with_tasks(3), console_settings(clock))
    async with app.run_test(size=(120, 34)) as pilot:
        await settle(pilot)
        await pilot.press("o", "j", "space", "enter")
        await settle(pilot)
        assert len(chosen) == 1
        assert ColumnChoice.from_json(chosen[0].to_json()) == chosen[0]
        assert chosen[0].hidden == {"status"}
        # Applying the same choice again is no news.
        await pilot.press("o", "enter")
        await settle(pilot)
        assert len(chosen) == 1


async def test_a_kept_choice_applies_through_its_json_form() -> None:
    """What the remembered settings store is JSON; the screen applies it as it was chosen."""
    async with running_console(size=(160, 40)) as c:
        await c.press("o", "j", "space", *["j"] * 6, "K", "enter")
        kept = json.loads(json.dumps(c.screen.table.column_choice.to_json()))
        before = header(c.screen.table)
        c.screen.apply_column_choice(ColumnChoice())
        assert header(c.screen.table) != before
        c.screen.apply_column_choice(ColumnChoice.from_json(kept))
        assert header(c.screen.table) == before
        assert "STATUS" not in before
        assert before.index("STREAM") < before.index("UPDATED")


# ---------------------------------------------------------------- sort over what is visible


CHOICES = [
    ColumnChoice(),
    ColumnChoice(hidden=frozenset({"tag", "language"})),
    ColumnChoice().moved("stream", -6).moved("updated", -5),
    ColumnChoice(hidden=frozenset(SORT_COLUMNS[1:])),
]


@pytest.mark.parametrize("width", [80, 120, 160])
@pytest.mark.parametrize("choice", CHOICES)
async def test_s_cycles_only_over_visible_columns(width: int, choice: ColumnChoice) -> None:
    async with running_console(size=(width, 30)) as c:
        table = c.screen.table
        table.set_column_choice(choice)
        await c.press()
        shown = table.shown_columns()
        seen = []
        for _ in range(len(shown)):
            await c.press("s")
            seen.append(table.sort_column)
            assert table.sort_column in shown
            assert ("▲" in header(table)) or ("▼" in header(table))
            assert "sort " not in status_text(c.screen)
        # Every visible column once, in the table's order.
        assert sorted(seen) == sorted(shown)
        assert seen == shown[1:] + shown[:1] or seen == shown


async def test_a_sort_the_screen_cannot_show_is_named_in_the_status_line() -> None:
    async with running_console(size=(120, 34)) as c:
        table = c.screen.table
        await c.press("d")  # the detail pane away: the table is wide
        assert "updated" in table.shown_columns()
        table.sort_by("updated", reverse=True)
        await c.press("d")  # the pane back beside the table: no room for UPDATED
        c.screen.tick()
        assert "updated" not in table.shown_columns()
        assert "sort UPDATED▼" in status_text(c.screen)
        # Hidden by choice, not width: named as well.
        await c.press("d")
        c.screen.tick()
        assert "sort " not in status_text(c.screen)
        await c.press("o", *["j"] * 6, "space", "enter")
        assert "updated" in table.column_choice.hidden
        assert "sort UPDATED▼" in status_text(c.screen)


# ---------------------------------------------------------------- the status line summary


async def test_the_summary_counts_running_ended_and_changed() -> None:
    source = FakeTaskSource.with_tasks(5)
    async with running_console(source, size=(120, 34)) as c:
        assert "5 running 0 ended 0 changed" in status_text(c.screen)
        source.remove(make_task(1).task_id)
        source.remove(make_task(2).task_id)
        source.change(make_task(3).task_id, tag="moved")
        await c.advance(5)
        assert "3 running 2 ended 3 changed" in status_text(c.screen)
        # The next answer changes nothing: nothing changed in the last interval.
        await c.advance(5)
        assert "3 running 2 ended 0 changed" in status_text(c.screen)
        # A listed task that is not running is neither running nor ended.
        source.change(make_task(4).task_id, status=3)
        await c.advance(5)
        assert "2 running 2 ended 1 changed" in status_text(c.screen)
        # Ended rows leave after their minute: the summary follows without a new answer.
        c.screen.schedule.toggle_pause()
        await c.advance(61)
        assert "2 running 0 ended 1 changed" in status_text(c.screen)


SNAPSHOTS = st.builds(
    StatusSnapshot,
    profile=st.text(st.characters(min_codepoint=33, max_codepoint=0x4E00), min_size=1, max_size=24),
    region=st.sampled_from(["cn-shanghai", "ap-southeast-1", "eu-central-1"]),
    data_age=st.none() | st.floats(0, 90_000),
    latency=st.none() | st.floats(0, 30),
    next_in=st.floats(0, 300),
    refreshing=st.booleans(),
    paused=st.booleans(),
    interval=st.sampled_from([1.0, 5.0, 300.0]),
    stale=st.booleans(),
    error=st.text(max_size=60),
    quota=st.none()
    | st.builds(
        QuotaStats,
        limit=st.just(20),
        effective_limit=st.sampled_from([20.0, 7.5]),
        used_last_second=st.integers(0, 20),
        clock_offset=st.none() | st.floats(-900, 900),
        shared=st.sampled_from(["", "host", "redis"]),
        shared_degraded=st.sampled_from(["", "Redis unreachable"]),
    ),
    read_only=st.booleans(),
    bell=st.booleans(),
    revealed=st.booleans(),
    shown=st.integers(0, 100_000),
    total=st.integers(0, 100_000),
    recent_failures=st.none() | st.tuples(st.integers(0, 999), st.integers(0, 999)),
    summary=st.none() | st.builds(TaskSummary, *[st.integers(0, 100_000)] * 3),
    hidden_sort=st.sampled_from(["", "UPDATED▼", "CALLBACK▲"]),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(status=SNAPSHOTS, width=st.integers(20, 220))
def test_the_first_line_never_wraps(status: StatusSnapshot, width: int) -> None:
    first = render_status(status, width).plain.split("\n")[0]
    assert cell_len(first) <= width


def typical(**changes: Any) -> StatusSnapshot:
    values: dict[str, Any] = {
        "profile": "production-east",
        "region": "cn-shanghai",
        "data_age": 2.0,
        "latency": 0.012,
        "next_in": 3.0,
        "quota": QuotaStats(20, 20.0, 3, shared="host"),
        "shown": 1200,
        "total": 1250,
        "summary": TaskSummary(1180, 70, 12),
        "recent_failures": (0, 0),
    }
    values.update(changes)
    return StatusSnapshot(**values)


@pytest.mark.parametrize(
    ("status", "kept"),
    [
        (typical(), ["production-east", "↻ 2s", "1180 run", "1200/1250"]),
        (typical(read_only=True), [" READ-ONLY ", "1180 run", "70 end", "1200/1250"]),
        (typical(recent_failures=(3, 1)), ["thr 3 err 1/5m", "1180 run", "1200/1250"]),
        (typical(recent_failures=(0, 1)), ["err 1/5m", "1180 run", "1200/1250"]),
        (typical(hidden_sort="UPDATED▼"), ["sort UPDATED▼", "1180 run", "1200/1250"]),
        (
            typical(read_only=True, hidden_sort="UPDATED▼", recent_failures=(0, 2)),
            [" READ-ONLY ", "err 2/5m", "sort UPDATED▼", "1200/1250"],
        ),
        (
            typical(revealed=True, hidden_sort="TAG▲", recent_failures=(4, 2)),
            [" SECRETS SHOWN ", "thr 4 err 2/5m", "sort TAG▲", "1200/1250"],
        ),
        (typical(paused=True), [" PAUSED ", "1180 run", "1200/1250"]),
        (
            typical(quota=QuotaStats(20, 7.5, 7), read_only=True),
            [" READ-ONLY ", "7/7.5 req/s slowed", "1180 run", "1200/1250"],
        ),
    ],
)
def test_at_80_columns_what_matters_stays(status: StatusSnapshot, kept: list[str]) -> None:
    line = render_status(status, 80).plain
    assert "\n" not in line
    assert cell_len(line) <= 80
    for part in kept:
        assert part in line
    assert not line.endswith("…")


def test_parts_give_way_in_order() -> None:
    """Shorter words first, then the bell, quiet error counts, changes, the rate, the region."""
    status = typical(bell=False)
    full = render_status(status).plain
    assert "1180 running 70 ended 12 changed" in full
    assert "err 0 /5m" in full
    widths = {width: render_status(status, width).plain for width in range(40, 200)}
    gone_at = {
        part: max((w for w, line in widths.items() if part not in line), default=0)
        for part in ("bell off", "err 0", "12 c", "req/s", "cn-shanghai", "next ")
    }
    order = sorted(gone_at, key=lambda part: -gone_at[part])
    assert order == ["bell off", "err 0", "12 c", "req/s", "cn-shanghai", "next "]
