"""The task table's columns: which are shown at a given width, how wide, and how a cell is fitted.

Pure layout over cell counts (no widget): `layout_columns` decides the columns for a width,
`fit_cell` pads or shortens a text to exactly a column's width, `clean_text` keeps a server
string from driving the terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich.cells import cell_len, set_cell_size

from asrtui.printable import is_unsafe

__all__ = [
    "COLUMN_BY_KEY",
    "ELLIPSIS",
    "MARKER_WIDTH",
    "SEPARATOR",
    "SORT_COLUMNS",
    "TIME_COLUMNS",
    "SortColumn",
    "clean_text",
    "fit_cell",
    "layout_columns",
]


#: The columns the table can be sorted by, in display (and `TaskTable.cycle_sort`) order.
SortColumn = Literal[
    "id", "status", "mode", "language", "tag", "uptime", "updated", "stream", "callback"
]
SORT_COLUMNS: tuple[SortColumn, ...] = (
    "id",
    "status",
    "mode",
    "language",
    "tag",
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
    _Column("id", "ID", 13, 20, 40, essential=True),
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
# Optional columns join in this order while there is room; columns grow in `_GROW_ORDER`.
_ADD_ORDER: tuple[SortColumn, ...] = ("updated", "mode", "tag")
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
TIME_COLUMNS = frozenset({"uptime", "updated"})


def layout_columns(width: int) -> list[tuple[SortColumn, int]]:
    """The columns shown at a given table width, with their widths, in display order.

    Essential columns (id, status, language, uptime, stream) always appear, squeezed down to
    their minimum widths if need be; optional ones join while they fit at a comfortable width.

    Args:
        width: the table's width in cells (the row marker is included in it).

    Returns:
        ``(column key, width)`` pairs.
    """
    avail = max(0, width - MARKER_WIDTH)
    chosen: dict[SortColumn, int] = {c.key: c.comfy for c in _COLUMNS if c.essential}

    def used() -> int:
        return sum(chosen.values()) + len(chosen) - 1

    over = used() - avail
    for key in ("stream", "id", "language"):
        if over <= 0:
            break
        column = COLUMN_BY_KEY[key]
        give = min(over, chosen[key] - column.min)
        chosen[key] -= give
        over -= give
    for key in _ADD_ORDER:
        column = COLUMN_BY_KEY[key]
        if used() + 1 + column.comfy <= avail:
            chosen[key] = column.comfy
    # The callback column is the least useful: whole ids and languages come first.
    _grow(chosen, avail - used(), _GROW_ORDER[:-2])
    callback = COLUMN_BY_KEY["callback"]
    if used() + 1 + callback.comfy <= avail:
        chosen["callback"] = callback.comfy
    spare = _grow(chosen, avail - used(), _GROW_ORDER)
    for key in _FLEX:
        if spare > 0 and key in chosen:
            chosen[key] += spare
            spare = 0
    return [(c.key, chosen[c.key]) for c in _COLUMNS if c.key in chosen]


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
