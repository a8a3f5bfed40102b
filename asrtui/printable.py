"""Text made safe for one terminal line: invisible and control characters become escapes.

A line asrtui prints often quotes what someone else wrote: an argument the user typed (a task
id pasted with its newline), a profile name from a file, a task field or an error message
from the server. Printed as it is, a line break makes one line two (and a script reading the
first line gets half the story), ESC starts a sequence the terminal executes (clearing the
screen, setting the window title), and a bidi override mirrors the rest of the line.
`printable_line` writes each such character as the escape Python would (``\\n``, ``\\x1b``,
``\\u202e``), so the line still shows exactly what arrived, and leaves every other character
alone: accented and CJK letters, emoji, and the backslash itself (an already escaped text,
such as the server messages `asrtui.wire` cleans, stays as it is).

Escaped are the Unicode categories Cc (C0 and C1 controls, DEL), Cf (bidi controls,
zero-width characters), Zl and Zp (line and paragraph separators: every character
``str.splitlines`` breaks at is in one of these), and Cs (lone surrogates, which is what
undecodable bytes of an argument become).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["is_unsafe", "printable_json", "printable_line"]

_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def is_unsafe(char: str) -> bool:
    """Whether the character ``char`` is one `printable_line` escapes."""
    return unicodedata.category(char) in _UNSAFE_CATEGORIES


def _escape(char: str) -> str:
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable_line(text: str) -> str:
    """``text`` with every control, format and line-breaking character written as an escape.

    Never raises: it runs while an error is being reported.

    Args:
        text: any text (anything else is passed through ``str`` first).

    Returns:
        One line without a character that moves the cursor, breaks the line, reorders the text
        or makes the terminal act.
    """
    if not isinstance(text, str):
        try:
            text = str(text)
        except Exception:  # a broken __str__ must not hide the error being reported
            return "<unprintable>"
    if text.isprintable():  # the common case: no character to look at one by one
        return text
    return "".join(_escape(char) if is_unsafe(char) else char for char in text)


#: Runs of characters outside printable ASCII: where `printable_json` has to look.
_NON_ASCII_RE = re.compile(r"[^\x20-\x7e\n]+")
#: The bytes `_NON_ASCII_RE` never matches: deleting them from ASCII text leaves nothing to do.
_PLAIN_ASCII = bytes(range(0x20, 0x7F)) + b"\n"


def _json_escape(char: str) -> str:
    """``char`` as JSON ``\\uXXXX`` escapes (a surrogate pair beyond the BMP)."""
    units = char.encode("utf-16-be", "surrogatepass")
    return "".join(f"\\u{units[i] << 8 | units[i + 1]:04x}" for i in range(0, len(units), 2))


def printable_json(text: str) -> str:
    """JSON text with the characters `json.dumps` leaves raw but a terminal acts on escaped.

    ``json.dumps(..., ensure_ascii=False)`` escapes only C0 controls: DEL, the C1 controls
    (``\\x9b`` starts an escape sequence on some terminals), bidi overrides and line
    separators would reach the terminal as they are. Written ``\\u009b`` they are the same
    JSON; letters of any script stay readable.
    """

    if text.isascii() and not text.encode("ascii").translate(None, _PLAIN_ASCII):
        return text  # every character printable ASCII or a newline: a C pass, no regex

    def escape(match: re.Match[str]) -> str:
        run = match.group()
        if run.isprintable():
            return run
        return "".join(_json_escape(char) if is_unsafe(char) else char for char in run)

    return _NON_ASCII_RE.sub(escape, text)
