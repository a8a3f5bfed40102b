"""The operator's column choice: its value, its JSON form, and the layout it gives at any width."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asrtui.ui.widgets.task_table import (
    COLUMN_BY_KEY,
    DEFAULT_CHOICE,
    SORT_COLUMNS,
    ColumnChoice,
    SortColumn,
    layout_columns,
)
from asrtui.ui.widgets.task_table.columns import ALWAYS_SHOWN, MARKER_WIDTH


@st.composite
def choices(draw: st.DrawFn) -> ColumnChoice:
    """Any valid choice: a permutation of the columns, any of them hidden but the id."""
    order = tuple(draw(st.permutations(SORT_COLUMNS)))
    hidden = draw(st.frozensets(st.sampled_from([k for k in SORT_COLUMNS if k != "id"])))
    return ColumnChoice(order, hidden)


def used(layout: list[tuple[SortColumn, int]]) -> int:
    return MARKER_WIDTH + sum(width for _, width in layout) + len(layout) - 1


# ---------------------------------------------------------------- the layout, for every choice


@given(choice=choices(), width=st.integers(0, 260))
def test_the_layout_honours_the_choice_at_every_width(choice: ColumnChoice, width: int) -> None:
    layout = layout_columns(width, choice)
    keys = [key for key, _ in layout]
    # Only columns the operator shows, each once, in the operator's order; the id always.
    assert set(keys) <= set(choice.visible)
    assert len(keys) == len(set(keys))
    assert keys == [key for key in choice.visible if key in keys]
    assert ALWAYS_SHOWN in keys
    assert all(cells >= COLUMN_BY_KEY[key].min for key, cells in layout)
    # It fits whenever the id alone fits.
    if width >= MARKER_WIDTH + COLUMN_BY_KEY["id"].min:
        assert used(layout) <= width


@given(choice=choices(), width=st.integers(0, 260))
def test_columns_give_way_from_the_end_of_the_order(choice: ColumnChoice, width: int) -> None:
    """The rule the chooser states: when the width cannot hold every column, the last go first."""
    keys = {key for key, _ in layout_columns(width, choice)}
    essentials = [k for k in choice.visible if COLUMN_BY_KEY[k].essential and k != "id"]
    shown = [key in keys for key in essentials]
    # Essential columns (squeezed first) leave from the end: what is shown is a prefix.
    assert shown == sorted(shown, reverse=True)
    # Other columns are tried in order; one is left out for a later one only if it is wider.
    optional = [k for k in choice.visible if not COLUMN_BY_KEY[k].essential and k != "callback"]
    for position, left_out in enumerate(optional):
        if left_out in keys:
            continue
        for later in optional[position + 1 :]:
            if later in keys:
                assert COLUMN_BY_KEY[later].comfy < COLUMN_BY_KEY[left_out].comfy


@pytest.mark.parametrize("width", [78, 79, 80])
def test_the_default_at_80_columns_shows_the_tag(width: int) -> None:
    """What tells a broadcaster's tasks apart, at the width of a default terminal.

    78: beside the scrollbar of a long list; the columns must not change when it comes or goes
    (they did: TAG at 80, MODE at 78).
    """
    keys = [key for key, _ in layout_columns(width)]
    assert keys == ["id", "status", "language", "tag", "uptime", "stream"]


@pytest.mark.parametrize(
    ("width", "choice", "expected"),
    [
        # Hiding the mode makes room for the update age at 90 columns.
        (
            90,
            ColumnChoice(hidden=frozenset({"mode"})),
            ["id", "status", "language", "tag", "uptime", "updated", "stream"],
        ),
        # The stream moved next to the id: shown there.
        (
            80,
            DEFAULT_CHOICE.moved("stream", -6),
            ["id", "stream", "status", "language", "tag", "uptime"],
        ),
        # The callback moved first among the optional columns still joins last: whole ids first.
        (140, DEFAULT_CHOICE.moved("callback", -7), None),
        # Too narrow for every essential column: the last in the order gives way, never the id.
        (40, DEFAULT_CHOICE, ["id", "status", "language", "uptime"]),
        (40, DEFAULT_CHOICE.moved("stream", -6), ["id", "stream", "status"]),
        (10, ColumnChoice(hidden=frozenset(SORT_COLUMNS[1:])), ["id"]),
    ],
)
def test_layout_table(width: int, choice: ColumnChoice, expected: list[str] | None) -> None:
    keys = [key for key, _ in layout_columns(width, choice)]
    if expected is None:
        assert "callback" not in keys
        assert dict(layout_columns(width, choice))["id"] == COLUMN_BY_KEY["id"].pref
    else:
        assert keys == expected


# ---------------------------------------------------------------- the value and its JSON form


@given(choice=choices())
def test_json_round_trip(choice: ColumnChoice) -> None:
    assert ColumnChoice.from_json(json.loads(json.dumps(choice.to_json()))) == choice


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


@given(
    value=JSON
    | st.fixed_dictionaries(
        {"order": st.lists(st.sampled_from([*SORT_COLUMNS, "nope", "ID"]), max_size=12)},
        optional={"hidden": st.lists(st.sampled_from([*SORT_COLUMNS, "x"]), max_size=12)},
    )
)
def test_any_stored_value_gives_a_choice_or_a_value_error(value: Any) -> None:
    """A damaged or foreign file never breaks the console: a valid choice, or a ValueError."""
    try:
        choice = ColumnChoice.from_json(value)
    except ValueError:
        return
    assert sorted(choice.order) == sorted(SORT_COLUMNS)
    assert ALWAYS_SHOWN not in choice.hidden


def test_reading_is_lenient_with_names_it_does_not_know() -> None:
    choice = ColumnChoice.from_json(
        {"order": ["stream", "future-column", "id", "stream"], "hidden": ["id", "tag", "gone"]}
    )
    # Known names keep their place, the others join after them in the built-in order.
    assert choice.order[:2] == ("stream", "id")
    assert sorted(choice.order) == sorted(SORT_COLUMNS)
    assert choice.hidden == {"tag"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "is an object"),
        ({}, "'order' is a list"),
        ({"order": "id,status"}, "'order' is a list"),
        ({"order": ["id"], "hidden": [1]}, "'hidden' is a list"),
    ],
)
def test_unreadable_values_say_what_is_wrong(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ColumnChoice.from_json(value)


def test_an_invalid_choice_cannot_be_made() -> None:
    with pytest.raises(ValueError, match="every column once"):
        ColumnChoice(("id", "status"))
    with pytest.raises(ValueError, match="cannot be hidden"):
        ColumnChoice(hidden=frozenset({"id"}))
    with pytest.raises(ValueError, match="unknown hidden"):
        ColumnChoice(hidden=frozenset({"nope"}))  # type: ignore[arg-type]


@given(choice=choices(), key=st.sampled_from(SORT_COLUMNS), step=st.integers(-12, 12))
def test_editing_keeps_a_valid_choice(choice: ColumnChoice, key: SortColumn, step: int) -> None:
    moved = choice.moved(key, step)
    assert moved.hidden == choice.hidden
    expected = max(0, min(len(SORT_COLUMNS) - 1, choice.order.index(key) + step))
    assert moved.order.index(key) == expected
    toggled = choice.toggled(key)
    if key == ALWAYS_SHOWN:
        assert toggled == choice
    else:
        assert (key in toggled.hidden) != (key in choice.hidden)
        assert toggled.toggled(key) == choice
