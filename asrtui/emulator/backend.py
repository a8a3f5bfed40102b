"""The emulator's state: ASR tasks held in their exact wire shape, and their lifecycle.

No HTTP here (moto's split): `asrtui.emulator.app` turns requests into calls on
`EmulatorBackend` and its answers into bodies. Tasks are plain dicts shaped as
``QueryRtcAsrTasks`` returns them, so an answer is one ``json.dumps`` away. Ids and every
other random choice come from a ``random.Random`` seeded by the caller, and time from an
injected clock, so a given seed and clock sequence always yield the same tasks.

Stopped tasks leave the running list but stay queryable by id with status ``0`` (the
service documents no status values besides ``1``; ``0`` exists so that clients meet a status
they must show raw); only the `STOPPED_KEPT` most recently stopped are kept, so that a lively
emulator running for days (a demo left open, a soak test) holds bounded memory. Deleted
tasks are gone. When lively, the seeded tasks end after random lifetimes and new ones start
at the rate that keeps their number steady; tasks created through the API run until stopped.
"""

from __future__ import annotations

import heapq
import random
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone

__all__ = [
    "LANGUAGES",
    "MODES",
    "RUNNING_STATUS",
    "STOPPED_KEPT",
    "STOPPED_STATUS",
    "TARGET_LANGUAGES",
    "EmulatorBackend",
    "InvalidTaskRequest",
    "WireTask",
]

#: A task as the wire carries it: JSON-ready values keyed by wire names.
WireTask = dict[str, object]

#: The service answers in China Standard Time.
_CST = timezone(timedelta(hours=8))

MODES: tuple[str, ...] = ("live", "rtc")
LANGUAGES: tuple[str, ...] = ("cn", "en", "ja", "yue", "fspk")
TARGET_LANGUAGES: tuple[str, ...] = ("cn", "en", "ja")
RUNNING_STATUS = 1
STOPPED_STATUS = 0
#: Stopped tasks kept queryable by id; older ones are forgotten, as if deleted.
STOPPED_KEPT = 1000

#: RetCode of the second error channel for a rejected CreateRtcAsrTask value. The service
#: documents only 2000 (success); this value is the emulator's own.
INVALID_PARAMETER_RETCODE = 4000

_TAGS = ("", "", "", "news-desk", "sports-main", "studio-b", "press-conf", "late-show")
_CALLBACKS = ("default", "default", "https://asr-callback.example.com/live/notify")
_REPORT_INTERVALS = ("0", "0", "0", "-1", "200", "500")
_TERMINATE_DELAYS = ("10", "10", "5", "3")
_TRANSLATED_SHARE = 0.25
_STREAM_HOST = "http://pull-lveditor.alivecdn.com/caster"


class InvalidTaskRequest(ValueError):
    """A CreateRtcAsrTask parameter has a value the service rejects.

    The app answers it through the second error channel: HTTP 200 with ``RetCode`` set to
    `ret_code` and the reason in ``Description``.
    """

    def __init__(self, description: str, ret_code: int = INVALID_PARAMETER_RETCODE) -> None:
        super().__init__(description)
        self.description = description
        self.ret_code = ret_code


def wire_time(moment: datetime) -> str:
    """Format an aware datetime as the service does: ISO-8601 seconds with ``+08:00``."""
    return moment.astimezone(_CST).isoformat(timespec="seconds")


def _parse_bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise InvalidTaskRequest(f"invalid parameter {name}: {value!r} is not true or false")


def _parse_int(name: str, value: str, low: int, high: int) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        raise InvalidTaskRequest(f"invalid parameter {name}: {value!r} is not a number") from None
    if not low <= number <= high:
        raise InvalidTaskRequest(f"invalid parameter {name}: {number} is not in {low}..{high}")
    return number


class EmulatorBackend:
    """Running, stopped and created ASR tasks of one emulated account.

    Args:
        seed: seeds every random choice (ids, fields, lifetimes).
        tasks: how many running tasks to start with (and, when lively, to hover around).
        clock: the wall clock; must return aware datetimes.
        lively: whether tasks start and end over time as `tick` is called.
        account_uid: the ``aliUid`` every task carries.
        mean_lifetime: mean seconds a task runs when lively (exponentially distributed).
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        tasks: int = 8,
        clock: Callable[[], datetime],
        lively: bool = False,
        account_uid: str = "1119309225474343",
        mean_lifetime: float = 180.0,
    ) -> None:
        if tasks < 0:
            raise ValueError(f"tasks must be zero or more, not {tasks}")
        if mean_lifetime <= 0:
            raise ValueError(f"mean_lifetime must be positive, not {mean_lifetime}")
        self._rng = random.Random(seed)
        self._clock = clock
        self._lively = lively
        self._account_uid = account_uid
        self._target = tasks
        self._mean_lifetime = mean_lifetime
        self._running: dict[str, WireTask] = {}
        self._stopped: dict[str, WireTask] = {}
        self._ends: list[tuple[float, str]] = []
        self._spawn_carry = 0.0
        self._revision = 0
        now = clock()
        self._last_tick = now
        oldest = 6 * 3600.0
        for _ in range(tasks):
            created = now - timedelta(seconds=self._rng.uniform(30.0, oldest))
            self._start(self._random_task(created, now), now)

    @property
    def revision(self) -> int:
        """A number that changes whenever a task does (created, stopped, deleted, ticked on).

        The app keeps a listing's encoded text while it stays the same: the tasks change only
        through this class's methods (`query`'s callers must not change what it returns).
        """
        return self._revision

    @property
    def running_count(self) -> int:
        """How many tasks are running now."""
        return len(self._running)

    def query(self, task_id: str | None = None) -> dict[str, WireTask] | None:
        """Tasks keyed by id: all running tasks, or the one task asked for.

        The task dicts are the backend's own; callers serialise them and must not change them.

        Returns:
            With ``task_id`` ``None``, every running task (possibly none). With a task id, a
            one-entry map (running or stopped task), or ``None`` when the id is unknown.
        """
        if task_id is None:
            return dict(self._running)
        task = self._running.get(task_id) or self._stopped.get(task_id)
        return None if task is None else {task_id: task}

    def create(self, params: Mapping[str, str]) -> str:
        """Create and start a task from CreateRtcAsrTask parameters; return its id.

        The caller has checked that ``Mode``, ``Language`` and ``CallbackURL`` are present.

        Raises:
            InvalidTaskRequest: a value the service rejects (bad mode, language, range...).
        """
        mode = params["Mode"]
        if mode not in MODES:
            raise InvalidTaskRequest(f"invalid parameter Mode: {mode!r} is not live or rtc")
        language = params["Language"]
        if language not in LANGUAGES:
            raise InvalidTaskRequest(
                f"invalid parameter Language: {language!r} is not one of {', '.join(LANGUAGES)}"
            )
        callback = params["CallbackURL"]
        rtc_fields = {"SDKAppID": "sdkAppId", "ChannelID": "channelId", "RtcUserId": "rtcUserId"}
        if mode == "live" and not params.get("StreamURL"):
            raise InvalidTaskRequest("invalid parameter StreamURL: required when Mode is live")
        if mode == "rtc":
            for name in rtc_fields:
                if not params.get(name):
                    raise InvalidTaskRequest(f"invalid parameter {name}: required when Mode is rtc")
        translate = _parse_bool("TranslateEnabled", params.get("TranslateEnabled", "false"))
        targets = [item for item in params.get("TargetLanguages", "").split(",") if item]
        for target in targets:
            if target not in TARGET_LANGUAGES:
                raise InvalidTaskRequest(
                    f"invalid parameter TargetLanguages: {target!r} is not one of "
                    f"{', '.join(TARGET_LANGUAGES)}"
                )
        if translate and not targets:
            raise InvalidTaskRequest(
                "invalid parameter TargetLanguages: required when TranslateEnabled is true"
            )
        report = _parse_int("ReportInterval", params.get("ReportInterval", "0"), -1, 500)
        delay = _parse_int("AutoTerminateDelay", params.get("AutoTerminateDelay", "10"), 1, 10)
        if "AutoTerminateEnabled" in params:
            _parse_bool("AutoTerminateEnabled", params["AutoTerminateEnabled"])
        now = self._clock()
        task_id = self._new_id()
        stamp = wire_time(now)
        task: WireTask = {
            "createdAt": stamp,
            "updatedAt": stamp,
            "mode": mode,
            "taskId": task_id,
            "language": language,
            "callbackUrl": callback,
            "autoTerminateDelay": str(delay),
            "streamUrl": params.get("StreamURL", "") if mode == "live" else "",
            "status": RUNNING_STATUS,
            "reportInterval": str(report),
            "aliUid": self._account_uid,
            "tag": "",
        }
        if mode == "rtc":
            for name, wire_name in rtc_fields.items():
                task[wire_name] = params[name]
        if translate or targets:
            task["translateEnabled"] = translate
            task["targetLanguages"] = ",".join(targets)
        self._running[task_id] = task
        self._revision += 1
        return task_id

    def stop(self, task_id: str) -> bool:
        """Stop a task; ``False`` when the id is unknown. Stopping a stopped task is a no-op."""
        task = self._running.pop(task_id, None)
        if task is None:
            return task_id in self._stopped
        self._retire(task_id, task, self._clock())
        return True

    def delete(self, task_id: str) -> bool:
        """Delete a task, running or stopped; ``False`` when the id is unknown."""
        found = self._running.pop(task_id, None) or self._stopped.pop(task_id, None)
        self._revision += 1
        return found is not None

    def tick(self) -> None:
        """Advance lifecycles to the clock's now: when lively, end, start and update tasks.

        Deterministic for a given seed and sequence of clock readings. A clock that goes
        backwards or stands still changes nothing.
        """
        now = self._clock()
        elapsed = (now - self._last_tick).total_seconds()
        if not self._lively or elapsed <= 0:
            self._last_tick = max(now, self._last_tick)
            return
        now_ts = now.timestamp()
        while self._ends and self._ends[0][0] <= now_ts:
            _, task_id = heapq.heappop(self._ends)
            task = self._running.pop(task_id, None)
            if task is not None:
                self._retire(task_id, task, now)
        expected = elapsed * self._target / self._mean_lifetime + self._spawn_carry
        spawns = int(expected)
        self._spawn_carry = expected - spawns
        for _ in range(min(spawns, max(self._target, 1))):
            created = self._last_tick + timedelta(seconds=self._rng.uniform(0.0, elapsed))
            self._start(self._random_task(created, now), now)
        stamp = wire_time(now)
        for task in self._running.values():
            task["updatedAt"] = stamp
        self._last_tick = now
        self._revision += 1

    def _start(self, task: WireTask, now: datetime) -> None:
        task_id = str(task["taskId"])
        self._running[task_id] = task
        if self._lively:
            lifetime = self._rng.expovariate(1.0 / self._mean_lifetime)
            heapq.heappush(self._ends, (now.timestamp() + max(lifetime, 1.0), task_id))

    def _retire(self, task_id: str, task: WireTask, now: datetime) -> None:
        self._revision += 1
        task["status"] = STOPPED_STATUS
        task["updatedAt"] = wire_time(now)
        self._stopped[task_id] = task
        while len(self._stopped) > STOPPED_KEPT:
            # Dicts keep insertion order: the first key is the longest stopped.
            del self._stopped[next(iter(self._stopped))]

    def _new_id(self) -> str:
        return f"asr-{uuid.UUID(int=self._rng.getrandbits(128), version=4)}"

    def _random_task(self, created: datetime, now: datetime) -> WireTask:
        rng = self._rng
        task_id = self._new_id()
        expiry = int(created.timestamp()) + 86400
        stream = (
            f"{_STREAM_HOST}/{rng.getrandbits(128):032x}.flv"
            f"?auth_key={expiry}-0-0-{rng.getrandbits(128):032x}"
        )
        language = rng.choice(LANGUAGES)
        task: WireTask = {
            "createdAt": wire_time(created),
            "updatedAt": wire_time(min(created + timedelta(seconds=1), now)),
            "mode": "live",
            "taskId": task_id,
            "language": language,
            "callbackUrl": rng.choice(_CALLBACKS),
            "autoTerminateDelay": rng.choice(_TERMINATE_DELAYS),
            "streamUrl": stream,
            "status": RUNNING_STATUS,
            "reportInterval": rng.choice(_REPORT_INTERVALS),
            "aliUid": self._account_uid,
            "tag": rng.choice(_TAGS),
        }
        if rng.random() < _TRANSLATED_SHARE:
            choices = [target for target in TARGET_LANGUAGES if target != language]
            picked = rng.sample(choices, rng.randint(1, len(choices)))
            task["translateEnabled"] = True
            task["targetLanguages"] = ",".join(sorted(picked))
        return task
