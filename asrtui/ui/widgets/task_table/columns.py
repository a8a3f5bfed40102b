"""The task table's columns: which are shown at a given width, how wide, and how a cell is fitted.

Pure layout over cell counts (no widget): `layout_columns` decides the columns for a width and
the operator's `ColumnChoice` (which columns, in which order), `fit_cell` pads or shortens a
text to exactly a column's width, `clean_text` keeps a server string from driving the terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, cast

from rich.cells import cell_len, set_cell_size

from asrtui.printable import is_unsafe

__all__ = [
    "ALWAYS_SHOWN",
    "COLUMN_BY_KEY",
    "DEFAULT_CHOICE",
    "ELLIPSIS",
    "MARKER_WIDTH",
    "SEPARATOR",
    "SORT_COLUMNS",
    "TIME_COLUMNS",
    "ColumnChoice",
    "SortColumn",
    "clean_text",
    "fit_cell",
    "layout_columns",
]


#: The columns the table can be sorted by, in their built-in display order.
SortColumn = Literal[
    "id", "status", "mode", "language", "tag", "uptime", "updated", "stream", "callback"
]
# The tag is what tells a broadcaster's tasks apart: it comes before the mode, so that it is
# the first to join when the table is narrow (80 columns).
SORT_COLUMNS: tuple[SortColumn, ...] = (
    "id",
    "status",
    "language",
    "tag",
    "mode",
    "uptime",
    "updated",
    "stream",
    "callback",
)


ELLIPSIS = "…"
MARKER_WIDTH = 2
SEPARATOR = " "


def clean_text(text: str) -> str:
    """A server string made safe to print in a fixed-width cell.

    Control and bidi characters would reach the terminal as they are (a tag like "\\x1b[2J"
    would clear the operator's screen, "\\u202e" would mirror the rest of the line); each
    becomes one ``�`` rather than an escape, so the cell keeps its width.
    """
    if text.isprintable():
        return text
    return "".join("\N{REPLACEMENT CHARACTER}" if is_unsafe(char) else char for char in text)


def fit_cell(text: str, width: int, right: bool = False) -> str:
    """Pad or truncate (with an ellipsis) ``text`` to exactly ``width`` cells."""
    if width <= 0:
        return ""
    if text.isascii():
        length = len(text)
        if length <= width:
            return text.rjust(width) if right else text.ljust(width)
        return text[: width - 1] + ELLIPSIS
    length = cell_len(text)
    if length <= width:
        padding = " " * (width - length)
        return padding + text if right else text + padding
    return set_cell_size(text, width - 1) + ELLIPSIS


@dataclass(frozen=True, slots=True)
class _Column:
    """How a column is laid out.

    ``min`` is the narrowest it may get, ``comfy`` the width it gets before optional columns
    are added, ``pref`` the width it grows to when space is left.
    """

    key: SortColumn
    title: str
    min: int
    comfy: int
    pref: int
    essential: bool
    right: bool = False


_COLUMNS: tuple[_Column, ...] = (
    _Column("id", "ID", 13, 18, 40, essential=True),
    _Column("status", "STATUS", 7, 7, 8, essential=True),
    _Column("mode", "MODE", 4, 4, 4, essential=False),
    _Column("language", "LANG", 4, 6, 12, essential=True),
    _Column("tag", "TAG", 6, 10, 16, essential=False),
    _Column("uptime", "UPTIME", 6, 6, 7, essential=True, right=True),
    _Column("updated", "UPDATED", 7, 8, 9, essential=False, right=True),
    _Column("stream", "STREAM", 12, 24, 60, essential=True),
    _Column("callback", "CALLBACK", 8, 12, 30, essential=False),
)
COLUMN_BY_KEY = {column.key: column for column in _COLUMNS}
#: The column that names each row: always shown (an action acts on the row it names).
ALWAYS_SHOWN: SortColumn = "id"
# Joins only once every other column reached its preferred width: a callback URL is long and
# rarely what tells tasks apart, so whole ids and languages come first.
_LATE: frozenset[SortColumn] = frozenset({"callback"})
_GROW_ORDER: tuple[SortColumn, ...] = (
    "id",
    "status",
    "language",
    "uptime",
    "updated",
    "mode",
    "tag",
    "stream",
    "callback",
)
# Space left after every column reached its preferred width goes to these, in turn.
_FLEX: tuple[SortColumn, ...] = ("stream", "callback", "tag")
# Squeezed toward their minimum widths, in this order, when the essential columns do not fit.
_SQUEEZE: tuple[SortColumn, ...] = ("stream", "id", "language")
TIME_COLUMNS = frozenset({"uptime", "updated"})


@dataclass(frozen=True, slots=True)
class ColumnChoice:
    """The operator's choice of columns: their order, and which are hidden.

    The order is the display order, left to right, and also the order of importance: the
    columns that are not core (mode, tag, updated, callback) join in this order while they
    fit, and when even the narrowed core columns do not fit, the last of them give way (see
    `layout_columns`). A plain value, so that it can be kept per profile: `to_json` and
    `from_json` round-trip it.

    Attributes:
        order: every column once, left to right.
        hidden: columns never shown, whatever the width (never the id column).

    Raises:
        ValueError: when ``order`` is not every column exactly once, or ``hidden`` names an
            unknown column or the id column.
    """

    order: tuple[SortColumn, ...] = SORT_COLUMNS
    hidden: frozenset[SortColumn] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if sorted(self.order) != sorted(SORT_COLUMNS):
            raise ValueError(f"column order must name every column once: {', '.join(SORT_COLUMNS)}")
        unknown = self.hidden - set(SORT_COLUMNS)
        if unknown:
            raise ValueError(f"unknown hidden column(s): {', '.join(sorted(unknown))}")
        if ALWAYS_SHOWN in self.hidden:
            raise ValueError(f"the {ALWAYS_SHOWN} column cannot be hidden")

    @property
    def visible(self) -> tuple[SortColumn, ...]:
        """The columns not hidden, in order."""
        return tuple(key for key in self.order if key not in self.hidden)

    def toggled(self, key: SortColumn) -> ColumnChoice:
        """The same choice with ``key`` shown if it was hidden, hidden if it was shown.

        The id column stays shown.
        """
        if key == ALWAYS_SHOWN:
            return self
        return ColumnChoice(self.order, self.hidden ^ {key})

    def moved(self, key: SortColumn, step: int) -> ColumnChoice:
        """The same choice with ``key`` moved ``step`` places (negative: left), within bounds."""
        order = list(self.order)
        index = order.index(key)
        target = min(max(index + step, 0), len(order) - 1)
        order.insert(target, order.pop(index))
        return ColumnChoice(tuple(order), self.hidden)

    def to_json(self) -> dict[str, list[str]]:
        """A JSON-able value: ``{"order": [...], "hidden": [...]}`` (hidden in display order)."""
        return {"order": list(self.order), "hidden": [k for k in self.order if k in self.hidden]}

    @classmethod
    def from_json(cls, value: object) -> ColumnChoice:
        """The choice `to_json` wrote, read leniently.

        Names this version does not know are skipped and columns the value does not name
        join at the end of the order, shown: a choice saved by another version still applies.
        A hidden id column is shown.

        Raises:
            ValueError: when ``value`` is not an object with an ``order`` list of strings
                (and, if present, a ``hidden`` list of strings).
        """
        if not isinstance(value, dict):
            raise ValueError(f"a column choice is an object, not {type(value).__name__}")
        order = value.get("order")
        hidden = value.get("hidden", [])
        for name, names in (("order", order), ("hidden", hidden)):
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise ValueError(f"a column choice's {name!r} is a list of column names")
        named = dict.fromkeys(cast(list[str], order))
        kept = [key for key in named if key in SORT_COLUMNS]
        kept += [key for key in SORT_COLUMNS if key not in named]
        gone = {key for key in cast(list[str], hidden) if key in SORT_COLUMNS}
        return cls(tuple(kept), frozenset(gone - {ALWAYS_SHOWN}))


#: The columns in their built-in order, none hidden.
DEFAULT_CHOICE = ColumnChoice()


def layout_columns(
    width: int, choice: ColumnChoice = DEFAULT_CHOICE
) -> list[tuple[SortColumn, int]]:
    """The columns shown at a given table width, with their widths, in display order.

    Essential columns (id, status, language, uptime, stream) appear at a comfortable width,
    squeezed down to their minimum widths if need be; the others join at a comfortable width
    while they fit, taken in the choice's order (a column that does not fit is left out and
    the next one tried). When even the squeezed essential columns do not fit, the last of them
    in the choice's order give way, never the id. Hidden columns never appear.

    Args:
        width: the table's width in cells (the row marker is included in it).
        choice: which columns, in which order.

    Returns:
        ``(column key, width)`` pairs, in the choice's order.
    """
    avail = max(0, width - MARKER_WIDTH)
    visible = choice.visible
    essentials = [key for key in visible if COLUMN_BY_KEY[key].essential]
    chosen: dict[SortColumn, int] = {}

    def used() -> int:
        return sum(chosen.values()) + len(chosen) - 1

    while True:
        chosen = {key: COLUMN_BY_KEY[key].comfy for key in essentials}
        over = used() - avail
        for key in _SQUEEZE:
            if over <= 0:
                break
            if key in chosen:
                give = min(over, chosen[key] - COLUMN_BY_KEY[key].min)
                chosen[key] -= give
                over -= give
        droppable = [key for key in essentials if key != ALWAYS_SHOWN]
        if over <= 0 or not droppable:
            break
        essentials.remove(droppable[-1])
    for late in (False, True):
        if late:
            # Whole ids and languages before the late columns join.
            _grow(chosen, avail - used(), _GROW_ORDER[:-2])
        for key in visible:
            column = COLUMN_BY_KEY[key]
            if column.essential or (key in _LATE) != late:
                continue
            if used() + 1 + column.comfy <= avail:
                chosen[key] = column.comfy
    spare = _grow(chosen, avail - used(), _GROW_ORDER)
    for key in _FLEX:
        if spare > 0 and key in chosen:
            chosen[key] += spare
            spare = 0
    return [(key, chosen[key]) for key in visible if key in chosen]


def _grow(chosen: dict[SortColumn, int], spare: int, order: Sequence[SortColumn]) -> int:
    """Widen chosen columns toward their preferred widths, in order; return what is left."""
    for key in order:
        if spare <= 0:
            break
        if key in chosen:
            grow = min(spare, COLUMN_BY_KEY[key].pref - chosen[key])
            if grow > 0:
                chosen[key] += grow
                spare -= grow
    return spare
