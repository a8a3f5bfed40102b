"""The filter's query language: field terms (``status:ended``, ``tag:news``), ``!`` to negate.

Typed into the filter bar (``/``). Terms are separated by spaces and all must hold (AND). A term
``FIELD:TEXT`` holds when the field contains TEXT; any other term when the id, tag, stream
(``app/stream``) or a language contains it, as the plain filter always did. ``!`` before a term
negates it. Every match ignores case. Fields:

- ``status``: ``running``, ``ended`` (no longer listed), or the raw status of another value;
- ``tag``, ``mode``, ``id``, ``stream``;
- ``lang``: the source language and the translation targets.

A word with a colon whose left part is no field (``rtmp://host``) is plain text, so a pasted
URL still filters as before.
"""

from __future__ import annotations

from dataclasses import dataclass

from asrtui.ui.widgets.task_table.columns import SortColumn
from asrtui.ui.widgets.task_table.rows import RowInfo

__all__ = ["FIELDS", "Term", "matches", "narrows", "parse"]

#: The field names a term may start with, and the table cell each one reads.
FIELDS: dict[str, SortColumn] = {
    "status": "status",
    "tag": "tag",
    "lang": "language",
    "mode": "mode",
    "id": "id",
    "stream": "stream",
}


@dataclass(frozen=True)
class Term:
    """One term: ``field`` (``None``: any searched text) contains ``text``, or not."""

    field: SortColumn | None
    text: str
    negated: bool = False


def parse(query: str) -> tuple[Term, ...]:
    """The terms of ``query``, lower-cased; a lone ``!`` or ``field:`` being typed is none."""
    terms: list[Term] = []
    for typed in query.lower().split():
        negated = typed.startswith("!")
        word = typed.removeprefix("!")
        name, colon, text = word.partition(":")
        if colon and name in FIELDS:
            field: SortColumn | None = FIELDS[name]
        else:
            field, text = None, word
        if text:
            terms.append(Term(field, text, negated))
    return tuple(terms)


def narrows(previous: str, query: str) -> bool:
    """Whether ``query`` can only show fewer rows than ``previous`` (plain text typed on)."""
    plain = "!" not in query and ":" not in query and " " not in query
    return bool(previous) and plain and query.lower().startswith(previous.lower())


def matches(info: RowInfo, terms: tuple[Term, ...]) -> bool:
    """Whether the row holds every term."""
    for term in terms:
        if term.field is None:
            found = term.text in info.haystack
        else:
            found = term.text in info.cells[term.field].lower()
        if found == term.negated:
            return False
    return True
