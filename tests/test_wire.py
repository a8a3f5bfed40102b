"""The wire parser: every documented and tolerated shape, mixed types, both error channels."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from asrtui import errors, wire
from asrtui.models import Task

SECRET_TOKEN = "1715745062-0-0-fbc68f2ccebb4d46b5ab6d4801ed9f3c"
STREAM_URL = f"http://pull-lveditor.alivecdn.com/caster/9c6c26281a6f4da29af7d3ec84d2.flv?auth_key={SECRET_TOKEN}"
TASK_ID = "asr-a7bdde0a-0939-4288-973e-170082aa0001"
CST = timezone(timedelta(hours=8))


def doc_task(**changes: Any) -> dict[str, Any]:
    """The task object of the documented QueryRtcAsrTasks sample (unmasked placeholders)."""
    task: dict[str, Any] = {
        "createdAt": "2024-05-14T11:52:02+08:00",
        "updatedAt": "2024-05-14T11:52:03+08:00",
        "mode": "live",
        "taskId": TASK_ID,
        "language": "cn",
        "callbackUrl": "default",
        "autoTerminateDelay": "10",
        "streamUrl": STREAM_URL,
        "status": 1,
        "reportInterval": "0",
        "aliUid": "1119309225474343",
        "tag": "",
    }
    task.update(changes)
    return task


def envelope(tasks: Any = None, *, omit: bool = False, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Description": "success",
        "RequestId": "D8ADAB55-1BB8-5C01-8434-C45D353BB1FD",
        "RetCode": 2000,
    }
    if not omit:
        body["Tasks"] = tasks
    body.update(extra)
    return body


def ids(tasks: Any) -> list[str]:
    return [task.task_id for task in wire.parse_tasks(envelope(tasks)).tasks]


# ------------------------------------------------------------------------------------------
# The documented sample


def test_documented_sample_parses_every_field() -> None:
    body = json.dumps(envelope({TASK_ID: doc_task()})).encode()

    result = wire.parse_tasks(wire.decode_json_object(body))

    assert result.request_id == "D8ADAB55-1BB8-5C01-8434-C45D353BB1FD"
    (task,) = result.tasks
    assert task.task_id == TASK_ID
    assert task.status == 1
    assert task.is_running
    assert task.mode == "live"
    assert task.language == "cn"
    assert task.callback_url == "default"
    assert task.auto_terminate_delay == 10
    assert task.report_interval == 0
    assert task.ali_uid == "1119309225474343"
    assert task.stream_url == STREAM_URL
    assert task.tag == ""
    assert task.created_at == datetime(2024, 5, 14, 11, 52, 2, tzinfo=CST)
    assert task.updated_at == datetime(2024, 5, 14, 3, 52, 3, tzinfo=UTC)
    assert task.target_languages == ()
    assert task.translate_enabled is None
    assert dict(task.extra) == {}
    assert dict(task.raw) == doc_task()


def test_fast_construction_equals_the_dataclass_constructor() -> None:
    raw = doc_task(extraField={"a": [1]}, targetLanguages="en,ja", translateEnabled="true")
    (task,) = wire.parse_tasks(envelope({TASK_ID: raw})).tasks

    rebuilt = Task(**{f.name: getattr(task, f.name) for f in dataclasses.fields(Task)})

    assert type(task) is Task
    assert task == rebuilt
    assert hash(repr(task)) == hash(repr(rebuilt))
    with pytest.raises(dataclasses.FrozenInstanceError):
        task.task_id = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"extraField": {"a": [1]}, "targetLanguages": "en,ja", "translateEnabled": "true"},
        {"status": "2", "reportInterval": "1e2", "createdAt": "bad", "aliUid": 7},
        {"taskId": 12, "tag": None, "updatedAt": "2024-05-14T03:52:03z"},
    ],
)
def test_the_slots_path_gives_what_the_constructor_gives(
    changes: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every field, ``raw`` too (which equality leaves out), and no instance dict."""
    (fast,) = wire.parse_tasks(envelope({"asr-key": doc_task(**changes)})).tasks
    monkeypatch.setattr("asrtui.wire.tasks._FAST_TASK_INIT", False)
    (slow,) = wire.parse_tasks(envelope({"asr-key": doc_task(**changes)})).tasks
    names = [f.name for f in dataclasses.fields(Task)]
    assert [getattr(fast, name) for name in names] == [getattr(slow, name) for name in names]
    assert not hasattr(fast, "__dict__")
    assert dataclasses.replace(fast, tag="x") == dataclasses.replace(slow, tag="x")


def test_repr_of_a_parsed_task_hides_the_secrets() -> None:
    (task,) = wire.parse_tasks(envelope({TASK_ID: doc_task()})).tasks
    assert SECRET_TOKEN not in repr(task)
    assert "1119309225474343" not in repr(task)


# ------------------------------------------------------------------------------------------
# Every tolerated shape of Tasks


@pytest.mark.parametrize(
    "tasks",
    [None, {}, "", "null", "{}", "  "],
    ids=["null", "empty-map", "empty-string", "string-null", "string-empty-map", "blank"],
)
def test_nothing_running_shapes_give_no_tasks(tasks: Any) -> None:
    assert ids(tasks) == []


def test_absent_tasks_gives_no_tasks() -> None:
    assert wire.parse_tasks(envelope(omit=True)).tasks == ()


def test_map_values_may_be_json_strings() -> None:
    assert ids({TASK_ID: json.dumps(doc_task())}) == [TASK_ID]


def test_tasks_may_be_one_json_string_of_the_map() -> None:
    assert ids(json.dumps({TASK_ID: doc_task(), "asr-2": doc_task(taskId="asr-2")})) == [
        TASK_ID,
        "asr-2",
    ]


def test_doc_sample_fragment_shape_is_unwrapped() -> None:
    fragment = json.dumps({TASK_ID: doc_task()})[1:-1]  # '"asr-...": {...}'
    assert fragment.startswith('"asr-')

    result = wire.parse_tasks(envelope({"key": fragment}))

    assert [t.task_id for t in result.tasks] == [TASK_ID]
    assert result.tasks[0].auto_terminate_delay == 10


def test_doc_sample_fragment_without_task_id_takes_the_fragment_key() -> None:
    assert ids({"key": '"asr-9": {"status": 1}'}) == ["asr-9"]


def test_fragment_with_several_tasks_keeps_their_order() -> None:
    fragment = '"asr-b": {"status": 1}, "asr-a": {"status": 1}'
    assert ids({"key": fragment}) == ["asr-b", "asr-a"]


def test_tasks_may_be_a_list_of_task_objects() -> None:
    assert ids([doc_task(taskId="asr-1"), json.dumps(doc_task(taskId="asr-2"))]) == [
        "asr-1",
        "asr-2",
    ]


def test_tasks_may_be_a_single_task_object() -> None:
    assert ids(doc_task()) == [TASK_ID]


def test_string_value_holding_a_map_of_tasks_is_expanded() -> None:
    inner = json.dumps({"asr-1": {"status": 1}, "asr-2": {"status": 1}})
    assert ids({"key": inner}) == ["asr-1", "asr-2"]


def test_double_encoded_string_is_read() -> None:
    assert ids({TASK_ID: json.dumps(json.dumps(doc_task()))}) == [TASK_ID]


def test_server_order_is_kept() -> None:
    order = [f"asr-{n}" for n in (5, 1, 9, 3, 7)]
    assert ids({i: doc_task(taskId=i) for i in order}) == order


def test_task_id_falls_back_to_the_map_key() -> None:
    raw = doc_task()
    del raw["taskId"]
    assert ids({"asr-from-key": raw}) == ["asr-from-key"]
    assert ids({"asr-from-key": doc_task(taskId=None)}) == ["asr-from-key"]
    assert ids({"asr-from-key": doc_task(taskId="")}) == ["asr-from-key"]


def test_task_id_field_wins_over_the_key_and_numbers_become_text() -> None:
    assert ids({"key": doc_task(taskId="asr-real")}) == ["asr-real"]
    assert ids([doc_task(taskId=12345)]) == ["12345"]


def test_lower_case_tasks_member_is_accepted() -> None:
    body = {"RequestId": "r", "tasks": {"asr-1": {"status": 1}}}
    assert [t.task_id for t in wire.parse_tasks(body).tasks] == ["asr-1"]


# ------------------------------------------------------------------------------------------
# Shapes that are refused


@pytest.mark.parametrize(
    ("tasks", "named"),
    [
        (5, "JSON number"),
        (True, "JSON boolean"),
        ([5, 6], "#0"),
        ([[]], "#0"),
        ({"asr-1": 5}, "asr-1"),
        ({"asr-1": None}, "asr-1"),
        ({"asr-1": ["x"]}, "asr-1"),
        ({"asr-1": "not json"}, "asr-1"),
        ({"asr-1": "5"}, "asr-1"),
        ({"asr-1": ""}, "asr-1"),
        ({"key": '"asr-…": {…}'}, "key"),  # the literal doc sample is a placeholder
        ("not json at all", "Tasks is a string"),
        ("[1]", "#0"),
        ("42", "JSON number"),
        ([{"status": 1}], "no id"),
        ({"asr-1": {"taskId": {"nested": 1}}}, "taskId"),
        ({"asr-1": {"taskId": ["a"]}}, "taskId"),
        ({"asr-1": {"taskId": True}}, "taskId"),
        ({"": {"status": 1}}, "no id"),
        (json.dumps(json.dumps(json.dumps(json.dumps("x")))), "Tasks is a string"),
    ],
)
def test_unreadable_shapes_are_malformed_and_say_where(tasks: Any, named: str) -> None:
    with pytest.raises(errors.MalformedResponseError) as caught:
        wire.parse_tasks(envelope(tasks))
    assert named in caught.value.message
    assert caught.value.request_id == "D8ADAB55-1BB8-5C01-8434-C45D353BB1FD"


def test_one_bad_entry_fails_the_whole_answer() -> None:
    with pytest.raises(errors.MalformedResponseError, match="asr-bad"):
        wire.parse_tasks(envelope({"asr-ok": doc_task(taskId="asr-ok"), "asr-bad": 7}))


def test_a_malformed_message_never_quotes_a_stream_token() -> None:
    bad = f"http://h/live.flv?auth_key={SECRET_TOKEN}"
    with pytest.raises(errors.MalformedResponseError) as caught:
        wire.parse_tasks(envelope({"asr-1": bad}))
    assert SECRET_TOKEN not in str(caught.value)
    assert SECRET_TOKEN[:12] not in str(caught.value)


def test_envelope_that_is_not_an_object_is_malformed() -> None:
    with pytest.raises(errors.MalformedResponseError):
        wire.parse_tasks([1, 2])  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------
# Mixed types per task


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10", 10),
        (10, 10),
        (" 7 ", 7),
        ("-1", -1),
        (10.0, 10),
        ("10.0", 10),
        ("", None),
        ("ten", None),
        (None, None),
        (True, None),
        (2.5, None),
        ([], None),
        ("9" * 5000, None),
        ("nan", None),
    ],
)
def test_integer_fields_take_numbers_or_numeric_strings(value: Any, expected: int | None) -> None:
    (task,) = wire.parse_tasks(
        envelope({"a": doc_task(autoTerminateDelay=value, reportInterval=value)})
    ).tasks
    assert task.auto_terminate_delay == expected
    assert task.report_interval == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 1),
        ("1", 1),
        (" 2 ", 2),
        (3.0, 3),
        (0, 0),
        ("stopping", "stopping"),
        ("", None),
        (None, None),
        (True, "true"),
        (1.5, "1.5"),
        ({"code": 4}, '{"code":4}'),
        ([1], "[1]"),
    ],
)
def test_status_is_int_when_numeric_and_raw_otherwise(value: Any, expected: Any) -> None:
    (task,) = wire.parse_tasks(envelope({"a": doc_task(status=value)})).tasks
    assert task.status == expected
    assert type(task.status) is type(expected)


def test_unknown_status_is_shown_raw_not_running() -> None:
    (task,) = wire.parse_tasks(envelope({"a": doc_task(status=7)})).tasks
    assert not task.is_running
    assert task.status_label == "7"
    (task,) = wire.parse_tasks(envelope({"a": doc_task(status="paused")})).tasks
    assert task.status_label == "paused"


def test_missing_status_is_unknown_rather_than_running() -> None:
    raw = doc_task()
    del raw["status"]
    (task,) = wire.parse_tasks(envelope({"a": raw})).tasks
    assert task.status is None
    assert task.status_label == "?"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1119309225474343", "1119309225474343"),
        (1119309225474343, "1119309225474343"),
        (None, ""),
        pytest.param(10**5000, "<16610-bit integer>", id="huge-int"),
    ],
)
def test_ali_uid_is_text(value: Any, expected: str) -> None:
    (task,) = wire.parse_tasks(envelope({"a": doc_task(aliUid=value)})).tasks
    assert task.ali_uid == expected


def test_text_fields_turn_other_json_into_text() -> None:
    (task,) = wire.parse_tasks(
        envelope({"a": doc_task(mode=5, language=None, tag={"k": "v"}, callbackUrl=True)})
    ).tasks
    assert (task.mode, task.language, task.tag, task.callback_url) == ("5", "", '{"k":"v"}', "true")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-14T11:52:02+08:00", datetime(2024, 5, 14, 11, 52, 2, tzinfo=CST)),
        ("2024-05-14T03:52:02Z", datetime(2024, 5, 14, 3, 52, 2, tzinfo=UTC)),
        ("2024-05-14T03:52:02z", datetime(2024, 5, 14, 3, 52, 2, tzinfo=UTC)),
        ("2024-05-14T11:52:02+0800", datetime(2024, 5, 14, 11, 52, 2, tzinfo=CST)),
        (
            "2024-05-14T11:52:02.123+08:00",
            datetime(2024, 5, 14, 11, 52, 2, 123000, tzinfo=CST),
        ),
        (
            "2024-05-14T11:52:02.123456789+08:00",
            datetime(2024, 5, 14, 11, 52, 2, 123456, tzinfo=CST),
        ),
        (" 2024-05-14T11:52:02+08:00 ", datetime(2024, 5, 14, 11, 52, 2, tzinfo=CST)),
        ("2024-05-14T11:52:02", None),  # no offset: refused, not guessed
        ("2024-05-14", None),
        ("yesterday", None),
        ("", None),
        (1715658722, None),
        (None, None),
        ("2024-13-45T99:99:99+08:00", None),
    ],
)
def test_timestamps(value: Any, expected: datetime | None) -> None:
    (task,) = wire.parse_tasks(envelope({"a": doc_task(createdAt=value, updatedAt=value)})).tasks
    assert task.created_at == expected
    assert task.updated_at == expected
    if task.created_at is not None:
        assert task.created_at.utcoffset() is not None
    assert task.raw["createdAt"] == value  # kept as received


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["en", "ja"], ("en", "ja")),
        ("en,ja", ("en", "ja")),
        (" en , ja ,", ("en", "ja")),
        ('["en","ja"]', ("en", "ja")),
        ("", ()),
        ([], ()),
        (None, ()),
        (["en", None, ""], ("en",)),
        (5, ("5",)),
    ],
)
def test_target_languages(value: Any, expected: tuple[str, ...]) -> None:
    (task,) = wire.parse_tasks(envelope({"a": doc_task(targetLanguages=value)})).tasks
    assert task.target_languages == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        ("true", True),
        ("FALSE", False),
        (" True ", True),
        (1, True),
        (0, False),
        ("maybe", None),
        (None, None),
        (2, None),
        ([], None),
    ],
)
def test_translate_enabled(value: Any, expected: bool | None) -> None:
    (task,) = wire.parse_tasks(envelope({"a": doc_task(translateEnabled=value)})).tasks
    assert task.translate_enabled is expected


def test_unknown_fields_are_kept_in_extra_and_raw() -> None:
    raw = doc_task(autoTerminateEnabled=True, newThing={"nested": [1, 2]})
    (task,) = wire.parse_tasks(envelope({"a": raw})).tasks
    assert dict(task.extra) == {"autoTerminateEnabled": True, "newThing": {"nested": [1, 2]}}
    assert dict(task.raw) == raw
    assert list(task.raw) == list(raw)


def test_raw_is_a_copy_of_the_received_object() -> None:
    raw = doc_task()
    (task,) = wire.parse_tasks(envelope({"a": raw})).tasks
    raw["mode"] = "changed"
    assert task.raw["mode"] == "live"


# ------------------------------------------------------------------------------------------
# Bodies


def test_decode_returns_the_object() -> None:
    assert wire.decode_json_object(b'{"a": 1}') == {"a": 1}
    assert wire.decode_json_object(b'\xef\xbb\xbf {"a": 1}\n') == {"a": 1}


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"", "empty body"),
        (b"  \r\n", "empty body"),
        (b'{"RequestId": "x", "Tasks": {"a": {', "truncated"),
        (b'{"RequestId": "x", "Desc', "truncated"),
        (b'{"a": 1,}', "not valid JSON"),
        (b"{'a': 1}", "not valid JSON"),
        (b'{"a": 1} trailing', "not valid JSON"),
        (b"<html><head><title>502 Bad Gateway</title></head></html>", "502 Bad Gateway"),
        (b"<!DOCTYPE html><html><body>oops</body></html>", "HTML page"),
        (b"<?xml version='1.0'?><Error/>", "XML or HTML"),
        (b"[1, 2]", "JSON array, not an object"),
        (b'"text"', "JSON string, not an object"),
        (b"42", "JSON number"),
        (b"null", "JSON null"),
        (b'{"a": NaN}', "NaN"),
        (b'{"a": Infinity}', "Infinity"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b'{"a": "\xc3"}', "not UTF-8"),
        (b"[" * 100_000, "nested too deeply"),
        (b'{"a": ' + b"9" * 5000 + b"}", "Exceeds the limit"),
    ],
)
def test_malformed_bodies(body: bytes, says: str) -> None:
    with pytest.raises(errors.MalformedResponseError) as caught:
        wire.decode_json_object(body, http_status=200, request_id_hint="rid-1")
    assert says in caught.value.message
    assert caught.value.request_id == "rid-1"
    assert caught.value.retryable
    assert len(str(caught.value)) < 400


def test_malformed_message_quotes_only_a_short_escaped_redacted_excerpt() -> None:
    body = (
        b'{"x": "\x1b[31m\n' + f"http://h/?auth_key={SECRET_TOKEN}".encode() + b'"' + b"y" * 10_000
    )
    with pytest.raises(errors.MalformedResponseError) as caught:
        wire.decode_json_object(body)
    text = str(caught.value)
    assert "\x1b" not in text
    assert "\n" not in text
    assert SECRET_TOKEN not in text
    assert len(text) < 400
    assert "..." in text


def test_error_of_a_non_200_status_names_it() -> None:
    with pytest.raises(errors.MalformedResponseError, match="HTTP 502") as caught:
        wire.decode_json_object(b"<html>", http_status=502)
    assert caught.value.http_status == 502


# ------------------------------------------------------------------------------------------
# Channel 1: gateway errors


def gateway(code: str, message: str = "msg", **extra: Any) -> bytes:
    body = {
        "RequestId": "6F5B2C0E-1111-2222-3333-444455556666",
        "HostId": "live.aliyuncs.com",
        "Code": code,
        "Message": message,
        "Recommend": "https://api.aliyun.com/troubleshoot?q=" + code,
    }
    body.update(extra)
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, "Throttling.User", errors.ThrottledError),
        (400, "Throttling.Api", errors.ThrottledError),
        (503, "ServiceUnavailable", errors.ServerError),
        (500, "InternalError", errors.ServerError),
        (400, "SignatureDoesNotMatch", errors.SignatureError),
        (404, "InvalidAccessKeyId.NotFound", errors.AccessKeyError),
        (400, "InvalidTimeStamp.Expired", errors.ClockSkewError),
        (400, "SignatureNonceUsed", errors.NonceError),
        (400, "InvalidSecurityToken.Expired", errors.SecurityTokenError),
        (403, "Forbidden.RAM", errors.PermissionDeniedError),
        (400, "MissingParameter", errors.RequestError),
        (400, "ConfigNotFound", errors.TaskNotFoundError),
        (400, "SomethingNew", errors.ApiError),
        (500, "SomethingNew", errors.ServerError),
    ],
)
def test_gateway_codes_map_to_the_error_tree(
    status: int, code: str, cls: type[errors.ApiError]
) -> None:
    error = wire.error_from_gateway(status, gateway(code), {})
    assert type(error) is cls
    assert isinstance(error, errors.ApiError)
    assert error.code == code
    assert error.http_status == status
    assert error.request_id == "6F5B2C0E-1111-2222-3333-444455556666"
    assert error.message == "msg"


def test_gateway_hint_names_profile_and_action() -> None:
    stop = errors.CallContext(action="StopRtcAsrTask", profile="prod")
    sig = errors.in_context(
        wire.error_from_gateway(400, gateway("SignatureDoesNotMatch"), {}), stop
    )
    assert "profile 'prod'" in str(sig)
    ram = wire.error_from_gateway(403, gateway("Forbidden.RAM"), {})
    assert "live:StopRtcAsrTask" in str(errors.in_context(ram, stop))


def test_gateway_clock_offset_reaches_the_hint() -> None:
    error = wire.error_from_gateway(400, gateway("InvalidTimeStamp.Expired"), {})
    late = errors.in_context(error, errors.CallContext(action="Q", clock_offset=-1200.0))
    assert "1200 s behind" in str(late)


def test_gateway_lower_case_keys() -> None:
    body = json.dumps({"requestId": "r-1", "code": "Throttling", "message": "slow down"}).encode()
    error = wire.error_from_gateway(400, body, {})
    assert isinstance(error, errors.ThrottledError)
    assert (error.code, error.message, error.request_id) == ("Throttling", "slow down", "r-1")


def test_access_denied_detail_is_noted_without_the_owner_id() -> None:
    detail = {
        "AuthAction": "live:QueryRtcAsrTasks",
        "NoPermissionType": "ImplicitDeny",
        "PolicyType": "AccountLevelIdentityBasedPolicy",
        "AuthPrincipalOwnerId": "1119309225474343",
        "AuthPrincipalType": "SubUser",
    }
    error = wire.error_from_gateway(403, gateway("NoPermission", AccessDeniedDetail=detail), {})
    assert isinstance(error, errors.PermissionDeniedError)
    assert "ImplicitDeny" in error.message
    assert "live:QueryRtcAsrTasks" in error.message
    assert "1119309225474343" not in str(error)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("1500", 1.5),
        ("0", 0.0),
        (" 250 ", 0.25),
        ("12.5", 0.0125),
        ("soon", None),
        ("", None),
        ("-5", None),
        ("nan", None),
        ("inf", None),
    ],
)
def test_retry_after_header_is_milliseconds(header: str, expected: float | None) -> None:
    error = wire.error_from_gateway(400, gateway("Throttling.User"), {"X-Acs-Retry-After": header})
    assert isinstance(error, errors.ApiError)
    assert error.retry_after == expected


def test_retry_after_read_case_insensitively_from_a_plain_dict() -> None:
    error = wire.error_from_gateway(400, gateway("Throttling.User"), {"x-acs-retry-after": "2000"})
    assert isinstance(error, errors.ApiError)
    assert error.retry_after == 2.0


@pytest.mark.parametrize(
    "body",
    [b"<html><title>502 Bad Gateway</title></html>", b"", b"upstream connect error", b"[1]"],
)
def test_non_json_5xx_is_a_server_error(body: bytes) -> None:
    error = wire.error_from_gateway(
        502, body, {"x-acs-request-id": "hdr-id", "x-acs-retry-after": "100"}
    )
    assert type(error) is errors.ServerError
    assert error.retryable
    assert error.code == "HTTP502"
    assert error.request_id == "hdr-id"
    assert error.retry_after == 0.1
    assert "HTTP 502" in error.message


def test_non_json_4xx_is_an_api_error_pointing_at_the_endpoint() -> None:
    error = wire.error_from_gateway(404, b"<html>Not Found</html>", {})
    assert type(error) is errors.ApiError
    assert not error.retryable
    assert error.code == "HTTP404"
    assert "--endpoint" in str(error)


def test_non_json_429_is_throttling() -> None:
    error = wire.error_from_gateway(429, b"Too Many Requests", {})
    assert isinstance(error, errors.ThrottledError)


def test_json_error_without_code_uses_the_status() -> None:
    error = wire.error_from_gateway(500, b'{"RequestId": "r"}', {})
    assert isinstance(error, errors.ServerError)
    assert error.code == "HTTP500"
    assert error.request_id == "r"


def test_gateway_message_is_redacted() -> None:
    message = (
        "server string to sign is: GET&%2F&SecurityToken%3DCAIStoken123"
        f"%26auth_key%3D{SECRET_TOKEN}"
    )
    error = wire.error_from_gateway(400, gateway("SignatureDoesNotMatch", message), {})
    assert "CAIStoken123" not in str(error)
    assert SECRET_TOKEN not in str(error)


def test_body_request_id_wins_over_the_header() -> None:
    error = wire.error_from_gateway(400, gateway("Throttling"), {"x-acs-request-id": "hdr"})
    assert isinstance(error, errors.ApiError)
    assert error.request_id == "6F5B2C0E-1111-2222-3333-444455556666"


# ------------------------------------------------------------------------------------------
# Channel 2: RetCode


@pytest.mark.parametrize("ret_code", [2000, "2000", " 2000 ", 2000.0, None])
def test_ret_code_success(ret_code: Any) -> None:
    wire.check_ret_code(envelope({}, RetCode=ret_code))


def test_missing_ret_code_is_accepted() -> None:
    body = envelope({})
    del body["RetCode"]
    wire.check_ret_code(body)


@pytest.mark.parametrize("ret_code", [4001, "4001", 4001.0, -1, 0])
def test_ret_code_failure_raises_api_error(ret_code: Any) -> None:
    body = envelope({}, RetCode=ret_code, Description="task not exist")
    with pytest.raises(errors.ApiError) as caught:
        wire.check_ret_code(body)
    number = int(ret_code)
    assert caught.value.code == f"RetCode.{number}"
    assert caught.value.message == "task not exist"
    assert caught.value.http_status == 200
    assert caught.value.request_id == "D8ADAB55-1BB8-5C01-8434-C45D353BB1FD"


def test_ret_code_failure_without_description_names_the_action() -> None:
    with pytest.raises(errors.ApiError) as caught:
        wire.check_ret_code({"RetCode": 5000})
    stop = errors.CallContext(action="StopRtcAsrTask")
    assert "StopRtcAsrTask failed with RetCode 5000" in str(errors.in_context(caught.value, stop))


@pytest.mark.parametrize("ret_code", ["ok", "", True, [2000], {"a": 1}, 2000.5, "20 00"])
def test_ret_code_of_the_wrong_type_is_malformed(ret_code: Any) -> None:
    with pytest.raises(errors.MalformedResponseError, match="RetCode"):
        wire.check_ret_code({"RetCode": ret_code})


# ------------------------------------------------------------------------------------------
# Create, request ids, export


def test_created_task_id() -> None:
    assert wire.parse_created_task_id(envelope(omit=True, TaskId="asr-new")) == "asr-new"
    assert wire.parse_created_task_id({"taskId": " asr-x "}) == "asr-x"


@pytest.mark.parametrize("value", [None, "", 5.5, ["asr-1"], {"id": 1}])
def test_created_task_id_missing_is_malformed(value: Any) -> None:
    with pytest.raises(errors.MalformedResponseError, match="TaskId"):
        wire.parse_created_task_id({"RetCode": 2000, "TaskId": value, "RequestId": "r"})


def test_request_id_of_body_then_headers() -> None:
    assert wire.request_id_of({"RequestId": "body"}, {"x-acs-request-id": "hdr"}) == "body"
    assert wire.request_id_of({}, {"X-Acs-Request-Id": "hdr"}) == "hdr"
    assert wire.request_id_of(None, None) == ""
    assert wire.request_id_of({"RequestId": 5}) == "5"


def test_task_to_wire_is_a_deep_copy_of_raw() -> None:
    raw = doc_task(nested={"a": [1]})
    (task,) = wire.parse_tasks(envelope({"a": raw})).tasks
    exported = wire.task_to_wire(task)
    assert exported == raw
    exported["nested"]["a"].append(2)
    assert task.raw["nested"] == {"a": [1]}


def test_task_to_wire_of_a_task_built_in_code_round_trips() -> None:
    task = Task(
        task_id="asr-1",
        status=1,
        mode="live",
        language="en",
        target_languages=("ja",),
        translate_enabled=True,
        created_at=datetime(2024, 5, 14, 11, 52, 2, tzinfo=CST),
        report_interval=0,
        auto_terminate_delay=10,
        ali_uid="123456789",
        extra={"x": 1},
    )
    exported = wire.task_to_wire(task)
    assert exported["createdAt"] == "2024-05-14T11:52:02+08:00"
    assert exported["autoTerminateDelay"] == "10"
    (back,) = wire.parse_tasks({"Tasks": {"asr-1": exported}}).tasks
    assert back == task
