"""Fault injection: spec parsing, seeded draws, and what each fault looks like on the wire."""

from __future__ import annotations

import json
import math
import random
from collections import Counter

import httpx
import pytest

from asrtui.emulator import EmulatorApp, build_emulator
from asrtui.emulator.faults import FAULT_KINDS, THROTTLE_BURST, FaultPlan
from tests.support.emulator import KEY_ID, SECRET, Rig, call, error_code, make_rig

EXAMPLE = (
    "latency=1.5,5xx=0.1,503=0.1,throttle=0.2,malformed=0.05,truncated=0.05,html=0.05,"
    "wrongtypes=0.05,big=0.01,drop=0.05,retry_after=500"
)


# -- the plan ------------------------------------------------------------------------------


def test_parse_the_documented_example() -> None:
    plan = FaultPlan.parse(EXAMPLE)
    assert plan.latency == 1.5
    assert plan.retry_after_ms == 500
    assert plan.shares == {
        "500": 0.1,
        "503": 0.1,
        "throttle": 0.2,
        "malformed": 0.05,
        "truncated": 0.05,
        "html": 0.05,
        "wrongtypes": 0.05,
        "big": 0.01,
        "drop": 0.05,
    }


def test_empty_spec_means_no_faults() -> None:
    plan = FaultPlan.parse(" , ")
    assert plan.shares == {}
    assert plan.latency == 0
    assert [plan.draw() for _ in range(50)] == [None] * 50


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("explode=0.1", "unknown fault kind 'explode'"),
        ("500=1.5", "between 0 and 1"),
        ("500=-0.1", "between 0 and 1"),
        ("500=0.6,drop=0.6", "must not exceed 1"),
        ("drop", "needs a value"),
        ("drop=", "needs a value"),
        ("drop=often", "needs a finite number"),
        ("latency=nan", "needs a finite number"),
        ("latency=-1", "latency"),
        ("retry_after=1.5", "whole milliseconds"),
        ("5xx=0.1,500=0.1", "more than once"),
    ],
)
def test_bad_specs_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FaultPlan.parse(spec)


def _draws(seed: int, count: int = 2000) -> list[str | None]:
    plan = FaultPlan.parse("500=0.3,drop=0.2", seed=seed)
    return [plan.draw() for _ in range(count)]


def test_draws_follow_the_shares_and_the_seed() -> None:
    draws = _draws(seed=9)
    counts = Counter(draws)
    assert 500 < counts["500"] < 700
    assert 300 < counts["drop"] < 500
    assert draws == _draws(seed=9)
    assert draws != _draws(seed=10)


def test_set_and_clear_at_run_time() -> None:
    plan = FaultPlan()
    plan.set("5xx", 1.0)
    assert plan.draw() == "500"
    with pytest.raises(ValueError, match="must not exceed 1"):
        plan.set("drop", 0.1)
    plan.set("500", 0.0)
    plan.set("drop", 1.0)
    assert plan.draw() == "drop"
    plan.set("latency", 2)
    plan.clear()
    assert plan.draw() is None
    assert plan.latency == 0
    assert plan.retry_after_ms is None


def test_a_throttle_draw_is_a_burst() -> None:
    plan = FaultPlan.parse("throttle=1")
    assert plan.draw() == "throttle"
    plan.set("throttle", 0)
    assert [plan.draw() for _ in range(THROTTLE_BURST)] == ["throttle"] * (THROTTLE_BURST - 1) + [
        None
    ]


# -- on the wire -----------------------------------------------------------------------------


@pytest.fixture
def rig() -> Rig:
    return make_rig()


async def _query(rig: Rig) -> httpx.Response:
    async with rig.client() as client:
        return await call(client, "QueryRtcAsrTasks")


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("500", 500, "InternalError"),
        ("5xx", 500, "InternalError"),
        ("503", 503, "ServiceUnavailable"),
        ("throttle", 400, "Throttling.User"),
    ],
)
async def test_gateway_error_faults(rig: Rig, kind: str, status: int, code: str) -> None:
    rig.faults.set(kind, 1.0)
    response = await _query(rig)
    assert (response.status_code, error_code(response)) == (status, code)
    assert "x-acs-retry-after" not in response.headers


async def test_throttle_fault_burst_and_retry_hint(rig: Rig) -> None:
    rig.faults.set("throttle", 1.0)
    rig.faults.set("retry_after", 500)
    first = await _query(rig)
    rig.faults.set("throttle", 0.0)
    burst = [await _query(rig) for _ in range(THROTTLE_BURST - 1)]
    after = await _query(rig)
    assert first.headers["x-acs-retry-after"] == "500"
    assert [error_code(r) for r in burst] == ["Throttling.User"] * (THROTTLE_BURST - 1)
    assert after.status_code == 200
    assert rig.app.stats.throttled == THROTTLE_BURST


async def test_malformed_is_invalid_json(rig: Rig) -> None:
    rig.faults.set("malformed", 1.0)
    response = await _query(rig)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        response.json()


async def test_html_error_page(rig: Rig) -> None:
    rig.faults.set("html", 1.0)
    response = await _query(rig)
    assert response.status_code == 502
    assert response.headers["content-type"] == "text/html"
    assert response.text.startswith("<html>")


async def test_wrongtypes_is_valid_json_with_wrong_types(rig: Rig) -> None:
    rig.faults.set("wrongtypes", 1.0)
    seen = set()
    for _ in range(24):
        body = (await _query(rig)).json()
        tasks = body.get("Tasks")
        well_typed = (
            isinstance(body.get("RetCode"), int)
            and isinstance(body.get("Description"), str)
            and isinstance(body.get("RequestId"), str)
            and isinstance(tasks, dict)
            and all(
                isinstance(task.get("taskId"), str)
                and isinstance(task.get("status"), int)
                and isinstance(task.get("createdAt"), str)
                for task in tasks.values()
            )
        )
        assert not well_typed, body
        seen.add(json.dumps(type(tasks).__name__))
    assert len(seen) >= 3, "several variants should show up"


async def test_big_is_a_valid_ten_megabyte_answer(rig: Rig) -> None:
    rig.faults.set("big", 1.0)
    response = await _query(rig)
    assert len(response.content) >= 10 * 1024 * 1024
    assert response.json()["Tasks"] == rig.backend.query()


async def test_drop_closes_without_an_answer(rig: Rig) -> None:
    rig.faults.set("drop", 1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        await _query(rig)
    assert rig.app.stats.requests == 1


async def test_truncated_cuts_the_answer_after_the_action(rig: Rig) -> None:
    task_id = next(iter(rig.backend.query() or {}))
    rig.faults.set("truncated", 1.0)
    async with rig.client() as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await call(client, "StopRtcAsrTask", TaskId=task_id)
    assert task_id not in (rig.backend.query() or {}), "the stop took effect"


async def test_latency_is_slept_through_the_injected_sleep(rig: Rig) -> None:
    rig.faults.set("latency", 1.5)
    response = await _query(rig)
    assert response.status_code == 200
    assert rig.sleeps == [1.5]


async def test_faults_come_before_authentication(rig: Rig) -> None:
    rig.faults.set("503", 1.0)
    async with rig.client(secret="wrong") as client:
        response = await call(client, "QueryRtcAsrTasks")
    assert error_code(response) == "ServiceUnavailable"
    rig.faults.clear()
    async with rig.client(secret="wrong") as client:
        response = await call(client, "QueryRtcAsrTasks")
    assert error_code(response) == "SignatureDoesNotMatch"


def test_every_kind_is_covered_here() -> None:
    assert set(FAULT_KINDS) == {
        "500",
        "503",
        "throttle",
        "malformed",
        "truncated",
        "html",
        "wrongtypes",
        "big",
        "drop",
    }


async def test_jitter_delays_each_request_before_it_is_counted() -> None:
    rig = make_rig()
    delays: list[float] = []

    async def network(seconds: float) -> None:
        delays.append(seconds)
        rig.clock.advance(seconds)

    app = EmulatorApp(
        rig.app.backend,
        credentials={KEY_ID: SECRET},
        monotonic=rig.monotonic,
        clock=rig.clock,
        sleep=network,
        jitter=0.05,
        jitter_rng=random.Random(3),
    )
    rig = Rig(app=app, clock=rig.clock, sleeps=[])
    started = rig.monotonic()
    async with rig.client() as client:
        for _ in range(5):
            assert (await call(client, "QueryRtcAsrTasks")).status_code == 200
    assert len(delays) == 5
    assert all(0 <= d <= 0.05 for d in delays)
    assert len(set(delays)) == 5  # random, not one fixed delay
    counted = list(app.stats.accepted_times[KEY_ID])
    assert counted == pytest.approx([started + sum(delays[: i + 1]) for i in range(5)])


@pytest.mark.parametrize("jitter", [-0.001, 10.001, math.nan])
def test_impossible_jitter_is_refused(jitter: float) -> None:
    with pytest.raises(ValueError, match="jitter"):
        build_emulator(jitter=jitter)
