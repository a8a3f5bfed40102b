"""The emulator's answer bodies are the standard library's bytes, whichever encoder wrote them."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asrtui.emulator import build_emulator
from asrtui.emulator.app import EmulatorApp
from asrtui.emulator.backend import EmulatorBackend
from asrtui.emulator.encoding import _plain, answer_bytes
from tests.support.clock import FakeClock
from tests.support.emulator import KEY_ID, SECRET, START, Rig, call


def stdlib(payload: object) -> bytes:
    """The wire format the emulator has always written."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def same_or_same_error(payload: object) -> None:
    try:
        expected = stdlib(payload)
    except (UnicodeEncodeError, TypeError, ValueError, RecursionError) as error:
        with pytest.raises(type(error)):
            answer_bytes(payload)
        return
    assert answer_bytes(payload) == expected


#: Text of every kind: control characters, DEL, line and paragraph separators, non-ASCII,
#: astral characters, lone surrogates.
texts = st.text(
    st.one_of(
        st.characters(),
        st.sampled_from('"\\\x00\x1f\x7f\u2028\u2029\ud800\udfff\u00e9\U0001f600/'),
    ),
    max_size=12,
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    texts,
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(values)
def test_any_json_value_is_written_as_the_standard_library_writes_it(value: Any) -> None:
    same_or_same_error(value)


flat_task = st.dictionaries(texts, st.one_of(st.none(), st.booleans(), st.integers(), texts))


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(texts, st.one_of(flat_task, values), max_size=6),
    st.dictionaries(texts, values, max_size=3),
)
def test_a_listing_envelope_with_odd_tasks_is_the_standard_librarys(
    tasks: dict[str, Any], envelope: dict[str, Any]
) -> None:
    """The fast check over a map of task objects says no to anything msgspec writes otherwise."""
    same_or_same_error({**envelope, "RetCode": 2000, "Tasks": tasks})


@pytest.mark.parametrize(
    "odd",
    [
        1e16,  # msgspec writes 1e16, the standard library 1e+16
        float("nan"),
        2**64,
        -(2**63) - 1,
        "\ud800",
        [1.5],
        {"nested": {"deeper": 0.1}},
        ("a", "tuple"),
    ],
)
def test_each_value_msgspec_writes_differently_takes_the_standard_librarys_way(
    odd: object,
) -> None:
    """One odd value among 1,000 flat tasks sends the whole body the standard library's way."""
    tasks: dict[str, Any] = {f"asr-{n}": {"taskId": f"asr-{n}", "status": 1} for n in range(1000)}
    tasks["asr-500"]["odd"] = odd
    payload = {"RequestId": "R", "Tasks": tasks}
    same_or_same_error(payload)
    if not isinstance(odd, int | str):  # those two msgspec refuses itself
        assert not _plain(payload, 0)


def test_deep_values_take_the_standard_librarys_way() -> None:
    deep: object = "x"
    for _ in range(40):
        deep = [deep]
    assert not _plain({"Tasks": {"a": {"v": deep}}}, 0)
    same_or_same_error({"Tasks": {"a": {"v": deep}}})


def test_a_listing_of_the_emulators_own_tasks_takes_the_fast_way() -> None:
    app = build_emulator(seed=3, tasks=300)
    payload = {"Description": "success", "RequestId": "R", "RetCode": 2000}
    payload["Tasks"] = app.backend.query(None) or {}
    assert _plain(payload, 0)
    assert answer_bytes(payload) == stdlib(payload)


# -- the listing kept encoded while the tasks stay the same ----------------------------------

_OPS = st.lists(
    st.sampled_from(["list", "create", "stop", "delete", "advance", "one"]), max_size=12
)


def _rig(*, lively: bool) -> tuple[EmulatorApp, FakeClock]:
    clock = FakeClock(START)
    backend = EmulatorBackend(seed=4, tasks=6, clock=clock, lively=lively, mean_lifetime=600.0)
    app = EmulatorApp(
        backend,
        credentials={KEY_ID: SECRET},
        clock=clock,
        monotonic=clock.monotonic,
        limit=10_000,
        rng=random.Random(4),
    )
    return app, clock


async def _listing_matches(app: EmulatorApp, client: httpx.AsyncClient) -> None:
    """A listing's body is the standard library's encoding of the backend's tasks right now."""
    response = await call(client, "QueryRtcAsrTasks")
    request_id = response.json()["RequestId"]
    expected = {"Description": "success", "RequestId": request_id, "RetCode": 2000}
    expected["Tasks"] = app.backend.query(None) or {}
    assert response.content == stdlib(expected)


@settings(max_examples=60, deadline=None)
@given(st.booleans(), _OPS)
def test_every_listing_shows_the_tasks_as_they_are_after_any_change(
    lively: bool, ops: list[str]
) -> None:
    """Created, stopped, deleted, ticked on: no listing ever shows the tasks as they were."""
    app, clock = _rig(lively=lively)

    async def scenario() -> None:
        rig = Rig(app=app, clock=clock)
        async with rig.client() as client:
            await _listing_matches(app, client)
            for op in ops:
                running = sorted(app.backend.query(None) or {})
                if op == "create":
                    await call(
                        client, "CreateRtcAsrTask", Mode="live", Language="en",
                        CallbackURL="default", StreamURL="rtmp://h/app/s",
                    )  # fmt: skip
                elif op in ("stop", "delete") and running:
                    action = "StopRtcAsrTask" if op == "stop" else "DeleteRtcAsrTask"
                    await call(client, action, TaskId=running[0])
                elif op == "advance":
                    clock.advance(3)
                elif op == "one" and running:
                    await call(client, "QueryRtcAsrTasks", TaskId=running[-1])
                await _listing_matches(app, client)

    asyncio.run(scenario())


def test_an_unchanged_listing_is_encoded_once() -> None:
    app, clock = _rig(lively=False)

    async def scenario() -> None:
        async with Rig(app=app, clock=clock).client() as client:
            first = await call(client, "QueryRtcAsrTasks")
            kept = app._listing
            clock.advance(2)
            second = await call(client, "QueryRtcAsrTasks")
            assert app._listing is kept
            assert first.json()["Tasks"] == second.json()["Tasks"]
            assert first.json()["RequestId"] != second.json()["RequestId"]

    asyncio.run(scenario())
