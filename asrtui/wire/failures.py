"""Answers that are errors, on the API's two channels, turned into the project's errors.

Channel 1 is HTTP 4xx/5xx with a gateway envelope (`error_from_gateway`, which also words a
proxy's HTML page or a redirect); channel 2 is HTTP 200 with ``RetCode`` other than 2000
(`check_ret_code`). Server text in a message is redacted and made one escaped line first.

Both read only the answer: the hints are worded with the defaults of
`asrtui.errors.api_error_from`, and the client, which knows the action, the profile and the
clock, words them for its call (`asrtui.errors.in_context`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Final

from asrtui.errors import (
    ApiError,
    AsrtuiError,
    MalformedResponseError,
    ThrottledError,
    api_error_from,
)
from asrtui.redact import redact_text
from asrtui.wire.envelope import _read_object, request_id_of
from asrtui.wire.text import (
    _MALFORMED_HINT,
    _first_text,
    _header,
    _kind,
    _loads,
    _one_line,
    _short,
    _whole_number,
)

__all__ = ["RET_CODE_SUCCESS", "check_ret_code", "error_from_gateway"]


#: The ``RetCode`` of a successful answer on the second error channel.
RET_CODE_SUCCESS: Final = 2000


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
        return _error_without_envelope(http_status, problem, header_request_id, retry_after)
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
    )


def _error_without_envelope(
    http_status: int, problem: str, request_id: str, retry_after: float | None
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


def check_ret_code(envelope: Mapping[str, Any]) -> None:
    """Raise the error that an HTTP 200 answer carries in ``RetCode``, if any.

    A missing (or ``null``) ``RetCode`` is accepted: gateway-style successes have none.

    Args:
        envelope: the decoded body.

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
    # Without a Description, the message names the action: `asrtui.errors.api_error_from`.
    raise api_error_from(f"RetCode.{number}", message, request_id=request_id, http_status=200)
