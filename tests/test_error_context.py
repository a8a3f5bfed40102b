"""The wire reads an error answer into facts; the client words its hint for the call it made.

The class of defect: a hint worded without the call's context (the wrong RAM action, no
profile, no clock offset), or a hint worded differently from the one table of
`asrtui.errors.api_error_from`. For every error code of that table, on both channels, and
for each action, the error a real client raises is the table's wording for that action,
profile and clock; an answer that was not worded from a code (a proxy's page, a redirect)
keeps its own words.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from asrtui import errors
from asrtui.client import LiveClient
from asrtui.credentials import Credentials
from asrtui.errors import ApiError, CallContext, api_error_from, in_context
from asrtui.wire import check_ret_code, error_from_gateway
from tests.support.fakes import no_sleep

#: The table's codes that are not retried (a retried code would be asked again and again).
TABLE = sorted(code for code, (cls, _hint) in errors._BY_CODE.items() if not cls.retryable)
CODES = [*TABLE, "Forbidden.Something", "InvalidSecurityToken.Other", "SomethingNew"]

CALLS: dict[str, Callable[[LiveClient], Awaitable[Any]]] = {
    "QueryRtcAsrTasks": lambda client: client.list_tasks(),
    "StopRtcAsrTask": lambda client: client.stop_task("asr-1"),
    "DeleteRtcAsrTask": lambda client: client.delete_task("asr-1"),
}


def client_answering(response: httpx.Response) -> LiveClient:
    return LiveClient(
        lambda: Credentials("FAKEcontext", "context-secret-value-123456"),
        "https://live.aliyuncs.com",
        profile="studio",
        transport=httpx.MockTransport(lambda request: response),
        sleep=no_sleep,
    )


@pytest.mark.parametrize("action", sorted(CALLS))
@pytest.mark.parametrize("code", CODES)
async def test_a_gateway_error_is_worded_for_the_call(action: str, code: str) -> None:
    body = {"RequestId": "REQ-1", "Code": code, "Message": "the server's words"}
    async with client_answering(httpx.Response(400, json=body)) as client:
        with pytest.raises(ApiError) as caught:
            await CALLS[action](client)
    expected = api_error_from(
        code, "the server's words", request_id="REQ-1", action=action, profile="studio"
    )
    assert (type(caught.value), str(caught.value)) == (type(expected), str(expected))


@pytest.mark.parametrize("action", sorted(CALLS))
@pytest.mark.parametrize("description", ["", "quota of tasks exceeded"])
async def test_a_ret_code_error_is_worded_for_the_call(action: str, description: str) -> None:
    body = {"RequestId": "R", "RetCode": 4001, "Description": description}
    async with client_answering(httpx.Response(200, json=body)) as client:
        with pytest.raises(ApiError) as caught:
            await CALLS[action](client)
    said = description or f"{action} failed with RetCode 4001"
    assert caught.value.message == said


async def test_a_clock_skew_hint_says_how_far_off_the_clock_is() -> None:
    context = CallContext(clock_offset=-1200.0)
    error = error_from_gateway(400, b'{"Code": "InvalidTimeStamp.Expired"}', {})
    assert "1200 s behind" in str(in_context(error, context))
    assert "1200 s" not in str(error)


@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (302, b"", {"location": "https://elsewhere.example/"}),
        (404, b"<html>Not Found</html>", {}),
        (429, b"Too Many Requests", {}),
        (502, b"<html><title>502 Bad Gateway</title></html>", {}),
    ],
)
def test_an_error_not_worded_from_a_code_keeps_its_words(
    status: int, body: bytes, headers: dict[str, str]
) -> None:
    error = error_from_gateway(status, body, headers)
    placed = in_context(error, CallContext(action="StopRtcAsrTask", profile="studio"))
    assert (type(placed), str(placed)) == (type(error), str(error))


def test_the_wire_takes_no_context() -> None:
    with pytest.raises(TypeError):
        check_ret_code({"RetCode": 4001}, action="StopRtcAsrTask")  # type: ignore[call-arg]
