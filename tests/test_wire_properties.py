"""Property-based tests: the wire parser fails only with `MalformedResponseError`, keeps ids,
and redaction never lets an ``auth_key`` value through."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asrtui import errors, wire
from asrtui.models import Task
from asrtui.redact import MASK, mask_stream_url, redact_task_dict, redact_text

settings.register_profile(
    "wire",
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
PROPERTY = settings.get_profile("wire")

# Sorted: a frozenset's order changes with the hash seed, and examples should not.
TASK_FIELDS = sorted(wire.TASK_FIELDS)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def as_json_text(value: Any) -> str:
    return json.dumps(value)


def as_fragment(value: Any) -> str:
    """A JSON object's text without its braces (the documentation sample's shape)."""
    text = json.dumps(value)
    return text[1:-1] if isinstance(value, dict) else text


# Strings that look like the stringified shapes the parser tries to read.
tricky_strings = st.one_of(
    st.text(max_size=30),
    json_values.map(as_json_text),
    json_values.map(as_fragment),
    st.sampled_from(["", " ", "null", "{}", "[]", '"x"', "{", '"asr-1": {', "2024-05-14T11:52:02"]),
)
any_value = json_values | tricky_strings
task_objects = st.fixed_dictionaries(
    {}, optional=dict.fromkeys(TASK_FIELDS, any_value)
) | st.dictionaries(st.sampled_from(TASK_FIELDS) | st.text(max_size=8), any_value, max_size=6)


def parse_or_malformed(envelope: Any) -> tuple[Task, ...] | None:
    """Parse; a `MalformedResponseError` is an allowed outcome (``None``), nothing else is."""
    try:
        return wire.parse_tasks(envelope).tasks
    except errors.MalformedResponseError as exc:
        error = exc
    assert isinstance(error.message, str)
    assert error.message
    return None


def check_task(task: Task) -> None:
    """Whatever arrived, a parsed task has the types the models promise."""
    assert isinstance(task.task_id, str)
    assert task.task_id
    assert task.status is None or type(task.status) in (int, str)
    for text in (task.mode, task.language, task.tag, task.stream_url, task.callback_url):
        assert isinstance(text, str)
    assert isinstance(task.ali_uid, str)
    assert all(isinstance(lang, str) and lang for lang in task.target_languages)
    assert task.translate_enabled in (None, True, False)
    for stamp in (task.created_at, task.updated_at):
        assert stamp is None or stamp.utcoffset() is not None
    for number in (task.report_interval, task.auto_terminate_delay):
        assert number is None or type(number) is int
    assert isinstance(task.status_label, str)


# ------------------------------------------------------------------------------------------
# Never anything but MalformedResponseError


@PROPERTY
@given(task=task_objects, key=st.text(max_size=12))
def test_arbitrary_json_in_every_task_field(task: dict[str, Any], key: str) -> None:
    tasks = parse_or_malformed({"RequestId": "r", "Tasks": {key: task}})
    if tasks is not None:
        for parsed in tasks:
            check_task(parsed)


@PROPERTY
@given(tasks=any_value)
def test_arbitrary_json_as_tasks(tasks: Any) -> None:
    parsed = parse_or_malformed({"RetCode": 2000, "Tasks": tasks})
    for task in parsed or ():
        check_task(task)


@PROPERTY
@given(tasks=st.dictionaries(st.text(max_size=8), task_objects | any_value, max_size=4))
def test_arbitrary_maps_of_entries(tasks: dict[str, Any]) -> None:
    for task in parse_or_malformed({"Tasks": tasks}) or ():
        check_task(task)


@PROPERTY
@given(tasks=st.lists(task_objects | any_value, max_size=4))
def test_arbitrary_lists_of_entries(tasks: list[Any]) -> None:
    for task in parse_or_malformed({"Tasks": tasks}) or ():
        check_task(task)


@PROPERTY
@given(envelope=st.dictionaries(st.sampled_from(["Tasks", "RequestId", "RetCode"]), any_value))
def test_arbitrary_envelopes(envelope: dict[str, Any]) -> None:
    parse_or_malformed(envelope)
    with contextlib.suppress(errors.ApiError, errors.MalformedResponseError):
        wire.check_ret_code(envelope)
    with contextlib.suppress(errors.MalformedResponseError):
        wire.parse_created_task_id(envelope)


@PROPERTY
@given(body=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_arbitrary_bodies_decode_or_are_malformed(body: bytes) -> None:
    try:
        value = wire.decode_json_object(body, http_status=200, request_id_hint="r")
    except errors.MalformedResponseError as exc:
        error = exc
    else:
        assert isinstance(value, dict)
        return
    assert len(error.message) < 400


@PROPERTY
@given(
    status=st.integers(min_value=100, max_value=599),
    body=st.binary(max_size=100)
    | st.dictionaries(
        st.sampled_from(["Code", "code", "Message", "RequestId", "RetCode", "AccessDeniedDetail"]),
        any_value,
    ).map(lambda v: json.dumps(v).encode()),
    retry_after=st.text(max_size=10),
)
def test_gateway_errors_are_always_project_errors(
    status: int, body: bytes, retry_after: str
) -> None:
    error = wire.error_from_gateway(status, body, {"x-acs-retry-after": retry_after})
    assert isinstance(error, errors.AsrtuiError)
    assert isinstance(str(error), str)
    if isinstance(error, errors.ApiError) and error.retry_after is not None:
        assert error.retry_after >= 0


# ------------------------------------------------------------------------------------------
# Well-formed maps round-trip their ids

task_ids = st.text(min_size=1, max_size=20)
well_formed_fields = st.fixed_dictionaries(
    {},
    optional={
        "status": st.integers(min_value=0, max_value=9) | st.sampled_from(["1", "2"]),
        "mode": st.sampled_from(["live", "rtc"]),
        "language": st.sampled_from(["cn", "en", "ja", "yue", "fspk"]),
        "createdAt": st.sampled_from(["2024-05-14T11:52:02+08:00", "2024-05-14T03:52:02Z"]),
        "autoTerminateDelay": st.integers(1, 10).map(str),
        "reportInterval": st.integers(-1, 500).map(str),
        "aliUid": st.sampled_from(["1119309225474343"]),
        "streamUrl": st.just("http://h/live.flv?auth_key=1-0-0-abc"),
        "tag": st.text(max_size=5),
    },
)


@st.composite
def task_maps(draw: st.DrawFn) -> dict[str, dict[str, Any]]:
    ids = draw(st.lists(task_ids, unique=True, max_size=8))
    result = {}
    for task_id in ids:
        task = draw(well_formed_fields)
        if draw(st.booleans()):
            task["taskId"] = task_id
        result[task_id] = task
    return result


SHAPES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "map": lambda m: m,
    "map-of-strings": lambda m: {k: json.dumps(v) for k, v in m.items()},
    "string": json.dumps,
    "doc-fragment": lambda m: {"key": json.dumps(m)[1:-1]} if m else {},
    "list": lambda m: [dict(v, taskId=k) for k, v in m.items()],
}


@pytest.mark.parametrize("shape", list(SHAPES))
@PROPERTY
@given(tasks=task_maps())
def test_well_formed_maps_round_trip_their_ids(shape: str, tasks: dict[str, Any]) -> None:
    body = json.dumps({"RequestId": "r", "RetCode": 2000, "Tasks": SHAPES[shape](tasks)})

    result = wire.parse_tasks(wire.decode_json_object(body.encode()))

    assert [task.task_id for task in result.tasks] == list(tasks)
    for task in result.tasks:
        check_task(task)
        sent = tasks[task.task_id]
        assert dict(task.raw) == (dict(sent, taskId=task.task_id) if shape == "list" else sent)
        exported = wire.task_to_wire(task)
        if task.raw:
            assert exported == dict(task.raw)
        assert exported.get("taskId", task.task_id) == task.task_id


# ------------------------------------------------------------------------------------------
# Redaction never leaves an auth_key value

AUTH_NAMES = st.sampled_from(["auth_key", "AUTH_KEY", "Auth_Key", "auth%5Fkey", "authkey"])
plain_names = st.text(alphabet="abcxyz_-.", min_size=1, max_size=6)
url_chars = st.characters(exclude_characters="&#", exclude_categories=["Cs"])
values = st.text(alphabet=url_chars, max_size=12)


@st.composite
def stream_urls(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A URL with auth_key parameters in the query and maybe the fragment, and their values."""
    path = draw(st.text(alphabet="abc/._-", max_size=10))
    secrets: list[str] = []

    def params() -> str:
        parts = []
        for _ in range(draw(st.integers(0, 4))):
            if draw(st.booleans()):
                secret = "SECRET" + draw(values)
                secrets.append(secret)
                parts.append(f"{draw(AUTH_NAMES)}={secret}")
            else:
                plain = draw(values.filter(lambda v: "SECRET" not in v))
                parts.append(f"{draw(plain_names)}={plain}")
        return "&".join(parts)

    url = f"http://pull.example.com/{path}?{params()}"
    if draw(st.booleans()):
        url += "#" + params()
    return url, secrets


def auth_values(part: str) -> list[str]:
    found = []
    for param in part.split("&"):
        name, sep, value = param.partition("=")
        if sep and unquote(name).lower() in ("auth_key", "authkey"):
            found.append(value)
    return found


@PROPERTY
@given(case=stream_urls())
def test_mask_stream_url_masks_every_auth_key(case: tuple[str, list[str]]) -> None:
    url, secrets = case

    masked = mask_stream_url(url)

    head, _, fragment = masked.partition("#")
    query = head.partition("?")[2]
    for value in auth_values(query) + auth_values(fragment):
        assert value == MASK
    for secret in secrets:
        assert secret not in masked
    assert masked.count("SECRET") == 0
    assert masked.split("?")[0] == url.split("?")[0]


@PROPERTY
@given(url=st.text(max_size=60))
def test_mask_stream_url_is_total(url: str) -> None:
    masked = mask_stream_url(url)
    assert isinstance(masked, str)
    assert mask_stream_url(masked) == masked  # idempotent


text_value_chars = st.characters(
    exclude_characters="&#\"'<>\\ \t\r\n\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0",
    exclude_categories=["Cs", "Zs", "Zl", "Zp"],
)


@PROPERTY
@given(
    before=st.text(max_size=20),
    after=st.text(max_size=20),
    name=st.sampled_from(["auth_key=", "AuthKey=", '"auth_key": "', "auth_key: "]),
    value=st.text(alphabet=text_value_chars, min_size=1, max_size=20),
    secrets=st.lists(st.text(min_size=1, max_size=8).filter(lambda s: "*" not in s), max_size=3),
)
def test_redact_text_never_leaves_an_auth_key_value(
    before: str, after: str, name: str, value: str, secrets: list[str]
) -> None:
    token = "TOKEN" + value
    text = f"{before} {name}{token} {after}"

    out = redact_text(text, secrets)

    assert token not in out
    for secret in secrets:
        assert secret not in out


@PROPERTY
@given(
    raw=st.dictionaries(st.text(max_size=8), json_values, max_size=5),
    value=st.text(alphabet=url_chars, min_size=1, max_size=12),
    uid=st.integers(min_value=10**15, max_value=10**16 - 1),
)
def test_redact_task_dict_hides_stream_token_and_uid(
    raw: dict[str, Any], value: str, uid: int
) -> None:
    token = "TOKEN" + value
    task = dict(raw, streamUrl=f"http://h/s.flv?x=1&auth_key={token}", aliUid=str(uid))
    task["nested"] = [{"url": f"rtmp://h/a?AUTH_KEY={token}"}]

    out = redact_task_dict(task)

    dumped = json.dumps([out["streamUrl"], out["aliUid"], out["nested"]])
    assert token not in dumped
    assert str(uid) not in dumped
    assert out["aliUid"] == "*" * 12 + str(uid)[-4:]
    assert set(out) == set(task)
