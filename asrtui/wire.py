"""The Live API wire format: response bodies in, `Task`/`TaskList` values and errors out.

This is the only module that knows wire names (``Tasks``, ``taskId``, ``createdAt``,
``RetCode``, ``Code``...). It is deliberately tolerant of what the documentation and the SDKs
leave open (see ``api-reference.md`` §1): ``Tasks`` arrives as a real map keyed by task id, as
``null``/absent/``{}``, as a map of JSON strings, as one JSON string, as the documentation
generator's ``{"key": "\\"<id>\\": {...}"}`` fragment, or as a list; numbers arrive as strings
and the other way round. It is strict about everything else: a shape it cannot read is a
`MalformedResponseError` naming what was wrong, never a half-parsed table and never another
exception.

Errors arrive on two channels: HTTP 4xx/5xx with a gateway envelope (`error_from_gateway`) and
HTTP 200 with ``RetCode`` other than 2000 (`check_ret_code`).

Server-supplied text that goes into an error message is passed through `asrtui.redact` first,
and body excerpts are short and escaped, so an error never carries a stream token.
"""

from __future__ import annotations

import codecs
import dataclasses
import json
import math
from collections.abc import Mapping
from datetime import datetime
from http import HTTPStatus
from typing import Any, Final

from asrtui.errors import (
    ApiError,
    AsrtuiError,
    MalformedResponseError,
    ThrottledError,
    api_error_from,
)
from asrtui.jsontext import RawJSON, copy_value, tame, to_text
from asrtui.models import Task, TaskList
from asrtui.printable import printable_line
from asrtui.redact import redact_text

__all__ = [
    "RET_CODE_SUCCESS",
    "TASK_FIELDS",
    "check_ret_code",
    "decode_json_object",
    "error_from_gateway",
    "parse_created_task_id",
    "parse_tasks",
    "request_id_of",
    "task_to_wire",
    "unread_value",
]

#: The ``RetCode`` of a successful answer on the second error channel.
RET_CODE_SUCCESS: Final = 2000

_EXCERPT_CHARS: Final = 80
_MALFORMED_HINT: Final = (
    "this is not the Live API's wire format; retry, and if it persists check --endpoint and "
    "any HTTP proxy"
)
#: How many times a string may hold JSON that holds a string that holds JSON...
_MAX_STRING_NESTING: Final = 3

_TASK_ID = "taskId"
#: The wire names of a task object that `Task` has a field for; others go to ``Task.extra``.
TASK_FIELDS: Final = frozenset(
    {
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
    }
)

_TRUE_WORDS: Final = frozenset({"true", "1", "yes", "on"})
_FALSE_WORDS: Final = frozenset({"false", "0", "no", "off"})


# --------------------------------------------------------------------------------------------
# Small helpers


def _kind(value: object) -> str:
    """The JSON name of a decoded value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _excerpt(text: str) -> str:
    """A short, escaped, redacted excerpt of a body, safe for a one-line message."""
    # Redact a generous prefix first so that truncation cannot cut a name off its value.
    head = redact_text(text[: _EXCERPT_CHARS * 8])
    short = head[:_EXCERPT_CHARS]
    suffix = "..." if len(head) > _EXCERPT_CHARS or len(text) > _EXCERPT_CHARS * 8 else ""
    return repr(short) + suffix


def _short(value: object) -> str:
    """A map key or value quoted for a message, at most a few dozen characters."""
    text = value if isinstance(value, str) else _compact_json(value)
    return repr(redact_text(text[:40]))[1:-1] + ("..." if len(text) > 40 else "")


def _compact_json(value: object) -> str:
    """Compact JSON text of a decoded value, at any depth (never raises: see `to_text`)."""
    return to_text(value)


def _loads(text: str) -> tuple[bool, Any]:
    """Decode JSON text: ``(True, value)`` or ``(False, None)``; never raises."""
    try:
        return True, json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return False, None


def _reject_constant(name: str) -> Any:
    """``NaN``/``Infinity`` are not JSON; refuse them rather than carry them into models."""
    raise ValueError(f"non-standard JSON constant {name}")


def _header(headers: Mapping[str, str] | None, name: str) -> str:
    """A header value by lower-case name, from httpx headers or a plain dict alike."""
    if not headers:
        return ""
    value = headers.get(name)
    if value is None:
        for key, candidate in headers.items():
            if isinstance(key, str) and key.lower() == name:
                value = candidate
                break
    return value.strip() if isinstance(value, str) else ""


def _one_line(text: str) -> str:
    """Server text made safe for one terminal line: whitespace folded, control codes escaped.

    Error messages go to the operator's terminal (the CLI's stderr, the console's status
    line): a server, or a proxy in between, must not start new lines, move the cursor or
    change colours there. ``"a\\nb"`` becomes ``"a b"`` and ESC becomes the text ``\\x1b``.
    """
    return printable_line(" ".join(text.split()))


def _first_text(envelope: Mapping[str, Any], names: tuple[str, ...]) -> str:
    """The first of ``names`` that holds a non-empty string (or number), as one clean line."""
    for name in names:
        value = envelope.get(name)
        if isinstance(value, str) and value.strip():
            return _one_line(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return _text(value)
    return ""


def request_id_of(
    envelope: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None
) -> str:
    """The ``RequestId`` of an answer, from its body or else its ``x-acs-request-id`` header.

    Args:
        envelope: the decoded body, if it could be decoded.
        headers: the response headers.

    Returns:
        The request id, or ``""`` when the answer carries none.
    """
    if isinstance(envelope, Mapping):
        found = _first_text(envelope, ("RequestId", "requestId"))
        if found:
            return found[:128]
    return _one_line(_header(headers, "x-acs-request-id"))[:128]


# --------------------------------------------------------------------------------------------
# Bodies


def decode_json_object(
    body: bytes, *, http_status: int = 200, request_id_hint: str = ""
) -> dict[str, Any]:
    """Decode a response body that must be one JSON object.

    Args:
        body: the raw body bytes.
        http_status: the HTTP status, carried into the error.
        request_id_hint: the request id from the headers, carried into the error.

    Returns:
        The decoded object.

    Raises:
        MalformedResponseError: empty, non-UTF-8, HTML, truncated or invalid JSON, or a JSON
            value other than an object. The message quotes at most a short escaped excerpt.
    """
    value, problem, excerpt = _read_object(body)
    if value is not None:
        return value
    status = f"HTTP {http_status} " if http_status and http_status != 200 else ""
    message = f"The {status}answer is {problem}"
    if excerpt:
        message += f"; it starts {excerpt}"
    raise MalformedResponseError(
        message, _MALFORMED_HINT, request_id=request_id_hint, http_status=http_status
    )


def _read_object(body: bytes) -> tuple[dict[str, Any] | None, str, str]:
    """Decode a JSON object: ``(value, "", "")``, or ``(None, problem, excerpt)`` saying why not.

    ``problem`` completes "The answer is ..."; ``excerpt`` is a short quoted start of the body.
    """
    if body.startswith(codecs.BOM_UTF8):
        body = body[len(codecs.BOM_UTF8) :]
    if not body.strip():
        return None, "an empty body", ""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        head = body[: _EXCERPT_CHARS * 8].decode("utf-8", "replace")
        return None, f"not UTF-8 text (invalid byte at offset {exc.start})", _excerpt(head)
    stripped = text.strip()
    if stripped.startswith("<"):
        return None, f"{_markup_kind(stripped)}, not JSON", _excerpt(stripped)
    ok, value = _loads(text)
    if not ok:
        return None, _json_failure(text), _excerpt(stripped)
    if not isinstance(value, dict):
        return None, f"a JSON {_kind(value)}, not an object", _excerpt(stripped)
    return value, "", ""


def _markup_kind(text: str) -> str:
    """Describe a markup body: an HTML page (with its title when it has one) or XML."""
    head = text[:2048]
    lowered = head.lower()
    if "<html" not in lowered and "<!doctype html" not in lowered:
        return "XML or HTML markup"
    start = lowered.find("<title>")
    end = lowered.find("</title>", start)
    if start >= 0 and end > start:
        title = " ".join(head[start + len("<title>") : end].split())
        if title:
            return f"an HTML page titled {redact_text(title[:60])!r}"
    return "an HTML page"


def _json_failure(text: str) -> str:
    """Why ``text`` is not JSON (completing "The answer is ..."): truncated, too deep, invalid."""
    try:
        json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
            return f"truncated JSON (it ends after {len(text)} characters)"
        return f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
    except RecursionError:
        return "JSON nested too deeply to read"
    except ValueError as exc:
        return f"not valid JSON ({str(exc).split(':')[0][:80]})"
    return "not valid JSON"  # pragma: no cover - only reached if the decoder changes its mind


# --------------------------------------------------------------------------------------------
# Errors, channel 1: HTTP 4xx/5xx with a gateway envelope


def _retry_after_seconds(value: str) -> float | None:
    """``x-acs-retry-after`` (milliseconds) in seconds; junk, negative or non-finite is ignored."""
    if not value:
        return None
    try:
        millis = float(value)
    except ValueError:
        return None
    if not math.isfinite(millis) or millis < 0:
        return None
    return millis / 1000.0


def _access_denied_note(detail: object) -> str:
    """A short note from ``AccessDeniedDetail``: which action, denied how, by which policy type.

    The owner account id in the detail is left out on purpose.
    """
    if isinstance(detail, str):
        _, detail = _loads(detail)
    if not isinstance(detail, Mapping):
        return ""
    parts = []
    for label, name in (
        ("action", "AuthAction"),
        ("denied by", "NoPermissionType"),
        ("policy type", "PolicyType"),
        ("principal", "AuthPrincipalDisplayName"),
    ):
        value = detail.get(name)
        if isinstance(value, str) and value.strip():
            parts.append(f"{label} {_one_line(value)[:80]}")
    return f" ({', '.join(parts)})" if parts else ""


def error_from_gateway(
    http_status: int,
    body: bytes,
    headers: Mapping[str, str],
    *,
    action: str,
    profile: str = "",
    clock_offset: float | None = None,
) -> AsrtuiError:
    """Turn an HTTP 4xx/5xx answer into the project's error (returned, not raised).

    Reads the gateway envelope ``{"RequestId","HostId","Code","Message","Recommend"}`` (also
    with lower-case keys) and ``x-acs-retry-after``. A body that is not a JSON object (a
    proxy's HTML 502 page, an empty body) still gives a useful error: a `ServerError` with code
    ``HTTP<status>`` for 5xx, a `ThrottledError` for 429, an `ApiError` for other statuses. A
    redirect (or any 1xx/3xx status) is an `ApiError` saying where it pointed (user info and
    query masked): asrtui never follows one.

    Args:
        http_status: the HTTP status of the answer.
        body: the raw body.
        headers: the response headers (any mapping; names matched case-insensitively).
        action: the API action, named in permission hints.
        profile: the profile name, named in credential hints.
        clock_offset: measured local-minus-server clock offset in seconds, if known.

    Returns:
        An `ApiError` subclass, or a `MalformedResponseError` for a non-error status whose
        body cannot be read.
    """
    retry_after = _retry_after_seconds(_header(headers, "x-acs-retry-after"))
    header_request_id = request_id_of(None, headers)
    if 300 <= http_status < 400 or http_status < 200:
        # Whatever the body says, the status is the news: the endpoint is not the API itself.
        return _not_an_answer(http_status, _header(headers, "location"), header_request_id)
    envelope, problem, _ = _read_object(body)
    if envelope is None:
        return _error_without_envelope(http_status, problem, header_request_id, retry_after, action)
    request_id = request_id_of(envelope, headers)
    code = _first_text(envelope, ("Code", "code", "ErrorCode", "errorCode"))
    message = redact_text(
        _first_text(envelope, ("Message", "message", "ErrorMessage", "Description"))[:500]
    )
    if not code:
        ret_code = envelope.get("RetCode")
        number = _whole_number(ret_code) if ret_code is not None else None
        code = f"RetCode.{number}" if number is not None else f"HTTP{http_status}"
        if not message:
            message = f"HTTP {http_status} answer without an error code"
    message += _access_denied_note(
        envelope.get("AccessDeniedDetail", envelope.get("accessDeniedDetail"))
    )
    return api_error_from(
        code[:100],
        message,
        request_id=request_id,
        http_status=http_status,
        retry_after=retry_after,
        action=action,
        profile=profile,
        clock_offset=clock_offset,
    )


def _error_without_envelope(
    http_status: int,
    problem: str,
    request_id: str,
    retry_after: float | None,
    action: str,
) -> AsrtuiError:
    """The error for an HTTP error answer whose body is not a gateway envelope."""
    code = f"HTTP{http_status}"
    # ``problem`` completes "The answer is ...": "an empty body", "an HTML page titled '...'".
    message = f"The HTTP {_status_text(http_status)} answer carries no API error: it is {problem}"
    if http_status >= 500:
        return api_error_from(
            code,
            message,
            request_id=request_id,
            http_status=http_status,
            retry_after=retry_after,
            action=action,
        )
    if http_status == 429:
        return ThrottledError(
            code,
            message,
            "the server or a proxy is rate limiting; asrtui slows down",
            request_id=request_id,
            http_status=http_status,
            retry_after=retry_after,
        )
    if http_status >= 400:
        return ApiError(
            code,
            message,
            "the endpoint did not answer like the Live API; check --endpoint, --region and "
            "any HTTP proxy",
            request_id=request_id,
            http_status=http_status,
            retry_after=retry_after,
        )
    return MalformedResponseError(
        message, _MALFORMED_HINT, request_id=request_id, http_status=http_status
    )


def _status_text(http_status: int) -> str:
    """``302 Found``, ``599``: the status with its standard reason phrase when it has one."""
    try:
        return f"{http_status} {HTTPStatus(http_status).phrase}"
    except ValueError:
        return str(http_status)


def _location_shown(location: str) -> str:
    """A redirect target safe to show: no user info, query or fragment, one escaped line.

    The query is where tokens travel (``auth_key``, signed URLs), user info is a password:
    both are replaced by ``****`` rather than shown; what remains is redacted as any text.
    """
    text = location.strip()
    rest, _, _ = text.partition("#")
    rest, question, _ = rest.partition("?")
    scheme, sep, after = rest.partition("://")
    if sep:
        authority, slash, path = after.partition("/")
        if "@" in authority:
            authority = "****@" + authority.rpartition("@")[2]
        rest = f"{scheme}{sep}{authority}{slash}{path}"
    shown = rest + ("?****" if question else "")
    shown = _one_line(redact_text(shown))
    return shown if len(shown) <= 120 else shown[:117] + "..."


def _not_an_answer(http_status: int, location: str, request_id: str) -> ApiError:
    """The error for a 1xx or 3xx status: a redirect (or stranger) instead of an API answer.

    asrtui never follows redirects: a signed request re-sent to another host would hand that
    host a valid signature, and the Live API itself never redirects.
    """
    status = _status_text(http_status)
    redirect_hint = (
        "asrtui does not follow redirects; check --endpoint (or the profile's endpoint): it "
        "should be the Live API itself, e.g. https://live.aliyuncs.com"
    )
    if location.strip():
        message = f"The server redirected to {_location_shown(location)}"
    elif http_status in _REDIRECTS:
        message = f"The server answered with a redirect ({status}) but did not say where to"
    else:
        message = f"The server answered {status}, which is not an answer to an API call"
        redirect_hint = (
            "check --endpoint (or the profile's endpoint): it does not look like the Live API"
        )
    return ApiError(
        f"HTTP{http_status}", message, redirect_hint, request_id=request_id, http_status=http_status
    )


#: The statuses that send a client elsewhere (with ``Location``).
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})


# --------------------------------------------------------------------------------------------
# Errors, channel 2: HTTP 200 with RetCode


def _whole_number(value: object) -> int | None:
    """``RetCode`` as an int (from a number or a numeric string), ``None`` if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in "+-":
            sign, digits = text[:1], text[1:]
        else:
            sign, digits = "", text
        if digits.isascii() and digits.isdigit() and len(digits) <= 18:
            return int(sign + digits)
    return None


def _ret_code_problem(value: object) -> str:
    """Why ``RetCode`` is not a return code, as a true sentence for each kind of value.

    A return code is a whole number (or a string of one, as some gateways send): a fraction,
    an out-of-range number, a non-numeric string, a boolean, an array or an object is not.
    """
    start = "The answer's RetCode"
    if isinstance(value, float):
        if not math.isfinite(value):
            return (
                f"{start} is a number too large to read (it reads as infinite), not a whole number"
            )
        return f"{start} is {_short(value)}, a number with a fraction, not a whole number"
    if isinstance(value, str):
        digits = value.strip().lstrip("+-")
        if digits.isascii() and digits.isdigit():
            return f"{start} is a string of {len(digits)} digits, too long for a return code"
        return f'{start} is the string "{_short(value)}", not a whole number'
    return f"{start} is a JSON {_kind(value)} ({_short(value)}), not a number"


def check_ret_code(envelope: Mapping[str, Any], *, action: str, profile: str = "") -> None:
    """Raise the error that an HTTP 200 answer carries in ``RetCode``, if any.

    A missing (or ``null``) ``RetCode`` is accepted: gateway-style successes have none.

    Args:
        envelope: the decoded body.
        action: the API action, named in permission hints.
        profile: the profile name, named in credential hints.

    Raises:
        ApiError: ``RetCode`` is a number other than 2000 (code ``RetCode.<n>``, message from
            ``Description``).
        MalformedResponseError: ``RetCode`` is neither a number nor a numeric string.
    """
    request_id = request_id_of(envelope)
    value = envelope.get("RetCode")
    if value is None:
        return
    number = _whole_number(value)
    if number is None:
        raise MalformedResponseError(
            _ret_code_problem(value),
            _MALFORMED_HINT,
            request_id=request_id,
            http_status=200,
        )
    if number == RET_CODE_SUCCESS:
        return
    description = envelope.get("Description")
    message = redact_text(_one_line(description)[:500]) if isinstance(description, str) else ""
    raise api_error_from(
        f"RetCode.{number}",
        message or f"{action} failed with RetCode {number}",
        request_id=request_id,
        http_status=200,
        action=action,
        profile=profile,
    )


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


def parse_tasks(envelope: Mapping[str, Any]) -> TaskList:
    """The tasks of a QueryRtcAsrTasks answer, in the server's order.

    ``Tasks`` may be any of the shapes listed in the module docstring. Each task's mixed types
    are normalised (see `Task`); unknown fields land in ``Task.extra`` and the object as
    received in ``Task.raw``. ``RetCode`` is not checked here: call `check_ret_code` first.

    Args:
        envelope: the decoded body.

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
    out: list[Task] = []
    try:
        _collect_top(value, out, 0)
    except MalformedResponseError as exc:
        raise MalformedResponseError(
            exc.message, exc.hint, request_id=request_id, http_status=200
        ) from None
    return TaskList(tasks=tuple(out), request_id=request_id)


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

    Kept lean: it runs once per task and answers can hold thousands of them.
    """
    get = obj.get
    task_id = get(_TASK_ID)
    if type(task_id) is not str or not task_id:
        task_id = _task_id(task_id, key)
    status = get("status")
    if type(status) is not int:
        status = _status(status)
    created = get("createdAt")
    updated = get("updatedAt")
    if obj.keys() <= TASK_FIELDS:  # the fast path: known fields only
        raw = dict(obj)
        extra = {}
    else:
        # Unknown fields are compared as they are (a task that changed is found by equality):
        # one nested deeper than a comparison can recurse is kept as its text. Known fields
        # become text or numbers here, and `raw` is not compared and only walked iteratively.
        raw = {name: tame(value) for name, value in obj.items()}
        extra = {k: v for k, v in raw.items() if k not in TASK_FIELDS}
    values: dict[str, Any] = {
        "task_id": task_id,
        "status": status,
        "mode": _text(get("mode")),
        "language": _text(get("language")),
        "target_languages": _languages(get("targetLanguages")),
        "translate_enabled": _flag(get("translateEnabled")),
        "tag": _text(get("tag")),
        "stream_url": _text(get("streamUrl")),
        "callback_url": _text(get("callbackUrl")),
        "created_at": _timestamp(created) if created is not None else None,
        "updated_at": _timestamp(updated) if updated is not None else None,
        "report_interval": _int_or_none(get("reportInterval")),
        "auto_terminate_delay": _int_or_none(get("autoTerminateDelay")),
        "ali_uid": _text(get("aliUid")),
        "extra": extra,
        "raw": raw,
    }
    if _FAST_TASK_INIT:
        task = _new_object(Task)
        task.__dict__.update(values)
        return task
    return Task(**values)


# A frozen dataclass's __init__ routes each of Task's 16 fields through a guarded
# object.__setattr__, which is most of the cost of parsing a large answer (about 2.5 us of
# 4 us per task). `_task` fills the instance dict directly instead, with every field, which
# gives an equal object; it falls back to the constructor if `Task` ever gains slots, a
# __post_init__ or fields `_task` does not fill (tests compare both paths).
_FAST_TASK_FIELDS: Final = frozenset(
    {
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
    }
)
_FAST_TASK_INIT: Final = (
    {f.name for f in dataclasses.fields(Task)} == _FAST_TASK_FIELDS
    and not hasattr(Task, "__post_init__")
    and "__slots__" not in vars(Task)
)
_new_object = object.__new__


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


def _text(value: object) -> str:
    """A text field: strings as they are, ``null`` empty, other JSON as compact JSON text."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return str(value)
        except ValueError:  # more digits than int-to-str conversion allows
            return f"<{value.bit_length()}-bit integer>"
    return _compact_json(value)


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
    return parsed if parsed.tzinfo is not None else None


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


# --------------------------------------------------------------------------------------------
# Values that could not be read

#: The known fields that are parsed into something else than text, by wire name.
_READ_FIELDS: Final = {
    "created_at": "createdAt",
    "updated_at": "updatedAt",
    "report_interval": "reportInterval",
    "auto_terminate_delay": "autoTerminateDelay",
    "translate_enabled": "translateEnabled",
}


def unread_value(task: Task, field: str) -> str | None:
    """What the server sent for a known field that could not be read, as text, else ``None``.

    ``createdAt: "yesterday"`` leaves ``Task.created_at`` ``None``, as an absent one does; the
    views show this text instead (marked), so that a value is never dropped silently.

    Args:
        task: the task.
        field: a `Task` field name (``created_at``, ``report_interval``...).
    """
    name = _READ_FIELDS.get(field)
    if name is None or getattr(task, field, None) is not None:
        return None
    value = task.raw.get(name)
    if value is None:
        return None
    return value if isinstance(value, str) else to_text(value)


# --------------------------------------------------------------------------------------------
# Export


def task_to_wire(task: Task) -> dict[str, Any]:
    """The wire object of a task for JSON export: a copy of what was received, at any depth.

    A value nested too deeply to walk is a `asrtui.jsontext.RawJSON` (written back verbatim
    by `asrtui.jsontext.to_text`).

    A task built in code (with no ``raw``) is written in the wire's own shape and types.
    Secrets are not masked here: pass the result through `asrtui.redact.redact_task_dict`
    unless the user asked for them.
    """
    if task.raw:
        # A known field may hold a deep value too (the parser keeps only unknown ones as text,
        # for speed): here each is kept as text as well, so a view shows it on one marked line.
        wire_object: dict[str, Any] = {}
        for name, value in task.raw.items():
            kept = tame(value)
            wire_object[name] = kept if isinstance(kept, RawJSON) else copy_value(kept)
        return wire_object
    wire: dict[str, Any] = {
        "taskId": task.task_id,
        "status": task.status,
        "mode": task.mode,
        "language": task.language,
        "tag": task.tag,
        "streamUrl": task.stream_url,
        "callbackUrl": task.callback_url,
        "aliUid": task.ali_uid,
    }
    if task.created_at is not None:
        wire["createdAt"] = task.created_at.isoformat()
    if task.updated_at is not None:
        wire["updatedAt"] = task.updated_at.isoformat()
    if task.report_interval is not None:
        wire["reportInterval"] = str(task.report_interval)
    if task.auto_terminate_delay is not None:
        wire["autoTerminateDelay"] = str(task.auto_terminate_delay)
    if task.target_languages:
        wire["targetLanguages"] = list(task.target_languages)
    if task.translate_enabled is not None:
        wire["translateEnabled"] = task.translate_enabled
    wire.update(copy_value(task.extra))
    return wire
