"""What every credentials service over HTTP shares: one bounded call, one reading of the answer.

STS, the ECS metadata service and a credentials URI all answer temporary credentials in JSON
(``AccessKeyId``, ``AccessKeySecret``, ``SecurityToken``, ``Expiration``). Their failures are
sorted the same way, and always name the source, never a value:

- unreachable, timing out, HTTP 5xx, HTML or JSON without credentials: the service failed,
  `CredentialsServiceError` (exit code 1, the console stays up with the last good keys);
- a redirect, or an answer that says the request was wrong: the configuration is,
  `CredentialsError` (exit code 2).

Answers are read up to `MAX_ANSWER_BYTES` (a hostile or broken service cannot fill memory)
and redirects are never followed (a credentials answer must come from the address configured).
"""

from __future__ import annotations

import asyncio
import builtins
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from asrtui.credentials.refresh import Fetched
from asrtui.credentials.value import Credentials, check_credentials
from asrtui.errors import CredentialsError, CredentialsServiceError

__all__ = [
    "MAX_ANSWER_BYTES",
    "Answer",
    "call",
    "json_object",
    "parse_expiration",
    "temporary_credentials",
]

#: The most bytes of one answer read: a credentials answer is well under a kilobyte.
MAX_ANSWER_BYTES = 64 * 1024


@dataclass(frozen=True)
class Answer:
    """A whole answer: status, content type and body (never printed)."""

    status: int
    content_type: str
    body: bytes


async def call(
    method: str,
    url: str,
    *,
    source: str,
    timeouts: httpx.Timeout,
    deadline: float,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    hint: str = "check the network",
) -> Answer:
    """One request to ``url``; every transport failure becomes `CredentialsServiceError`.

    Args:
        method: ``GET`` or ``PUT``.
        url: the full URL (its query is kept; ``params`` are added).
        source: how messages name the service (``STS at https://sts.aliyuncs.com``).
        timeouts: httpx's connect and read timeouts.
        deadline: seconds the whole exchange may take (a service that drips bytes).
        headers: request headers.
        params: query parameters.
        transport: an httpx transport (tests pass an ASGI one).
        hint: what to check when the service cannot be reached.

    Raises:
        CredentialsServiceError: no answer, too slow, or too large.
        CredentialsError: a redirect (the configured address is not the service's).
    """
    try:
        async with (
            asyncio.timeout(deadline),
            httpx.AsyncClient(
                transport=transport, timeout=timeouts, follow_redirects=False
            ) as client,
        ):
            request = client.build_request(method, url, params=params, headers=headers)
            response = await client.send(request, stream=True)
            try:
                body = await _read_capped(response, source)
            finally:
                await response.aclose()
    except builtins.TimeoutError:
        raise CredentialsServiceError(
            f"{source} did not answer within {deadline:g} s", hint
        ) from None
    except httpx.TimeoutException:
        raise CredentialsServiceError(f"{source} did not answer in time", hint) from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise CredentialsServiceError(
            f"Cannot reach {source} ({type(exc).__name__})", hint
        ) from None
    if 300 <= response.status_code < 400:
        raise CredentialsError(
            f"{source} answered with a redirect (HTTP {response.status_code})",
            "configure the address the service answers at itself: redirects are not followed",
        )
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return Answer(response.status_code, kind, body)


async def _read_capped(response: httpx.Response, source: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise CredentialsServiceError(
                f"{source} answered more than {MAX_ANSWER_BYTES} bytes",
                "check that the address is the credentials service's",
            )
        chunks.append(chunk)
    return b"".join(chunks)


def json_object(answer: Answer, source: str) -> dict[str, object]:
    """The answer's JSON object; `CredentialsServiceError` naming what came instead."""
    try:
        data = json.loads(answer.body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        what = "HTML" if answer.content_type == "text/html" else "something that is not JSON"
        raise CredentialsServiceError(
            f"{source} answered {what} (HTTP {answer.status})",
            "check that the address is the credentials service's (a proxy or captive portal?)",
        ) from None
    if not isinstance(data, dict):
        raise CredentialsServiceError(
            f"{source} answered JSON that is not an object (HTTP {answer.status})",
            "check that the address is the credentials service's",
        )
    return data


def parse_expiration(value: object, source: str) -> datetime:
    """``Expiration`` as the services write it (``2026-12-06T12:00:00Z``), aware UTC."""
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    raise CredentialsServiceError(
        f"{source} answered credentials without a readable Expiration",
        "the service is not answering in the documented format",
    )


def temporary_credentials(fields: Mapping[str, object], source: str, *, now: datetime) -> Fetched:
    """Credentials and expiry from an answer's fields, checked (nothing quoted but names).

    Raises:
        CredentialsServiceError: a field is missing, not a string, or the expiry has passed.
        CredentialsError: a value cannot be sent (a control character), see
            `asrtui.credentials.value.check_credentials`.
    """
    values: dict[str, str] = {}
    for name in ("AccessKeyId", "AccessKeySecret", "SecurityToken"):
        value = fields.get(name)
        if not isinstance(value, str) or not value:
            raise CredentialsServiceError(
                f"{source} answered without {name}",
                "the service is not answering in the documented format",
            )
        values[name] = value
    expiration = parse_expiration(fields.get("Expiration"), source)
    if expiration <= now:
        raise CredentialsServiceError(
            f"{source} answered credentials that had already expired "
            f"({expiration:%Y-%m-%d %H:%M:%S} UTC)",
            "check this machine's clock (e.g. enable NTP), then the service",
        )
    credentials = Credentials(
        values["AccessKeyId"], values["AccessKeySecret"], values["SecurityToken"]
    )
    check_credentials(
        credentials,
        source=source,
        names={
            "access_key_id": "AccessKeyId",
            "access_key_secret": "AccessKeySecret",
            "security_token": "SecurityToken",
        },
    )
    return credentials, expiration
