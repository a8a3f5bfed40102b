"""The filter's field terms, negation and AND, and the hide-ended toggle, on the table's view."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asrtui.ui.taskbook import Row
from asrtui.ui.widgets.task_table.query import parse
from asrtui.ui.widgets.task_table.view import RowView
from tests.support.clock import T0
from tests.support.fakes import FakeTaskSource, make_task, running_console


def rows() -> list[Row]:
    tasks = [
        make_task(1, tag="news", language="en"),
        make_task(2, tag="evening-news", language="cn"),
        make_task(3, tag="sports", language="en", status=3),
        make_task(4, tag="weather", language="ja"),
        make_task(5, tag="news", language="cn"),
    ]
    return [
        Row(
            task,
            T0,
            ended_at=T0 + timedelta(minutes=1) if task.task_id.startswith("asr-00000005") else None,
        )
        for task in tasks
    ]


def shown(query: str, *, hide_ended: bool = False) -> set[int]:
    view = RowView()
    view.set_rows(rows())
    if hide_ended:
        view.set_hide_ended(True)
    view.apply_filter(query)
    return {int(info.task_id[4:12]) for info in view.view}


ALL = {1, 2, 3, 4, 5}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ALL),
        ("news", {1, 2, 5}),
        ("tag:news", {1, 2, 5}),
        ("!tag:news", {3, 4}),
        ("tag:news lang:en", {1}),
        ("tag:news !lang:en", {2, 5}),
        ("status:ended", {5}),
        ("!status:ended", {1, 2, 3, 4}),
        ("status:running", {1, 2, 4}),
        ("status:3", {3}),
        ("LANG:EN", {1, 3}),
        ("lang:", ALL),  # a field still being typed filters nothing yet
        ("!", ALL),
        ("nosuchfield:x", set()),  # not a field: plain text, found nowhere
        ("asr-00000004", {4}),
        ("id:asr-00000004", {4}),
    ],
)
def test_queries(query: str, expected: set[int]) -> None:
    assert shown(query) == expected


def test_hide_ended_leaves_ended_rows_out_and_combines_with_the_filter() -> None:
    assert shown("", hide_ended=True) == {1, 2, 3, 4}
    assert shown("tag:news", hide_ended=True) == {1, 2}


_WORDS = st.sampled_from(
    [
        "news",
        "en",
        "cn",
        "tag:news",
        "lang:en",
        "status:ended",
        "status:running",
        "mode:",
        "sports",
        "id:asr",
        "x",
    ]
)


@given(_WORDS)
def test_a_negated_term_shows_exactly_the_other_rows(word: str) -> None:
    if parse(word):
        assert shown("!" + word) == ALL - shown(word)


@given(st.lists(_WORDS, min_size=1, max_size=4))
def test_terms_are_anded(words: list[str]) -> None:
    expected = set(ALL)
    for word in words:
        expected &= shown(word)
    assert shown(" ".join(words)) == expected


@given(st.lists(_WORDS, min_size=1, max_size=3))
def test_typing_a_query_character_by_character_ends_where_typing_it_at_once_does(
    words: list[str],
) -> None:
    query = " ".join(words)
    view = RowView()
    view.set_rows(rows())
    for end in range(1, len(query) + 1):
        view.apply_filter(query[:end])
    assert {info.task_id for info in view.view} == {info.task_id for info in _at_once(query)}


def _at_once(query: str) -> list:  # type: ignore[type-arg]
    view = RowView()
    view.set_rows(rows())
    view.apply_filter(query)
    return view.view


async def test_h_hides_ended_rows_in_the_console() -> None:
    source = FakeTaskSource.with_tasks(4)
    async with running_console(source) as c:
        source.remove(next(iter(source.tasks)))
        await c.advance(5)
        assert c.screen.table.row_count == 4
        await c.press("h")
        assert c.screen.table.row_count == 3
        await c.press("h")
        assert c.screen.table.row_count == 4
