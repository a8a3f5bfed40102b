"""The parser's compact forms read as the plain ones did.

A task's timestamps share one offset object per offset: each must still be the value the
standard library reads, written back the same. A task's ``raw`` is a `ReceivedObject`, two
tuples instead of a dict: it must read as the dict it was made from, in every way a reader
uses (items in order, lookups, equality both ways, unpacking, repr).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asrtui.models import ReceivedObject
from asrtui.wire import parse_tasks
from asrtui.wire.tasks import _timestamp

_offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@given(moment=st.datetimes(timezones=_offsets))
def test_a_timestamp_is_what_the_standard_library_reads(moment: datetime) -> None:
    text = moment.isoformat()
    parsed = _timestamp(text)
    plain = datetime.fromisoformat(text)
    assert parsed == plain
    assert parsed is not None
    assert parsed.isoformat() == plain.isoformat()
    assert parsed.utcoffset() == plain.utcoffset()
    other = moment.replace(microsecond=(moment.microsecond + 1) % 1_000_000)
    again = _timestamp(other.isoformat())
    assert again is not None
    assert again.tzinfo is parsed.tzinfo  # one offset object, shared


def test_timestamps_without_an_offset_are_still_refused() -> None:
    assert _timestamp("2026-12-07T08:22:53") is None
    assert _timestamp("2026-12-07t08:22:53z") == datetime.fromisoformat("2026-12-07T08:22:53+00:00")


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(members=st.dictionaries(st.text(max_size=8), _json, max_size=14), probe=st.text(max_size=8))
def test_a_received_object_reads_as_the_dict_it_was_made_from(
    members: dict[str, object], probe: str
) -> None:
    received = ReceivedObject(members)
    assert received == members
    assert members == received
    assert list(received.items()) == list(members.items())
    assert list(received) == list(members)
    assert len(received) == len(members)
    assert bool(received) == bool(members)
    assert {**received} == members
    assert dict(received) == members
    assert repr(received) == repr(members)
    assert (probe in received) == (probe in members)
    assert received.get(probe, "absent") == members.get(probe, "absent")
    if probe not in members:
        with pytest.raises(KeyError):
            received[probe]
    assert ReceivedObject(dict(members))._names is received._names  # one tuple per shape


def test_a_parsed_task_keeps_a_compact_copy_of_what_was_received() -> None:
    received = {"taskId": "asr-1", "status": "1", "mode": "live", "oddField": [1, {"a": 2}]}
    (task,) = parse_tasks({"Tasks": {"asr-1": received}}).tasks
    assert isinstance(task.raw, ReceivedObject)
    assert task.raw == received
    assert list(task.raw) == list(received)
    assert dict(task.extra) == {"oddField": [1, {"a": 2}]}


def test_values_tasks_repeat_are_kept_once() -> None:
    def received(n: int) -> dict[str, object]:
        # Strings made at run time, as a decoder makes them: equal, not the same objects.
        return {
            "taskId": f"asr-{n}",
            "mode": "".join(["li", "ve"]),
            "callbackUrl": "".join(["https://cb.example.com/", "notify"]),
            "reportInterval": str(100 + 100),
            "tag": "".join(["t", "1"]),
        }

    first, second = parse_tasks({"Tasks": {"a": received(1), "b": received(2)}}).tasks
    assert first.raw == received(1)
    assert second.raw == received(2)
    assert first.mode is second.mode
    assert first.raw["mode"] is first.mode
    assert first.callback_url is second.callback_url
    assert first.raw["reportInterval"] is second.raw["reportInterval"]
    assert first.tag is second.tag
