"""The detail pane's fields drawn a row at a time look exactly like the grid they replace.

`FieldLines` keeps each row's lines by its text and the column widths, so that a pane shown
again with one age moved on renders one row. The grid (`fields_table`) is the reference: for
any fields and any width both give the same cells, styles included.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console, Group
from rich.segment import Segment, Segments
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Static

from asrtui.ui.taskbook import Row, TaskEvent
from asrtui.ui.widgets.detail import (
    DetailModel,
    FieldCells,
    FieldLines,
    Lines,
    TaskDetail,
    field_cells,
    fields_table,
    render_history,
)
from tests.support.fakes import make_task

NOW = datetime(2024, 5, 14, 4, 0, tzinfo=UTC)

#: Words as a task carries them: plain, wide (CJK), long unbroken (a URL), markup-like.
WORDS = st.one_of(
    st.text(alphabet="abcdefghij-_./:?=", min_size=1, max_size=12),
    st.text(alphabet="中文字幕直播", min_size=1, max_size=6),
    st.text(alphabet="abc/=?&", min_size=30, max_size=140),
    st.sampled_from(["[bold]x[/bold]", ":smile:", "(3h14m ago)", "—", "yes"]),
)
STYLES = st.sampled_from(["", "bold", "italic", "dim", "yellow", "bold red", "green"])


@st.composite
def texts(draw: st.DrawFn, *, min_size: int = 0) -> Text:
    words = draw(st.lists(WORDS, min_size=min_size, max_size=8))
    spaces = draw(st.sampled_from([" ", "  ", " ; "]))
    text = Text(spaces.join(words), style=draw(STYLES))
    if len(text) > 2 and draw(st.booleans()):
        # A part in another style, as "value  (as sent: not a time)" is.
        start = draw(st.integers(0, len(text) - 1))
        text.stylize(draw(STYLES) or "italic", start, draw(st.integers(start + 1, len(text))))
    return text


CELLS = st.lists(
    st.tuples(texts(min_size=1).map(lambda text: Text(text.plain)), texts()),
    min_size=1,
    max_size=12,
)


def _console(width: int) -> Console:
    return Console(width=width, color_system="truecolor", file=None, legacy_windows=False)


def _simple(lines: Lines) -> list[list[Segment]]:
    """Lines with runs of one style merged: what the terminal shows, not how it was cut."""
    return [list(Segment.simplify(line)) for line in lines]


def _grid(cells: list[FieldCells], width: int) -> Lines:
    console = _console(width)
    return console.render_lines(fields_table(cells), console.options.update(height=None), pad=False)


@settings(max_examples=300, deadline=None)
@given(cells=CELLS, width=st.integers(1, 200))
def test_the_rows_draw_what_the_grid_draws_for_any_fields_and_width(
    cells: list[FieldCells], width: int
) -> None:
    console = _console(width)
    cache: dict[tuple[object, ...], Lines] = {}
    lines = FieldLines(cells, cache).lines(console, console.options.update(height=None))
    assert _simple(lines) == _simple(_grid(cells, width))
    # Drawn again from the kept rows: the same.
    again = FieldLines(cells, cache).lines(console, console.options.update(height=None))
    assert _simple(again) == _simple(lines)


@settings(max_examples=100, deadline=None)
@given(
    cells=CELLS,
    changed=st.data(),
    width=st.integers(20, 160),
)
def test_a_changed_row_is_redrawn_and_the_others_kept(
    cells: list[FieldCells], changed: st.DataObject, width: int
) -> None:
    console = _console(width)
    options = console.options.update(height=None)
    cache: dict[tuple[object, ...], Lines] = {}
    FieldLines(cells, cache).lines(console, options)
    index = changed.draw(st.integers(0, len(cells) - 1))
    name, value = cells[index]
    moved = [
        *cells[:index],
        (name, Text(value.plain + " 1s", style=value.style)),
        *cells[index + 1 :],
    ]
    lines = FieldLines(moved, cache).lines(console, options)
    assert _simple(lines) == _simple(_grid(moved, width))


def _model(age: int, *, number: int = 1, extra: dict[str, object] | None = None) -> DetailModel:
    task = make_task(number, extra=extra)
    first_seen = NOW - timedelta(minutes=5)
    return DetailModel(
        task=task,
        row=Row(task=task, first_seen=first_seen),
        now=NOW + timedelta(seconds=age),
    )


def test_real_fields_draw_as_the_grid_at_every_width() -> None:
    for revealed in (False, True):
        for extra in (None, {"someNewField": {"a": [1, 2]}, "x" * 90: "long name"}):
            cells = field_cells(_model(0, extra=extra), revealed=revealed, tz=UTC)
            for width in range(1, 201):
                console = _console(width)
                lines = FieldLines(cells, {}).lines(console, console.options.update(height=None))
                assert _simple(lines) == _simple(_grid(cells, width)), (revealed, extra, width)


@pytest.mark.parametrize("name", ["[bold]x[/bold]", "[foo]", "a[/]b", ":smile:", "[link=x]y"])
def test_an_unknown_field_name_is_text_not_markup(name: str) -> None:
    """A name with "[/]" in it used to stop the pane with a markup error."""
    cells = field_cells(_model(0, extra={name: 1}), revealed=False, tz=UTC)
    for drawn in (fields_table(cells), FieldLines(cells, {})):
        console = Console(width=80, color_system=None, file=None)
        with console.capture() as capture:
            if isinstance(drawn, FieldLines):
                for line in drawn.lines(console, console.options):
                    console.print(Segments(line))
            else:
                console.print(drawn)
        assert name in capture.get()


class PaneApp(App[None]):
    """The pane beside a widget that can be maximised in its place."""

    def compose(self) -> ComposeResult:
        yield DataTable(id="table")
        yield TaskDetail(tz=UTC, follow_delay=0, id="detail")


def _drawn(pane: TaskDetail) -> str:
    """The body as drawn now (unlike `TaskDetail.as_text`, nothing is flushed first)."""
    body = pane.query_one("#detail-body", Static)
    console = Console(width=200, color_system=None, file=None, record=True)
    with console.capture() as capture:
        console.print(body.content)
    return capture.get()


async def test_a_pane_that_cannot_be_seen_draws_nothing_until_it_can() -> None:
    app = PaneApp()
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(TaskDetail)
        pane.show(_model(0))
        await pilot.pause()
        assert "5m00s ago" in _drawn(pane)
        for hide, unhide in (
            (lambda: setattr(pane, "display", False), lambda: setattr(pane, "display", True)),
            (
                lambda: app.screen.maximize(app.query_one("#table"), container=False),
                app.screen.minimize,
            ),
        ):
            hide()
            await pilot.pause()
            assert not pane.is_on_screen
            pane.show(_model(7))
            await pilot.pause()
            assert "5m07s ago" not in _drawn(pane)  # not drawn while it cannot be seen
            unhide()
            await pilot.pause()
            assert "5m07s ago" in _drawn(pane)
            pane.show(_model(0))
            await pilot.pause()
            assert "5m00s ago" in _drawn(pane)


async def test_a_reader_of_a_hidden_pane_reads_the_task_it_names() -> None:
    app = PaneApp()
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(TaskDetail)
        pane.display = False
        await pilot.pause()
        pane.show(_model(3, number=2))
        assert make_task(2).task_id in pane.as_text()
        assert "5m03s ago" in pane.as_text()


async def test_the_pane_draws_what_the_grid_and_history_draw_at_every_width() -> None:
    task = make_task(4, extra={"someNewField": "x" * 70})
    history = [
        TaskEvent(
            at=NOW - timedelta(seconds=40 - n),
            task_id=task.task_id,
            kind="changed",
            detail=f"tag {n}",
        )
        for n in range(30)
    ]
    model = DetailModel(
        task=task,
        row=Row(task=task, first_seen=NOW - timedelta(minutes=5)),
        history=history,
        now=NOW,
        note="The service no longer knows this task.",
    )
    app = PaneApp()
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(TaskDetail)
        pane.show(model)
        await pilot.pause()
        body = pane.query_one("#detail-body", Static).content
        reference = Group(
            Text(model.note, style="yellow"),
            fields_table(field_cells(model, revealed=False, tz=UTC)),
            Text(""),
            render_history(history, UTC),
        )
        for width in range(10, 161, 3):
            console = _console(width)
            options = console.options.update(height=None)
            drawn = console.render_lines(body, options, pad=False)  # type: ignore[arg-type]
            while drawn and not drawn[-1]:
                drawn.pop()  # the blank lines that fill the pane
            assert _simple(drawn) == _simple(console.render_lines(reference, options, pad=False))


def _screen(app: App[None]) -> str:
    return app.export_screenshot()


@settings(max_examples=15, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.integers(1, 4), st.integers(0, 4000), st.booleans()), min_size=1, max_size=6
    )
)
async def test_a_body_repainted_in_part_shows_what_a_full_repaint_shows(
    steps: list[tuple[int, int, bool]],
) -> None:
    """Tasks and ages as refreshes and moves bring them; only changed lines are repainted."""
    app = PaneApp()
    async with app.run_test(size=(100, 36)) as pilot:
        pane = app.query_one(TaskDetail)
        body = pane.query_one("#detail-body", Static)
        for number, age, raw in steps:
            pane.raw_json = raw
            pane.show(_model(age, number=number))
            await pilot.pause()
            partial = _screen(app)
            body.refresh()  # everything painted again
            await pilot.pause()
            assert partial == _screen(app)
