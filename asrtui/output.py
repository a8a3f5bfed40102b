"""Task lists as JSON and CSV text: one definition for ``asrtui tasks`` and the console's export.

The command line prints these to a terminal and the console writes them to a file; both are
read by people and scripts alike, so they are the same text:

- JSON: an array of the task objects with the wire field names as the API sent them, unknown
  fields kept (`asrtui.wire.task_to_wire`);
- CSV: a header row and one row per task with every known field (`CSV_COLUMNS`).

Secrets (tokens in any URL field, known or not, URL passwords, ``aliUid``) are masked by
`asrtui.redact` unless ``reveal`` is asked for: JSON, CSV and the command line's table show the
same masked values. Text from the server never drives a terminal the output is shown on:
JSON writes the invisible and control characters as ``\\uXXXX`` (the same JSON), CSV cells
show them escaped (`asrtui.printable`). A CSV cell that a spreadsheet would evaluate as a
formula (a tag ``=HYPERLINK(...)``) is prefixed with ``'``.

Both come as text in pieces (`iter_json`, `iter_csv`), so that the command line writes tens of
thousands of tasks as it goes instead of building the whole text first. JSON is encoded by the
standard library's C encoder, then indented by msgspec's C formatter (the standard library
indents in pure Python: most of the time of a large listing); the text is the same as
``json.dumps(..., ensure_ascii=False, indent=2)``'s. A value the C encoder cannot write alone
(one kept as text for its depth) takes `asrtui.jsontext.to_text`'s way for its piece.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from asrtui.jsontext import c_compact_text, tame, to_text
from asrtui.models import Task
from asrtui.printable import printable_json, printable_line
from asrtui.redact import redact_task, redact_task_dict, redact_task_dicts_in_place
from asrtui.wire import task_to_wire, unread_value

__all__ = [
    "CSV_COLUMNS",
    "WireJsonRuns",
    "csv_cell",
    "iter_csv",
    "iter_json",
    "iter_wire_json",
    "render_csv",
    "render_json",
    "task_values",
]

#: The CSV columns, in order: every known field of `Task`, the most used first.
CSV_COLUMNS = (
    "task_id",
    "status",
    "mode",
    "language",
    "target_languages",
    "tag",
    "created_at",
    "updated_at",
    "stream_url",
    "callback_url",
    "translate_enabled",
    "report_interval",
    "auto_terminate_delay",
    "ali_uid",
)

# Leading characters that make spreadsheets evaluate a cell as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


#: Tasks per piece of streamed output: enough for the C encoder and formatter to run at full
#: speed, few enough that the first bytes leave at once and the text is never held whole.
_BATCH = 512

#: Value types written as they are: `asrtui.jsontext.tame` has nothing to do for them.
_SCALARS = (str, int, float, bool, type(None))

#: Value types msgspec's encoder writes as the standard library's does (`_flat_text`).
_FLAT_TYPES = frozenset({str, int, bool, type(None)})

_T = TypeVar("_T")


def render_json(tasks: Sequence[Task], *, reveal: bool = False, compact: bool = False) -> str:
    """A JSON array of the tasks' wire objects; ``compact`` puts it on one line.

    Non-ASCII text stays readable; invisible and control characters are escaped.
    """
    return "".join(iter_json(tasks, reveal=reveal, compact=compact))


def iter_json(
    tasks: Sequence[Task], *, reveal: bool = False, compact: bool = False
) -> Iterator[str]:
    """`render_json`'s text in pieces of up to `_BATCH` tasks, to write as they come."""
    return _iter_array(tasks, lambda task: _wire_object(task, reveal), compact)


def iter_wire_json(
    objects: Sequence[Mapping[str, Any]], *, reveal: bool = False, compact: bool = False
) -> Iterator[str]:
    """`iter_json`'s text for tasks given as their flat wire objects, without a `Task` each.

    ``objects`` are what `asrtui.wire.flat_task_objects` vouched for: the text is the one
    `iter_json` writes for the tasks `asrtui.wire.parse_tasks` would make of them, since each
    `Task.raw` would be a copy of its object. They are masked into new objects, never changed.
    """
    if reveal:
        return _iter_array(objects, lambda obj: obj, compact)
    return _iter_array(objects, redact_task_dict, compact)


class WireJsonRuns:
    """`iter_wire_json`'s indented text, built run by run from objects handed over as they come.

    For a listing read while its body arrives (`asrtui.wire.stream.TaskObjectStream`): each run of
    task objects is masked and encoded at once, so the work is done while the rest of the
    answer is still on its way, and `pieces` is the text `iter_wire_json` writes for all the
    objects (the pieces cut elsewhere). The objects must be what the stream hands on (flat,
    without floats); they are masked in place (`asrtui.redact.redact_task_dicts_in_place`),
    so they must be nobody else's.
    """

    def __init__(self, *, reveal: bool = False) -> None:
        self._reveal = reveal
        self._pieces: list[str] = ["["]

    def add(self, objects: list[dict[str, Any]]) -> None:
        """Mask and encode one run of objects (none: nothing)."""
        if not objects:
            return
        if not self._reveal:
            # The stream's decoder makes text, integers, booleans and nulls of exact types.
            redact_task_dicts_in_place(objects, exact_scalars=True)
        import msgspec

        try:  # the objects' values are text, integers, booleans and nulls: `_flat_text`'s way
            inner = msgspec.json.format(msgspec.json.encode(objects), indent=2).decode()[1:-2]
        except (UnicodeEncodeError, TypeError, ValueError, OverflowError):
            inner = _array_text(list(objects), compact=False)
        self._pieces.append(printable_json(inner if len(self._pieces) == 1 else "," + inner))

    def pieces(self) -> list[str]:
        """The text so far in pieces, closed: ``[]`` when no object was added."""
        return ["[]"] if len(self._pieces) == 1 else [*self._pieces, "\n]"]


def _iter_array(
    items: Sequence[_T], wire_of: Callable[[_T], Mapping[str, Any]], compact: bool
) -> Iterator[str]:
    """A JSON array of ``wire_of(item)`` for each item, in pieces of up to `_BATCH` items."""
    if not items:
        yield "[]"
        return
    yield "["
    for start in range(0, len(items), _BATCH):
        objects = [wire_of(item) for item in items[start : start + _BATCH]]
        inner = _array_text(objects, compact)
        yield printable_json(inner if start == 0 else "," + inner)
    yield "]" if compact else "\n]"


def _wire_object(task: Task, reveal: bool) -> dict[str, Any]:
    """The task's wire object, masked unless ``reveal``, with no copy made just to be masked.

    As `asrtui.wire.task_to_wire` writes it: a known field nested too deeply is kept as text.
    The masking walk builds the one new object; the received one is never changed.
    """
    if task.raw:
        wire = {
            name: value if type(value) in _SCALARS else tame(value)
            for name, value in task.raw.items()
        }
    else:
        wire = task_to_wire(task)
    return wire if reveal else redact_task_dict(wire)


def _array_text(objects: list[Mapping[str, Any]], compact: bool) -> str:
    """The JSON text of a non-empty array of ``objects`` without its brackets.

    Indented, it starts with the newline before the first item and ends after the last one.
    """
    flat = _flat_text(objects)
    if flat is not None:
        import msgspec

        return (flat if compact else msgspec.json.format(flat, indent=2)).decode()[
            1 : -1 if compact else -2
        ]
    text = c_compact_text(objects)
    if compact:
        return (text if text is not None else to_text(objects))[1:-1]
    indented: str | None = None
    if text is not None:
        import msgspec  # loaded with the first JSON listing, not by every command

        try:
            indented = msgspec.json.format(text, indent=2)
        except (msgspec.DecodeError, ValueError):  # NaN or Infinity: not JSON to msgspec
            indented = None
    if indented is None:
        indented = to_text(objects, indent=2)
    return indented[1:-2]


def _flat_text(objects: list[Mapping[str, Any]]) -> bytes | None:
    """The compact JSON of objects holding only text, integers, booleans and nulls, or ``None``.

    msgspec's encoder writes these exactly as ``json.dumps(..., ensure_ascii=False,
    separators=(",", ":"))`` does, some ten times faster; not floats (``1e16``, where the
    standard library writes ``1e+16``), nor text that is not UTF-8 (a lone surrogate), nor
    anything nested: those take the standard library's way.
    """
    plain = _FLAT_TYPES
    for obj in objects:
        if type(obj) is not dict:
            return None
        for value in obj.values():
            if type(value) not in plain:
                return None
    import msgspec

    try:
        return msgspec.json.encode(objects)
    except (UnicodeEncodeError, TypeError, ValueError, OverflowError):
        return None


def task_values(task: Task, *, reveal: bool = False) -> dict[str, str]:
    """The task's `CSV_COLUMNS` as plain strings, secrets masked unless ``reveal``.

    Not yet escaped: each output escapes them its own way (and a table cuts them to width).
    """

    def text(value: object, field: str = "") -> str:
        if value is None:  # absent, or sent but not readable: then what was sent
            return unread_value(task, field) or "" if field else ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, datetime):
            return value.isoformat()
        return str(value)

    if not reveal:
        task = redact_task(task)
    return {
        "task_id": task.task_id,
        "status": task.status_label,
        "mode": task.mode,
        "language": task.language,
        "target_languages": ",".join(task.target_languages),
        "tag": task.tag,
        "created_at": text(task.created_at, "created_at"),
        "updated_at": text(task.updated_at, "updated_at"),
        "stream_url": task.stream_url,
        "callback_url": task.callback_url,
        "translate_enabled": text(task.translate_enabled, "translate_enabled"),
        "report_interval": text(task.report_interval, "report_interval"),
        "auto_terminate_delay": text(task.auto_terminate_delay, "auto_terminate_delay"),
        "ali_uid": task.ali_uid,
    }


def csv_cell(value: str) -> str:
    """A CSV cell's text: printable, and never a formula a spreadsheet would run."""
    shown = printable_line(value)
    # A tag such as "=HYPERLINK(...)" must not run as a formula when the file is opened.
    return "'" + shown if shown.startswith(_FORMULA_START) else shown


def render_csv(tasks: Sequence[Task], *, reveal: bool = False) -> str:
    """CSV with a header row and every known field of each task."""
    return "".join(iter_csv(tasks, reveal=reveal))


def iter_csv(tasks: Sequence[Task], *, reveal: bool = False) -> Iterator[str]:
    """`render_csv`'s text in pieces: the header, then up to `_BATCH` rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for start in range(0, len(tasks), _BATCH):
        for task in tasks[start : start + _BATCH]:
            values = task_values(task, reveal=reveal)
            writer.writerow([csv_cell(values[name]) for name in CSV_COLUMNS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
