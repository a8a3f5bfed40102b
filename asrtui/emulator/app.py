"""The emulator's wire layer: a plain ASGI 3 app that speaks the Live API's exact HTTP format.

It parses requests itself (it never imports the client or the models, so it checks them
independently), verifies V3 and RPC signatures with `asrtui.signing`, enforces the
15-minute timestamp window, nonce replay, and the per-AccessKey limit of ``limit`` accepted
requests in any 1-second window, answers the four actions from an `EmulatorBackend`, and
injects the faults of a `FaultPlan`.

Order of checks for one request: fault draw (most faults answer at once, as a broken gateway
would), method and path, signature (key, timestamp, signature, STS token, nonce), flow
control, then the action. ``truncated`` and ``big`` faults act on the real answer: the action
takes effect and its answer is cut short or padded.

Over 450 lines, and one thing: the wire as the service speaks it, one request path in the
order of checks above. The tasks are `asrtui.emulator.backend`'s, the faults
`asrtui.emulator.faults`', STS and the metadata service `asrtui.emulator.identity`'s.
"""

from __future__ import annotations

import asyncio
import hmac
import math
import random
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from hashlib import sha256
from urllib.parse import parse_qsl

from asrtui.emulator.backend import EmulatorBackend, InvalidTaskRequest
from asrtui.emulator.encoding import answer_bytes
from asrtui.emulator.faults import ConnectionDropped, FaultPlan
from asrtui.emulator.identity import (
    METADATA_PREFIX,
    STS_VERSION,
    URI_PATH,
    IdentityError,
    IdentityServices,
)
from asrtui.signing import (
    RPC_COMMON_PARAMS,
    parse_v3_authorization,
    rpc_signature,
    rpc_string_to_sign,
    v3_canonical_request,
    v3_signature,
    v3_string_to_sign,
)

__all__ = [
    "API_VERSION",
    "MAX_JITTER",
    "ASGIMessage",
    "ASGIReceive",
    "ASGISend",
    "EmulatorApp",
    "EmulatorStats",
    "parse_timestamp",
]

#: An ASGI event as received; values are narrowed where they are read.
ASGIMessage = Mapping[str, object]
ASGIReceive = Callable[[], Awaitable[ASGIMessage]]
ASGISend = Callable[[dict[str, object]], Awaitable[None]]

API_VERSION = "2016-11-01"
HOST_ID = "live.aliyuncs.com"
SUCCESS_RETCODE = 2000
TIMESTAMP_WINDOW = timedelta(minutes=15)
THROTTLE_WINDOW = 1.0
BIG_BODY_BYTES = 10 * 1024 * 1024
#: How many accepted-request times per key the stats keep (about 80 minutes at 20/s).
STATS_HISTORY = 100_000
#: The longest one-way network delay the emulator simulates, in seconds.
MAX_JITTER = 10.0

_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_JSON = b"application/json;charset=utf-8"

#: Where the separators of the one layout every client sends (``2024-05-01T12:00:00Z``) are.
_LAYOUT = ((4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":"), (19, "Z"))
_V3_REQUIRED = (
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
)

_MESSAGES: Mapping[str, str] = {
    "ConfigNotFound": "task id not found, please check and try again later.",
    "IncompleteSignature": "The request signature does not conform to Aliyun standards.",
    "InternalError": (
        "The request processing has failed due to some unknown error, exception or failure."
    ),
    "InvalidAccessKeyId.NotFound": "Specified access key is not found.",
    "InvalidApi.NotFound": "Specified api is not found, please check your url and method.",
    "InvalidSecurityToken.Expired": "Specified SecurityToken is expired.",
    "InvalidSecurityToken.MismatchWithAccessKey": (
        "Specified SecurityToken mismatch with the AccessKey."
    ),
    "InvalidTimeStamp.Expired": "Specified time stamp or date value is expired.",
    "InvalidTimeStamp.Format": "Specified time stamp or date value is not well formatted.",
    "InvalidVersion": "Specified parameter Version is not valid.",
    "MissingSecurityToken": "SecurityToken is mandatory for this action.",
    "ServiceUnavailable": "The request has failed due to a temporary failure of the server.",
    "SignatureDoesNotMatch": "Specified signature does not match our calculation.",
    "SignatureNonceUsed": "Specified signature nonce was used already.",
    "Throttling.User": "Request was denied due to user flow control.",
}

_STATUSES: Mapping[str, int] = {
    "InvalidAccessKeyId.NotFound": 404,
    "InvalidApi.NotFound": 404,
    "InternalError": 500,
    "ServiceUnavailable": 503,
}

_HTML_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>Tengine</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


class _GatewayError(Exception):
    """An error answer in the gateway envelope; raised inside the app, answered at the top."""

    def __init__(
        self, code: str, message: str | None = None, headers: Iterable[tuple[str, str]] = ()
    ) -> None:
        super().__init__(code)
        self.code = code
        self.message = message or _MESSAGES.get(code, code)
        self.status = _STATUSES.get(code, 400)
        self.headers = list(headers)


def parse_timestamp(value: str) -> datetime:
    """A request's timestamp (``%Y-%m-%dT%H:%M:%SZ``) as an aware UTC time.

    Exactly what `datetime.strptime` with that format accepts: the layout every client sends,
    in ASCII digits, is read directly; anything else (lower-case letters, one-digit fields,
    other digits) goes to `strptime`. The first call of `strptime` loads and builds its locale
    tables and patterns, a millisecond or two of the demo console's first frame.

    Raises:
        ValueError: the text is not such a timestamp, or names no real time.
    """
    if (
        len(value) == 20
        and value.isascii()
        and all(value[at] == mark for at, mark in _LAYOUT)
        and (
            value[:4] + value[5:7] + value[8:10] + value[11:13] + value[14:16] + value[17:19]
        ).isdigit()
    ):
        return datetime(
            int(value[:4]),
            int(value[5:7]),
            int(value[8:10]),
            int(value[11:13]),
            int(value[14:16]),
            int(value[17:19]),
            tzinfo=UTC,
        )
    return datetime.strptime(value, _TIMESTAMP_FORMAT).replace(tzinfo=UTC)


def _missing(name: str) -> _GatewayError:
    return _GatewayError(
        "MissingParameter",
        f'The input parameter "{name}" that is mandatory for processing this request '
        "is not supplied.",
    )


@dataclass
class EmulatorStats:
    """Counters the tests and benchmarks read.

    Attributes:
        requests: every HTTP request received, faults included.
        throttled: answers with ``Throttling.User`` (flow control and injected bursts).
        accepted_times: per AccessKey id, monotonic times of requests that passed
            authentication and flow control (the last `STATS_HISTORY`).
    """

    requests: int = 0
    throttled: int = 0
    accepted_times: dict[str, deque[float]] = field(default_factory=dict)

    def max_in_any_window(self, key: str | None = None, window: float = THROTTLE_WINDOW) -> int:
        """The most accepted requests that fell in any half-open window of ``window`` seconds.

        Args:
            key: one AccessKey id, or ``None`` for all keys together.
            window: the window length in seconds.
        """
        if key is None:
            times = sorted(t for history in self.accepted_times.values() for t in history)
        else:
            times = sorted(self.accepted_times.get(key, ()))
        best = 0
        start = 0
        for end, moment in enumerate(times):
            while moment - times[start] >= window:
                start += 1
            best = max(best, end - start + 1)
        return best


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    headers: Mapping[str, str]
    query: Mapping[str, str]
    form: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class _Encoded:
    """A member's value already encoded (`answer_bytes`): a listing's ``Tasks`` kept as text."""

    data: bytes


@dataclass
class _Answer:
    status: int
    payload: dict[str, object] | None = None
    raw: bytes = b""
    content_type: bytes = _JSON
    headers: list[tuple[str, str]] = field(default_factory=list)

    def body(self) -> bytes:
        if self.payload is None:
            return self.raw
        if not any(type(value) is _Encoded for value in self.payload.values()):
            return answer_bytes(self.payload)
        # The same bytes as the whole payload encoded at once: members in order, compact.
        # One join, so the tens of megabytes of a listing are copied once.
        parts: list[bytes] = []
        for name, value in self.payload.items():
            parts += (b"," if parts else b"{", answer_bytes(name), b":")
            parts.append(value.data if isinstance(value, _Encoded) else answer_bytes(value))
        parts.append(b"}")
        return b"".join(parts)


@dataclass(frozen=True)
class _Authenticated:
    key_id: str
    action: str
    version: str
    params: Mapping[str, str]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _same(expected: str, sent: str) -> bool:
    """Constant-time comparison of two strings of any characters.

    ``hmac.compare_digest`` refuses non-ASCII ``str``; a client may send anything (a pasted
    STS token with a stray character, latin-1 bytes in a header), which must be refused as a
    mismatch, not crash the emulator.
    """
    return hmac.compare_digest(expected.encode("utf-8", "replace"), sent.encode("utf-8", "replace"))


def _parse_request(scope: Mapping[str, object], body: bytes) -> _Request:
    collected: dict[str, list[str]] = {}
    raw_headers = scope.get("headers")
    if isinstance(raw_headers, Iterable):
        for pair in raw_headers:
            if isinstance(pair, tuple | list) and len(pair) == 2:
                name, value = pair
                if isinstance(name, bytes) and isinstance(value, bytes):
                    collected.setdefault(name.decode("latin-1").lower(), []).append(
                        value.decode("latin-1")
                    )
    headers = {name: ",".join(sorted(values)) for name, values in collected.items()}
    raw_query = scope.get("query_string")
    query_text = raw_query.decode("utf-8", "replace") if isinstance(raw_query, bytes) else ""
    query = dict(parse_qsl(query_text, keep_blank_values=True))
    form: dict[str, str] = {}
    content_type = headers.get("content-type", "").lower()
    if content_type.startswith("application/x-www-form-urlencoded") and body:
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return _Request(
        method=_text(scope.get("method")).upper(),
        path=_text(scope.get("path")) or "/",
        headers=headers,
        query=query,
        form=form,
        body=body,
    )


class EmulatorApp:
    """The Live API as an ASGI 3 application.

    Args:
        backend: the tasks the four actions read and change.
        credentials: AccessKey id → secret, or → (secret, STS token) for temporary keys.
        faults: faults to inject; ``None`` for none.
        clock: the server's wall clock (timestamp window, nonce expiry, ``Date`` header).
        monotonic: the clock of flow control.
        limit: accepted requests allowed per AccessKey in any 1-second window.
        sleep: awaited for the plan's latency.
        rng: source of request ids; seeded by tests that compare answers.
        jitter: the most seconds of a random one-way network delay each request spends before
            the gateway counts it (0 for none): what a real gateway sees of the network.
        jitter_rng: source of those delays.
        identity: STS, the ECS metadata service and a credentials URI
            (`asrtui.emulator.identity`); ``None`` to serve the Live API only.
    """

    def __init__(
        self,
        backend: EmulatorBackend,
        *,
        credentials: Mapping[str, str | tuple[str, str]],
        faults: FaultPlan | None = None,
        clock: Callable[[], datetime] = _utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        limit: int = 20,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        rng: random.Random | None = None,
        jitter: float = 0.0,
        jitter_rng: random.Random | None = None,
        identity: IdentityServices | None = None,
    ) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1 request per second, not {limit}")
        if not 0 <= jitter <= MAX_JITTER:
            raise ValueError(f"jitter must be between 0 and {MAX_JITTER:g} seconds, not {jitter}")
        self.jitter = jitter
        self.identity = identity
        self._jitter_rng = jitter_rng if jitter_rng is not None else random.Random()
        self.backend = backend
        self.faults = faults if faults is not None else FaultPlan()
        self.stats = EmulatorStats()
        self.limit = limit
        self._keys: dict[str, tuple[str, str]] = {
            key: (value, "") if isinstance(value, str) else value
            for key, value in credentials.items()
        }
        self._clock = clock
        self._monotonic = monotonic
        self._sleep = sleep
        self._rng = rng if rng is not None else random.Random()
        self._windows: dict[str, deque[float]] = {}
        self._nonces: dict[tuple[str, str], datetime] = {}
        self._nonce_order: deque[tuple[datetime, tuple[str, str]]] = deque()
        #: The backend's revision and the encoded ``Tasks`` of a listing of all tasks then.
        self._listing: tuple[int, _Encoded] | None = None

    def __repr__(self) -> str:
        return (
            f"EmulatorApp(keys={sorted(self._keys)!r}, limit={self.limit}, faults={self.faults!r})"
        )

    async def __call__(
        self, scope: Mapping[str, object], receive: ASGIReceive, send: ASGISend
    ) -> None:
        """Serve one ASGI connection scope (``http``; ``lifespan`` is acknowledged)."""
        kind = scope.get("type")
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        if kind != "http":
            return
        body = await self._read_body(receive)
        if body is None:
            return
        if self.jitter:
            # The way in: a request is counted and throttled when it reaches the gateway.
            await self._sleep(self._jitter_rng.uniform(0.0, self.jitter))
        self.stats.requests += 1
        request = _parse_request(scope, body)
        fault = self.faults.draw()
        if self.faults.latency:
            await self._sleep(self.faults.latency)
        if fault == "drop":
            raise ConnectionDropped("Server disconnected without sending a response.")
        if fault is not None and fault not in ("truncated", "big"):
            await self._send(send, self._fault_answer(fault))
            return
        try:
            answer = self._handle(request)
        except _GatewayError as error:
            answer = self._error(error)
        if fault == "big" and answer.payload is not None:
            answer.payload["Padding"] = "x" * BIG_BODY_BYTES
        await self._send(send, answer, truncated=fault == "truncated")

    # -- request handling ---------------------------------------------------------------

    def _handle(self, request: _Request) -> _Answer:
        identity = self.identity
        if identity is not None:
            answer = self._identity_answer(identity, request)
            if answer is not None:
                return answer
        if request.method not in ("GET", "POST") or request.path != "/":
            raise _GatewayError("InvalidApi.NotFound")
        if "authorization" in request.headers:
            auth = self._authenticate_v3(request)
        else:
            auth = self._authenticate_rpc(request)
        if identity is not None and auth.action == "AssumeRole":
            if auth.version != STS_VERSION:
                raise _GatewayError("InvalidVersion")
            return self._sts(lambda: identity.assume_role(auth.params, self._request_id()))
        self._admit(auth.key_id)
        if auth.version != API_VERSION:
            raise _GatewayError("InvalidVersion")
        self.backend.tick()
        return self._dispatch(auth.action, auth.params)

    def _identity_answer(self, identity: IdentityServices, request: _Request) -> _Answer | None:
        """The answer of the metadata service, the credentials URI or unsigned STS, or None."""
        if request.path.startswith(METADATA_PREFIX):
            status, body = identity.metadata(request.method, request.path, request.headers)
            return self._plain(status, body)
        if request.path == URI_PATH and request.method == "GET":
            status, body = identity.credentials_uri()
            return self._plain(status, body)
        params = {**request.query, **request.form}
        if request.path == "/" and params.get("Action") == "AssumeRoleWithOIDC":
            if params.get("Version") != STS_VERSION:
                raise _GatewayError("InvalidVersion")
            return self._sts(lambda: identity.assume_role_with_oidc(params, self._request_id()))
        return None

    @staticmethod
    def _plain(status: int, body: bytes) -> _Answer:
        kind = _JSON if body.startswith(b"{") else b"text/plain;charset=utf-8"
        return _Answer(status, raw=body, content_type=kind)

    @staticmethod
    def _sts(call: Callable[[], dict[str, object]]) -> _Answer:
        try:
            return _Answer(200, call())
        except IdentityError as error:
            raised = _GatewayError(error.code, error.message)
            raised.status = error.status
            raise raised from None

    def _secret_of(self, key_id: str) -> tuple[str, str]:
        found = self._keys.get(key_id)
        if found is None and self.identity is not None:
            issued = self.identity.lookup(key_id)
            if issued is not None:
                found = (issued.access_key_secret, issued.security_token)
        if found is None:
            raise _GatewayError("InvalidAccessKeyId.NotFound")
        return found

    def _check_expiry(self, key_id: str) -> None:
        """Temporary credentials issued here are refused once their expiry has passed."""
        if self.identity is not None and self.identity.expired(key_id):
            raise _GatewayError("InvalidSecurityToken.Expired")

    def _authenticate_v3(self, request: _Request) -> _Authenticated:
        headers = request.headers
        try:
            key_id, signed, signature = parse_v3_authorization(headers["authorization"])
        except ValueError:
            raise _GatewayError("IncompleteSignature") from None
        secret, token = self._secret_of(key_id)
        for name in _V3_REQUIRED:
            if not headers.get(name):
                raise _missing(name)
        self._check_timestamp(headers["x-acs-date"])
        signed_set = {name.lower() for name in signed}
        sent_token = headers.get("x-acs-security-token")
        must_sign = [*_V3_REQUIRED, *(["x-acs-security-token"] if sent_token else [])]
        if any(name not in signed_set for name in must_sign):
            raise _GatewayError(
                "IncompleteSignature",
                "The request signature does not conform to Aliyun standards: "
                f"SignedHeaders must include {';'.join(must_sign)}.",
            )
        payload_hash = headers["x-acs-content-sha256"]
        if payload_hash.lower() != sha256(request.body).hexdigest():
            raise _GatewayError(
                "SignatureDoesNotMatch", "x-acs-content-sha256 does not match the request body."
            )
        try:
            canonical = v3_canonical_request(
                request.method, request.path, request.query, headers, signed, payload_hash
            )
        except ValueError:
            raise _GatewayError("IncompleteSignature") from None
        expected = v3_signature(secret, v3_string_to_sign(canonical))
        if not _same(expected, signature):
            raise _GatewayError("SignatureDoesNotMatch")
        self._check_token(token, sent_token)
        self._check_expiry(key_id)
        self._check_nonce(key_id, headers["x-acs-signature-nonce"])
        return _Authenticated(
            key_id=key_id,
            action=headers["x-acs-action"],
            version=headers["x-acs-version"],
            params={**request.query, **request.form},
        )

    def _authenticate_rpc(self, request: _Request) -> _Authenticated:
        params = {**request.query, **request.form}
        key_id = params.get("AccessKeyId")
        if not key_id:
            raise _missing("AccessKeyId")
        secret, token = self._secret_of(key_id)
        for name in ("Signature", "Timestamp", "SignatureNonce"):
            if not params.get(name):
                raise _missing(name)
        if params.get("SignatureMethod", "HMAC-SHA1") != "HMAC-SHA1":
            raise _GatewayError(
                "IncompleteSignature", "Specified signature method is not supported."
            )
        self._check_timestamp(params["Timestamp"])
        expected = rpc_signature(secret, rpc_string_to_sign(request.method, params))
        if not _same(expected, params["Signature"]):
            raise _GatewayError("SignatureDoesNotMatch")
        self._check_token(token, params.get("SecurityToken"))
        self._check_expiry(key_id)
        self._check_nonce(key_id, params["SignatureNonce"])
        for name in ("Action", "Version"):
            if not params.get(name):
                raise _missing(name)
        business = {k: v for k, v in params.items() if k not in RPC_COMMON_PARAMS}
        return _Authenticated(
            key_id=key_id, action=params["Action"], version=params["Version"], params=business
        )

    def _check_timestamp(self, value: str) -> None:
        try:
            sent = parse_timestamp(value)
        except ValueError:
            raise _GatewayError("InvalidTimeStamp.Format") from None
        if abs(self._clock() - sent) > TIMESTAMP_WINDOW:
            raise _GatewayError("InvalidTimeStamp.Expired")

    @staticmethod
    def _check_token(expected: str, sent: str | None) -> None:
        if expected and not sent:
            raise _GatewayError("MissingSecurityToken")
        if (sent or expected) and not _same(expected, sent or ""):
            raise _GatewayError("InvalidSecurityToken.MismatchWithAccessKey")

    def _check_nonce(self, key_id: str, nonce: str) -> None:
        now = self._clock()
        while self._nonce_order and now - self._nonce_order[0][0] > TIMESTAMP_WINDOW:
            _, old = self._nonce_order.popleft()
            self._nonces.pop(old, None)
        entry = (key_id, nonce)
        if entry in self._nonces:
            raise _GatewayError("SignatureNonceUsed")
        self._nonces[entry] = now
        self._nonce_order.append((now, entry))

    def _admit(self, key_id: str) -> None:
        now = self._monotonic()
        window = self._windows.setdefault(key_id, deque())
        while window and now - window[0] >= THROTTLE_WINDOW:
            window.popleft()
        if len(window) >= self.limit:
            self.stats.throttled += 1
            retry_after = self.faults.retry_after_ms
            if retry_after is None:
                retry_after = max(1, math.ceil((window[0] + THROTTLE_WINDOW - now) * 1000))
            raise _GatewayError(
                "Throttling.User", headers=[("x-acs-retry-after", str(retry_after))]
            )
        window.append(now)
        history = self.stats.accepted_times.setdefault(key_id, deque(maxlen=STATS_HISTORY))
        history.append(now)

    # -- actions --------------------------------------------------------------------------

    def _dispatch(self, action: str, params: Mapping[str, str]) -> _Answer:
        if action == "QueryRtcAsrTasks":
            task_id = params.get("TaskId") or None
            if task_id is None:
                return self._success({"Tasks": self._all_tasks()})
            return self._success({"Tasks": self.backend.query(task_id) or {}})
        if action == "CreateRtcAsrTask":
            for name in ("Mode", "Language", "CallbackURL"):
                if not params.get(name):
                    raise _missing(name)
            try:
                task_id = self.backend.create(params)
            except InvalidTaskRequest as rejected:
                return _Answer(
                    200,
                    {
                        "Description": rejected.description,
                        "RequestId": self._request_id(),
                        "RetCode": rejected.ret_code,
                    },
                )
            return self._success({"TaskId": task_id})
        if action in ("StopRtcAsrTask", "DeleteRtcAsrTask"):
            target = params.get("TaskId")
            if not target:
                raise _missing("TaskId")
            done = (
                self.backend.stop(target)
                if action == "StopRtcAsrTask"
                else self.backend.delete(target)
            )
            if not done:
                raise _GatewayError("ConfigNotFound")
            return self._success({})
        raise _GatewayError("InvalidApi.NotFound")

    def _all_tasks(self) -> _Encoded:
        """Every running task, encoded; kept while the backend's tasks stay as they are.

        A gateway answers a large unchanged listing without building it again; encoding
        100,000 tasks each time would be most of the emulator's time to answer.
        """
        revision = self.backend.revision
        if self._listing is None or self._listing[0] != revision:
            self._listing = (revision, _Encoded(answer_bytes(self.backend.query(None) or {})))
        return self._listing[1]

    # -- answers --------------------------------------------------------------------------

    def _request_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4)).upper()

    def _success(self, extra: Mapping[str, object]) -> _Answer:
        payload: dict[str, object] = {
            "Description": "success",
            "RequestId": self._request_id(),
            "RetCode": SUCCESS_RETCODE,
        }
        payload.update(extra)
        return _Answer(200, payload)

    def _error(self, error: _GatewayError) -> _Answer:
        request_id = self._request_id()
        return _Answer(
            error.status,
            {
                "RequestId": request_id,
                "HostId": HOST_ID,
                "Code": error.code,
                "Message": error.message,
                "Recommend": (
                    f"https://api.aliyun.com/troubleshoot?q={error.code}"
                    f"&product=live&requestId={request_id}"
                ),
            },
            headers=error.headers,
        )

    def _fault_answer(self, fault: str) -> _Answer:
        if fault == "500":
            return self._error(_GatewayError("InternalError"))
        if fault == "503":
            return self._error(_GatewayError("ServiceUnavailable"))
        if fault == "throttle":
            self.stats.throttled += 1
            retry = self.faults.retry_after_ms
            hint = [] if retry is None else [("x-acs-retry-after", str(retry))]
            return self._error(_GatewayError("Throttling.User", headers=hint))
        if fault == "html":
            return _Answer(502, raw=_HTML_PAGE, content_type=b"text/html")
        request_id = self._request_id()
        if fault == "malformed":
            raw = f'{{"RequestId":"{request_id}","RetCode":2000,"Tasks":{{"asr-'.encode()
            return _Answer(200, raw=raw + b"}")
        # wrongtypes: valid JSON whose fields have types the documentation never shows.
        variants: list[dict[str, object]] = [
            {"Description": "success", "RequestId": request_id, "RetCode": 2000, "Tasks": 7},
            {"Description": "success", "RequestId": request_id, "RetCode": 2000, "Tasks": [1]},
            {"Description": 0, "RequestId": 42, "RetCode": "2000", "Tasks": "none"},
            {
                "Description": "success",
                "RequestId": request_id,
                "RetCode": 2000,
                "Tasks": {"asr-wrong": {"taskId": 5, "status": "1", "createdAt": 17e8}},
            },
        ]
        return _Answer(200, variants[self.faults.variant(len(variants))])

    def _headers(self, answer: _Answer, length: int) -> list[tuple[bytes, bytes]]:
        headers = [
            (b"content-type", answer.content_type),
            (b"content-length", str(length).encode()),
            (b"date", format_datetime(self._clock().astimezone(UTC), usegmt=True).encode()),
        ]
        if answer.payload is not None and isinstance(answer.payload.get("RequestId"), str):
            headers.append((b"x-acs-request-id", str(answer.payload["RequestId"]).encode()))
        headers.extend((name.encode(), value.encode()) for name, value in answer.headers)
        return headers

    async def _send(self, send: ASGISend, answer: _Answer, *, truncated: bool = False) -> None:
        """Send ``answer``; ``truncated``: its first half, then drop the connection."""
        body = answer.body()
        await send(
            {
                "type": "http.response.start",
                "status": answer.status,
                "headers": self._headers(answer, len(body)),
            }
        )
        if not truncated:
            await send({"type": "http.response.body", "body": body})
            return
        await send(
            {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
        )
        raise ConnectionDropped("peer closed connection without sending complete message body")

    # -- ASGI plumbing --------------------------------------------------------------------

    @staticmethod
    async def _read_body(receive: ASGIReceive) -> bytes | None:
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message.get("type") == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            if isinstance(chunk, bytes):
                chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    @staticmethod
    async def _lifespan(receive: ASGIReceive, send: ASGISend) -> None:
        while True:
            message = await receive()
            if message.get("type") == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message.get("type") == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
