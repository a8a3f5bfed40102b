"""The project's one exception tree: every failure a user can meet, with a hint to act on.

Every httpx exception and every error answer of the Live API is translated into this tree at
the client boundary, so the UI and the CLI never see a transport library's exceptions and can
always print ``str(error)``: one line that names what happened, the error code and what to do.

Tree::

    AsrtuiError                      base: message + hint; str() is one printable line
    ├── ConfigError                  bad CLI arguments, profiles, credential files (exit code 2)
    │   ├── CredentialsError         no credentials, unreadable or world-readable secrets
    │   ├── ReadOnlyError            a change refused in read-only mode (flag, env, profile)
    │   └── InvalidTaskIdError       a task id that cannot be one (empty, too long, control chars)
    ├── TransportError               the request never got an answer (exit code 1)
    │   ├── ConnectError             DNS failure, connection refused or reset
    │   ├── TlsError                 certificate or TLS handshake failure
    │   └── TimeoutError             connect or read timeout, or the whole request took too long
    ├── MalformedResponseError       an answer arrived but is not the documented wire format
    ├── CredentialsServiceError      STS, ECS metadata or a credentials URI failed (exit code 1)
    └── ApiError                     the API answered with an error (code, request id, status)
        ├── ThrottledError           Throttling, Throttling.User, Throttling.Api   (retryable)
        ├── ServerError              5xx, InternalError, ServiceUnavailable        (retryable)
        ├── AuthError                the request was not accepted as signed
        │   ├── SignatureError       SignatureDoesNotMatch, IncompleteSignature
        │   ├── AccessKeyError       InvalidAccessKeyId.NotFound / .Inactive
        │   ├── ClockSkewError       InvalidTimeStamp.Expired / .Format
        │   ├── NonceError           SignatureNonceUsed
        │   └── SecurityTokenError   InvalidSecurityToken.*, MissingSecurityToken
        ├── PermissionDeniedError    Forbidden.RAM, Forbidden, NoPermission
        ├── RequestError             MissingParameter, InvalidParameter, InvalidApi.NotFound, ...
        └── TaskNotFoundError        the task id is unknown (ConfigNotFound and friends)

Errors never carry secrets: messages are built from codes, server messages and ids only.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AccessKeyError",
    "ApiError",
    "AsrtuiError",
    "AuthError",
    "CallContext",
    "ClockSkewError",
    "ConfigError",
    "ConnectError",
    "CredentialsError",
    "CredentialsServiceError",
    "InvalidTaskIdError",
    "MalformedResponseError",
    "NonceError",
    "PermissionDeniedError",
    "ReadOnlyError",
    "RequestError",
    "SecurityTokenError",
    "ServerError",
    "SignatureError",
    "TaskNotFoundError",
    "ThrottledError",
    "TimeoutError",
    "TlsError",
    "TransportError",
    "api_error_from",
    "in_context",
]


class AsrtuiError(Exception):
    """Base of every error asrtui raises on purpose.

    Args:
        message: what happened, in a sentence.
        hint: what the user can do about it (may be empty).
    """

    #: Whether retrying the same request later may succeed.
    retryable: bool = False
    #: The process exit code the headless CLI uses for this error.
    exit_code: int = 1

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}: {self.hint}" if self.hint else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, hint={self.hint!r})"


class ConfigError(AsrtuiError):
    """A usage or configuration problem the user fixes locally (exit code 2)."""

    exit_code = 2


class CredentialsError(ConfigError):
    """Credentials are missing, unreadable, or stored unsafely."""


class ReadOnlyError(ConfigError):
    """A change (stop, delete, create...) refused before any request, in read-only mode."""


class InvalidTaskIdError(ConfigError):
    """A task id given to asrtui cannot be a task id (see `asrtui.taskid`); nothing was sent."""


class TransportError(AsrtuiError):
    """The request got no HTTP answer at all."""

    retryable = True


class ConnectError(TransportError):
    """DNS failure, connection refused, reset or dropped."""


class TlsError(TransportError):
    """TLS handshake or certificate verification failed."""

    retryable = False


class TimeoutError(TransportError):  # mirrors httpx.TimeoutException
    """The server did not answer within the connect or read timeout, or the request deadline."""


class MalformedResponseError(AsrtuiError):
    """An answer arrived but is not in the documented wire format."""

    retryable = True

    def __init__(
        self, message: str, hint: str = "", *, request_id: str = "", http_status: int = 0
    ) -> None:
        super().__init__(message, hint)
        self.request_id = request_id
        self.http_status = http_status


class CredentialsServiceError(AsrtuiError):
    """A service that hands out temporary credentials failed or answered nonsense (exit code 1).

    STS, the ECS metadata service, a credentials URI: unreachable, timing out, answering 5xx,
    HTML or JSON without credentials. What the user got wrong (a role ARN that is not one, a
    missing token file, a refused signature) is a `CredentialsError` instead (exit code 2).
    """

    retryable = True


class ApiError(AsrtuiError):
    """The Live API answered with an error, on either channel.

    Channel 1 is an HTTP 4xx/5xx gateway envelope with ``Code``; channel 2 is HTTP 200 with
    ``RetCode`` other than 2000 (then ``code`` is ``"RetCode.<n>"``).

    Args:
        code: the server's error code, e.g. ``Throttling.User``.
        message: the server's message (or a description of the failure).
        hint: what the user can do.
        request_id: the ``RequestId`` to quote to support.
        http_status: the HTTP status of the answer.
        retry_after: seconds the server asked us to wait (``x-acs-retry-after``), if any.
    """

    #: The server's own message when the hint was worded from ``code`` (`api_error_from`),
    #: so that the caller can word it again for its call (`in_context`); ``None`` otherwise.
    server_message: str | None = None

    def __init__(
        self,
        code: str,
        message: str,
        hint: str = "",
        *,
        request_id: str = "",
        http_status: int = 0,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.code = code
        self.request_id = request_id
        self.http_status = http_status
        self.retry_after = retry_after

    def __str__(self) -> str:
        text = f"{self.message} ({self.code})"
        if self.hint:
            text += f": {self.hint}"
        if self.request_id:
            text += f" [request {self.request_id}]"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, "
            f"http_status={self.http_status}, request_id={self.request_id!r})"
        )


class ThrottledError(ApiError):
    """Flow control: the account exceeded its call rate."""

    retryable = True


class ServerError(ApiError):
    """The service failed on its side (5xx, InternalError, ServiceUnavailable)."""

    retryable = True


class AuthError(ApiError):
    """The request was not accepted as correctly signed by a valid key."""


class SignatureError(AuthError):
    """SignatureDoesNotMatch / IncompleteSignature: wrong secret or a signing bug."""


class AccessKeyError(AuthError):
    """The AccessKey id is unknown or disabled."""


class ClockSkewError(AuthError):
    """The request timestamp is outside the server's 15-minute window, or malformed."""


class NonceError(AuthError):
    """The signature nonce was already used."""


class SecurityTokenError(AuthError):
    """The STS security token is expired, malformed, missing or for another key."""


class PermissionDeniedError(ApiError):
    """The RAM policy of the key does not allow the action."""


class RequestError(ApiError):
    """The request itself is wrong (missing or invalid parameter, unknown action)."""


class TaskNotFoundError(ApiError):
    """The task id is unknown to the service."""


_BY_CODE: dict[str, tuple[type[ApiError], str]] = {
    "Throttling": (ThrottledError, "the account's call quota is exhausted; asrtui slows down"),
    "Throttling.User": (
        ThrottledError,
        "the account exceeded 20 calls/s (shared with its other systems); asrtui slows down",
    ),
    "Throttling.Api": (ThrottledError, "this API's call quota is exhausted; asrtui slows down"),
    "ServiceUnavailable": (ServerError, "the Live service is unavailable; retry shortly"),
    "InternalError": (ServerError, "the Live service failed on its side; retry shortly"),
    "UnknownError": (ServerError, "the Live service failed on its side; retry shortly"),
    "SignatureDoesNotMatch": (
        SignatureError,
        "check the AccessKey secret{profile}",
    ),
    "IncompleteSignature": (SignatureError, "the request was signed incompletely{profile}"),
    "InvalidAccessKeyId.NotFound": (
        AccessKeyError,
        "the AccessKey id does not exist; check the AccessKey id{profile}",
    ),
    "InvalidAccessKeyId.Inactive": (
        AccessKeyError,
        "the AccessKey is disabled; enable it in the RAM console or use another{profile}",
    ),
    "InvalidTimeStamp.Expired": (
        ClockSkewError,
        "this machine's clock differs from the server's by more than 15 minutes; fix the clock"
        " (e.g. enable NTP)",
    ),
    "InvalidTimeStamp.Format": (ClockSkewError, "the request timestamp was malformed"),
    "SignatureNonceUsed": (NonceError, "a request nonce was reused; retry the request"),
    "InvalidSecurityToken.Expired": (
        SecurityTokenError,
        "the STS token has expired; fetch a new one{profile}",
    ),
    "InvalidSecurityToken.Malformed": (
        SecurityTokenError,
        "the STS token is malformed; copy it again{profile}",
    ),
    "InvalidSecurityToken.MismatchWithAccessKey": (
        SecurityTokenError,
        "the STS token belongs to another AccessKey id{profile}",
    ),
    "MissingSecurityToken": (
        SecurityTokenError,
        "this AccessKey is temporary (STS) and needs its security token{profile}",
    ),
    "Forbidden.RAM": (
        PermissionDeniedError,
        "grant the RAM permission live:{action} to this AccessKey's user or role",
    ),
    "Forbidden": (
        PermissionDeniedError,
        "grant the RAM permission live:{action} to this AccessKey's user or role",
    ),
    "NoPermission": (
        PermissionDeniedError,
        "grant the RAM permission live:{action} to this AccessKey's user or role",
    ),
    "MissingParameter": (RequestError, "a required parameter is missing"),
    "InvalidParameter": (RequestError, "a parameter value was rejected"),
    "InvalidApi.NotFound": (
        RequestError,
        "the endpoint does not know this action; check --endpoint and --region",
    ),
    "ConfigNotFound": (TaskNotFoundError, "the task does not exist (it may have ended)"),
    "InvalidTaskId.NotFound": (TaskNotFoundError, "the task does not exist (it may have ended)"),
}


def api_error_from(
    code: str,
    message: str,
    *,
    request_id: str = "",
    http_status: int = 0,
    retry_after: float | None = None,
    action: str = "QueryRtcAsrTasks",
    profile: str = "",
    clock_offset: float | None = None,
) -> ApiError:
    """Build the right `ApiError` subclass, with its hint, for a server error code.

    Args:
        code: the server's ``Code`` (or ``RetCode.<n>`` for the second channel).
        message: the server's ``Message`` / ``Description``.
        request_id: the ``RequestId`` of the answer.
        http_status: the HTTP status of the answer.
        retry_after: the server's ``x-acs-retry-after`` in seconds, if sent.
        action: the API action, named in permission hints (``live:<action>``).
        profile: the profile name, named in credential hints.
        clock_offset: measured local-minus-server clock offset in seconds, if known.
    """
    where = f" of profile '{profile}'" if profile else ""
    server_message = message
    if not message and code.startswith("RetCode."):
        message = f"{action} failed with RetCode {code.removeprefix('RetCode.')}"
    cls: type[ApiError]
    if code in _BY_CODE:
        cls, hint = _BY_CODE[code]
        hint = hint.format(action=action, profile=where)
    elif code.startswith("Throttling"):
        cls, hint = ThrottledError, "the call quota is exhausted; asrtui slows down"
    elif code.startswith("InvalidSecurityToken"):
        cls, hint = SecurityTokenError, f"the STS token was rejected; refresh it{where}"
    elif code.startswith("Forbidden"):
        cls, hint = PermissionDeniedError, f"grant the RAM permission live:{action}"
    elif http_status >= 500:
        cls, hint = ServerError, "the Live service failed on its side; retry shortly"
    else:
        cls, hint = ApiError, "see the message and the request id"
    if cls is ClockSkewError and clock_offset is not None:
        direction = "ahead of" if clock_offset > 0 else "behind"
        hint = (
            f"this machine's clock is {abs(clock_offset):.0f} s {direction} the server's "
            "(the limit is 15 minutes); fix the clock (e.g. enable NTP)"
        )
    error = cls(
        code,
        message or code,
        hint,
        request_id=request_id,
        http_status=http_status,
        retry_after=retry_after,
    )
    error.server_message = server_message
    return error


@dataclass(frozen=True)
class CallContext:
    """What the caller of the API knows and an answer does not, for wording an error's hint.

    The wire reads an answer into the facts it carries (code, message, request id, status);
    the client, which knows the call, adds this with `in_context`.

    Attributes:
        action: the API action, named in permission hints (``live:<action>``).
        profile: the profile name, named in credential hints.
        clock_offset: measured local-minus-server clock offset in seconds, if known.
    """

    action: str = "QueryRtcAsrTasks"
    profile: str = ""
    clock_offset: float | None = None


def in_context(error: AsrtuiError, context: CallContext) -> AsrtuiError:
    """``error`` with its hint worded for the call of ``context``.

    Only an error worded from the server's code (`api_error_from`) changes; any other (a
    redirect, a proxy's page, an unreadable answer) already says all it can and is returned
    as it is.
    """
    if not isinstance(error, ApiError) or error.server_message is None:
        return error
    return api_error_from(
        error.code,
        error.server_message,
        request_id=error.request_id,
        http_status=error.http_status,
        retry_after=error.retry_after,
        action=context.action,
        profile=context.profile,
        clock_offset=context.clock_offset,
    )
