"""A large listing's task objects read as its body arrives are exactly the whole answer's.

`asrtui.wire.stream.TaskObjectStream` cuts runs of ``Tasks`` members off the body as chunks arrive
(``asrtui tasks --format json``). Whatever the body (members before and after ``Tasks``,
``Tasks`` twice, a task id twice, text holding ``},"``, floats, nested values, odd shapes) and
however it is cut into chunks, the stream either declines or hands on, in order, exactly the
objects `asrtui.wire.flat_task_objects` reads from the whole answer; and it takes the usual
answer whole. The command's text is the same as without the stream, on a real socket.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asrtui.cli import tasks as cli_tasks
from asrtui.errors import AsrtuiError
from asrtui.wire import envelope as envelope_module
from asrtui.wire import flat_task_objects
from asrtui.wire import stream as stream_module
from asrtui.wire.envelope import decode_json_object
from asrtui.wire.stream import TaskObjectStream
from tests.support.listing_bodies import bodies as _bodies
from tests.support.listing_bodies import members as _members
from tests.support.listing_bodies import same_envelope as _same_envelope
from tests.support.listing_values import same as _same


def _read(body: bytes, sizes: list[int]) -> tuple[bool, list[dict[str, Any]]]:
    got: list[dict[str, Any]] = []
    stream = TaskObjectStream(got.extend)
    position = 0
    for size in sizes:
        stream(body[position : position + size])
        position += size
    stream(body[position:])
    answer = decode_json_object(body)
    return stream.finish(answer), got


@settings(max_examples=500, deadline=None)
@given(_bodies(), st.lists(st.integers(min_value=1, max_value=40), max_size=30))
def test_the_stream_hands_on_the_whole_answers_objects_or_declines(
    body: bytes, sizes: list[int]
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(envelope_module, "RAW_TASKS_BYTES", 0)
        patch.setattr(stream_module, "_RUN_BYTES", 8)
        try:
            answer = decode_json_object(body)
        except AsrtuiError:
            return
        ok, got = _read(body, sizes)
        if ok:
            expected = flat_task_objects(answer)
            assert expected is not None
            assert len(got) == len(expected)
            assert all(_same(a, b) for a, b in zip(got, expected, strict=True))


def _feed(stream: TaskObjectStream, body: bytes, sizes: list[int]) -> None:
    position = 0
    for size in sizes:
        stream(body[position : position + size])
        position += size
    stream(body[position:])


@settings(max_examples=500, deadline=None)
@given(_bodies(), st.lists(st.integers(min_value=1, max_value=40), max_size=30))
def test_the_envelope_the_stream_reads_is_the_whole_answers(body: bytes, sizes: list[int]) -> None:
    # The client takes it instead of decoding the body again: it must be that decoding's.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(envelope_module, "RAW_TASKS_BYTES", 0)
        patch.setattr(stream_module, "_RUN_BYTES", 8)
        got: list[dict[str, Any]] = []
        stream = TaskObjectStream(got.extend)
        _feed(stream, body, sizes)
        read = stream.envelope(body)
        if read is None:
            assert not stream.finish({})
            assert stream.declined
            return
        answer = decode_json_object(body)  # a body the stream read decodes
        assert _same_envelope(read, answer), (read, answer)
        assert stream.finish(read)
        expected = flat_task_objects(answer)
        assert expected is not None
        assert len(got) == len(expected)
        assert all(_same(a, b) for a, b in zip(got, expected, strict=True))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(_members, min_size=1, max_size=8),
    st.integers(min_value=0, max_value=3),
    st.lists(st.integers(min_value=1, max_value=40), max_size=30),
    st.sampled_from([1, 8, 64]),
)
def test_the_usual_answer_is_taken_whole(
    objects: list[dict[str, Any]], place: int, sizes: list[int], run: int
) -> None:
    tasks = {f"asr-{i}": {**obj, "taskId": f"asr-{i}"} for i, obj in enumerate(objects)}
    members = ['"RequestId":"r"', '"RetCode":2000', '"Description":"success"']
    members.insert(place, '"Tasks":' + json.dumps(tasks, separators=(",", ":")))
    body = ("{" + ",".join(members) + "}").encode()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(envelope_module, "RAW_TASKS_BYTES", 0)
        patch.setattr(stream_module, "_RUN_BYTES", run)
        ok, got = _read(body, sizes)
        assert ok
        assert got == list(tasks.values())
        # Read whole by the stream: the client does not decode it again.
        again: list[dict[str, Any]] = []
        stream = TaskObjectStream(again.extend)
        _feed(stream, body, sizes)
        read = stream.envelope(body)
        assert read is not None
        assert _same_envelope(read, decode_json_object(body))
        assert stream.finish(read)
        assert again == list(tasks.values())


@pytest.mark.parametrize(
    "body",
    [
        b'{"Tasks":{"a":{"taskId":"a"}},"Tasks":{"b":{"taskId":"b"}}}',  # the last one counts
        b'{"Tasks":{"a":{"taskId":"a"}},"RetCode":2000,"Tasks":{"a":{"taskId":"a","x":1}}}',
        b'{"Tasks":{"a":{"taskId":"a"}},"RetCode":2000,"Tasks":{"a":{"taskId":"b"}}}',
        b'{"D":{"Tasks":{"a":{"taskId":"a"}}},"Tasks":{"b":{"taskId":"b"}}}',  # nested first
        b'{"Tasks":{"a":{"taskId":"a"}} ,"Tasks":{"b":{"taskId":"b"}}}',  # a space, then again
        b'{"Tasks":{"a":{"taskId":"a","n":1.5}}}',  # a float: the standard library's text
        b'{"Tasks":{"a":{"taskId":"a","l":[1]}}}',  # nested
        b'{"Tasks": {"a":{"taskId":"a"}}}',  # not compact
        b'{"Tasks":{}}',
    ],
)
def test_what_the_stream_does_not_vouch_for_is_declined(body: bytes) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(envelope_module, "RAW_TASKS_BYTES", 0)
        patch.setattr(stream_module, "_RUN_BYTES", 1)
        for size in (1, 3, len(body)):
            ok, _ = _read(body, [size] * (len(body) // size))
            assert not ok


@pytest.mark.parametrize(
    "body",
    [
        b'{"N":"\xff","Tasks":{"a":{"taskId":"a"}}}',  # not UTF-8, before ``Tasks``
        b'{"Tasks":{"a":{"taskId":"a"}},"N":"\xff"}',  # and after
        b'{"\xff":1,"Tasks":{"a":{"taskId":"a"}}}',  # in a name
        b'{"Tasks":{"a":{"taskId":"a"}},"tasks":{"b":"\xff"}}',  # in what is kept as bytes
        b'{"Tasks":{"a":{"taskId":"a"}},"N":NaN}',
        b'{"Tasks":{"a":{"taskId":"a"}},"Tasks":{"a":{"taskId":"a"}}}',
        b'{"Tasks":{"a":{"taskId":"a"}},"N":"},\\"x\\":1"} x',
    ],
)
def test_an_answer_the_stream_cannot_vouch_for_whole_is_decoded_as_usual(body: bytes) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(envelope_module, "RAW_TASKS_BYTES", 0)
        patch.setattr(stream_module, "_RUN_BYTES", 1)
        for size in (1, 3, len(body)):
            stream = TaskObjectStream(lambda objects: None)
            _feed(stream, body, [size] * (len(body) // size))
            assert stream.envelope(body) is None


@pytest.mark.parametrize(
    "body",
    [
        b'{"RequestId":"r","Tasks":{"a":{"taskId":"a"},"b":{"taskId":"b"}}}',
        b'{"Tasks":{"a":{"taskId":"a"}},"RequestId":"r","RetCode":2000}',
        b'{"R":1,"Tasks":{"a":{"taskId":"a"}},"R":2,"D":{"x":{"y":1}},"tasks":{"b":2}}',
        b'{"Tasks":{"a":{"taskId":"a"}},"N":"},\\"x\\":1"}\n',
        b'{"Tasks":{"a":{"taskId":"a"}},"N":"\xc3\xa9"} ',
    ],
)
def test_an_answer_read_whole_by_the_stream_is_not_decoded_again(body: bytes) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(envelope_module, "RAW_TASKS_BYTES", 0)
        patch.setattr(stream_module, "_RUN_BYTES", 1)
        for size in (1, 3, len(body)):
            got: list[dict[str, Any]] = []
            stream = TaskObjectStream(got.extend)
            _feed(stream, body, [size] * (len(body) // size))
            read = stream.envelope(body)
            assert read is not None
            assert _same_envelope(read, decode_json_object(body))
            assert stream.finish(read)
            assert got == flat_task_objects(decode_json_object(body))
        other = TaskObjectStream(got.extend)
        _feed(other, body, [])
        assert other.envelope(body) is not None
        assert not other.finish(decode_json_object(body))  # not the envelope it read


def test_a_key_again_across_runs_is_declined() -> None:
    body = b'{"Tasks":{"a":{"taskId":"a"},"b":{"taskId":"b"},"a":{"taskId":"c"}}}'
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(envelope_module, "RAW_TASKS_BYTES", 0)
        patch.setattr(stream_module, "_RUN_BYTES", 1)
        ok, _ = _read(body, [1] * len(body))
    assert not ok  # within one run the map keeps one, as the whole answer does


def test_a_failing_consumer_makes_the_stream_decline() -> None:
    def broken(objects: list[dict[str, Any]]) -> None:
        raise RuntimeError("a fault of the consumer")

    body = b'{"Tasks":{"a":{"taskId":"a"},"b":{"taskId":"b"}}}'
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(envelope_module, "RAW_TASKS_BYTES", 0)
        stream = TaskObjectStream(broken)
        stream(body)
        assert not stream.finish(decode_json_object(body))


def test_a_small_answer_is_left_to_the_usual_reading() -> None:
    body = b'{"Tasks":{"a":{"taskId":"a"}}}'
    ok, _ = _read(body, [])
    assert not ok  # decoded whole by the client: nothing to gain


def test_the_command_writes_the_same_text_with_and_without_the_stream(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from asrtui.__main__ import main
    from asrtui.emulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, build_emulator
    from asrtui.emulator.server import running_server

    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", DEMO_ACCESS_KEY_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", DEMO_ACCESS_KEY_SECRET)
    finished: list[bool] = []
    finish = TaskObjectStream.finish

    def counted(self: TaskObjectStream, envelope: Any) -> bool:
        finished.append(finish(self, envelope))
        return finished[-1]

    monkeypatch.setattr(TaskObjectStream, "finish", counted)
    with running_server(build_emulator(seed=7, tasks=3000)) as url:
        for reveal in ([], ["--reveal-secrets"]):
            argv = ["tasks", "--endpoint", url, "--format", "json", *reveal]
            assert main(argv) == 0
            streamed = capsys.readouterr().out
            with monkeypatch.context() as patch:
                patch.setattr(cli_tasks, "TaskObjectStream", _Declining)
                assert main(argv) == 0
                whole = capsys.readouterr().out
            assert streamed == whole
            assert len(json.loads(streamed)) == 3000
    assert finished == [True, False, True, False]  # streamed, then declined at once


class _Declining(TaskObjectStream):
    """A stream that takes nothing: the listing is read whole, as without a stream."""

    def __call__(self, chunk: bytes) -> None:
        self.declined = True
