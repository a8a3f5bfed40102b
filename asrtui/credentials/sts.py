"""Roles assumed through STS: ``RamRoleArn``, ``ChainableRamRoleArn`` and ``OIDC``.

``AssumeRole`` (STS ``2015-04-01``, RPC style, HMAC-SHA1, ``GET`` as the official SDK sends
it) is signed with the source credentials: an AccessKey pair (``RamRoleArn``) or any other
provider, temporary ones included (``ChainableRamRoleArn``, the source another profile).
``AssumeRoleWithOIDC`` is not signed: the OIDC token (a file that ACK RRSA rotates) proves who
asks, so the file is read again for every refresh.

The STS endpoint is chosen as the SDKs choose it (`sts_endpoint`).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from asrtui.credentials.provider import CredentialsProvider
from asrtui.credentials.refresh import Fetched, RefreshingProvider
from asrtui.credentials.remote import Answer, call, json_object, temporary_credentials
from asrtui.errors import CredentialsError, CredentialsServiceError
from asrtui.signing import canonical_query, format_timestamp, rpc_signature, rpc_string_to_sign

__all__ = [
    "DEFAULT_DURATION",
    "MIN_DURATION",
    "STS_TIMEOUT",
    "OidcRoleProvider",
    "RoleProvider",
    "RoleSettings",
    "check_role_arn",
    "sts_endpoint",
]

STS_VERSION = "2015-04-01"
#: The SDK's defaults: an hour per session, 15 minutes at least.
DEFAULT_DURATION = 3600
MIN_DURATION = 900
MAX_DURATION = 43200
#: The SDK's STS timeouts: connect 5 s, read 10 s.
STS_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
_STS_DEADLINE = 20.0
_ROLE_ARN = re.compile(r"^acs:ram::\d{1,32}:role/[A-Za-z0-9._@-]{1,64}$")
_OIDC_PROVIDER_ARN = re.compile(r"^acs:ram::\d{1,32}:oidc-provider/[A-Za-z0-9._-]{1,128}$")
_SESSION_NAME = re.compile(r"^[A-Za-z0-9._@-]{2,64}$")
#: What an error code and a request id look like: quoted only then (a hostile service could
#: echo a token it was sent in either).
_CODE = re.compile(r"^[A-Z][A-Za-z0-9]{1,40}(\.[A-Za-z0-9]{1,40}){0,4}$")
_REQUEST_ID = re.compile(r"^[A-Fa-f0-9-]{8,64}$")
#: The longest OIDC token file read (a JWT is a few kilobytes).
_MAX_TOKEN_BYTES = 64 * 1024

#: STS error codes that mean the request (the configuration) is wrong: exit code 2.
_CONFIG_CODES = {
    "InvalidParameter": "a parameter of the role is wrong",
    "MissingParameter": "a parameter of the role is missing",
    "EntityNotExist.Role": "the role does not exist",
    "NoPermission": "the source identity may not assume this role (check its trust policy)",
    "InvalidAccessKeyId.NotFound": "the source AccessKey id does not exist",
    "InvalidAccessKeyId.Inactive": "the source AccessKey is disabled",
    "SignatureDoesNotMatch": "the source AccessKey secret is wrong",
    "InvalidSecurityToken": "the source STS token was refused (expired or malformed)",
    "MissingSecurityToken": "the source is temporary and needs its STS token",
    "AuthenticationFail": "the OIDC token was refused",
    "InvalidVersion": "the endpoint is not STS",
    "InvalidApi.NotFound": "the endpoint is not STS",
}


def sts_endpoint(
    env: Mapping[str, str],
    *,
    endpoint: str | None = None,
    region: str | None = None,
    vpc: bool | None = None,
) -> str:
    """The STS base URL, chosen as the SDKs choose it.

    A profile's ``sts_endpoint``, else ``ALIBABA_CLOUD_STS_ENDPOINT``, is used as it is
    (``https://`` added when it has no scheme). Otherwise the host is
    ``sts.<region>.aliyuncs.com`` for the profile's ``sts_region`` or
    ``ALIBABA_CLOUD_STS_REGION`` (``sts-vpc.`` when the profile's ``enable_vpc`` or
    ``ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED=true`` says so), and ``sts.aliyuncs.com`` without a
    region.
    """
    chosen = endpoint or env.get("ALIBABA_CLOUD_STS_ENDPOINT", "").strip()
    if chosen:
        return chosen if "://" in chosen else f"https://{chosen}"
    if vpc is None:
        vpc = env.get("ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED", "").strip().lower() == "true"
    sts_region = region or env.get("ALIBABA_CLOUD_STS_REGION", "").strip()
    if sts_region:
        prefix = "sts-vpc" if vpc else "sts"
        return f"https://{prefix}.{sts_region}.aliyuncs.com"
    return "https://sts.aliyuncs.com"


def check_role_arn(arn: str, where: str) -> str:
    """``arn`` if it has the shape of a RAM role ARN, else `CredentialsError` (not quoting it)."""
    if not _ROLE_ARN.fullmatch(arn):
        raise CredentialsError(
            f"The role ARN of {where} is not a RAM role ARN",
            "use the form acs:ram::ACCOUNT_ID:role/ROLE_NAME (the RAM console shows it)",
        )
    return arn


@dataclass(frozen=True)
class RoleSettings:
    """What ``AssumeRole`` and ``AssumeRoleWithOIDC`` are asked for.

    Attributes:
        role_arn: ``acs:ram::ACCOUNT:role/NAME``.
        session_name: names the session in the audit trail (2-64 of ``[A-Za-z0-9._@-]``);
            ``asrtui-<seconds since the epoch>`` when empty, as the SDK does.
        duration: seconds the credentials live (900 up to the role's maximum).
        policy: an optional policy that narrows the role's permissions (JSON text).
        external_id: the external id the role's trust policy asks for, if any.
        endpoint: the STS base URL (`sts_endpoint`).
    """

    role_arn: str
    session_name: str = ""
    duration: int = DEFAULT_DURATION
    policy: str = ""
    external_id: str = ""
    endpoint: str = "https://sts.aliyuncs.com"

    def checked(self, where: str) -> RoleSettings:
        """These settings if they can be sent, else `CredentialsError` naming ``where``."""
        check_role_arn(self.role_arn, where)
        if self.session_name and not _SESSION_NAME.fullmatch(self.session_name):
            raise CredentialsError(
                f"The role session name of {where} cannot be one",
                "use 2 to 64 letters, digits or '.', '_', '@', '-'",
            )
        if not MIN_DURATION <= self.duration <= MAX_DURATION:
            raise CredentialsError(
                f"The session duration of {where} ({self.duration} s) is out of range",
                f"use {MIN_DURATION} to {MAX_DURATION} seconds (and at most the role's maximum)",
            )
        return self

    def session(self) -> str:
        """The session name sent."""
        return self.session_name or f"asrtui-{int(time.time())}"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _sts_failure(answer: Answer, data: Mapping[str, object], source: str) -> Exception:
    """The error of an STS answer that is not a success: the code, never the message."""
    code = data.get("Code")
    code_text = code if isinstance(code, str) and _CODE.fullmatch(code) else ""
    request_id = data.get("RequestId")
    shown_id = isinstance(request_id, str) and _REQUEST_ID.fullmatch(request_id)
    suffix = f" [request {request_id}]" if shown_id else ""
    if answer.status >= 500 or code_text.startswith("Throttling") or not code_text:
        return CredentialsServiceError(
            f"{source} failed (HTTP {answer.status}{', ' + code_text if code_text else ''})"
            + suffix,
            "STS is failing; asrtui keeps the last good credentials and tries again",
        )
    for prefix, why in _CONFIG_CODES.items():
        if code_text == prefix or code_text.startswith(prefix + "."):
            return CredentialsError(f"{source} refused the request ({code_text}){suffix}", why)
    return CredentialsError(
        f"{source} refused the request ({code_text}){suffix}", "check the role's settings"
    )


async def _sts_call(
    params: Mapping[str, str],
    *,
    endpoint: str,
    source: str,
    clock: Callable[[], datetime],
    transport: httpx.AsyncBaseTransport | None,
) -> Fetched:
    answer = await call(
        "GET",
        f"{endpoint.rstrip('/')}/?{canonical_query(params)}",
        source=source,
        timeouts=STS_TIMEOUT,
        deadline=_STS_DEADLINE,
        transport=transport,
        hint="check the network and the STS endpoint (ALIBABA_CLOUD_STS_ENDPOINT, sts_region)",
    )
    data = json_object(answer, source)
    fields = data.get("Credentials")
    if answer.status != 200 or not isinstance(fields, dict):
        raise _sts_failure(answer, data, source)
    return temporary_credentials(fields, source, now=clock())


class _StsRoleProvider(RefreshingProvider):
    """What the ``AssumeRole`` and ``AssumeRoleWithOIDC`` providers share: query and call.

    Subclasses set ``_role``, ``_sts_source`` and ``_transport`` before the first refresh.
    """

    _role: RoleSettings
    _sts_source: str
    _transport: httpx.AsyncBaseTransport | None

    def _query(self, action: str, **fields: str) -> dict[str, str]:
        """The query of ``action`` for the role, with ``fields`` and the role's policy.

        The order of the names does not matter: `canonical_query` sorts them, for the URL and
        for the signature alike.
        """
        role = self._role
        query = {
            "Action": action,
            "Format": "JSON",
            "Version": STS_VERSION,
            "DurationSeconds": str(role.duration),
            "RoleArn": role.role_arn,
            "RoleSessionName": role.session(),
            "Timestamp": format_timestamp(self._clock()),
            **fields,
        }
        if role.policy:
            query["Policy"] = role.policy
        return query

    async def _call(self, query: Mapping[str, str]) -> Fetched:
        """Send ``query`` to the role's STS endpoint; the credentials it answers."""
        return await _sts_call(
            query,
            endpoint=self._role.endpoint,
            source=self._sts_source,
            clock=self._clock,
            transport=self._transport,
        )


class RoleProvider(_StsRoleProvider):
    """``RamRoleArn`` and ``ChainableRamRoleArn``: ``AssumeRole`` signed by ``source``.

    Args:
        source: the provider of the source credentials (static, or another role's).
        role: what to ask for (checked here: a bad ARN fails before any call).
        where: names the configuration in messages (``profile 'ops'``).
        mode: ``RamRoleArn``, or ``ChainableRamRoleArn`` when the source is a profile.
        clock: the wall clock.
        transport: an httpx transport (tests).
    """

    def __init__(
        self,
        source: CredentialsProvider,
        role: RoleSettings,
        *,
        where: str,
        mode: str = "RamRoleArn",
        clock: Callable[[], datetime] = _utc_now,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._source_provider = source
        self._role = role.checked(where)
        self._transport = transport
        self._sts_source = f"STS AssumeRole at {role.endpoint} for {where}"
        super().__init__(
            self._assume, mode=mode, source=where, quota_key=role.role_arn, clock=clock
        )

    @property
    def role(self) -> RoleSettings:
        """What is asked for."""
        return self._role

    async def _assume(self) -> Fetched:
        source = await self._source_provider.get()
        role = self._role
        query = self._query(
            "AssumeRole",
            SignatureMethod="HMAC-SHA1",
            SignatureVersion="1.0",
            SignatureNonce=uuid.uuid4().hex,
            AccessKeyId=source.access_key_id,
        )
        if role.external_id:
            query["ExternalId"] = role.external_id
        if source.security_token:
            query["SecurityToken"] = source.security_token
        query["Signature"] = rpc_signature(
            source.access_key_secret, rpc_string_to_sign("GET", query)
        )
        return await self._call(query)


class OidcRoleProvider(_StsRoleProvider):
    """``OIDC``: ``AssumeRoleWithOIDC`` with the token file read afresh at each refresh.

    Args:
        role: what to ask for.
        provider_arn: ``acs:ram::ACCOUNT:oidc-provider/NAME``.
        token_file: the file holding the OIDC token (ACK RRSA rotates it).
        where: names the configuration in messages.
        clock: the wall clock.
        transport: an httpx transport (tests).
    """

    def __init__(
        self,
        role: RoleSettings,
        *,
        provider_arn: str,
        token_file: Path,
        where: str,
        clock: Callable[[], datetime] = _utc_now,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._role = role.checked(where)
        if not _OIDC_PROVIDER_ARN.fullmatch(provider_arn):
            raise CredentialsError(
                f"The OIDC provider ARN of {where} is not one",
                "use the form acs:ram::ACCOUNT_ID:oidc-provider/NAME",
            )
        self._provider_arn = provider_arn
        self._token_file = token_file
        self._where = where
        self._transport = transport
        self._sts_source = f"STS AssumeRoleWithOIDC at {role.endpoint} for {where}"
        super().__init__(
            self._assume, mode="OIDC", source=where, quota_key=role.role_arn, clock=clock
        )

    def _token(self) -> str:
        path = self._token_file
        try:
            with path.open("rb") as handle:
                data = handle.read(_MAX_TOKEN_BYTES + 1)
        except FileNotFoundError:
            raise CredentialsError(
                f"The OIDC token file {path} of {self._where} does not exist",
                "check ALIBABA_CLOUD_OIDC_TOKEN_FILE (on ACK, that RRSA is enabled for the pod)",
            ) from None
        except OSError as exc:
            raise CredentialsError(
                f"Cannot read the OIDC token file {path} of {self._where}: "
                f"{exc.strerror or type(exc).__name__}",
                "check the file's permissions",
            ) from None
        if len(data) > _MAX_TOKEN_BYTES:
            raise CredentialsError(
                f"The OIDC token file {path} of {self._where} is larger than "
                f"{_MAX_TOKEN_BYTES} bytes",
                "check that the path names the token file",
            )
        try:
            token = data.decode("ascii").strip()
        except UnicodeDecodeError:
            token = None
        if not token or any(not " " < char <= "~" for char in token):
            what = "is empty" if token == "" else "does not hold a token"
            raise CredentialsError(
                f"The OIDC token file {path} of {self._where} {what}",
                "check that the path names the token file (ACK RRSA writes it)",
            )
        return token

    async def _assume(self) -> Fetched:
        query = self._query(
            "AssumeRoleWithOIDC", OIDCProviderArn=self._provider_arn, OIDCToken=self._token()
        )
        return await self._call(query)
