"""The services temporary credentials come from: STS, the ECS metadata service, a credentials URI.

So that every credential mode runs end to end on this machine, the emulator also plays:

- **STS** (version ``2015-04-01``): ``AssumeRole``, signed by a source key the emulator knows
  (an AccessKey, or temporary credentials it issued itself: a chain of roles), and
  ``AssumeRoleWithOIDC``, unsigned, with a token from ``oidc_tokens`` (any non-empty token
  when that is empty);
- the **ECS metadata service**: IMDSv2 tokens (``PUT /latest/api/token`` with
  ``X-aliyun-ecs-metadata-token-ttl-seconds``), the instance's role name and its credentials
  under ``/latest/meta-data/ram/security-credentials/``; IMDSv1 (no token) unless
  ``imdsv1`` is false;
- a **credentials URI**: ``GET /credentials`` answers ``{"Code": "Success", ...}``.

Every credential issued is temporary: an ``STS.`` key id, a secret and a token that the Live
actions accept until ``Expiration`` and refuse with ``InvalidSecurityToken.Expired`` after.
``lifetime`` shortens every lifetime (tests and ``asrtui emulator --sts-expiry`` use seconds).
"""

from __future__ import annotations

import json
import random
import re
import string
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = [
    "METADATA_PREFIX",
    "STS_VERSION",
    "URI_PATH",
    "IdentityError",
    "IdentityServices",
    "Issued",
]

STS_VERSION = "2015-04-01"
METADATA_PREFIX = "/latest/"
URI_PATH = "/credentials"
_ROLES_PATH = "/latest/meta-data/ram/security-credentials/"
_TOKEN_PATH = "/latest/api/token"
_TOKEN_TTL_HEADER = "x-aliyun-ecs-metadata-token-ttl-seconds"
_TOKEN_HEADER = "x-aliyun-ecs-metadata-token"
_MAX_TOKEN_TTL = 21600
_MIN_DURATION = 900
_MAX_DURATION = 43200
_ROLE_ARN = re.compile(r"^acs:ram::(\d{1,32}):role/([A-Za-z0-9._@-]{1,64})$")
_OIDC_PROVIDER_ARN = re.compile(r"^acs:ram::\d{1,32}:oidc-provider/[A-Za-z0-9._-]{1,128}$")
_SESSION_NAME = re.compile(r"^[A-Za-z0-9._@-]{2,64}$")
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class IdentityError(Exception):
    """An error answer of one of these services (the app wraps it in its error envelope)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Issued:
    """Temporary credentials the emulator handed out."""

    access_key_id: str
    access_key_secret: str
    security_token: str
    expiration: datetime

    def fields(self) -> dict[str, str]:
        """The answer's ``Credentials`` object, as STS writes it."""
        return {
            "AccessKeyId": self.access_key_id,
            "AccessKeySecret": self.access_key_secret,
            "SecurityToken": self.security_token,
            "Expiration": self.expiration.strftime(_TIME_FORMAT),
        }


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _invalid(name: str, why: str) -> IdentityError:
    return IdentityError(f"InvalidParameter.{name}", f"The parameter {name} {why}.")


class IdentityServices:
    """STS, the ECS metadata service and a credentials URI, sharing one table of issued keys.

    Args:
        clock: the emulator's wall clock (issued expiries are compared with it).
        lifetime: seconds every issued credential lives, whatever was asked; ``None`` for
            what the request asked (``DurationSeconds``, 3600 by default; 6 hours for the
            metadata service and the URI, as ECS does).
        roles: role ARNs ``AssumeRole`` accepts; any well-formed ARN when empty.
        oidc_tokens: OIDC tokens ``AssumeRoleWithOIDC`` accepts; any non-empty one when empty.
        instance_role: the ECS instance's RAM role name; no role attached when empty.
        imdsv1: whether the metadata service answers without an IMDSv2 token.
        rng: the source of issued keys (seeded for repeatable runs).
    """

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] = _utc_now,
        lifetime: float | None = None,
        roles: Collection[str] = (),
        oidc_tokens: Collection[str] = (),
        instance_role: str = "asrtui-ecs-role",
        imdsv1: bool = True,
        rng: random.Random | None = None,
    ) -> None:
        self._clock = clock
        self.lifetime = lifetime
        self.roles = frozenset(roles)
        self.oidc_tokens = frozenset(oidc_tokens)
        self.instance_role = instance_role
        self.imdsv1 = imdsv1
        self._rng = rng if rng is not None else random.Random()
        self._issued: dict[str, Issued] = {}
        self._metadata_tokens: dict[str, datetime] = {}
        #: Calls per service, for tests (``AssumeRole``, ``AssumeRoleWithOIDC``, ``token``,
        #: ``role``, ``metadata``, ``uri``).
        self.calls: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"IdentityServices(issued={len(self._issued)}, lifetime={self.lifetime!r})"

    # -- issued keys ------------------------------------------------------------------------

    def lookup(self, key_id: str) -> Issued | None:
        """The issued credentials of ``key_id``, expired or not; ``None`` if never issued."""
        return self._issued.get(key_id)

    def expired(self, key_id: str) -> bool:
        """Whether ``key_id`` was issued here and has expired."""
        issued = self._issued.get(key_id)
        return issued is not None and self._clock() >= issued.expiration

    def issue(self, seconds: float) -> Issued:
        """New temporary credentials living ``seconds`` (or the fixed ``lifetime``)."""
        lifetime = self.lifetime if self.lifetime is not None else seconds
        # Whole seconds, as STS writes ``Expiration``: what the client reads is what we enforce.
        expiration = (self._clock() + timedelta(seconds=lifetime)).replace(microsecond=0)
        issued = Issued(
            access_key_id="STS.NT" + self._text(string.ascii_letters + string.digits, 22),
            access_key_secret=self._text(string.ascii_letters + string.digits, 44),
            security_token="CAIS" + self._text(string.ascii_letters + string.digits + "+/", 120),
            expiration=expiration,
        )
        self._issued[issued.access_key_id] = issued
        return issued

    def _text(self, alphabet: str, length: int) -> str:
        return "".join(self._rng.choice(alphabet) for _ in range(length))

    def _count(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1

    # -- STS --------------------------------------------------------------------------------

    def assume_role(self, params: Mapping[str, str], request_id: str) -> dict[str, object]:
        """``AssumeRole``, already authenticated by the app with the source key's signature."""
        self._count("AssumeRole")
        account, role = self._role(params)
        if self.roles and params["RoleArn"] not in self.roles:
            raise IdentityError(
                "EntityNotExist.Role", "The specified Role not exists .", status=404
            )
        return self._assumed(params, account, role, request_id)

    def assume_role_with_oidc(
        self, params: Mapping[str, str], request_id: str
    ) -> dict[str, object]:
        """``AssumeRoleWithOIDC``: no signature, the OIDC token proves who asks."""
        self._count("AssumeRoleWithOIDC")
        account, role = self._role(params)
        provider = params.get("OIDCProviderArn", "")
        if not provider:
            raise IdentityError("MissingOIDCProviderArn", "OIDCProviderArn is mandatory.")
        if not _OIDC_PROVIDER_ARN.fullmatch(provider):
            raise _invalid("OIDCProviderArn", "is wrong")
        token = params.get("OIDCToken", "")
        if not token:
            raise IdentityError("MissingOIDCToken", "OIDCToken is mandatory.")
        if self.oidc_tokens and token not in self.oidc_tokens:
            raise IdentityError(
                "AuthenticationFail.OIDCToken.Invalid", "The OIDC token is invalid."
            )
        answer = self._assumed(params, account, role, request_id)
        answer["OIDCTokenInfo"] = {"Issuer": "https://oidc.emulator.invalid", "Subject": "pod"}
        return answer

    @staticmethod
    def _role(params: Mapping[str, str]) -> tuple[str, str]:
        arn = params.get("RoleArn", "")
        if not arn:
            raise IdentityError("MissingRoleArn", "RoleArn is mandatory for this action.")
        match = _ROLE_ARN.fullmatch(arn)
        if match is None:
            raise _invalid("RoleArn", "is wrong")
        session = params.get("RoleSessionName", "")
        if not session:
            raise IdentityError("MissingRoleSessionName", "RoleSessionName is mandatory.")
        if not _SESSION_NAME.fullmatch(session):
            raise _invalid("RoleSessionName", "is wrong")
        return match.group(1), match.group(2)

    def _assumed(
        self, params: Mapping[str, str], account: str, role: str, request_id: str
    ) -> dict[str, object]:
        text = params.get("DurationSeconds", "") or "3600"
        if not text.isdigit() or not _MIN_DURATION <= int(text) <= _MAX_DURATION:
            raise _invalid("DurationSeconds", f"must be from {_MIN_DURATION} to {_MAX_DURATION}")
        issued = self.issue(int(text))
        session = params["RoleSessionName"]
        return {
            "RequestId": request_id,
            "AssumedRoleUser": {
                "Arn": f"acs:ram::{account}:role/{role}/{session}",
                "AssumedRoleId": f"3{account[-8:]:0>8}{len(self._issued):06d}:{session}",
            },
            "Credentials": issued.fields(),
        }

    # -- ECS metadata and credentials URI -------------------------------------------------------

    def metadata(self, method: str, path: str, headers: Mapping[str, str]) -> tuple[int, bytes]:
        """One request to the metadata service: the status and a text or JSON body."""
        if path == _TOKEN_PATH:
            if method != "PUT":
                return 405, b"Method Not Allowed"
            return self._new_token(headers)
        if method != "GET":
            return 405, b"Method Not Allowed"
        token = headers.get(_TOKEN_HEADER)
        if token is not None and not self._token_valid(token):
            return 401, b"Unauthorized"
        if token is None and not self.imdsv1:
            return 401, b"Unauthorized"
        if path == _ROLES_PATH:
            self._count("role")
            if not self.instance_role:
                return 404, b"Not Found"
            return 200, self.instance_role.encode()
        if path.startswith(_ROLES_PATH) and path[len(_ROLES_PATH) :] == self.instance_role:
            self._count("metadata")
            return 200, self._success_body()
        return 404, b"Not Found"

    def credentials_uri(self) -> tuple[int, bytes]:
        """``GET /credentials``: the credentials URI's answer."""
        self._count("uri")
        return 200, self._success_body()

    def _success_body(self) -> bytes:
        issued = self.issue(6 * 3600)
        now = self._clock().strftime(_TIME_FORMAT)
        return json.dumps({"Code": "Success", **issued.fields(), "LastUpdated": now}).encode()

    def _new_token(self, headers: Mapping[str, str]) -> tuple[int, bytes]:
        self._count("token")
        ttl = headers.get(_TOKEN_TTL_HEADER, "")
        if not ttl.isdigit() or not 1 <= int(ttl) <= _MAX_TOKEN_TTL:
            return 400, b"Bad Request"
        token = self._text(string.ascii_letters + string.digits, 40)
        self._metadata_tokens[token] = self._clock() + timedelta(seconds=int(ttl))
        return 200, token.encode()

    def _token_valid(self, token: str) -> bool:
        expiry = self._metadata_tokens.get(token)
        return expiry is not None and self._clock() < expiry
