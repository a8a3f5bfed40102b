"""Listing bodies for the tests of a large answer read in pieces (`test_listing_stream`,
`test_split_in_runs`): members before and after ``Tasks``, ``Tasks`` twice, a task id twice,
text holding ``},"``, floats, nested values and odd shapes; and the check that two envelopes
are the same, ``Tasks`` kept as the same bytes."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from asrtui.wire.envelope import RawTasks
from tests.support.listing_values import same as _same

_texts = st.one_of(
    st.text(max_size=6),
    st.sampled_from(['},"', '"}', '},"a":{', "\\", "\u00e9", "\u2028", "http://h/s?auth_key=k"]),
)
_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    _texts,
)
_odd_values = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False), st.lists(_values, max_size=2)
)
members = st.dictionaries(
    st.sampled_from(["status", "tag", "streamUrl", "aliUid", "x"]), _values, max_size=4
)


@st.composite
def _task_entries(draw: st.DrawFn) -> list[str]:
    """``"key":{...}`` texts, keys sometimes repeated, values sometimes odd."""
    entries = []
    for index in range(draw(st.integers(min_value=0, max_value=8))):
        key = draw(st.sampled_from([f"asr-{index}", "asr-0", "", '},"']))
        obj: dict[str, Any] = draw(members)
        task_id = draw(st.sampled_from([key, f"asr-{index}", "", 7, None]))
        if task_id is not None:
            obj["taskId"] = task_id
        if draw(st.integers(min_value=0, max_value=9)) == 0:
            obj["odd"] = draw(_odd_values)
        entry = json.dumps(key) + ":" + json.dumps(obj, ensure_ascii=draw(st.booleans()))
        if draw(st.integers(min_value=0, max_value=19)) == 0:
            entry = json.dumps(key) + ":" + draw(st.sampled_from(["1", '"x"', "[]", "null"]))
        entries.append(entry)
    return entries


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    tasks = "{" + ",".join(draw(_task_entries())) + "}"
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        tasks = draw(st.sampled_from(["null", "[]", '"{}"', "{ }"]))
    members = [f'"Tasks":{tasks}', '"RequestId":"r"', '"RetCode":2000', '"Note":"},\\"T"']
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        members.append('"Tasks":{"asr-9":{"taskId":"asr-9"}}')
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        members.append('"tasks":{"asr-8":{"taskId":"asr-8"}}')
    members = draw(st.permutations(members))
    return ("{" + ",".join(members) + "}").encode()


def same_envelope(got: dict[str, Any], want: dict[str, Any]) -> bool:
    """The same members in the same order; ``Tasks`` kept as the same bytes."""
    if list(got) != list(want):
        return False
    for name, value in want.items():
        if isinstance(value, RawTasks):
            mine = got[name]
            if not isinstance(mine, RawTasks) or bytes(mine.data) != bytes(value.data):
                return False
        elif not _same(got[name], value):
            return False
    return True
