"""Values a listing's fast paths are checked on: URLs, scalars and task objects, odd ones too.

Shared by the tests that hold each shortcut of ``asrtui tasks --format json`` to the general
code (`test_listing_fast_paths`, `test_listing_columns`, `test_listing_stream`): URLs built
to reach every branch of the plain-URL masking, scalar member values (odd ones included), and
task objects flat or not.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

from tests.support.secret_cases import PLAIN_PARAM_NAMES, SECRET_PARAM_NAMES

__all__ = ["MEMBERS", "OBJECTS", "SCALARS", "URLS", "same"]

_NAMES = (*SECRET_PARAM_NAMES, *PLAIN_PARAM_NAMES, "aliUid", "ali_uid", "AliUID", "", "a b")
_piece = st.one_of(
    st.text(alphabet="abcXYZ019-._~ ", max_size=6),
    st.sampled_from(["/", "%2F", "%", "=", ":", "@", "\\", "#", "?", "&", ";", "{", "["]),
    st.text(max_size=3),
)
_word = st.lists(_piece, max_size=4).map("".join)
_param = st.one_of(
    st.tuples(st.sampled_from(_NAMES), st.sampled_from(["=", ""]), _word).map("".join),
    _word,
)
_urls = st.tuples(
    st.sampled_from(["http://", "https://", "rtmp://", "HTTP://", "//", " http://", "{", ""]),
    _word,
    st.sampled_from(["", "/", "/app/s.flv", "/p@x", "/a=b", "/%41"]),
    st.sampled_from(["", "?"]),
    st.lists(_param, max_size=4).map("&".join),
    st.sampled_from(["", "#", "#auth_key=s"]),
).map("".join)

_MEMBERS = (
    "taskId",
    "streamUrl",
    "callbackUrl",
    "aliUid",
    "AliUID",
    "createdAt",
    "tag",
    "token",
    "authKey",
    "tokenType",
    "x",
)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=10),
    _urls,
    st.sampled_from(
        [
            "",
            "2026-05-15T10:00:00+08:00",
            "1119309225474343",
            "\ud800",
            "=1+2",
            "password:hunter2",  # free text, not a URL: masked by the text pass only
            "see rtmp://u:pw@h/a?auth_key=k",
            '{"token": "t"}',
            "rtmp://h/app?auth_key=k",
        ]
    ),
)
_flat_objects = st.dictionaries(st.sampled_from(_MEMBERS), _scalars, max_size=7)
_objects = st.one_of(
    _flat_objects,
    st.dictionaries(
        st.sampled_from(_MEMBERS), st.one_of(_scalars, st.lists(_scalars, max_size=2)), max_size=4
    ),
)


def same(a: Any, b: Any) -> bool:
    """Equal, NaN equal to NaN (masking keeps a NaN as it came)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


URLS = _urls
SCALARS = _scalars
OBJECTS = _objects
MEMBERS = _MEMBERS
