"""JSON values from the server, written back as text at any depth without ever raising.

A task field may hold any JSON the parser accepted, nested as deep as the parser allows (about
a thousand levels). Everything recursive in the standard library gives up long before that
inside a running console: ``copy.deepcopy``, ``json.dumps`` with an indent, even comparing two
such values, raise `RecursionError` once the nesting plus the caller's own stack passes the
interpreter's limit. So a value nested deeper than `MAX_DEPTH` is kept as its compact JSON
text in a `RawJSON` (see `tame`): it compares, copies and prints as the text it is, is written
back verbatim into JSON exports, and is shown marked as kept raw. Every walk here is iterative.

`to_text` is ``json.dumps(value, ensure_ascii=False, default=str)`` (compact, or with an
indent) that also writes `RawJSON` verbatim and never raises.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from typing import Any, Final

__all__ = ["MAX_DEPTH", "RawJSON", "c_compact_text", "copy_value", "depth_of", "tame", "to_text"]

#: How deeply a value may nest (arrays and objects in one another) and still be kept as a
#: value; deeper ones are kept as text. Real task fields nest two or three levels.
MAX_DEPTH: Final = 64


@dataclass(frozen=True, slots=True)
class RawJSON:
    """A JSON value kept as its compact text, because it nests deeper than `MAX_DEPTH`.

    Attributes:
        text: the value as compact JSON text (what ``json.dumps`` would write).
        depth: how many levels of arrays and objects it nests.
        value: the decoded value (not compared), so that secrets in it can be masked.
    """

    text: str
    depth: int
    value: object = field(default=None, compare=False, repr=False)
    """The decoded value itself, for masking; walk it only iteratively."""

    @classmethod
    def of(cls, value: object) -> RawJSON:
        """The `RawJSON` of a decoded value."""
        return cls(to_text(value), depth_of(value), value)

    def __str__(self) -> str:
        return self.text

    @property
    def note(self) -> str:
        """Why the value is shown as text: for the marker next to it."""
        return f"nested {self.depth} levels deep: shown as received"


def _is_container(value: object) -> bool:
    return isinstance(value, (Mapping, list, tuple))


def _children(value: object) -> Iterator[Any]:
    if isinstance(value, Mapping):
        return iter(value.values())
    if isinstance(value, (list, tuple)):
        return iter(value)
    return iter(())


def depth_of(value: object) -> int:
    """How many levels of arrays and objects ``value`` nests: ``1`` for ``[1]``, ``0`` for ``1``.

    Iterative, so any depth can be measured. A `RawJSON` counts as its recorded depth.
    """
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, above = stack.pop()
        if isinstance(item, RawJSON):
            deepest = max(deepest, above + item.depth)
        elif _is_container(item):
            level = above + 1
            deepest = max(deepest, level)
            for child in _children(item):
                if isinstance(child, RawJSON) or _is_container(child):
                    stack.append((child, level))
    return deepest


def tame(value: object) -> object:
    """``value`` itself, or a `RawJSON` of it when it nests deeper than `MAX_DEPTH`."""
    if not _is_container(value):
        return value
    depth = depth_of(value)
    if depth <= MAX_DEPTH:
        return value
    return RawJSON(to_text(value), depth, value)


def copy_value(value: object) -> Any:
    """A copy of a decoded JSON value (dicts and lists copied, the rest shared), at any depth.

    Stands in for ``copy.deepcopy``, which recurses. Tuples become lists (JSON arrays).
    """
    if not _is_container(value):
        return value
    root: Any = {} if isinstance(value, Mapping) else []
    stack: list[tuple[Any, Any]] = [(value, root)]
    while stack:
        source, target = stack.pop()
        items = source.items() if isinstance(source, Mapping) else enumerate(source)
        for key, item in items:
            new: Any = item
            if isinstance(item, Mapping):
                new = {}
                stack.append((item, new))
            elif isinstance(item, (list, tuple)):
                new = []
                stack.append((item, new))
            if isinstance(target, list):
                target.append(new)
            else:
                target[key] = new
    return root


class _NeedsSlowPath(Exception):
    """Raised from ``json.dumps``' default hook: the value holds a `RawJSON`."""


def _default(value: object) -> object:
    if isinstance(value, RawJSON):
        raise _NeedsSlowPath
    return str(value)


def c_compact_text(value: object) -> str | None:
    """``to_text(value)`` when the C encoder alone writes it, else ``None``.

    ``None`` means the value holds a `RawJSON`, nests too deeply or holds an integer too long
    to print: then only `to_text` knows how to write it. For callers that reformat compact
    text (an indent added by a faster formatter) and must not reformat a `RawJSON`'s text.
    """
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_default)
    except (_NeedsSlowPath, RecursionError, ValueError, TypeError):
        return None


def to_text(value: object, *, indent: int | None = None, spaced: bool = False) -> str:
    """``value`` as JSON text, like ``json.dumps(value, ensure_ascii=False, default=str)``.

    Compact (``","``/``":"`` separators; ``", "``/``": "`` if ``spaced``, for people) without
    ``indent``, else pretty-printed like ``json.dumps(..., indent=indent)``. A `RawJSON` is
    written as its text. Never raises: any depth is written, a non-JSON value is written as the
    string of it, and an integer too long to print is written as a note of its size.

    Args:
        value: a decoded JSON value, possibly holding `RawJSON` values.
        indent: spaces per level, or ``None`` for one compact line.

    Returns:
        The JSON text.
    """
    try:
        # The C encoder is fast and exact; it stops at a RawJSON, deep nesting or a huge int.
        if indent is None:
            separators = (", ", ": ") if spaced else (",", ":")
            return json.dumps(value, ensure_ascii=False, separators=separators, default=_default)
        return json.dumps(value, ensure_ascii=False, indent=indent, default=_default)
    except (_NeedsSlowPath, RecursionError, ValueError, TypeError):
        return _write(value, None if indent is None else " " * indent, spaced=spaced)


def _scalar(value: object) -> str:
    """One non-container value as JSON text, as ``json.dumps`` writes it."""
    if isinstance(value, RawJSON):
        return value.text
    if isinstance(value, str):
        return encode_basestring(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        try:
            return int.__repr__(value)
        except ValueError:  # more digits than int-to-str conversion allows
            return encode_basestring(f"<{value.bit_length()}-bit integer>")
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return float.__repr__(value)
    try:
        return encode_basestring(str(value))
    except Exception:  # a broken __str__ must not stop the rest from being written
        return encode_basestring(f"<{type(value).__name__}>")


def _key(key: object) -> str:
    if isinstance(key, str):
        return encode_basestring(key)
    if isinstance(key, (bool, int, float)) or key is None:
        return encode_basestring(_scalar(key).strip('"'))
    return _scalar(key)


_END: Final = object()


@dataclass
class _Frame:
    items: Iterator[Any]
    is_map: bool
    started: bool = False


def _write(value: object, indent: str | None, *, spaced: bool = False) -> str:
    """The iterative encoder behind `to_text`: an explicit stack instead of recursion."""
    parts: list[str] = []
    key_sep = ":" if indent is None and not spaced else ": "
    item_sep = ", " if indent is None and spaced else ","
    stack: list[_Frame] = []
    current: Any = value
    have_value = True
    while True:
        if have_value:
            if isinstance(current, (Mapping, list, tuple)):
                is_map = isinstance(current, Mapping)
                if not current:
                    parts.append("{}" if is_map else "[]")
                else:
                    parts.append("{" if is_map else "[")
                    items = iter(current.items()) if is_map else iter(current)  # type: ignore[union-attr]
                    stack.append(_Frame(items, is_map))
            else:
                parts.append(_scalar(current))
        if not stack:
            break
        frame = stack[-1]
        item: Any = next(frame.items, _END)
        if item is _END:
            stack.pop()
            if indent is not None:
                parts.append("\n" + indent * len(stack))
            parts.append("}" if frame.is_map else "]")
            have_value = False
            continue
        if frame.started:
            parts.append(item_sep)
        frame.started = True
        if indent is not None:
            parts.append("\n" + indent * len(stack))
        if frame.is_map:
            key, current = item
            parts.append(_key(key) + key_sep)
        else:
            current = item
        have_value = True
    return "".join(parts)
