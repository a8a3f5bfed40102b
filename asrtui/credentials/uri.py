"""``CredentialsURI``: temporary credentials from an HTTP endpoint of the user's own.

``GET URI`` answers ``{"Code": "Success", "AccessKeyId", "AccessKeySecret", "SecurityToken",
"Expiration"}`` (the aliyun CLI and SDK format). A redirect is refused as a configuration
error (the URI configured is not the service's), a 5xx or an answer without ``Success`` as a
failing service.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from asrtui.credentials.refresh import Fetched, RefreshingProvider
from asrtui.credentials.remote import call, json_object, temporary_credentials
from asrtui.credentials.value import http_uri_parts
from asrtui.errors import CredentialsError, CredentialsServiceError

__all__ = ["URI_TIMEOUT", "UriProvider", "shown_uri"]

#: The SDK's credentials URI timeouts: connect 5 s, read 10 s.
URI_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
_DEADLINE = 20.0


def _utc_now() -> datetime:
    return datetime.now(UTC)


def shown_uri(uri: str) -> str:
    """The URI as messages show it: scheme, host and path, never its query or user info.

    A credentials URI may carry a token in its query (``?token=...``) or a password.
    """
    parts = urlsplit(uri)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


class UriProvider(RefreshingProvider):
    """``CredentialsURI``: ``GET`` the URI, refreshed before expiry.

    Args:
        uri: the ``http(s)://`` URI.
        where: names the configuration in messages.
        clock: the wall clock.
        transport: an httpx transport (tests).
    """

    def __init__(
        self,
        uri: str,
        *,
        where: str,
        clock: Callable[[], datetime] = _utc_now,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if http_uri_parts(uri) is None:
            raise CredentialsError(
                f"The credentials URI of {where} is not an http(s) URL",
                "use the form http://HOST[:PORT]/PATH",
            )
        self._uri = uri
        self._transport = transport
        self._uri_source = f"the credentials URI {shown_uri(uri)} of {where}"
        super().__init__(
            self._get, mode="CredentialsURI", source=where, quota_key=shown_uri(uri), clock=clock
        )

    async def _get(self) -> Fetched:
        source = self._uri_source
        answer = await call(
            "GET",
            self._uri,
            source=source,
            timeouts=URI_TIMEOUT,
            deadline=_DEADLINE,
            transport=self._transport,
            hint="check that the credentials service is running and the URI is right",
        )
        if answer.status != 200:
            raise CredentialsServiceError(
                f"{source} failed (HTTP {answer.status})",
                "check the credentials service; asrtui keeps the last good credentials",
            )
        data = json_object(answer, source)
        if data.get("Code") != "Success":
            raise CredentialsServiceError(
                f"{source} did not answer Code Success",
                "check the credentials service's log",
            )
        return temporary_credentials(data, source, now=self._clock())
