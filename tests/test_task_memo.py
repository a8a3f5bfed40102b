"""Unchanged tasks are not parsed again: the memo gives the same tasks as a fresh parse, always."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asrtui.client import OFF_LOOP_BYTES, LiveClient
from asrtui.credentials import Credentials
from asrtui.emulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, build_emulator
from asrtui.models import TaskList
from asrtui.wire import TaskMemo, parse_tasks

#: Values whose equality hides a difference that the output shows: each must stay apart.
_tricky = st.sampled_from([1, True, 1.0, 0, False, 0.0, -0.0, math.nan, None, "1", "", 10**30])
_values = st.one_of(
    _tricky, st.text(max_size=6), st.integers(), st.floats(), st.lists(st.integers(), max_size=2)
)
_objects = st.dictionaries(
    st.sampled_from(["taskId", "status", "tag", "createdAt", "reportInterval", "odd"]),
    _values,
    max_size=5,
)


def _same(a: Any, b: Any) -> bool:
    """Equal, and written the same: the same repr (so 1 and True, 0.0 and -0.0 differ)."""
    return repr(a) == repr(b)


def _answer(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return {"RequestId": "r", "Tasks": {f"asr-{i}": obj for i, obj in enumerate(objects)}}


@settings(max_examples=200, deadline=None)
@given(st.lists(_objects, max_size=5), st.lists(_objects, max_size=5))
def test_a_memo_never_changes_what_is_parsed(
    first: list[dict[str, Any]], second: list[dict[str, Any]]
) -> None:
    memo = TaskMemo()
    for objects in (first, second, first):
        fresh = _outcome(_answer(objects), None)
        remembered = _outcome(_answer(objects), memo)
        if isinstance(fresh, Exception):  # a malformed answer fails the same way with a memo
            assert type(remembered) is type(fresh)
            continue
        assert isinstance(remembered, TaskList)
        assert _same(remembered.tasks, fresh.tasks)
        for a, b in zip(remembered.tasks, fresh.tasks, strict=True):
            assert _same(a.raw, b.raw)


def _outcome(answer: dict[str, Any], memo: TaskMemo | None) -> TaskList | Exception:
    try:
        return parse_tasks(answer, memo)
    except Exception as error:
        return error


def test_an_unchanged_task_is_the_task_parsed_before_and_a_changed_one_is_new() -> None:
    memo = TaskMemo()
    objects = [{"taskId": f"asr-{i}", "status": 1, "tag": "a"} for i in range(3)]
    before = parse_tasks(_answer(objects), memo).tasks
    objects[1] = {**objects[1], "tag": "b"}
    objects[2] = {**objects[2], "status": True}  # equal to 1, yet another value on the wire
    after = parse_tasks(_answer([dict(obj) for obj in objects]), memo).tasks
    assert after[0] is before[0]
    assert after[1] is not before[1]
    assert after[1].tag == "b"
    assert after[2] is not before[2]
    assert after[2].raw["status"] is True


def test_the_memo_holds_one_answer() -> None:
    memo = TaskMemo()
    for round_ in range(5):
        parse_tasks(_answer([{"taskId": f"asr-{round_}-{i}"} for i in range(10)]), memo)
        assert len(memo) == 10


def test_a_nested_task_is_parsed_every_time() -> None:
    memo = TaskMemo()
    objects = [{"taskId": "asr-1", "targetLanguages": ["en"]}]
    first = parse_tasks(_answer(objects), memo).tasks[0]
    second = parse_tasks(_answer(objects), memo).tasks[0]
    assert first == second
    assert first is not second


async def test_a_large_answer_read_off_the_loop_is_the_same_answer() -> None:
    app = build_emulator(seed=4, tasks=1500)
    client = LiveClient(
        lambda: Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET),
        "http://emulator.invalid",
        transport=httpx.ASGITransport(app=app),
    )
    async with client:
        first = await client.list_tasks()
        assert client._large_answer  # more than OFF_LOOP_BYTES: decoded and parsed in a thread
        second = await client.list_tasks()
    assert len(first.tasks) == 1500
    assert OFF_LOOP_BYTES < 1500 * 400
    assert [t.task_id for t in first.tasks] == [t.task_id for t in second.tasks]
    reused = sum(a is b for a, b in zip(first.tasks, second.tasks, strict=True))
    assert reused == 1500


async def test_a_detail_answered_meanwhile_leaves_a_large_listing_off_the_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A small answer that arrives while a large listing is being decoded (the operator's
    detail fetch during a refresh) does not send the listing's parse onto the event loop."""
    import threading

    import asrtui.client as client_module

    app = build_emulator(seed=4, tasks=1500)
    client = LiveClient(
        lambda: Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET),
        "http://emulator.invalid",
        transport=httpx.ASGITransport(app=app),
    )
    loop = asyncio.get_running_loop()
    decoding = asyncio.Event()
    detail_done = threading.Event()
    decode = client_module.decode_json_object
    parse = client_module.parse_tasks
    parsed_on: list[bool] = []

    def decode_after_the_detail(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread() is not threading.main_thread():
            # The large body, read whole and in its thread: now the detail is sent and answered.
            loop.call_soon_threadsafe(decoding.set)
            assert detail_done.wait(30)
        return decode(*args, **kwargs)

    def parse_noting_where(*args: Any, **kwargs: Any) -> Any:
        parsed_on.append(threading.current_thread() is threading.main_thread())
        return parse(*args, **kwargs)

    monkeypatch.setattr(client_module, "decode_json_object", decode_after_the_detail)
    monkeypatch.setattr(client_module, "parse_tasks", parse_noting_where)
    async with client:
        task_id = sorted(app.backend.query(None) or {})[0]

        async def detail() -> None:
            await decoding.wait()
            await client.get_task(task_id)
            detail_done.set()

        listing, _ = await asyncio.gather(client.list_tasks(), detail())
    assert len(listing.tasks) == 1500
    assert parsed_on[-1] is False  # the listing's parse ran in a thread
