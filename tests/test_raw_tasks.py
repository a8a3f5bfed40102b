"""Large answers keep ``Tasks`` as bytes: reading them gives exactly what decoding them whole does.

A console re-reads tens of thousands of tasks every second; `asrtui.wire` keeps a large answer's
``Tasks`` as bytes (`RawTasks`) and decodes only the tasks whose bytes changed. These tests hold
that path to the plain one over every shape of answer (the class), and pin what it saves.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asrtui import wire
from asrtui.errors import MalformedResponseError
from asrtui.models import TaskList
from asrtui.wire import envelope as envelope_module
from asrtui.wire import tasks as tasks_module

_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from([1, True, 1.0, -0.0, 0, "1", "", "10", "2024-05-14T11:52:02+08:00"]),
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
_names = st.sampled_from([*sorted(wire.TASK_FIELDS), "odd", "Extra"])
_task_objects = st.dictionaries(_names, _values, max_size=6)
_entries = _task_objects | _task_objects.map(json.dumps) | _values
_tasks_values = st.one_of(
    st.dictionaries(st.text(max_size=8), _entries, max_size=5),
    st.dictionaries(st.sampled_from(["asr-1", "asr-2", "taskId"]), _entries, max_size=3),
    st.lists(_entries, max_size=4),
    _task_objects,
    _values,
)


@contextmanager
def _raw_path(on: bool) -> Iterator[None]:
    """Every answer takes the bytes path (``on``) or none does, whatever its size."""
    saved = envelope_module.RAW_TASKS_BYTES
    envelope_module.RAW_TASKS_BYTES = 0 if on else 1 << 62
    try:
        yield
    finally:
        envelope_module.RAW_TASKS_BYTES = saved


def _read(body: bytes, memo: wire.TaskMemo | None, *, raw: bool) -> TaskList | Exception:
    with _raw_path(raw):
        try:
            return wire.parse_tasks(wire.decode_json_object(body), memo)
        except MalformedResponseError as error:
            return error


def _same(a: TaskList | Exception, b: TaskList | Exception) -> None:
    """The same outcome: tasks equal and written alike (1 vs True, 0.0 vs -0.0), raw included."""
    if isinstance(b, Exception):
        assert isinstance(a, type(b)), (a, b)
        return
    assert isinstance(a, TaskList), a
    assert a.request_id == b.request_id
    assert repr(a.tasks) == repr(b.tasks)
    assert a.tasks == b.tasks
    for x, y in zip(a.tasks, b.tasks, strict=True):
        assert repr(x.raw) == repr(y.raw)
        assert repr(x.extra) == repr(y.extra)


def _body(tasks: Any, request_id: Any = "req-1") -> bytes:
    return json.dumps({"RequestId": request_id, "RetCode": 2000, "Tasks": tasks}).encode()


@_SETTINGS
@given(st.lists(_tasks_values, min_size=1, max_size=4), st.text(max_size=5) | st.integers())
def test_the_bytes_path_reads_every_answer_as_decoding_it_whole(
    answers: list[Any], request_id: Any
) -> None:
    memo = wire.TaskMemo()
    for tasks in [*answers, answers[0]]:  # and one answer again, as a console sees it
        body = _body(tasks, request_id)
        plain = _read(body, None, raw=False)
        _same(_read(body, None, raw=True), plain)
        _same(_read(body, memo, raw=True), plain)


@_SETTINGS
@given(st.binary(max_size=120) | _tasks_values.map(lambda v: _body(v)[:-3]))
def test_a_body_refused_whole_is_refused_the_same_way(body: bytes) -> None:
    _same(_read(body, None, raw=True), _read(body, None, raw=False))


def test_odd_bytes_take_the_plain_path_with_its_message() -> None:
    cases = [
        b"\xef\xbb\xbf" + _body({"asr-1": {"taskId": "asr-1"}}),  # a byte order mark
        b'{"RequestId": "r", "Tasks": {"asr-1": {"reportInterval": NaN}}}',
        b'{"RequestId": "r", "Tasks": {"asr-1": {"tag": "\xff"}}}',
        b'{"RequestId": "r", "Tasks": {"asr-1": {"taskId": "asr-1"}}',  # truncated
        b'{"RequestId": "r", "Tasks": {"asr-1": {"taskId": "\\ud800"}}}',  # a lone surrogate
        b'{"RequestId": "r", "RequestId": "s", "Tasks": {"a": {}, "a": {"tag": "x"}}}',
        b'{"RequestId": "r", "Tasks": "{\\"asr-1\\": {\\"status\\": 1}}"}',
        # Read differently by msgspec (refused there): the task is read by the standard library.
        b'{"RequestId": "r", "Tasks": {"asr-1": {"reportInterval": 1e400, "x": -1e400}}}',
        b'{"RequestId": "r", "Tasks": {"asr-1": {"tag": "\\ud83d", "aliUid": 10e999999}}}',
        b'{"RequestId": "r", "Tasks": {"asr-1": {"odd": ' + b"[" * 3000 + b"]" * 3000 + b"}}}",
    ]
    for body in cases:
        raw, plain = _read(body, None, raw=True), _read(body, None, raw=False)
        _same(raw, plain)
        if isinstance(plain, Exception):
            assert str(raw) == str(plain)


def _emulated(count: int, *, tag: str = "a", changed: int | None = None) -> bytes:
    tasks = {
        f"asr-{i:06d}": {
            "taskId": f"asr-{i:06d}",
            "status": 1,
            "tag": f"{tag}-changed" if i == changed else tag,
            "streamUrl": f"rtmp://h/app/s{i}?auth_key=1-0-0-{'f' * 32}",
            "createdAt": "2024-05-14T11:52:02+08:00",
        }
        for i in range(count)
    }
    return _body(tasks)


def _replaced(before: TaskList, after: TaskList) -> list[int]:
    pairs = zip(before.tasks, after.tasks, strict=True)
    return [i for i, (a, b) in enumerate(pairs) if a is not b]


def test_unchanged_tasks_are_the_tasks_of_before_and_only_changed_ones_are_new() -> None:
    memo = wire.TaskMemo()
    first = _read(_emulated(2000), memo, raw=True)
    again = _read(_emulated(2000), memo, raw=True)
    one_changed = _read(_emulated(2000, changed=7), memo, raw=True)
    assert isinstance(first, TaskList)
    assert isinstance(again, TaskList)
    assert isinstance(one_changed, TaskList)
    assert again.tasks is first.tasks  # byte for byte the same Tasks: the same tuple
    assert _replaced(first, one_changed) == [7]
    assert one_changed.tasks[7].tag == "a-changed"
    back = _read(_emulated(2000), memo, raw=True)
    assert isinstance(back, TaskList)
    assert _replaced(one_changed, back) == [7]
    _same(back, _read(_emulated(2000), None, raw=False))


def test_the_memo_keeps_no_text_of_the_answer() -> None:
    memo = wire.TaskMemo()
    _read(_emulated(300), memo, raw=True)
    assert len(memo) == 300
    for key, (mark, task) in memo._last_raw.items():
        assert isinstance(mark, int)
        assert task.task_id == key
    assert memo._whole is not None
    assert len(memo._whole[0]) == 32  # a digest (SHA-256), not the text


def test_raw_tasks_never_show_their_bytes() -> None:
    body = _emulated(3)
    with _raw_path(True):
        envelope = wire.decode_json_object(body)
    assert "auth_key" not in repr(envelope)
    assert "auth_key" not in repr(envelope["Tasks"])


def test_large_answers_take_the_bytes_path_small_ones_do_not() -> None:
    small = wire.decode_json_object(_emulated(3))
    large = wire.decode_json_object(_emulated(3000))
    assert len(_emulated(3000)) >= envelope_module.RAW_TASKS_BYTES
    assert isinstance(small["Tasks"], dict)
    assert isinstance(large["Tasks"], envelope_module.RawTasks)
    assert len(tasks_module.parse_tasks(large).tasks) == 3000
