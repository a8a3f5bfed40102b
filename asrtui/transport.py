"""One HTTP exchange with the Live API, and every way it can fail, in the project's words.

`LiveClient` owns the policy (limiter, signing, retries, decoding); this module owns the
exchange itself: send the request, read the answer by streaming within the size limit
(`asrtui.answersize`), and translate each httpx failure (a timeout, a TLS handshake with a
plain-HTTP server, a refused connection, a header HTTP does not allow) into `asrtui.errors`,
naming the endpoint and what to do. Nothing above it sees a transport library's exception.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from asrtui.answersize import MIB, size_text, too_big_hint
from asrtui.errors import (
    AsrtuiError,
    ConfigError,
    ConnectError,
    CredentialsError,
    MalformedResponseError,
    TimeoutError,
    TlsError,
)

__all__ = ["GATHER_BYTES", "HttpExchange"]

#: From this size up a successful answer is gathered into one growing buffer as it arrives,
#: and that buffer is the body: joining 50 MB of chunks at the end was one 30 ms call on the
#: event loop per refresh at 100,000 tasks (a key pressed then waited for it). Growing a
#: ``bytearray`` costs at most ~0.3 ms a chunk (large blocks are remapped, not copied: see
#: `asrtui.heap`); a buffer made at the declared size first would be zeroed in one call
#: as long as the join. Smaller answers are joined, as before, and stay ``bytes``.
GATHER_BYTES = 256 * 1024

#: Bytes read past the limit, not kept, to say how big a refused answer was: reading them
#: costs time, not memory, and an answer that never ends is cut off here.
_COUNT_PAST_LIMIT = 64 * MIB


@dataclass(frozen=True)
class HttpExchange:
    """Sends to one endpoint and reads its answers, failures translated.

    Attributes:
        url: the endpoint's base URL, named in every message.
        profile: the profile name, named in credential hints.
        max_body_bytes: the largest answer read; a larger one is refused (and measured).
        request_timeout: the seconds one attempt may take, named when it runs out.
    """

    url: str
    profile: str
    max_body_bytes: int
    request_timeout: float

    async def send(
        self,
        http: httpx.AsyncClient,
        request: httpx.Request,
        on_chunk: Callable[[bytes], object] | None = None,
    ) -> tuple[int, dict[str, str], bytes | bytearray]:
        """Send and read the whole answer, translating every httpx failure.

        The body of a large successful answer is the ``bytearray`` it was gathered in
        (`GATHER_BYTES`), any other ``bytes``; nobody changes it.

        ``on_chunk`` is given each chunk of a successful (2xx) answer's body as it is read
        within the size limit, so that a caller can work while the rest arrives.
        """
        try:
            response = await http.send(request, stream=True)
            try:
                headers = {k.lower(): v for k, v in response.headers.items()}
                feed = on_chunk if 200 <= response.status_code < 300 else None
                body = await self._read_capped(response, headers, feed)
            finally:
                await response.aclose()
        except httpx.HTTPError as exc:
            raise self.translate(exc) from None
        except httpx.InvalidURL:  # not an httpx.HTTPError
            raise self.invalid_endpoint() from None
        except httpx.StreamError as exc:
            raise ConnectError(
                f"Connection to {self.url} failed while reading ({type(exc).__name__})",
                "retry; check the network",
            ) from None
        except UnicodeEncodeError:
            # V3 sends the key id and the STS token in headers, which carry ASCII only: a
            # character pasted along with them (a typographic quote, a non-breaking space)
            # cannot be sent. Neither value is quoted: the token is a secret.
            where = f" of profile '{self.profile}'" if self.profile else ""
            raise CredentialsError(
                "The AccessKey id or STS token contains a character that cannot be sent",
                f"copy them again, without stray characters{where}",
            ) from None
        return response.status_code, headers, body

    async def _read_capped(
        self,
        response: httpx.Response,
        headers: Mapping[str, str],
        on_chunk: Callable[[bytes], object] | None = None,
    ) -> bytes | bytearray:
        """Read the body by streaming, refusing more than ``max_body_bytes``.

        A refused answer is still counted (not kept), up to `_COUNT_PAST_LIMIT` past the
        limit, so that the message can say how big it was.
        """
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            raise self._too_big(response.status_code, headers, int(declared), exact=True)
        chunks: list[bytes] = []
        gathered: bytearray | None = None
        gather = 200 <= response.status_code < 300  # an error's body is read whole, as bytes
        size = 0
        stream = response.aiter_bytes()  # one iterator: the count goes on where reading stopped
        async for chunk in stream:
            size += len(chunk)
            if size > self.max_body_bytes:
                chunks.clear()
                gathered = None
                break
            if gathered is not None:
                gathered += chunk
            else:
                chunks.append(chunk)
                if gather and size >= GATHER_BYTES:
                    gathered = bytearray().join(chunks)
                    chunks.clear()
            if on_chunk is not None:
                on_chunk(chunk)
        else:
            return gathered if gathered is not None else b"".join(chunks)
        async for chunk in stream:
            size += len(chunk)
            if size > self.max_body_bytes + _COUNT_PAST_LIMIT:
                raise self._too_big(response.status_code, headers, size, exact=False)
        raise self._too_big(response.status_code, headers, size, exact=True)

    def _too_big(
        self, status: int, headers: Mapping[str, str], size: int, *, exact: bool
    ) -> MalformedResponseError:
        limit = self.max_body_bytes
        how_big = size_text(size) if exact else f"more than {size_text(size)}"
        error = MalformedResponseError(
            f"The answer from {self.url} is {how_big}, above the limit of {size_text(limit)}",
            too_big_hint(size if exact else None, limit),
            request_id=headers.get("x-acs-request-id", ""),
            http_status=status,
        )
        # A body that is too big will be too big again: not worth another attempt.
        error.retryable = False
        return error

    def deadline_exceeded(self) -> TimeoutError:
        """The attempt ran out of its `request_timeout` (a stalled or trickling answer)."""
        return TimeoutError(
            f"Timed out: {self.url} did not finish answering within {self.request_timeout:g} s",
            "the server or the network is very slow, or the endpoint is not the Live API; "
            "check --endpoint and the network, or raise the profile's request_timeout",
        )

    def invalid_url(self, exc: httpx.InvalidURL, query: Mapping[str, str]) -> ConfigError:
        """httpx refused to build the URL: blame the parameter that is too long, else the endpoint.

        Task ids typed by a person are checked long before (`asrtui.taskid`); this is for any
        other value that would make the query longer than a URL may be.
        """
        if "query" in str(exc) and query:
            name = max(query, key=lambda key: len(query[key]))
            return ConfigError(
                f"Cannot send the request: its {name} is {len(query[name])} characters long, "
                "more than a URL can carry",
                f"check the value given for {name}",
            )
        return self.invalid_endpoint()

    def invalid_endpoint(self) -> ConfigError:
        """httpx refused the URL (a control character in an endpoint override): a usage error."""
        return ConfigError(f"Invalid endpoint {self.url!r}", "check --endpoint or the profile")

    def translate(self, exc: httpx.HTTPError) -> AsrtuiError:
        """Map an httpx exception to the project's error tree, naming the endpoint."""
        where = self.url
        kind = type(exc).__name__
        if isinstance(exc, httpx.TimeoutException):
            phase = "connecting to" if isinstance(exc, httpx.ConnectTimeout) else "waiting for"
            return TimeoutError(
                f"Timed out {phase} {where} ({kind})",
                "check the network and --endpoint; the service may be slow, retry shortly",
            )
        if _is_tls_failure(exc) and _speaks_plain_http(exc):
            scheme_less = where.split("://", 1)[-1]
            return TlsError(
                f"TLS handshake with {where} failed: the server does not speak TLS "
                "(it answered like a plain-HTTP server)",
                f"if it is the local emulator or a plain-HTTP proxy, use http://{scheme_less}; "
                "otherwise check --endpoint",
            )
        if _is_tls_failure(exc):
            return TlsError(
                f"TLS handshake with {where} failed",
                "check the system's CA certificates, the clock, and any TLS-intercepting proxy",
            )
        if isinstance(exc, httpx.ConnectError):
            return ConnectError(
                f"Cannot connect to {where} ({_short_reason(exc)})",
                "check the network, DNS and --endpoint / --region",
            )
        if isinstance(exc, httpx.UnsupportedProtocol):
            return ConfigError(
                f"Unsupported endpoint {where!r}", "use an http:// or https:// endpoint"
            )
        if isinstance(exc, httpx.DecodingError | httpx.TooManyRedirects):
            return MalformedResponseError(
                f"The answer from {where} could not be decoded ({kind})",
                "check --endpoint; it does not look like the Live API",
            )
        if isinstance(exc, httpx.LocalProtocolError):
            # Refused before sending (``Illegal header value b'<token>\r\n'``): the message
            # quotes a credential and a retry would fail the same way, so neither is done.
            place = f" of profile '{self.profile}'" if self.profile else ""
            return CredentialsError(
                "The request could not be sent: a header value (the AccessKey id or STS token)"
                " holds a character HTTP does not allow",
                f"set the credentials{place} again without stray characters (a trailing CR"
                " from Windows line endings is the usual cause)",
            )
        return ConnectError(
            f"Connection to {where} failed ({kind}: {_short_reason(exc)})",
            "the connection was dropped or reset; check the network and retry",
        )


def _is_tls_failure(exc: BaseException) -> bool:
    """Whether an ssl error is anywhere in the exception's cause chain."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError | ssl.CertificateError):
            return True
        current = current.__cause__ or current.__context__
    text = str(exc)
    return "CERTIFICATE_VERIFY_FAILED" in text or "SSL:" in text


#: What OpenSSL says when the other end answered a TLS hello with something else (plain HTTP).
_NOT_TLS_MARKERS = ("WRONG_VERSION_NUMBER", "wrong version number", "HTTP_REQUEST", "http request")


def _speaks_plain_http(exc: BaseException) -> bool:
    """Whether a TLS failure says the server answered in plain text (an http:// server)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if any(marker in str(current) for marker in _NOT_TLS_MARKERS):
            return True
        current = current.__cause__ or current.__context__
    return False


def _short_reason(exc: BaseException) -> str:
    """The exception's message, one line and short (httpx messages carry no secrets)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."
