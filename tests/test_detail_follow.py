"""The detail pane follows the cursor cheaply: the title at once, the body once the cursor rests.

The pane here is given a follow delay no test outlasts, so that "not drawn yet" does not depend
on how fast the machine is; `TaskDetail.flush` stands for the cursor coming to rest.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

import pytest
from rich.console import Console
from textual.app import App, ComposeResult
from textual.widgets import Static

from asrtui.ui.widgets.detail import DetailModel, TaskDetail
from tests.support.fakes import make_task

NEVER = 3600.0


class PaneApp(App[None]):
    """Just the pane, as wide as in the console."""

    def __init__(self, follow_delay: float) -> None:
        super().__init__()
        self._follow_delay = follow_delay

    def compose(self) -> ComposeResult:
        yield TaskDetail(tz=UTC, follow_delay=self._follow_delay, id="detail")


def _model(number: int, tag: str = "") -> DetailModel:
    return DetailModel(task=make_task(number, tag=tag))


def _title(pane: TaskDetail) -> str:
    return str(pane.query_one("#detail-title", Static).content)


def _drawn_tag(pane: TaskDetail) -> str:
    """The body as drawn now, as plain text (unlike `TaskDetail.as_text`, no flush first)."""
    body = pane.query_one("#detail-body", Static)
    console = Console(width=200, color_system=None, file=None, record=True)
    with console.capture() as capture:
        console.print(body.content)
    return capture.get()


#: Sequences of tasks shown, as a held key or a refresh would show them (numbers; repeats are
#: the same task shown again).
SEQUENCES = [
    [1, 2],
    [1, 2, 3, 4, 5, 6],
    [1, 2, 1],
    [1, 1, 1],
    [3, 2, 2, 5],
]


@pytest.mark.parametrize("sequence", SEQUENCES)
async def test_the_title_names_the_last_task_at_once_and_the_body_follows_on_rest(
    sequence: list[int],
) -> None:
    app = PaneApp(NEVER)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(TaskDetail)
        first = _model(sequence[0], tag=f"tag-{sequence[0]}")
        pane.show(first)
        pane.flush()
        await pilot.pause()
        assert f"tag-{sequence[0]}" in _drawn_tag(pane)
        for number in sequence[1:]:
            pane.show(_model(number, tag=f"tag-{number}"))
            # The keys act on the pane's model, which the title names: both the newest.
            model = pane.model
            assert model is not None
            assert model.task.task_id == make_task(number).task_id
            assert make_task(number).task_id in _title(pane)
        last = sequence[-1]
        if last != sequence[0]:
            # Not drawn while the cursor moves on (nothing is drawn per row passed)...
            assert f"tag-{last}" not in _drawn_tag(pane)
        # ...and drawn for the task the title names once it rests.
        text = pane.as_text(width=200)
        assert f"tag-{last}" in text
        assert make_task(last).task_id in text


async def test_the_body_follows_without_being_asked_once_the_delay_passes() -> None:
    app = PaneApp(0.01)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(TaskDetail)
        pane.show(_model(1, tag="tag-1"))
        pane.show(_model(2, tag="tag-2"))
        for _ in range(500):  # waits for the timer; asserts nothing about how long it took
            if "tag-2" in _drawn_tag(pane):
                break
            await pilot.pause(0.01)
        assert "tag-2" in _drawn_tag(pane)


async def test_the_same_task_changed_is_drawn_at_once() -> None:
    app = PaneApp(NEVER)
    async with app.run_test(size=(120, 40)):
        pane = app.query_one(TaskDetail)
        pane.show(_model(1, tag="before"))
        pane.flush()
        pane.show(_model(1, tag="after"))
        assert "after" in _drawn_tag(pane)


async def test_no_follow_delay_draws_every_task_at_once() -> None:
    app = PaneApp(0.0)
    async with app.run_test(size=(120, 40)):
        pane = app.query_one(TaskDetail)
        for number in (1, 2, 3):
            pane.show(_model(number, tag=f"tag-{number}"))
            assert f"tag-{number}" in _drawn_tag(pane)


def _extras(count: int) -> dict[str, object]:
    return {f"field{index:02d}": index for index in range(count)}


@pytest.mark.parametrize("counts", [[0, 5], [5, 0], [0, 3, 8, 1], [12, 2, 12]])
async def test_tasks_of_other_heights_that_fit_the_pane_lay_nothing_out_again(
    counts: list[int],
) -> None:
    app = PaneApp(0.0)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(TaskDetail)
        body = pane.query_one("#detail-body", Static)
        pane.show(DetailModel(task=make_task(99)))
        await pilot.pause()
        layouts: list[bool] = []
        update = body.update

        def record(content: Any = "", *, layout: bool = True) -> None:
            layouts.append(layout)
            update(content, layout=layout)

        body.update = record  # type: ignore[method-assign]
        for number, count in enumerate(counts, start=1):
            pane.show(DetailModel(task=make_task(number, extra=_extras(count))))
            await pilot.pause()
            assert pane.as_text().count("field") == count
        assert layouts == [False] * len(counts)
        # Filled to the pane's height, not beyond it: nothing to scroll.
        assert pane.max_scroll_y == 0


async def test_a_task_taller_than_the_pane_scrolls_and_a_shorter_pane_refills() -> None:
    app = PaneApp(0.0)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(TaskDetail)
        pane.show(DetailModel(task=make_task(1, extra=_extras(60))))
        await pilot.pause()
        assert pane.max_scroll_y > 0
        pane.show(DetailModel(task=make_task(2)))
        await pilot.pause()
        assert pane.max_scroll_y == 0
        await pilot.resize_terminal(120, 20)
        await pilot.pause()
        assert pane.max_scroll_y == 0
        assert "field" not in pane.as_text()
