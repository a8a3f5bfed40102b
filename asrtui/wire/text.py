"""Small pieces shared by the wire modules: JSON kinds, short quotes, one-line text, numbers.

Package-private (hence the underscores): `asrtui.wire.envelope`, `asrtui.wire.failures` and
`asrtui.wire.tasks` word their messages and read their numbers the same way through these.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from asrtui.jsontext import to_text
from asrtui.printable import printable_line
from asrtui.redact import redact_text

_EXCERPT_CHARS: Final = 80
_MALFORMED_HINT: Final = (
    "this is not the Live API's wire format; retry, and if it persists check --endpoint and "
    "any HTTP proxy"
)


def _kind(value: object) -> str:
    """The JSON name of a decoded value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _excerpt(text: str) -> str:
    """A short, escaped, redacted excerpt of a body, safe for a one-line message."""
    # Redact a generous prefix first so that truncation cannot cut a name off its value.
    head = redact_text(text[: _EXCERPT_CHARS * 8])
    short = head[:_EXCERPT_CHARS]
    suffix = "..." if len(head) > _EXCERPT_CHARS or len(text) > _EXCERPT_CHARS * 8 else ""
    return repr(short) + suffix


def _short(value: object) -> str:
    """A map key or value quoted for a message, at most a few dozen characters."""
    text = value if isinstance(value, str) else _compact_json(value)
    return repr(redact_text(text[:40]))[1:-1] + ("..." if len(text) > 40 else "")


def _compact_json(value: object) -> str:
    """Compact JSON text of a decoded value, at any depth (never raises: see `to_text`)."""
    return to_text(value)


def _loads(text: str) -> tuple[bool, Any]:
    """Decode JSON text: ``(True, value)`` or ``(False, None)``; never raises."""
    try:
        return True, json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return False, None


def _reject_constant(name: str) -> Any:
    """``NaN``/``Infinity`` are not JSON; refuse them rather than carry them into models."""
    raise ValueError(f"non-standard JSON constant {name}")


def _header(headers: Mapping[str, str] | None, name: str) -> str:
    """A header value by lower-case name, from httpx headers or a plain dict alike."""
    if not headers:
        return ""
    value = headers.get(name)
    if value is None:
        for key, candidate in headers.items():
            if isinstance(key, str) and key.lower() == name:
                value = candidate
                break
    return value.strip() if isinstance(value, str) else ""


def _one_line(text: str) -> str:
    """Server text made safe for one terminal line: whitespace folded, control codes escaped.

    Error messages go to the operator's terminal (the CLI's stderr, the console's status
    line): a server, or a proxy in between, must not start new lines, move the cursor or
    change colours there. ``"a\\nb"`` becomes ``"a b"`` and ESC becomes the text ``\\x1b``.
    """
    return printable_line(" ".join(text.split()))


def _first_text(envelope: Mapping[str, Any], names: tuple[str, ...]) -> str:
    """The first of ``names`` that holds a non-empty string (or number), as one clean line."""
    for name in names:
        value = envelope.get(name)
        if isinstance(value, str) and value.strip():
            return _one_line(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return _text(value)
    return ""


def _whole_number(value: object) -> int | None:
    """``RetCode`` as an int (from a number or a numeric string), ``None`` if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in "+-":
            sign, digits = text[:1], text[1:]
        else:
            sign, digits = "", text
        if digits.isascii() and digits.isdigit() and len(digits) <= 18:
            return int(sign + digits)
    return None


def _text(value: object) -> str:
    """A text field: strings as they are, ``null`` empty, other JSON as compact JSON text."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return str(value)
        except ValueError:  # more digits than int-to-str conversion allows
            return f"<{value.bit_length()}-bit integer>"
    return _compact_json(value)
