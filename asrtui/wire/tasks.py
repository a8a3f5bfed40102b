"""Task answers: the tasks of QueryRtcAsrTasks and the id of CreateRtcAsrTask, as `Task` values.

Tolerant of every shape ``Tasks`` arrives in (see `asrtui.wire`), strict about the rest: a
shape it cannot read is a `MalformedResponseError` naming the offending entry. Each task's
mixed types (numbers as strings and the other way round) are normalised here.

Over 450 lines, and one thing: reading a task. Every shape of ``Tasks`` and every field's
normalisation meet in `parse_tasks`, with the memo that skips tasks received unchanged, on the
console's hottest path.
"""

from __future__ import annotations

import dataclasses
import hashlib
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any, Final

from asrtui.errors import MalformedResponseError
from asrtui.jsontext import tame
from asrtui.models import ReceivedObject, Task, TaskList
from asrtui.wire.envelope import RawTasks, request_id_of
from asrtui.wire.text import (
    _MALFORMED_HINT,
    _compact_json,
    _kind,
    _loads,
    _short,
    _text,
    _whole_number,
)

__all__ = [
    "TASK_FIELDS",
    "TaskMemo",
    "flat_task_objects",
    "parse_created_task_id",
    "parse_tasks",
]


#: How many times a string may hold JSON that holds a string that holds JSON...
_MAX_STRING_NESTING: Final = 3

_TASK_ID = "taskId"
#: The wire fields of `Task`, in the order of `_parse_usual`'s positions.
_USUAL_ORDER: Final = (
    "taskId",
    "status",
    "mode",
    "language",
    "targetLanguages",
    "translateEnabled",
    "tag",
    "streamUrl",
    "callbackUrl",
    "createdAt",
    "updatedAt",
    "reportInterval",
    "autoTerminateDelay",
    "aliUid",
)
#: The wire names of a task object that `Task` has a field for; others go to ``Task.extra``.
TASK_FIELDS: Final = frozenset(_USUAL_ORDER)

#: Fields whose text most tasks of an account repeat: `_parse_task` keeps one string of each
#: value (`sys.intern`, which lets go of a string no task holds any more). Every field of
#: `Task` but those each task has its own value of (its id, stream and times).
_SHARED_FIELDS: Final = tuple(
    name for name in _USUAL_ORDER if name not in {"taskId", "streamUrl", "createdAt", "updatedAt"}
)
_share = sys.intern

_TRUE_WORDS: Final = frozenset({"true", "1", "yes", "on"})
_FALSE_WORDS: Final = frozenset({"false", "0", "no", "off"})


# --------------------------------------------------------------------------------------------
# Tasks


def parse_created_task_id(envelope: Mapping[str, Any]) -> str:
    """The ``TaskId`` of a CreateRtcAsrTask answer.

    Raises:
        MalformedResponseError: the answer has no usable ``TaskId``.
    """
    for name in ("TaskId", "taskId"):
        value = envelope.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
        if isinstance(value, int) and not isinstance(value, bool):
            return _text(value)
    value = envelope.get("TaskId", envelope.get("taskId"))
    found = "none" if value is None else f"a JSON {_kind(value)}"
    raise MalformedResponseError(
        f"CreateRtcAsrTask answered without a task id (TaskId is {found})",
        _MALFORMED_HINT,
        request_id=request_id_of(envelope),
        http_status=200,
    )


class TaskMemo:
    """The tasks of the last answer by what was received, so that an unchanged one is not parsed.

    A console asks for the same tasks every few seconds and most of them have not changed: a
    task object received again member for member (same names, order, types and values) is
    the `Task` parsed last time, found by one tuple hash instead of a parse. Only flat objects
    (text, numbers, booleans, nulls) are remembered; a float by its ``repr``, so ``0.0`` and
    ``-0.0`` stay apart, and each value with its type, so ``1`` and ``true`` do too. It holds
    the tasks of one answer: memory follows the task count, not the session's length.

    A large answer arrives with its ``Tasks`` still as bytes (`RawTasks`): then the memo
    keeps, per task id, a hash of the task's bytes and its `Task` (about 100 bytes a task,
    none of the received text), and a digest of the whole ``Tasks`` with the tuple of tasks
    it gave, so an answer whose tasks are all unchanged costs one hash of its bytes, made
    while the interpreter lets other threads run. The per-task hash is 64 bits, keyed per
    process: two different texts of one task id compare equal with odds of 1 in 2**64.

    One memo per client; `parse_tasks` fills it for one answer at a time.
    """

    def __init__(self) -> None:
        self._last: dict[Any, Task] = {}
        self._next: dict[Any, Task] = {}
        self._last_raw: dict[str, tuple[int, Task]] = {}
        self._next_raw: dict[str, tuple[int, Task]] = {}
        self._whole: tuple[bytes, tuple[Task, ...]] | None = None

    def __len__(self) -> int:
        return len(self._last) + len(self._last_raw)

    def _begin(self) -> None:
        self._next = {}
        self._next_raw = {}

    def _end(self) -> None:
        old = self._last_raw
        self._last, self._next = self._next, {}
        self._last_raw, self._next_raw = self._next_raw, {}
        _empty_in_steps(old)


def _empty_in_steps(entries: dict[str, tuple[int, Task]]) -> None:
    """Empty a memo's old map one entry per step (a large listing is parsed in a thread).

    Dropped whole, 100,000 entries are freed in one uninterrupted step (14 ms) that the event
    loop waits for; one at a time, the interpreter lock changes hands between them.
    """
    popitem = entries.popitem
    for _ in range(len(entries)):
        popitem()


#: The memo of the `parse_tasks` running in this context (thread or task), if any.
_MEMO: ContextVar[TaskMemo | None] = ContextVar("asrtui_task_memo", default=None)


def _memo_key(obj: Mapping[Any, Any], key: Any) -> tuple[Any, ...] | None:
    """What identifies a flat task object exactly, or ``None`` for one holding containers."""
    parts: list[tuple[Any, ...]] = []
    for name, value in obj.items():
        kind = type(value)
        if kind is str or kind is int or kind is bool or value is None:
            parts.append((name, kind, value))
        elif kind is float:
            parts.append((name, kind, repr(value)))
        else:
            return None
    return (type(key), key, tuple(parts)) if key is None or type(key) is str else None


def parse_tasks(envelope: Mapping[str, Any], memo: TaskMemo | None = None) -> TaskList:
    """The tasks of a QueryRtcAsrTasks answer, in the server's order.

    ``Tasks`` may be any of the shapes listed in the module docstring. Each task's mixed types
    are normalised (see `Task`); unknown fields land in ``Task.extra`` and the object as
    received in ``Task.raw``. ``RetCode`` is not checked here: call `check_ret_code` first.

    Args:
        envelope: the decoded body.
        memo: the tasks of the answer before, to reuse those received unchanged; it is
            turned over to this answer's tasks when the answer is read whole.

    Returns:
        The tasks and the answer's request id.

    Raises:
        MalformedResponseError: ``Tasks``, or any one task in it, has a shape that cannot be
            read; the message names the offending entry.
    """
    if not isinstance(envelope, Mapping):
        raise MalformedResponseError(
            f"The answer is a JSON {_kind(envelope)}, not an object", _MALFORMED_HINT
        )
    request_id = request_id_of(envelope)
    value = envelope["Tasks"] if "Tasks" in envelope else envelope.get("tasks")
    if isinstance(value, RawTasks):
        return TaskList(tasks=_raw_tasks(value, memo, request_id), request_id=request_id)
    out: list[Task] = []
    with _reading(memo, request_id):
        _collect_top(value, out, 0)
    if memo is not None:
        memo._end()
    return TaskList(tasks=tuple(out), request_id=request_id)


@contextmanager
def _reading(memo: TaskMemo | None, request_id: str) -> Iterator[None]:
    """Read one answer's tasks: the memo in reach of every task read, errors with its id.

    The memo is turned over (``memo._end()``) by the caller, and only once every task was read.
    """
    token = _MEMO.set(memo)
    if memo is not None:
        memo._begin()
    try:
        yield
    except MalformedResponseError as exc:
        raise MalformedResponseError(
            exc.message, exc.hint, request_id=request_id, http_status=200
        ) from None
    finally:
        _MEMO.reset(token)
        _STAMPS.clear()
        _NUMBERS.clear()


#: Value types a task object may hold for `flat_task_objects` to vouch for it.
_FLAT_VALUES: Final = (str, int, bool, float, type(None))


def flat_task_objects(envelope: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The task objects of a QueryRtcAsrTasks answer as received, when nothing needs reading.

    For a caller that writes the tasks back as the wire sent them (``asrtui tasks --format
    json``): parsing 100,000 tasks into `Task` values only to write their wire objects again is
    most of such a listing's work. These are the documented shape, a map (or a list) of flat
    objects, each with a non-empty string ``taskId``: then `parse_tasks` cannot fail on them,
    and each `Task.raw` it would make is a copy of its object, member for member. The objects
    are the envelope's own, in the server's order; do not change them.

    Returns:
        The objects, or ``None`` for any other shape (an empty answer included): then
        `parse_tasks` reads it, with its tolerance and its errors.
    """
    value = envelope["Tasks"] if "Tasks" in envelope else envelope.get("tasks")
    if isinstance(value, RawTasks):  # a large answer: its tasks still bytes
        value = _decode_whole(value.data)
    if type(value) is dict:
        objects = list(value.values())
    elif type(value) is list:
        objects = value
    else:
        return None
    if not objects:
        return None
    flat = _FLAT_VALUES
    for obj in objects:
        if type(obj) is not dict:
            return None
        task_id = obj.get(_TASK_ID)
        if type(task_id) is not str or not task_id:
            return None
        for item in obj.values():
            if type(item) not in flat:
                return None
    return objects


def _decode_whole(data: bytes | memoryview) -> Any:
    """A large answer's ``Tasks`` decoded whole, to the values the standard library gives.

    msgspec decodes it several times faster; where it would read a value differently it
    refuses (``1e400``, a lone surrogate), and the standard library reads it instead.
    """
    import msgspec  # loaded with the first large answer only

    try:
        return msgspec.json.decode(data)
    except (msgspec.DecodeError, ValueError, RecursionError):
        return _decode_raw(bytes(data), "Tasks")


def _raw_tasks(value: RawTasks, memo: TaskMemo | None, request_id: str) -> tuple[Task, ...]:
    """The tasks of a ``Tasks`` kept as bytes: only those whose bytes changed are decoded.

    A map of task objects (the documented shape) is cut into one slice per task in C; a task
    whose slice hashes as last time is the `Task` of then. Any other shape is decoded whole
    and read as a small answer's ``Tasks`` would be.
    """
    import msgspec  # loaded with the first large answer only

    data = value.data
    # SHA-256 lets go of the interpreter lock meanwhile, and runs on the CPU's own SHA
    # instructions where there are some: 28 ms for 50 MB here, BLAKE2b 54 ms.
    digest = hashlib.sha256(data).digest()
    whole = memo._whole if memo is not None else None
    if whole is not None and whole[0] == digest:
        # Received byte for byte as last time: the same tasks (the memo stays as it is).
        return whole[1]
    out: list[Task] = []
    with _reading(memo, request_id):
        if value.runs is not None:  # checked in runs (`split_in_runs`): cut in the same runs
            members = _members_in_runs(data, value.runs)
        else:
            try:
                members = msgspec.json.decode(data, type=dict[str, msgspec.Raw])
            except (msgspec.DecodeError, ValueError, RecursionError):
                members = None
        if members is None or _TASK_ID in members:  # not a map, or one task on its own
            _collect_top(_decode_raw(bytes(data), "Tasks"), out, 0)
        else:
            _collect_raw_map(members, out, memo)
    tasks = tuple(out)
    if memo is not None:
        memo._end()
        memo._whole = (digest, tasks)
    return tasks


def _members_in_runs(data: bytes | memoryview, runs: tuple[tuple[int, int], ...]) -> dict[str, Any]:
    """The members of a ``Tasks`` map checked in runs, cut run by run (each a short call).

    The same map as decoding ``data`` whole: the runs are whole members, in order, and a
    key met again keeps its first place and takes its last value, as there.
    """
    import msgspec

    decode = msgspec.json.Decoder(dict[str, msgspec.Raw]).decode
    view = memoryview(data)
    members: dict[str, Any] = {}
    for start, end in runs:
        members.update(decode(b"".join((b"{", view[start:end], b"}"))))
    return members


def _collect_raw_map(members: Mapping[str, Any], out: list[Task], memo: TaskMemo | None) -> None:
    """Collect a map keyed by task id whose values are still bytes (msgspec ``Raw``)."""
    import msgspec

    decode = msgspec.json.Decoder().decode
    append = out.append
    last = memo._last_raw if memo is not None else {}
    kept = memo._next_raw if memo is not None else None
    for key, raw in members.items():
        data = bytes(raw)
        if data[:1] != b"{":  # a string holding a task, or worse: read as a small answer's
            _collect_entry(_decode_raw(data, f"Task entry {_short(key)}"), key, _short(key), out, 0)
            continue
        mark = hash(data)
        seen = last.get(key)
        if seen is not None and seen[0] == mark:
            task = seen[1]
        else:
            try:  # msgspec's C decoder, 4x the standard library's on one small object...
                entry = decode(data)
            except (msgspec.DecodeError, ValueError, RecursionError):
                # ...where the two read it alike: it refuses what it would read differently
                # (1e400, a lone surrogate), which the standard library then reads.
                entry = _decode_raw(data, f"Task entry {_short(key)}")
            if type(entry) is not dict:  # pragma: no cover - its text starts with "{"
                raise _bad(f"Task entry {_short(key)} is not a task object")
            task = _parse_task(entry, key)
        if kept is not None:
            kept[key] = (mark, task)
        append(task)


def _decode_raw(data: bytes, what: str) -> Any:
    """Decode bytes msgspec already checked, with the decoder of small answers (same values)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad(f"{what} is not UTF-8 text (invalid byte at offset {exc.start})") from None
    ok, value = _loads(text)
    if not ok:  # pragma: no cover - msgspec checked it, the two agree on JSON
        raise _bad(f"{what} is not valid JSON")
    return value


def _bad(message: str) -> MalformedResponseError:
    return MalformedResponseError(message, _MALFORMED_HINT)


def _collect_top(value: Any, out: list[Task], depth: int) -> None:
    """Collect the tasks of the ``Tasks`` value itself (or a string that held it)."""
    if value is None:
        return
    if isinstance(value, Mapping):
        if _is_single_task(value):
            out.append(_task(value, None))
        else:
            _collect_map(value, out, depth)
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _collect_entry(item, None, f"#{index}", out, depth)
        return
    if isinstance(value, str):
        if not value.strip():
            return
        ok, decoded = _loads(value)
        if ok and depth < _MAX_STRING_NESTING:
            _collect_top(decoded, out, depth + 1)
            return
        if not ok and _collect_fragment(value, out, depth):
            return
        raise _bad(
            "Tasks is a string that holds neither a JSON map of tasks nor a "
            f"'\"<id>\": {{...}}' fragment: {_short(value)}"
        )
    raise _bad(f"Tasks is a JSON {_kind(value)} ({_short(value)}), not a map of tasks")


def _collect_map(tasks: Mapping[Any, Any], out: list[Task], depth: int) -> None:
    """Collect a map keyed by task id; each value is a task object or a string holding one."""
    append = out.append
    for key, entry in tasks.items():
        if type(entry) is dict:  # the fast path: the documented shape
            append(_task(entry, key))
        else:
            _collect_entry(entry, key, _short(key), out, depth)


def _collect_entry(entry: Any, key: Any, where: str, out: list[Task], depth: int) -> None:
    """Collect one map value or list item: a task object, or a string holding tasks."""
    if isinstance(entry, Mapping):
        out.append(_task(entry, key))
        return
    if isinstance(entry, str) and entry.strip() and depth < _MAX_STRING_NESTING:
        ok, decoded = _loads(entry)
        if ok and isinstance(decoded, Mapping):
            if _is_task_map(decoded):
                _collect_map(decoded, out, depth + 1)
            else:
                out.append(_task(decoded, key))
            return
        if ok and isinstance(decoded, str):
            _collect_entry(decoded, key, where, out, depth + 1)
            return
        if not ok and _collect_fragment(entry, out, depth):
            return
        raise _bad(
            f"Task entry {where} is a string that holds neither a task object nor a "
            f"'\"<id>\": {{...}}' fragment: {_short(entry)}"
        )
    raise _bad(f"Task entry {where} is a JSON {_kind(entry)} ({_short(entry)}), not a task object")


def _collect_fragment(text: str, out: list[Task], depth: int) -> bool:
    """Read the documentation sample's ``"<id>": {...}`` fragment by wrapping it in braces."""
    ok, decoded = _loads("{" + text + "}")
    if not ok or not isinstance(decoded, dict) or not decoded:
        return False
    _collect_map(decoded, out, depth + 1)
    return True


def _is_single_task(value: Mapping[Any, Any]) -> bool:
    """Whether ``Tasks`` is one task object rather than a map keyed by id.

    It is when it has a ``taskId`` holding an id; a map entry keyed ``"taskId"`` would hold a
    task object, or a string of one (``{...}``) or of a fragment (``"<id>": {...}``).
    """
    task_id = value.get(_TASK_ID)
    if isinstance(task_id, str):
        return not task_id.lstrip().startswith(("{", '"'))
    return isinstance(task_id, int) and not isinstance(task_id, bool)


def _is_task_map(value: Mapping[Any, Any]) -> bool:
    """Whether a decoded object is a map of tasks (not one task): no ``taskId``, all objects."""
    return (
        bool(value)
        and _TASK_ID not in value
        and all(isinstance(item, Mapping) for item in value.values())
    )


def _task(obj: Mapping[Any, Any], key: Any) -> Task:
    """One `Task` from a wire task object; ``key`` is its map key (the id if ``taskId`` is absent).

    Received unchanged since the answer before (see `TaskMemo`): the `Task` of then.
    """
    memo = _MEMO.get()
    if memo is None:
        return _parse_task(obj, key)
    memo_key = _memo_key(obj, key)
    if memo_key is None:
        return _parse_task(obj, key)
    task = memo._last.get(memo_key)
    if task is None:
        task = _parse_task(obj, key)
    memo._next[memo_key] = task
    return task


def _parse_task(obj: Mapping[Any, Any], key: Any) -> Task:
    """`_task` without the memo: the usual object in one pass, any other field by field."""
    if type(obj) is dict and _FAST_TASK_INIT and obj.keys() <= TASK_FIELDS:
        task = _parse_usual(obj, key)
        if task is not None:
            return task
    return _parse_general(obj, key)


def _parse_usual(obj: dict[Any, Any], key: Any) -> Task | None:
    """The usual task object in one pass, or ``None`` for `_parse_general` to read it.

    It runs once per task, 100,000 times for a large account's first answer, where reading
    each field through its own reader cost about 10 us a task. The usual object has known
    fields only, a non-empty text ``taskId``, an integer ``status``, and text or null where
    text is expected. Its members are read by position (`_shape`: one lookup per object for
    its names); each timestamp and number text is read once per answer (`_STAMPS`,
    `_NUMBERS`: tasks started in the same second share one time). Anything else gives
    ``None`` before any result is made. For the objects it reads, every field of the task and
    of its ``raw`` is what `_parse_general` gives (a property test holds the two together):
    the same readers run for the fields that are not plain text. The text fields are written
    out one by one, not through a shared helper, on purpose: a call per field is what the
    per-field readers cost, and what this path exists to save.
    """
    names = tuple(obj)
    shape = _shapes_get(names)
    if shape is None:
        shape = _shape(names)
        if shape is None:  # a field this version does not know
            return None
    (
        names,
        (
            at_id,
            at_status,
            at_mode,
            at_language,
            at_targets,
            at_translate,
            at_tag,
            at_stream,
            at_callback,
            at_created,
            at_updated,
            at_report,
            at_delay,
            at_uid,
        ),
    ) = shape
    values = [*obj.values(), None]  # a field absent is at -1: this null
    task_id = values[at_id]
    status = values[at_status]
    if type(task_id) is not str or not task_id or type(status) is not int:
        return None
    # Values most tasks repeat are each kept once (see `_SHARED_FIELDS`), in `raw` and in
    # the task alike.
    mode = values[at_mode]
    if type(mode) is str:
        mode = values[at_mode] = _share(mode)
    elif mode is None:
        mode = ""
    else:
        return None
    language = values[at_language]
    if type(language) is str:
        language = values[at_language] = _share(language)
    elif language is None:
        language = ""
    else:
        return None
    tag = values[at_tag]
    if type(tag) is str:
        tag = values[at_tag] = _share(tag)
    elif tag is None:
        tag = ""
    else:
        return None
    callback_url = values[at_callback]
    if type(callback_url) is str:
        callback_url = values[at_callback] = _share(callback_url)
    elif callback_url is None:
        callback_url = ""
    else:
        return None
    ali_uid = values[at_uid]
    if type(ali_uid) is str:
        ali_uid = values[at_uid] = _share(ali_uid)
    elif ali_uid is None:
        ali_uid = ""
    else:
        return None
    stream_url = values[at_stream]
    if type(stream_url) is not str:
        if stream_url is not None:
            return None
        stream_url = ""
    created = values[at_created]
    if created is None:
        created_at = None
    elif type(created) is str:
        created_at = _stamps_get(created) or _stamp(created)
    else:
        return None
    updated = values[at_updated]
    if updated is None:
        updated_at = None
    elif type(updated) is str:
        updated_at = _stamps_get(updated) or _stamp(updated)
    else:
        return None
    report = values[at_report]
    report_interval: int | None
    if type(report) is str:
        values[at_report], report_interval = _numbers_get(report) or _number(report)
    elif type(report) is int:
        report_interval = report
    else:
        report_interval = _int_or_none(report)
    delay = values[at_delay]
    auto_terminate_delay: int | None
    if type(delay) is str:
        values[at_delay], auto_terminate_delay = _numbers_get(delay) or _number(delay)
    elif type(delay) is int:
        auto_terminate_delay = delay
    else:
        auto_terminate_delay = _int_or_none(delay)
    targets = values[at_targets]
    if targets is None:
        target_languages: tuple[str, ...] = ()
    else:
        if type(targets) is str:
            targets = values[at_targets] = _share(targets)
        target_languages = _languages(targets)
    translate = values[at_translate]
    if translate is not None and type(translate) is not bool:
        if type(translate) is str:
            translate = values[at_translate] = _share(translate)
        translate = _flag(translate)
    del values[-1]
    task = _new_object(Task)
    _set_task_id(task, task_id)
    _set_status(task, status)
    _set_mode(task, mode)
    _set_language(task, language)
    _set_target_languages(task, target_languages)
    _set_translate_enabled(task, translate)
    _set_tag(task, tag)
    _set_stream_url(task, stream_url)
    _set_callback_url(task, callback_url)
    _set_created_at(task, created_at)
    _set_updated_at(task, updated_at)
    _set_report_interval(task, report_interval)
    _set_auto_terminate_delay(task, auto_terminate_delay)
    _set_ali_uid(task, ali_uid)
    _set_extra(task, {})
    _set_raw(task, ReceivedObject.of(names, tuple(values)))
    return task


_Shape = tuple[tuple[str, ...], tuple[int, ...]]
#: Per member names of a task object received (in order), the names and where each field is.
_SHAPES: dict[tuple[Any, ...], _Shape] = {}
_shapes_get = _SHAPES.get
#: Shapes remembered; beyond it (a server sending ever new orders), each is worked out again.
_MOST_SHAPES: Final = 1024


def _shape(names: tuple[Any, ...]) -> _Shape | None:
    """Where each field of `_USUAL_ORDER` is among ``names`` (-1: absent).

    ``None`` when one of the names is not a known field: the object is not the usual one.
    """
    if not TASK_FIELDS.issuperset(names):
        return None
    positions = tuple(names.index(name) if name in names else -1 for name in _USUAL_ORDER)
    shape = (names, positions)
    if len(_SHAPES) < _MOST_SHAPES:
        _SHAPES[names] = shape
    return shape


#: The numbers read in the answer being read, by their text: the text kept once and its value.
_NUMBERS: dict[str, tuple[str, int | None]] = {}
_numbers_get = _NUMBERS.get
_MOST_NUMBERS: Final = 10_000


def _number(text: str) -> tuple[str, int | None]:
    """A number's text kept once (`sys.intern`) and `_int_or_none` of it, for `_NUMBERS`."""
    shared: str = _share(text)
    known = (shared, _int_or_none(shared))
    if len(text) <= 32 and len(_NUMBERS) < _MOST_NUMBERS:
        _NUMBERS[text] = known
    return known


#: The timestamps read in the answer being read, by their text (`_stamp`); emptied after
#: each answer, so it holds no task's time longer than the answer is being read.
_STAMPS: dict[str, datetime] = {}
_stamps_get = _STAMPS.get
#: Enough for a day of distinct seconds; beyond it, timestamps are read one by one.
_MOST_STAMPS: Final = 100_000


def _stamp(text: str) -> datetime | None:
    """`_timestamp` of a text not read yet in this answer, remembered when it is a time."""
    value = _timestamp(text)
    if value is not None and len(_STAMPS) < _MOST_STAMPS:
        _STAMPS[text] = value
    return value


def _parse_general(obj: Mapping[Any, Any], key: Any) -> Task:
    """`_parse_task` for any task object: each field through its own reader.

    Kept lean: answers can hold thousands of tasks.
    """
    raw: Mapping[str, Any]
    get: Callable[[str], Any]
    if obj.keys() <= TASK_FIELDS:  # the fast path: known fields only
        # Values most tasks repeat (mode, language, callback URL, account...) are each kept
        # once, in `raw` and in the task alike: decoding made a string of each for each task.
        members = dict(obj)
        for name in _SHARED_FIELDS:
            value = members.get(name)
            if type(value) is str:
                members[name] = _share(value)
        raw = ReceivedObject(members)
        extra = {}
        get = members.get
    else:
        # Unknown fields are compared as they are (a task that changed is found by equality):
        # one nested deeper than a comparison can recurse is kept as its text. Known fields
        # become text or numbers here, and `raw` is not compared and only walked iteratively.
        tamed = {name: tame(value) for name, value in obj.items()}
        extra = {k: v for k, v in tamed.items() if k not in TASK_FIELDS}
        raw = ReceivedObject(tamed)
        get = obj.get
    task_id = get(_TASK_ID)
    if type(task_id) is not str or not task_id:
        task_id = _task_id(task_id, key)
    status = get("status")
    if type(status) is not int:
        status = _status(status)
    created = get("createdAt")
    updated = get("updatedAt")
    mode = _text(get("mode"))
    language = _text(get("language"))
    targets = _languages(get("targetLanguages"))
    translate = _flag(get("translateEnabled"))
    tag = _text(get("tag"))
    stream_url = _text(get("streamUrl"))
    callback_url = _text(get("callbackUrl"))
    created_at = _timestamp(created) if created is not None else None
    updated_at = _timestamp(updated) if updated is not None else None
    report_interval = _int_or_none(get("reportInterval"))
    auto_terminate_delay = _int_or_none(get("autoTerminateDelay"))
    ali_uid = _text(get("aliUid"))
    if not _FAST_TASK_INIT:
        return Task(
            task_id,
            status,
            mode,
            language,
            targets,
            translate,
            tag,
            stream_url,
            callback_url,
            created_at,
            updated_at,
            report_interval,
            auto_terminate_delay,
            ali_uid,
            extra,
            raw,
        )
    task = _new_object(Task)
    _set_task_id(task, task_id)
    _set_status(task, status)
    _set_mode(task, mode)
    _set_language(task, language)
    _set_target_languages(task, targets)
    _set_translate_enabled(task, translate)
    _set_tag(task, tag)
    _set_stream_url(task, stream_url)
    _set_callback_url(task, callback_url)
    _set_created_at(task, created_at)
    _set_updated_at(task, updated_at)
    _set_report_interval(task, report_interval)
    _set_auto_terminate_delay(task, auto_terminate_delay)
    _set_ali_uid(task, ali_uid)
    _set_extra(task, extra)
    _set_raw(task, raw)
    return task


# A frozen dataclass's __init__ routes each of Task's 16 fields through a guarded
# object.__setattr__, which is most of the cost of parsing a large answer (about 2.5 us of
# 4 us per task). `_parse_task` sets each slot through its descriptor instead (which skips the
# guard), giving an equal object; it falls back to the constructor if `Task` ever loses its
# slots, gains a __post_init__, or its fields differ from these, in this order (tests compare
# both paths).
_FAST_TASK_FIELDS: Final = (
    "task_id",
    "status",
    "mode",
    "language",
    "target_languages",
    "translate_enabled",
    "tag",
    "stream_url",
    "callback_url",
    "created_at",
    "updated_at",
    "report_interval",
    "auto_terminate_delay",
    "ali_uid",
    "extra",
    "raw",
)
_FAST_TASK_INIT: Final = (
    tuple(f.name for f in dataclasses.fields(Task)) == _FAST_TASK_FIELDS
    and not hasattr(Task, "__post_init__")
    and "__slots__" in vars(Task)
)
_new_object = object.__new__


def _no_setter(task: Task, value: Any) -> None:  # pragma: no cover - only without slots
    raise AssertionError("Task has no slots: its constructor is used")


_SETTERS: tuple[Callable[[Task, Any], None], ...] = tuple(
    getattr(Task, name).__set__ if _FAST_TASK_INIT else _no_setter for name in _FAST_TASK_FIELDS
)
(
    _set_task_id,
    _set_status,
    _set_mode,
    _set_language,
    _set_target_languages,
    _set_translate_enabled,
    _set_tag,
    _set_stream_url,
    _set_callback_url,
    _set_created_at,
    _set_updated_at,
    _set_report_interval,
    _set_auto_terminate_delay,
    _set_ali_uid,
    _set_extra,
    _set_raw,
) = _SETTERS


def _task_id(value: object, key: Any) -> str:
    """The task id when ``taskId`` is not a non-empty string: a number, or the map key."""
    if isinstance(value, int) and not isinstance(value, bool):
        return _text(value)
    if value is not None and not (isinstance(value, str) and not value):
        raise _bad(f"A task's taskId is a JSON {_kind(value)} ({_short(value)}), not a string")
    if isinstance(key, str) and key:
        return key
    if isinstance(key, int) and not isinstance(key, bool):
        return str(key)
    raise _bad("A task has no id (no taskId and no map key)")


def _status(value: object) -> int | str | None:
    """``status``: an int when numeric, ``None`` when absent, anything else kept raw as text."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        number = _whole_number(text)
        return number if number is not None else value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return _compact_json(value)


def _int_or_none(value: object) -> int | None:
    """A number that may arrive as a string (``"10"``); ``None`` when absent or not integral."""
    if type(value) is int:  # the fast path; also keeps bool out
        return value
    if isinstance(value, str):
        try:
            return int(value)  # the common case, "10"
        except ValueError:
            pass
        text = value.strip()
        number = _whole_number(text)
        if number is not None:
            return number
        try:
            parsed = float(text)
        except ValueError:
            return None
        return int(parsed) if parsed.is_integer() else None
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    return None


def _timestamp(value: object) -> datetime | None:
    """An ISO-8601 timestamp with an offset as an aware datetime; anything else ``None``.

    A timestamp without an offset is refused rather than guessed (the raw value stays in
    ``Task.raw``).
    """
    if type(value) is not str:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(value.strip().upper())
        except ValueError:
            return None
    zone = parsed.tzinfo
    if type(zone) is not timezone:
        return None if zone is None else parsed
    # Each parse makes its own offset object (72 bytes with its timedelta), two a task: the
    # tasks share one per offset instead (an equal one: the same datetime value).
    shared = _ZONES.get(zone)
    if shared is None:
        if len(_ZONES) >= _MOST_ZONES:
            return parsed
        shared = _ZONES.setdefault(zone, zone)
    return parsed if shared is zone else parsed.replace(tzinfo=shared)


#: The offsets seen, each once (`_timestamp`); bounded, should a server send every minute.
_ZONES: dict[timezone, timezone] = {}
_MOST_ZONES: Final = 256


def _languages(value: object) -> tuple[str, ...]:
    """``targetLanguages`` from a list, a comma-separated string or a JSON array string."""
    if value is None:
        return ()
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            ok, decoded = _loads(text)
            if ok and isinstance(decoded, list):
                return _languages(decoded)
        return tuple(part for part in (p.strip() for p in text.split(",")) if part)
    if isinstance(value, list):
        return tuple(text for text in (_text(item).strip() for item in value) if text)
    return (_text(value),)


def _flag(value: object) -> bool | None:
    """``translateEnabled``: a bool, ``"true"``/``"false"`` or ``0``/``1``; else ``None``."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
        return None
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    return None
