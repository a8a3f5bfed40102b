"""Error messages about server answers say what happened, in sentences that are true and read well.

Tables over every status class and body kind, and over every kind of ``RetCode`` value, check the
one-line message: no phrase twice ("the body is an empty body"), no "not a number" about a
number, redirects named as redirects with their target masked.
"""

from __future__ import annotations

import json
import math
import re

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from asrtui.client import LiveClient
from asrtui.credentials import Credentials
from asrtui.errors import ApiError, AsrtuiError, MalformedResponseError, ServerError
from asrtui.wire import check_ret_code, error_from_gateway

# -- status and body ---------------------------------------------------------------------------

BODIES: dict[str, bytes] = {
    "missing": b"",
    "blank": b"  \r\n ",
    "html titled": b"<!DOCTYPE html><html><head><title>Moved</title></head><body>x</body></html>",
    "html": b"<html><body>gone</body></html>",
    "xml": b"<?xml version='1.0'?><Error><Code>X</Code></Error>",
    "text": b"Found. Redirecting to /login",
    "truncated json": b'{"Code": "X", "Mess',
    "json array": b"[1, 2]",
    "json string": b'"oops"',
    "not utf-8": b"\xff\xfe\xfa junk",
    "envelope": b'{"RequestId": "R1", "Code": "InvalidParameter", "Message": "bad"}',
    "envelope without code": b'{"RequestId": "R1"}',
}

REDIRECTS = [301, 302, 303, 307, 308]
OTHER_3XX = [300, 304, 305]
ERRORS_4XX = [400, 401, 403, 404, 405, 409, 418, 429, 499]
ERRORS_5XX = [500, 502, 503, 504, 599]
STATUSES = [100, 101, *REDIRECTS, *OTHER_3XX, *ERRORS_4XX, *ERRORS_5XX]

#: A Location with a password, a token in the query and a fragment: none may be shown.
SECRET_LOCATION = "https://user:hunter2@login.example.com/sso/start?auth_key=tok3n&next=%2F#frag"


def assert_reads_well(text: str) -> None:
    """One line, no word doubled, no phrase said twice, no dangling punctuation."""
    assert "\n" not in text, text
    assert "\r" not in text, text
    assert text.isprintable(), text
    assert "  " not in text, text
    assert not re.search(r"\b(\w+) \1\b", text, re.IGNORECASE), text
    assert text.count("empty body") <= 1, text
    assert "body is an" not in text, text
    assert "body is a " not in text, text
    assert "::" not in text, text
    assert "not a number" not in text or "JSON number" not in text, text


@pytest.mark.parametrize("body_kind", sorted(BODIES))
@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("location", [None, SECRET_LOCATION, "/relative/path"])
def test_every_status_and_body_gives_a_true_readable_message(
    status: int, body_kind: str, location: str | None
) -> None:
    headers = {"location": location} if location is not None else {}
    error = error_from_gateway(status, BODIES[body_kind], headers)
    text = str(error)
    assert_reads_well(text)
    assert isinstance(error, AsrtuiError)
    for secret in ("hunter2", "tok3n", "frag", "user:"):
        assert secret not in text, text
    if status < 200 or 300 <= status < 400:
        # The status is the news, whatever the body: never blamed on the body.
        assert isinstance(error, ApiError)
        assert error.code == f"HTTP{status}"
        assert not error.retryable
        assert "body" not in error.message
        if location is not None:
            assert error.message.startswith("The server redirected to ")
            assert "does not follow redirects" in error.hint
            if location == SECRET_LOCATION:
                assert "login.example.com/sso/start" in error.message
        elif status in REDIRECTS:
            assert "redirect" in error.message
            assert "did not say where to" in error.message
        else:
            assert "not an answer to an API call" in error.message
        return
    if body_kind == "envelope":
        assert isinstance(error, ApiError)
        assert error.code == "InvalidParameter"
        return
    assert isinstance(error, ApiError)
    assert error.code == f"HTTP{status}"
    assert f"HTTP {status}" in error.message
    if status >= 500:
        assert isinstance(error, ServerError)


def test_a_302_without_a_body_says_redirect_not_empty_body() -> None:
    """Regression: a 302 read 'HTTP 302 answer without an API error: the body is an empty body'."""
    error = error_from_gateway(302, b"", {"location": "https://x.example/"})
    assert str(error).startswith("The server redirected to https://x.example/ (HTTP302): ")
    assert "empty" not in str(error)


async def test_the_client_does_not_follow_a_redirect_and_says_so() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url.host))
        return httpx.Response(302, headers={"location": "http://elsewhere.example/"})

    client = LiveClient(
        lambda: Credentials("FAKEx", "s3cret"),
        "http://emulator.test",
        transport=httpx.MockTransport(handler),
    )
    async with client:
        with pytest.raises(ApiError) as info:
            await client.list_tasks()
    assert seen == ["emulator.test"]  # once, and never to elsewhere.example
    assert "redirected to http://elsewhere.example/" in str(info.value)


# -- RetCode values ------------------------------------------------------------------------------

NOT_RETURN_CODES: dict[str, object] = {
    "fraction": 2000.5,
    "negative fraction": -0.5,
    "huge": json.loads("1e400"),
    "huge negative": json.loads("-1e400"),
    "true": True,
    "false": False,
    "word": "abc",
    "empty string": "",
    "numeric string with a fraction": "2000.5",
    "too many digits": "1" * 30,
    "array": [2000],
    "empty array": [],
    "object": {"code": 2000},
    "nested": {"a": [{"b": [1, 2, {"c": None}]}]},
}


@pytest.mark.parametrize("kind", sorted(NOT_RETURN_CODES))
def test_every_kind_of_bad_ret_code_is_described_truly(kind: str) -> None:
    value = NOT_RETURN_CODES[kind]
    with pytest.raises(MalformedResponseError) as info:
        check_ret_code({"RetCode": value, "RequestId": "R"})
    message = info.value.message
    assert_reads_well(str(info.value))
    assert message.startswith("The answer's RetCode ")
    if isinstance(value, float):
        # A number is never "not a number" (regression: "a JSON number, not a number").
        assert "not a number" not in message
        assert "whole number" in message
    elif isinstance(value, bool):
        assert "JSON boolean" in message
    elif isinstance(value, list):
        assert "JSON array" in message
    elif isinstance(value, dict):
        assert "JSON object" in message
    elif isinstance(value, str):
        assert "string" in message


def test_a_fractional_ret_code_regression() -> None:
    with pytest.raises(MalformedResponseError) as info:
        check_ret_code({"RetCode": 2000.5})
    assert info.value.message == (
        "The answer's RetCode is 2000.5, a number with a fraction, not a whole number"
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


@given(json_values)
def test_any_ret_code_value_gives_a_true_sentence_or_passes(value: object) -> None:
    problem: AsrtuiError | None = None
    try:
        check_ret_code({"RetCode": value})
    except AsrtuiError as error:
        problem = error
    if problem is None:
        return
    text = str(problem)
    # The server's value is quoted as sent: "::", doubled words or spaces inside it are the
    # server's, not the sentence's. The checks on prose read the sentence around it.
    head, said, rest = text.partition("RetCode is ")
    if said and ", not a" in rest:
        rest = "VALUE" + rest[rest.rindex(", not a") :]
    assert_reads_well(head + said + rest)
    assert "\n" not in text, text
    assert "\r" not in text, text
    assert text.isprintable(), text
    if isinstance(problem, MalformedResponseError):
        if isinstance(value, float):
            assert "not a number" not in problem.message
            assert not (math.isfinite(value) and value.is_integer())
    else:
        assert isinstance(problem, ApiError)
        assert problem.code.startswith("RetCode.")
