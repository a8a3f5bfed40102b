"""The emulator's answer bodies: compact JSON, the bytes the standard library's encoder writes.

The wire format the tests pin is ``json.dumps(payload, ensure_ascii=False,
separators=(",", ":")).encode()``: members in insertion order, non-ASCII text as UTF-8,
control characters escaped. For a large listing that encoder is most of the emulator's time
to answer (about 0.5 s for 100,000 tasks, against some 0.08 s for msgspec's C encoder), a cost
a real gateway does not have and that every client measured against the emulator would pay.

msgspec writes the same bytes for text, integers, booleans and nulls in dicts and lists with
text keys; it writes floats its own way (``1e16`` where the standard library writes
``1e+16``, ``null`` for ``NaN``). So `answer_bytes` gives msgspec only a payload shown to hold
nothing else (one pass over a map of flat task objects at C speed, a walk for the rest), and
the standard library everything else: a server-side float, a hostile nested value, a lone
surrogate (which the standard library's ``encode`` refuses as it always did).
"""

from __future__ import annotations

import json
from itertools import chain
from typing import Final

__all__ = ["answer_bytes"]

#: Value types msgspec writes exactly as the standard library does. ``bool`` is checked by
#: exact type (not as an ``int``), as every type here is.
_FLAT: Final = frozenset({str, int, bool, type(None)})
#: Deeper values than this go to the standard library (which has its own recursion limit).
_MAX_DEPTH: Final = 32


def answer_bytes(payload: object) -> bytes:
    """``json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()``, fast.

    Raises:
        UnicodeEncodeError, TypeError, ValueError, RecursionError: as the standard library's
            encoding raises them for ``payload``.
    """
    if _plain(payload, 0):
        import msgspec  # a dependency of the package; loaded with the first answer

        try:
            return msgspec.json.encode(payload)
        except (UnicodeEncodeError, TypeError, ValueError, OverflowError):
            pass  # e.g. an integer beyond 64 bits, a lone surrogate: the standard library's way
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _plain(value: object, depth: int) -> bool:
    """Whether ``value`` holds only what msgspec writes as the standard library does."""
    kind = type(value)
    if kind in _FLAT:
        return True
    if depth >= _MAX_DEPTH:
        return False
    if kind is dict:
        assert isinstance(value, dict)
        if not set(map(type, value)) <= {str}:
            return False
        members = list(value.values())
        if members and _flat_objects(members):
            return True
        return all(_plain(member, depth + 1) for member in members)
    if kind is list:
        assert isinstance(value, list)
        return all(_plain(item, depth + 1) for item in value)
    return False


def _flat_objects(members: list[object]) -> bool:
    """Whether ``members`` are all dicts of text keys and flat values: a listing's tasks.

    Three passes in C over every key and value, instead of a Python call per value.
    """
    if set(map(type, members)) != {dict}:
        return False
    objects: list[dict[object, object]] = members  # type: ignore[assignment]
    if not set(map(type, chain.from_iterable(objects))) <= {str}:
        return False
    return set(map(type, chain.from_iterable(map(dict.values, objects)))) <= _FLAT
