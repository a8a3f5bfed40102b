"""The emulator backend: wire-shaped tasks, seeded ids, and lifecycles under a fake clock."""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest

from asrtui.emulator.backend import EmulatorBackend, InvalidTaskRequest
from tests.support.clock import FakeClock
from tests.support.emulator import START

ID_PATTERN = re.compile(
    r"^asr-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
)
WIRE_KEYS = {
    "createdAt",
    "updatedAt",
    "mode",
    "taskId",
    "language",
    "callbackUrl",
    "autoTerminateDelay",
    "streamUrl",
    "status",
    "reportInterval",
    "aliUid",
    "tag",
}
LIVE = {"Mode": "live", "Language": "en", "CallbackURL": "default", "StreamURL": "rtmp://s/a"}


def _backend(**kwargs: object) -> tuple[EmulatorBackend, FakeClock]:
    clock = FakeClock(START)
    options: dict[str, object] = {"seed": 7, "tasks": 8, **kwargs}
    return EmulatorBackend(clock=clock, **options), clock  # type: ignore[arg-type]


def test_tasks_have_the_documented_wire_shape() -> None:
    backend, _ = _backend(tasks=40)
    tasks = backend.query()
    assert tasks is not None
    assert len(tasks) == 40
    for task_id, task in tasks.items():
        assert ID_PATTERN.match(task_id)
        assert task["taskId"] == task_id
        assert set(task) >= WIRE_KEYS
        assert task["status"] == 1
        for name in ("createdAt", "updatedAt"):
            stamp = str(task[name])
            assert stamp.endswith("+08:00")
            assert datetime.fromisoformat(stamp).utcoffset() is not None
        for name in ("autoTerminateDelay", "reportInterval", "aliUid"):
            assert isinstance(task[name], str)
            int(str(task[name]))
        assert task["aliUid"] == "1119309225474343"
        assert "?auth_key=" in str(task["streamUrl"])
        assert task["language"] in {"cn", "en", "ja", "yue", "fspk"}
    translated = [task for task in tasks.values() if task.get("translateEnabled") is True]
    assert translated, "some tasks should carry translation fields"
    assert all(task["targetLanguages"] for task in translated)
    json.dumps(tasks)


def test_same_seed_same_tasks_other_seed_other_ids() -> None:
    first, _ = _backend(seed=3)
    second, _ = _backend(seed=3)
    other, _ = _backend(seed=4)
    assert first.query() == second.query()
    assert set(first.query() or {}).isdisjoint(other.query() or {})


def test_query_one_task_or_none() -> None:
    backend, _ = _backend()
    task_id = next(iter(backend.query() or {}))
    assert list(backend.query(task_id) or {}) == [task_id]
    assert backend.query("asr-unknown") is None


def test_stop_leaves_the_running_list_and_delete_forgets() -> None:
    backend, clock = _backend()
    task_id = next(iter(backend.query() or {}))
    clock.advance(60)
    assert backend.stop(task_id) is True
    assert task_id not in (backend.query() or {})
    assert backend.running_count == 7
    stopped = (backend.query(task_id) or {})[task_id]
    assert stopped["status"] == 0
    assert stopped["updatedAt"] == "2024-05-14T11:53:02+08:00"
    assert backend.stop(task_id) is True
    assert backend.delete(task_id) is True
    assert backend.query(task_id) is None
    assert backend.delete(task_id) is False
    assert backend.stop("asr-unknown") is False


def test_create_starts_a_task_in_wire_shape() -> None:
    backend, _ = _backend(tasks=0)
    task_id = backend.create(
        {**LIVE, "TranslateEnabled": "True", "TargetLanguages": "cn,ja", "ReportInterval": "-1"}
    )
    task = (backend.query() or {})[task_id]
    assert ID_PATTERN.match(task_id)
    assert task["createdAt"] == "2024-05-14T11:52:02+08:00"
    assert task["mode"] == "live"
    assert task["streamUrl"] == "rtmp://s/a"
    assert task["reportInterval"] == "-1"
    assert task["autoTerminateDelay"] == "10"
    assert task["translateEnabled"] is True
    assert task["targetLanguages"] == "cn,ja"
    rtc_id = backend.create(
        {"Mode": "rtc", "Language": "cn", "CallbackURL": "https://cb", "SDKAppID": "app"}
        | {"ChannelID": "ch", "RtcUserId": "u"}
    )
    rtc = (backend.query() or {})[rtc_id]
    assert rtc["streamUrl"] == ""
    assert rtc["channelId"] == "ch"


@pytest.mark.parametrize(
    ("change", "mentions"),
    [
        ({"Mode": "hls"}, "Mode"),
        ({"Language": "de"}, "Language"),
        ({"StreamURL": ""}, "StreamURL"),
        ({"Mode": "rtc"}, "SDKAppID"),
        ({"TranslateEnabled": "yes"}, "TranslateEnabled"),
        ({"TranslateEnabled": "true"}, "TargetLanguages"),
        ({"TargetLanguages": "en,fr"}, "TargetLanguages"),
        ({"ReportInterval": "501"}, "ReportInterval"),
        ({"AutoTerminateDelay": "0"}, "AutoTerminateDelay"),
        ({"AutoTerminateDelay": "ten"}, "AutoTerminateDelay"),
    ],
)
def test_create_rejects_bad_values(change: dict[str, str], mentions: str) -> None:
    backend, _ = _backend(tasks=0)
    with pytest.raises(InvalidTaskRequest, match=mentions) as caught:
        backend.create({**LIVE, **change})
    assert caught.value.ret_code != 2000
    assert backend.running_count == 0


def _run(seed: int, steps: int) -> list[tuple[frozenset[str], frozenset[str]]]:
    backend, clock = _backend(seed=seed, tasks=10, lively=True, mean_lifetime=60.0)
    history = []
    for _ in range(steps):
        clock.advance(5)
        backend.tick()
        tasks = backend.query() or {}
        history.append((frozenset(tasks), frozenset(str(t["updatedAt"]) for t in tasks.values())))
    return history


def test_lively_tasks_start_and_end_deterministically() -> None:
    first = _run(seed=11, steps=60)
    assert first == _run(seed=11, steps=60)
    assert first != _run(seed=12, steps=60)
    initial = first[0][0]
    final = first[-1][0]
    assert initial - final, "some tasks should have ended over five minutes"
    assert final - initial, "some tasks should have started over five minutes"
    assert all(len(ids) > 0 for ids, _ in first)
    # updatedAt follows the clock on running tasks: one value per tick, and it moves.
    assert all(len(stamps) == 1 for _, stamps in first)
    assert first[0][1] != first[1][1]


def test_lively_ended_tasks_are_stopped_not_forgotten() -> None:
    backend, clock = _backend(tasks=5, lively=True, mean_lifetime=10.0)
    before = set(backend.query() or {})
    clock.advance(600)
    backend.tick()
    gone = before - set(backend.query() or {})
    assert gone
    for task_id in gone:
        assert (backend.query(task_id) or {})[task_id]["status"] == 0


def test_not_lively_stays_still() -> None:
    backend, clock = _backend()
    before = json.dumps(backend.query())
    clock.advance(3600)
    backend.tick()
    assert json.dumps(backend.query()) == before


def test_a_clock_going_backwards_changes_nothing() -> None:
    backend, clock = _backend(lively=True)
    before = json.dumps(backend.query())
    clock.advance(-30)
    backend.tick()
    assert json.dumps(backend.query()) == before


def test_ten_thousand_tasks_with_unique_ids() -> None:
    backend, _ = _backend(tasks=10_000)
    tasks = backend.query() or {}
    assert len(tasks) == 10_000
    assert len({task["taskId"] for task in tasks.values()}) == 10_000


def test_rejects_nonsense_sizes() -> None:
    with pytest.raises(ValueError, match="tasks"):
        _backend(tasks=-1)
