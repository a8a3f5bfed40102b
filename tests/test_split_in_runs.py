"""A large answer split in runs (short calls a worker thread can be interrupted between) is
exactly the answer split whole: the same envelope, the same ``Tasks`` bytes, the same members
in the same order, the same tasks parsed, or the same error. Whatever the body and the sizes of
the runs, and whether the body is ``bytes`` or the ``bytearray`` it was gathered in."""

from __future__ import annotations

from typing import Any

import httpx
import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asrtui.client import LiveClient
from asrtui.credentials import Credentials
from asrtui.emulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, build_emulator
from asrtui.errors import AsrtuiError
from asrtui.wire import TaskMemo, parse_tasks
from asrtui.wire import envelope as envelope_module
from asrtui.wire import stream as stream_module
from asrtui.wire.envelope import RawTasks, _split_object, decode_json_object
from asrtui.wire.stream import split_in_runs
from asrtui.wire.tasks import _members_in_runs
from tests.test_listing_stream import _bodies, _same_envelope

_run_sizes = st.sampled_from([1, 2, 8, 40, 1 << 20])
_feed_sizes = st.integers(min_value=1, max_value=48)


def _members_of(tasks: RawTasks) -> list[tuple[str, bytes]]:
    return [
        (k, bytes(v))
        for k, v in msgspec.json.decode(tasks.data, type=dict[str, msgspec.Raw]).items()
    ]


@settings(max_examples=500, deadline=None)
@given(_bodies(), _run_sizes, _feed_sizes, st.booleans())
def test_split_in_runs_is_the_whole_split_or_declines(
    body: bytes, run: int, feed: int, gathered: bool
) -> None:
    given_body: bytes | bytearray = bytearray(body) if gathered else body
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(envelope_module, "RAW_TASKS_BYTES", 0)
        patch.setattr(stream_module, "_RUN_BYTES", run)
        patch.setattr(stream_module, "_FEED_BYTES", feed)
        got = split_in_runs(given_body)
        whole = _split_object(body)
    if got is None:
        return
    assert whole is not None  # what is split in runs splits whole
    assert _same_envelope(got, whole), (got, whole)
    tasks = got["Tasks"]
    assert isinstance(tasks, RawTasks)
    assert tasks.runs is not None
    members = _members_in_runs(tasks.data, tasks.runs)
    assert [(k, bytes(v)) for k, v in members.items()] == _members_of(tasks)


def _parsed(body: bytes, runs_from: int) -> tuple[str, Any]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(envelope_module, "RAW_TASKS_BYTES", 0)
        patch.setattr(envelope_module, "SPLIT_IN_RUNS_BYTES", runs_from)
        patch.setattr(stream_module, "_RUN_BYTES", 8)
        patch.setattr(stream_module, "_FEED_BYTES", 16)
        try:
            listing = parse_tasks(decode_json_object(body), TaskMemo())
        except AsrtuiError as error:
            return "error", (type(error).__name__, error.message)
    return "tasks", [(t.task_id, t.raw) for t in listing.tasks]


@settings(max_examples=300, deadline=None)
@given(_bodies())
def test_the_tasks_read_are_the_same_with_or_without_runs(body: bytes) -> None:
    assert _parsed(body, 0) == _parsed(body, 1 << 40)


def test_a_large_listing_over_the_wire_is_split_in_runs_and_reads_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The emulator's listing of 1,500 tasks (some 600 KB) through the client: split in runs
    (the threshold lowered to its size), the same tasks as split whole, each taken from the
    memo the next time (the members' bytes are the same)."""
    import asyncio

    split: list[bool] = []
    real = stream_module.split_in_runs

    def noting(body: bytes | bytearray) -> dict[str, Any] | None:
        result = real(body)
        split.append(result is not None)
        return result

    monkeypatch.setattr(stream_module, "split_in_runs", noting)
    app = build_emulator(seed=4, tasks=1500)

    async def listings(runs_from: int) -> list[Any]:
        monkeypatch.setattr(envelope_module, "SPLIT_IN_RUNS_BYTES", runs_from)
        client = LiveClient(
            lambda: Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET),
            "http://emulator.invalid",
            transport=httpx.ASGITransport(app=app),
        )
        async with client:
            return [await client.list_tasks() for _ in range(2)]

    in_runs = asyncio.run(listings(0))
    assert split == [True, True]
    whole = asyncio.run(listings(1 << 40))
    assert split == [True, True]  # not tried above the threshold
    assert [t.raw for t in in_runs[0].tasks] == [t.raw for t in whole[0].tasks]
    assert len(in_runs[0].tasks) == 1500
    # Unchanged members are the tasks of last time (the memo recognised their bytes).
    assert all(a is b for a, b in zip(in_runs[0].tasks, in_runs[1].tasks, strict=True))
