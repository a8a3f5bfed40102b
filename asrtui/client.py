"""The Live API client: one httpx connection pool, the shared limiter, retries, error translation.

Every request of the process goes through `LiveClient._call`, which owns the policy:

1. each attempt (retries included) first passes the account's `WindowLimiter`, so the client
   never sends more than the account's quota in any 1-second window;
2. the attempt is signed afresh by `SignerAuth` (new timestamp and nonce), so a retry is never
   rejected as a replay;
3. the answer is read by streaming with a size cap, then decoded by `asrtui.wire` on both error
   channels (HTTP 4xx/5xx gateway envelopes and HTTP 200 with ``RetCode`` != 2000);
4. throttling, server errors, transport failures and truncated bodies are retried with
   exponential backoff and full jitter (honouring ``x-acs-retry-after``), at most
   ``max_attempts`` attempts in all; everything else fails at once;
5. every httpx exception is translated into `asrtui.errors` (by `asrtui.transport`, which
   owns the exchange itself), so nothing above this module ever sees a transport library's
   exception; an error answer's hint is worded here for the call (`asrtui.errors.in_context`).

The official SDKs retry nothing for ``live``; these retries are ours, and bounded.

Over 450 lines, and one thing: the policy every request follows. The five API calls are a
few lines each over `LiveClient._call`; what is long is the attempt loop, the limiter's
choice by account and the counters the status line reads, which share the client's state
and would only be passed back and forth if split.
"""

from __future__ import annotations

import asyncio
import builtins
import gc
import logging
import os
import random
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Literal, Protocol, Self, TypeVar

import httpx

from asrtui import __version__
from asrtui.answersize import DEFAULT_MAX_ANSWER_MB, MIB
from asrtui.credentials import Credentials
from asrtui.credentials.provider import CredentialsInfo, CredentialsProvider, as_provider
from asrtui.errors import (
    ApiError,
    AsrtuiError,
    CallContext,
    ConfigError,
    TaskNotFoundError,
    ThrottledError,
    TimeoutError,
    in_context,
)
from asrtui.models import Task, TaskList
from asrtui.printable import printable_line
from asrtui.quotastats import QuotaStats
from asrtui.ratelimit import Grant, WindowLimiter
from asrtui.readonly import ReadOnly
from asrtui.signing import CREDENTIALS_EXTENSION, SignerAuth
from asrtui.transport import HttpExchange
from asrtui.wire import (
    TaskMemo,
    check_ret_code,
    decode_json_object,
    error_from_gateway,
    parse_created_task_id,
    parse_tasks,
)

__all__ = [
    "API_VERSION",
    "DEFAULT_REQUEST_TIMEOUT",
    "READ_ACTIONS",
    "ClientCounters",
    "LiveClient",
]

_log = logging.getLogger("asrtui.client")

_T = TypeVar("_T")

#: The Live API version every action of this client speaks.
API_VERSION = "2016-11-01"

#: Answers larger than this are refused rather than buffered (a 10,000-task answer is ~5 MB);
#: the console and the command line pass the setting of `asrtui.answersize`.
DEFAULT_MAX_BODY_BYTES = DEFAULT_MAX_ANSWER_MB * MIB

#: Answers at least this large are decoded and parsed in a worker thread, not on the event
#: loop: some 500 tasks, a few milliseconds of work. The thread holds the GIL while it works
#: (the JSON decoder is C code that does not let go of it), but the interpreter hands the GIL
#: back to the loop every few milliseconds of Python work, so a console keeps drawing and
#: answering keys while tens of thousands of tasks are read. Smaller answers stay on the loop:
#: the hop to a thread would cost more than it saves.
OFF_LOOP_BYTES = 256 * 1024

_DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)

#: Seconds one attempt may take from connecting to the last byte of the answer. httpx's
#: timeouts bound each step (the connect, each read) but not their sum, so a server that
#: trickles a byte every few seconds would hold a request forever: this bounds the whole.
#: A little above the read timeout, so a slow but steady answer still fits.
DEFAULT_REQUEST_TIMEOUT = 15.0


def _parse_emptying(answer: list[dict[str, object]], memo: TaskMemo) -> TaskList:
    """`parse_tasks` of the one envelope in ``answer``, emptying ``answer`` (see `list_tasks`)."""
    try:
        return parse_tasks(answer[0], memo)
    finally:
        answer.clear()


def _without_cycle_collection(work: Callable[..., _T], /, *args: Any, **kwargs: Any) -> _T:
    """``work(*args, **kwargs)`` with the cyclic garbage collector kept out of it.

    Decoding and parsing a large answer makes a few objects per task, none in a cycle, that
    live on: the collector, triggered every 700 new objects, would walk them all again and
    again, a cost growing faster than the task count (a third of the work at 50,000 tasks).
    Reference counting frees what is dropped; collecting resumes when the work is done.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return work(*args, **kwargs)
    finally:
        if was_enabled:
            gc.enable()


#: Environment variables that send requests through a proxy (httpx reads them, any case).
_PROXY_VARIABLES = frozenset({"http_proxy", "https_proxy", "all_proxy"})


def _tls_context_for(endpoint: str) -> ssl.SSLContext | bool:
    """What httpx verifies TLS with: its default, or for a plain-HTTP endpoint one that refuses.

    httpx loads the whole CA bundle for every client it makes, TLS or not: 50 to 100 ms of each
    ``asrtui tasks`` and of the console's start against an emulator or a local gateway on
    ``http://``, where no TLS is spoken. There a context that trusts no certificate at all
    stands in: it costs nothing and fails closed, should TLS ever be spoken (through a proxy
    named in the environment, the one way: then the default is kept).
    """
    if endpoint[:7].lower() != "http://":
        return True
    if any(name.lower() in _PROXY_VARIABLES for name in os.environ):
        return True
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies hostnames, trusts no CA


class BodyReader(Protocol):
    """Reads an answer's body as it arrives (`asrtui.wire.stream.TaskObjectStream`)."""

    def __call__(self, chunk: bytes) -> object:
        """Take the next chunk of a successful answer's body."""

    def envelope(self, body: bytes | bytearray) -> dict[str, Any] | None:
        """The whole ``body`` decoded as `asrtui.wire.decode_json_object` would, if checked.

        ``None``: the client decodes it (with its errors).
        """


@dataclass(frozen=True)
class ClientCounters:
    """What the status line shows about the client itself.

    Attributes:
        calls_total: public operations started.
        attempts_total: HTTP attempts sent (retries included).
        throttled_total: ``Throttling*`` answers seen.
        errors_total: operations that failed after their retries.
        last_latency: seconds the last answered attempt took, ``None`` before the first.
    """

    calls_total: int = 0
    attempts_total: int = 0
    throttled_total: int = 0
    errors_total: int = 0
    last_latency: float | None = None


def _utc_now() -> datetime:
    return datetime.now(UTC)


#: The actions that change nothing. In read-only mode every other action is refused before it
#: is sent: an action added later is refused until it is listed here, not allowed by mistake.
READ_ACTIONS = frozenset({"QueryRtcAsrTasks"})

#: How a refusal names a changing action ("Refusing to stop task X").
_VERBS = {"StopRtcAsrTask": "stop", "DeleteRtcAsrTask": "delete", "CreateRtcAsrTask": "create"}

#: The longest ``x-acs-retry-after`` wait honoured before a retry, in seconds.
MAX_RETRY_AFTER = 30.0


def _attempt_credentials() -> Credentials:
    """The signer's fallback source: never used, each attempt carries its own credentials."""
    raise RuntimeError("a request of LiveClient was sent without its attempt's credentials")


class LiveClient:
    """Calls the four real-time ASR actions of the Live API for one account.

    Open it with ``async with LiveClient(...) as client:``; the connection pool is closed on
    exit. One instance per account and endpoint is enough for a whole session: the UI's
    refresh worker and user actions share it (and its limiter).

    Args:
        credentials: hands out the current credentials, asked once per attempt so rotating STS
            credentials are picked up (a plain function is wrapped, see
            `asrtui.credentials.provider.as_provider`).
        endpoint: base URL (``https://live.aliyuncs.com``, ``http://127.0.0.1:8080``).
        region: the ``RegionId`` sent with every action.
        signature: ``v3`` (ACS3-HMAC-SHA256, the default) or ``rpc`` (HMAC-SHA1).
        limiter: the account's limiter, or what builds it on first use from the account's
            quota key (the composition root, `asrtui.connect`, chooses it by account: the
            client never looks one up). By default a limiter of this client alone.
        rate_limit: calls per second for the default limiter (20 is the documented quota).
        profile: the profile name, quoted in credential hints.
        transport: an httpx transport (tests and ``--demo`` pass ``httpx.ASGITransport``).
        timeout: httpx timeout; the official SDK's connect 5 s / read 10 s by default.
        request_timeout: seconds one attempt may take in all (connect, headers and body),
            `DEFAULT_REQUEST_TIMEOUT` by default. An attempt that runs out of time, or hits
            one of the httpx timeouts, is not retried (see `_is_retryable`).
        max_attempts: attempts in all for one operation, retries included.
        retry_base: first backoff ceiling in seconds (doubles per retry).
        retry_cap: largest backoff ceiling in seconds.
        sleep: awaited between retries (tests pass a fake).
        rng: uniform [0, 1) source for the jitter (tests pass a fixed one).
        clock: wall clock (aware UTC) used to measure the offset from the server's ``Date``.
        monotonic: monotonic clock used for latencies.
        max_body_bytes: answers larger than this raise `MalformedResponseError`.
        read_only: when true, every action but a query (`READ_ACTIONS`) raises
            `ReadOnlyError` naming the cause, before any request is sent.
    """

    def __init__(
        self,
        credentials: CredentialsProvider | Callable[[], Credentials],
        endpoint: str,
        *,
        region: str = "cn-shanghai",
        signature: Literal["v3", "rpc"] = "v3",
        limiter: WindowLimiter | Callable[[str], WindowLimiter] | None = None,
        rate_limit: int = 20,
        profile: str = "",
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout | float | None = None,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        max_attempts: int = 4,
        retry_base: float = 0.2,
        retry_cap: float = 5.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: Callable[[], float] = random.random,
        clock: Callable[[], datetime] = _utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        read_only: ReadOnly | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not request_timeout > 0:
            raise ValueError("request_timeout must be positive")
        self._credentials = as_provider(credentials)
        self.endpoint = endpoint.rstrip("/")
        self.region = region
        self.signature = signature
        self.profile = profile
        self._limiter = limiter
        self._rate_limit = rate_limit
        self._transport = transport
        self._timeout = _DEFAULT_TIMEOUT if timeout is None else timeout
        self.request_timeout = request_timeout
        self.max_attempts = max_attempts
        self.retry_base = retry_base
        self.retry_cap = retry_cap
        self._sleep = sleep
        self._rng = rng
        self._clock = clock
        self._monotonic = monotonic
        self.max_body_bytes = max_body_bytes
        self._exchange = HttpExchange(
            self.endpoint,
            profile=profile,
            max_body_bytes=max_body_bytes,
            request_timeout=request_timeout,
        )
        self.read_only = read_only if read_only is not None else ReadOnly()
        self._http: httpx.AsyncClient | None = None
        #: Local minus server clock in seconds, measured from ``Date``; ``None`` until known.
        self.clock_offset: float | None = None
        self._counters = ClientCounters()
        #: The tasks of the last listing, so that those received unchanged are not parsed again.
        self._task_memo = TaskMemo()
        #: Whether the last listing was large enough to be parsed off the loop (set by
        #: `list_tasks` alone, from its own answer's size).
        self._large_answer = False

    def __repr__(self) -> str:
        return (
            f"LiveClient(endpoint={self.endpoint!r}, region={self.region!r}, "
            f"signature={self.signature!r}, profile={self.profile!r})"
        )

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def open(self) -> None:
        """Create the connection pool (``async with`` does this for you)."""
        if self._http is not None:
            return
        self._http = httpx.AsyncClient(
            auth=SignerAuth(_attempt_credentials, version=self.signature, clock=self._clock),
            transport=self._transport,
            timeout=self._timeout,
            headers={"user-agent": f"asrtui/{__version__}", "accept": "application/json"},
            follow_redirects=False,
            verify=_tls_context_for(self.endpoint) if self._transport is None else True,
        )

    async def aclose(self) -> None:
        """Close the connection pool; safe to call twice."""
        http, self._http = self._http, None
        if http is not None:
            await http.aclose()

    # -- state for the status line -----------------------------------------------------------

    @property
    def credentials_info(self) -> CredentialsInfo:
        """Where the credentials come from and when they expire (never a secret)."""
        return self._credentials.info()

    @property
    def limiter(self) -> WindowLimiter:
        """The account's limiter (built on first use by what the composition root handed in).

        Before the first attempt of a provider that does not know its key id yet (a role
        not assumed yet), a private limiter with no history stands in: it is not kept.
        """
        limiter = self._limiter
        if isinstance(limiter, WindowLimiter):
            return limiter
        key = self._quota_key(None)
        if not key:
            return WindowLimiter(self._rate_limit)
        return self._build_limiter(key)

    def quota_stats(self) -> QuotaStats:
        """The status line's record: the limiter's, with this client's failures and clock."""
        return replace(
            self.limiter.stats(),
            errors_total=self._counters.errors_total,
            clock_offset=self.clock_offset,
        )

    def _quota_key(self, credentials: Credentials | None) -> str:
        """The account's identity for the quota: stable across refreshes of temporary keys."""
        info = self._credentials.info()
        if info.quota_key:
            return info.quota_key
        if credentials is not None:
            return credentials.access_key_id
        return info.access_key_id

    def _limiter_of(self, credentials: Credentials) -> WindowLimiter:
        limiter = self._limiter
        if isinstance(limiter, WindowLimiter):
            return limiter
        return self._build_limiter(self._quota_key(credentials))

    def _build_limiter(self, key: str) -> WindowLimiter:
        """The limiter the composition root chooses for ``key`` (else one of this client alone)."""
        factory = self._limiter
        assert not isinstance(factory, WindowLimiter)
        limiter = factory(key) if factory is not None else WindowLimiter(self._rate_limit)
        self._limiter = limiter
        return limiter

    @property
    def counters(self) -> ClientCounters:
        """A snapshot of the client's counters."""
        return self._counters

    def _count(self, **deltas: int) -> None:
        c = self._counters
        self._counters = ClientCounters(
            calls_total=c.calls_total + deltas.get("calls", 0),
            attempts_total=c.attempts_total + deltas.get("attempts", 0),
            throttled_total=c.throttled_total + deltas.get("throttled", 0),
            errors_total=c.errors_total + deltas.get("errors", 0),
            last_latency=c.last_latency,
        )

    def _set_latency(self, seconds: float) -> None:
        self._counters = replace(self._counters, last_latency=seconds)

    # -- operations ----------------------------------------------------------------------------

    async def list_tasks(self, *, priority: bool = False) -> TaskList:
        """All running tasks of the account (``QueryRtcAsrTasks`` without ``TaskId``).

        Args:
            priority: ``True`` for a user-initiated refresh, which overtakes background ones.
        """
        envelope, size = await self._call_sized("QueryRtcAsrTasks", {}, priority=priority)
        # This answer's own size: a detail fetch answered meanwhile must not send a large
        # listing's parse back onto the event loop (it did, through a shared flag).
        self._large_answer = size >= OFF_LOOP_BYTES
        if self._large_answer:
            # Handed over in a box the thread empties: the answer (its ``Tasks`` members, one
            # object a task) is then freed there, not on the event loop, where freeing it
            # took one uninterrupted step of several milliseconds at 100,000 tasks.
            answer = [envelope]
            del envelope
            return await asyncio.to_thread(
                _without_cycle_collection, _parse_emptying, answer, self._task_memo
            )
        return parse_tasks(envelope, self._task_memo)

    async def list_tasks_answer(
        self,
        *,
        priority: bool = False,
        body_reader: Callable[[], BodyReader] | None = None,
    ) -> dict[str, object]:
        """`list_tasks`' answer decoded and checked, its tasks not yet parsed.

        For a caller that writes the tasks back as received (``asrtui tasks --format json``):
        `asrtui.wire.flat_task_objects` hands it the task objects of the usual answer without
        making a `Task` of each, and `asrtui.wire.parse_tasks` reads any other (its errors
        included). The task memo is neither used nor changed.

        Args:
            priority: ``True`` for a user-initiated listing.
            body_reader: called once per attempt; what it returns is given each chunk of a
                successful answer's body as it arrives (`asrtui.wire.stream.TaskObjectStream`), so
                the caller works while the rest arrives. Only the last attempt's counts: the
                answer returned is the one it was given.
        """
        return await self._call("QueryRtcAsrTasks", {}, priority=priority, body_reader=body_reader)

    async def get_task(self, task_id: str, *, priority: bool = True) -> Task | None:
        """One task by id; ``None`` when the service no longer knows it.

        Args:
            priority: ``True`` (the default) when someone is waiting for this very answer.
        """
        try:
            envelope = await self._call(
                "QueryRtcAsrTasks", {"TaskId": task_id}, priority=priority, not_found_ok=True
            )
        except TaskNotFoundError:
            return None
        for task in parse_tasks(envelope).tasks:
            if task.task_id == task_id:
                return task
        return None

    async def stop_task(self, task_id: str) -> None:
        """Stop a running task (``StopRtcAsrTask``)."""
        await self._call("StopRtcAsrTask", {"TaskId": task_id}, priority=True)

    async def delete_task(self, task_id: str) -> None:
        """Delete a task (``DeleteRtcAsrTask``)."""
        await self._call("DeleteRtcAsrTask", {"TaskId": task_id}, priority=True)

    async def create_task(
        self,
        *,
        mode: Literal["live", "rtc"],
        language: str,
        callback_url: str,
        stream_url: str | None = None,
        sdk_app_id: str | None = None,
        channel_id: str | None = None,
        rtc_user_id: str | None = None,
        translate_enabled: bool | None = None,
        target_languages: str | None = None,
        auth_key: str | None = None,
        report_interval: int | None = None,
        auto_terminate_enabled: bool | None = None,
        auto_terminate_delay: int | None = None,
    ) -> str:
        """Create a task (``CreateRtcAsrTask``, in maintenance mode) and return its id.

        The parameters are the documented ones (api-reference §1), passed through as given;
        the service validates them. ``target_languages`` is comma-separated (``en,ja``).
        """
        optional: Mapping[str, str | int | bool | None] = {
            "StreamURL": stream_url,
            "SDKAppID": sdk_app_id,
            "ChannelID": channel_id,
            "RtcUserId": rtc_user_id,
            "TranslateEnabled": translate_enabled,
            "TargetLanguages": target_languages,
            "AuthKey": auth_key,
            "ReportInterval": report_interval,
            "AutoTerminateEnabled": auto_terminate_enabled,
            "AutoTerminateDelay": auto_terminate_delay,
        }
        params = {"Mode": mode, "Language": language, "CallbackURL": callback_url}
        for name, value in optional.items():
            if value is None:
                continue
            params[name] = ("true" if value else "false") if isinstance(value, bool) else str(value)
        envelope = await self._call("CreateRtcAsrTask", params, priority=True)
        return parse_created_task_id(envelope)

    # -- the one request path ------------------------------------------------------------------

    async def _call(
        self,
        action: str,
        params: Mapping[str, str],
        *,
        priority: bool,
        not_found_ok: bool = False,
        body_reader: Callable[[], BodyReader] | None = None,
    ) -> dict[str, object]:
        """Send ``action`` with retries; return the decoded success envelope (`_call_sized`)."""
        envelope, _ = await self._call_sized(
            action, params, priority=priority, not_found_ok=not_found_ok, body_reader=body_reader
        )
        return envelope

    async def _call_sized(
        self,
        action: str,
        params: Mapping[str, str],
        *,
        priority: bool,
        not_found_ok: bool = False,
        body_reader: Callable[[], BodyReader] | None = None,
    ) -> tuple[dict[str, object], int]:
        """Send ``action`` with retries; return the decoded success envelope and its size.

        The size (bytes of the body) is returned with the envelope, not kept on the client:
        calls run concurrently (a refresh and a detail fetch), and each decides by its own.

        Raises:
            ReadOnlyError: the client is read-only and ``action`` changes something (checked
                before anything is counted, waited for or sent).
            AsrtuiError: the final error once retries are exhausted or not allowed.
        """
        if self.read_only and action not in READ_ACTIONS:
            raise self.read_only.refusal(_describe_change(action, params))
        self._count(calls=1)
        query = {"RegionId": self.region, **params} if self.region else dict(params)
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._attempt(
                    action, query, priority=priority, body_reader=body_reader
                )
            except AsrtuiError as error:
                if attempt >= self.max_attempts or not self._is_retryable(error):
                    if not (not_found_ok and isinstance(error, TaskNotFoundError)):
                        self._count(errors=1)
                    _log.debug("%s failed after %d attempt(s): %r", action, attempt, error)
                    raise
                delay = self._backoff(attempt, error)
                _log.debug(
                    "%s attempt %d failed (%s); retrying in %.3f s",
                    action,
                    attempt,
                    type(error).__name__,
                    delay,
                )
                await self._sleep(delay)

    @staticmethod
    def _is_retryable(error: AsrtuiError) -> bool:
        """Throttling, server errors, transport failures and malformed answers are retried.

        Not TLS failures and usage errors (they fail the same way again), and not timeouts: a
        timed-out attempt already took the whole wait, and retrying it would multiply the time
        before anyone hears of the failure by ``max_attempts`` (a console would show the old
        data as current for a minute). The error stays ``retryable`` for the callers: the
        console's next refresh, or the next round of ``tasks --watch``, is the retry.
        """
        if isinstance(error, TimeoutError):
            return False
        return error.retryable and not isinstance(error, ConfigError)

    def _backoff(self, attempt: int, error: AsrtuiError) -> float:
        """Full jitter over an exponential ceiling, never shorter than the server asked.

        The server's wait is capped by `_server_wait`.
        """
        ceiling = min(self.retry_cap, self.retry_base * 2.0 ** (attempt - 1))
        delay = self._rng() * ceiling
        wait = _server_wait(error)
        return wait if wait is not None and wait > delay else delay

    async def _attempt(
        self,
        action: str,
        query: Mapping[str, str],
        *,
        priority: bool,
        body_reader: Callable[[], BodyReader] | None = None,
    ) -> tuple[dict[str, object], int]:
        """One limiter grant, one signed send, one bounded read, one decode; and the size."""
        http = self._http
        if http is None:
            raise RuntimeError("LiveClient used outside 'async with'")
        # Once per attempt: a temporary provider answers from its cache and refreshes in the
        # background; the signer takes these from the request, never asks again.
        credentials = await self._credentials.get()
        connection = _ConnectionWatch()
        try:
            request = http.build_request(
                "POST",
                f"{self.endpoint}/",
                params=dict(query),
                headers={"x-acs-action": action, "x-acs-version": API_VERSION},
                extensions={CREDENTIALS_EXTENSION: credentials, "trace": connection},
            )
        except httpx.InvalidURL as exc:
            # Before the limiter: a request that cannot be sent takes no slot of the quota.
            raise self._exchange.invalid_url(exc, query) from None
        limiter = self._limiter_of(credentials)
        grant = connection.grant = await limiter.acquire(priority=priority)
        self._count(attempts=1)
        started = self._monotonic()
        try:
            async with asyncio.timeout(self.request_timeout):
                reader = body_reader() if body_reader is not None else None
                status, headers, body = await self._exchange.send(http, request, reader)
        except builtins.TimeoutError:
            raise self._exchange.deadline_exceeded() from None
        finally:
            grant.done()  # the server counted it by now: hold its slot from here
        self._set_latency(self._monotonic() - started)
        self._measure_clock(headers.get("date"))
        request_id = headers.get("x-acs-request-id", "")
        _log.debug(
            "%s -> HTTP %d, %d bytes in %.3f s",
            action,
            status,
            len(body),
            self._counters.last_latency or 0.0,
        )
        if not 200 <= status < 300:
            error = in_context(
                error_from_gateway(status, bytes(body), headers), self._context(action)
            )
            if isinstance(error, ThrottledError):
                self._count(throttled=1)
                limiter.on_throttled(_server_wait(error))
            else:
                limiter.on_success()
            raise error
        # What read the body as it arrived may have checked it whole already: not again.
        read = reader.envelope(body) if reader is not None else None
        if read is not None:
            envelope = read
        elif len(body) >= OFF_LOOP_BYTES:
            envelope = await asyncio.to_thread(
                _without_cycle_collection,
                decode_json_object,
                body,
                http_status=status,
                request_id_hint=request_id,
            )
        else:
            envelope = decode_json_object(body, http_status=status, request_id_hint=request_id)
        limiter.on_success()
        try:
            check_ret_code(envelope)
        except ApiError as error:
            raise in_context(error, self._context(action)) from None
        return envelope, len(body)

    def _context(self, action: str) -> CallContext:
        """What an error's hint names for a call: the action, the profile, the clock."""
        return CallContext(action, self.profile, self.clock_offset)

    def _measure_clock(self, date_header: str | None) -> None:
        if not date_header:
            return
        try:
            server = parsedate_to_datetime(date_header)
        except (TypeError, ValueError, IndexError):
            return
        if server.tzinfo is None:
            server = server.replace(tzinfo=UTC)
        self.clock_offset = (self._clock() - server).total_seconds()


class _ConnectionWatch:
    """httpcore's ``trace`` extension: tells the request's grant when it opens a connection.

    A request that has to connect first reaches the server later than its grant by the
    handshake, which no round trip measured on a warm connection says; the limiter counts it
    as the slowest case (`asrtui.ratelimit.Grant.fresh_connection`). Transports that do not
    trace (``httpx.ASGITransport``) never call it: their requests need no connection.
    """

    __slots__ = ("grant",)

    #: The events of a connection being opened (a plain or a proxy's TCP, a Unix socket).
    _OPENING = (".connect_tcp.started", ".connect_unix_socket.started")

    def __init__(self) -> None:
        self.grant: Grant | None = None

    async def __call__(self, event: str, info: Mapping[str, object]) -> None:
        if self.grant is not None and event.endswith(self._OPENING):
            self.grant.fresh_connection()


def _describe_change(action: str, params: Mapping[str, str]) -> str:
    """``stop task X``, ``create a task``, ``call SomeAction``: a refused change, one line."""
    verb = _VERBS.get(action)
    if verb is None:
        return f"call {action}"
    task_id = params.get("TaskId")
    if not task_id:
        return f"{verb} a task"
    return f"{verb} task {printable_line(task_id[:60])}" + ("..." if len(task_id) > 60 else "")


def _server_wait(error: AsrtuiError) -> float | None:
    """The seconds the server asked to wait (``x-acs-retry-after``), at most `MAX_RETRY_AFTER`.

    `asrtui.wire` reads the header into the error; the cap applies both to the backoff and to
    the hold the limiter (and through its ledger every process of the account) puts on all
    grants: a broken or hostile answer must not park a console for an hour.
    """
    retry_after = error.retry_after if isinstance(error, ApiError) else None
    return None if retry_after is None else min(retry_after, MAX_RETRY_AFTER)
