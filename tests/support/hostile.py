"""Hostile server values for tests: any JSON, any depth, any timestamp, secrets in every URL.

Shared by the property tests (console, CLI, wire) and the tmux end-to-end test, so that each
of them throws the same class of values at the program:

- timestamps across the whole ``datetime`` range with any UTC offset, at the range edges
  (``0001-01-01T00:00:00+08:00`` is in year 0 in UTC), and text that only looks like one;
- JSON of any type nested up to the parser's own limit (`nested`);
- huge and non-finite numbers, control, bidi and line-breaking characters, lone surrogates;
- secrets in every URL-bearing field, as ``auth_key`` values and as URL passwords.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

#: Timestamps at the edges of what ``datetime`` holds, seen to end the console.
EDGE_TIMESTAMPS = (
    "0001-01-01T00:00:00+08:00",
    "9999-12-31T23:59:59-08:00",
    "0001-01-01T00:00:00+23:59",
    "9999-12-31T23:59:59.999999-23:59",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59+00:00",
)

#: Text a terminal acts on or that reorders a line, and characters JSON cannot encode as UTF-8.
NASTY_TEXT = (
    "\x1b[2J\x1b]0;title\x07",
    "\x9b31m",
    "a\u202eb\u2066c",
    "line\nbreak\r\u2028\u2029",
    "\x00\x7f",
    "\ud800",
    "名前 é 🎉",
    '=HYPERLINK("http://x")',
    "[bold]not markup[/bold]",
    "",
)

#: How deep the seen crash needed nesting to be, and depths around the parser's own limit.
DEEP_LEVELS = (450, 900)


def nested(depth: int, leaf: object = 1, *, kind: str = "list") -> Any:
    """``leaf`` inside ``depth`` arrays (or objects), built without recursion."""
    value: Any = leaf
    for _ in range(depth):
        value = [value] if kind == "list" else {"k": value}
    return value


def parses(text: str) -> bool:
    """Whether the standard parser reads ``text`` from here (its limit depends on the stack)."""
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


_OFFSETS = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)

#: Aware datetimes anywhere in the range, with any offset (the edges drawn often).
DATETIMES = st.one_of(
    st.datetimes(timezones=_OFFSETS),
    st.sampled_from(EDGE_TIMESTAMPS).map(datetime.fromisoformat),
    st.datetimes(timezones=st.just(UTC)),
)

#: What a server may put in a timestamp field.
TIMESTAMPS = st.one_of(
    DATETIMES.map(lambda moment: moment.isoformat()),
    st.sampled_from(EDGE_TIMESTAMPS),
    st.sampled_from(["2024-05-14", "2024-05-14T04:00:00", "yesterday", "", "0000-00-00T00:00Z"]),
)

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.sampled_from([10**300, -(10**4000), 1e308, 1e-320, -0.0]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(NASTY_TEXT),
    TIMESTAMPS,
)

#: Any JSON value of modest size and depth.
JSON_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.text(max_size=8), st.sampled_from(NASTY_TEXT)), inner, max_size=4
        ),
    ),
    max_leaves=12,
)

#: Any JSON value, sometimes wrapped hundreds of levels deep (up to past the parser's limit).
DEEP_VALUES = st.builds(
    nested,
    st.one_of(st.integers(min_value=1, max_value=80), st.integers(min_value=300, max_value=1100)),
    JSON_VALUES,
    kind=st.sampled_from(["list", "dict"]),
)

#: What a server may put in any field of a task.
FIELD_VALUES = st.one_of(JSON_VALUES, DEEP_VALUES, TIMESTAMPS)

#: The secrets a test plants in URL fields; none may ever appear unless revealed.
SECRET_MARKERS = ("AUTHKEYSECRET71", "USERPASSWORD93", "CALLBACKTOKEN55", "NESTEDSECRET28")


def secret_urls(marker: str) -> list[str]:
    """URLs carrying ``marker`` as an ``auth_key`` value and as a URL password."""
    return [
        f"rtmp://pull.example.com/live/s?auth_key=1715745062-0-0-{marker}",
        f"rtmp://user:{marker}@pull.example.com/live/s",
        f"https://cb.example.com/hook?x=1&auth_key={marker}#frag",
    ]
