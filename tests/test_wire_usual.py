"""The one-pass reading of the usual task object gives what the field-by-field reading gives.

`asrtui.wire.tasks._parse_task` reads the usual object (known fields of the expected types) in
one pass and hands anything else to `_parse_general`. Over random task objects (odd types,
missing, unknown and repeated-text fields, odd timestamps) both must give the same task, field
for field with each value's type (``1`` is not ``True``), the same ``raw`` member for member,
or the same error.
"""

from __future__ import annotations

import dataclasses
import sys
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asrtui.errors import MalformedResponseError
from asrtui.models import Task
from asrtui.wire import TASK_FIELDS, parse_tasks
from asrtui.wire.tasks import _SHARED_FIELDS, _parse_general, _parse_task, _parse_usual

_NAMES = [field.name for field in dataclasses.fields(Task)]

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=6)
)
#: Any JSON value, containers as often as not.
_odd = st.one_of(
    _scalars,
    st.lists(_scalars, max_size=2),
    st.dictionaries(st.text(max_size=3), _scalars, max_size=2),
)
_stamps = st.one_of(
    st.datetimes().map(lambda moment: moment.isoformat()),
    st.sampled_from(
        [
            "2024-05-14T11:52:02+08:00",
            "2024-05-14T11:52:03+08:00",
            "2024-05-14T03:52:03z",
            " 2024-05-14T03:52:03Z ",
            "2024-05-14T11:52:02",
            "2024-05-14",
            "0001-01-01T00:00:00+08:00",
            "9999-12-31T23:59:59-23:59",
            "2024-05-14T11:52:02.123456+05:30",
            "not a time",
            "",
        ]
    ),
)
_numbers = st.sampled_from(["0", "10", "200", " 7 ", "1e2", "1_0", "2.5", "-3", "x", "", "٣"])
_texts = (
    st.sampled_from(["live", "cn", "", "default", "1119309225474343", " en "]) | st.text(max_size=8)
).map(lambda text: (text + "!")[:-1])  # a string of its own, as a decoder makes one
_languages = st.sampled_from(["en,ja", '["en", "ja"]', "", " en ", "[1]"]) | st.lists(
    _scalars, max_size=3
)
_flags = st.sampled_from(["true", "False", " yes ", "0", "maybe"]) | st.sampled_from([0, 1, 2])


_maybe_text = st.none() | _texts
#: Per field, the values of the usual shape (what the one-pass reading takes).
_USUAL: dict[str, st.SearchStrategy[Any]] = {
    "taskId": st.sampled_from(["asr-1", "asr-2", ""]) | st.text(max_size=4),
    "status": st.integers(-(2**70), 2**70),
    "mode": _maybe_text,
    "language": _maybe_text,
    "targetLanguages": st.none() | _languages,
    "translateEnabled": st.none() | st.booleans() | _flags,
    "tag": _maybe_text,
    "streamUrl": _maybe_text,
    "callbackUrl": _maybe_text,
    "createdAt": st.none() | _stamps,
    "updatedAt": st.none() | _stamps,
    "reportInterval": st.none() | _numbers | st.integers(-5, 500),
    "autoTerminateDelay": st.none() | _numbers | st.integers(-5, 500),
    "aliUid": _maybe_text,
}


_KEY = ("taskId", "status")


@st.composite
def task_objects(draw: st.DrawFn) -> dict[str, Any]:
    """A task object: a random subset of the known fields in a random order, maybe more.

    Most are of the usual shape; some have a field or two of any JSON value (an empty or
    non-text id, a text status, a list where text belongs...) or an unknown field.
    """
    names = draw(st.permutations(sorted(TASK_FIELDS)))
    # The id and status are rarely missing: without them no task takes the one pass.
    kept = {name for name in names if draw(st.integers(0, 9)) < (9 if name in _KEY else 5)}
    odd = draw(st.sets(st.sampled_from(names), max_size=2)) if draw(st.booleans()) else set()
    obj = {
        name: draw(_odd if name in odd else _USUAL[name]) for name in names if name in kept | odd
    }
    if draw(st.integers(0, 5)) == 0:
        obj[draw(st.sampled_from(["oddField", "taskid", "", "status "]))] = draw(_odd)
    return obj


def _interned(value: object) -> bool:
    return type(value) is not str or sys.intern(value) is value


def _outcome(read: Any, obj: dict[str, Any], key: Any) -> Any:
    """All a reading gives: each field and its type, ``raw`` member by member, or the error."""
    try:
        task = read(dict(obj), key)
    except MalformedResponseError as exc:
        return ("error", exc.message, exc.hint)
    fields = []
    for name in _NAMES:
        value = getattr(task, name)
        if name in ("extra", "raw"):
            # Text most tasks repeat is kept once, as `sys.intern` keeps it.
            value = [
                (member, type(item), item, member in _SHARED_FIELDS and _interned(item))
                for member, item in value.items()
            ]
        elif isinstance(value, datetime):
            value = (value, value.isoformat(), value.utcoffset())
        fields.append((name, type(value), value))
    return fields


_PROPERTY = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_PROPERTY
@given(obj=task_objects(), key=st.none() | st.sampled_from(["asr-key", ""]) | st.integers())
def test_the_one_pass_reading_gives_what_the_field_by_field_reading_gives(
    obj: dict[str, Any], key: Any
) -> None:
    assert _outcome(_parse_task, obj, key) == _outcome(_parse_general, obj, key)


@_PROPERTY
@given(obj=task_objects())
def test_a_whole_answer_reads_alike_twice(obj: dict[str, Any]) -> None:
    """Timestamps are read once per text in an answer: a second answer reads the same."""
    tasks = {f"asr-{index}": dict(obj) for index in range(3)}
    try:
        first = parse_tasks({"Tasks": tasks}).tasks
    except MalformedResponseError:
        return
    again = parse_tasks({"Tasks": tasks}).tasks
    assert [_described(task) for task in first] == [_described(task) for task in again]


def _described(task: Task) -> Any:
    return _outcome(lambda _obj, _key: task, {}, None)


_SAMPLE: dict[str, Any] = {
    "createdAt": "2024-05-14T11:52:02+08:00",
    "updatedAt": "2024-05-14T11:52:03+08:00",
    "mode": "live",
    "taskId": "asr-1",
    "language": "cn",
    "callbackUrl": "default",
    "autoTerminateDelay": "10",
    "streamUrl": "http://example.com/a.flv?auth_key=1-0-0-abc",
    "status": 1,
    "reportInterval": "0",
    "aliUid": "1119309225474343",
    "tag": "",
}
_ODD_VALUES = [[1], ["en"], {"a": 1}, {}, 1.5, 2.0, True, False, 7, -1, "x", " 1 ", "", None]


@pytest.mark.parametrize("name", sorted(TASK_FIELDS))
@pytest.mark.parametrize("value", _ODD_VALUES, ids=repr)
def test_each_field_of_each_kind_reads_alike(name: str, value: Any) -> None:
    """The documented sample with one field of each JSON kind (or without the field)."""
    for obj in ({**_SAMPLE, name: value}, {k: v for k, v in _SAMPLE.items() if k != name}):
        for key in (None, "asr-key"):
            assert _outcome(_parse_task, obj, key) == _outcome(_parse_general, obj, key)


def test_the_usual_object_takes_the_one_pass_reading() -> None:
    """The documented sample (and the emulator's tasks) are read in one pass, not by fallback."""
    sample = dict(_SAMPLE)
    task = _parse_usual(dict(sample), None)
    assert task is not None
    assert task == _parse_general(dict(sample), None)
    assert dict(task.raw) == sample
    assert _parse_usual({**sample, "status": "1"}, None) is None  # odd: read field by field
