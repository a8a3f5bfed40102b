"""Request signing for the Alibaba Cloud RPC gateway: V3 (ACS3-HMAC-SHA256) and RPC HMAC-SHA1.

Pure functions over plain strings do all the work so that the client (which signs) and the
emulator (which verifies) share one implementation; `SignerAuth` wraps them as an
``httpx.Auth`` that signs every send afresh. The known answers of the official documentation
are in the tests.

The canonical query sorts parameters by their raw (unencoded) names, as the official SDK does,
then percent-encodes names and values; the two orders only differ for non-ASCII names, which
no Live API parameter has.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable, Generator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Literal, Protocol
from urllib.parse import parse_qsl, quote

import httpx

__all__ = [
    "CREDENTIALS_EXTENSION",
    "RPC_COMMON_PARAMS",
    "V3_ALGORITHM",
    "SignerAuth",
    "SigningKey",
    "canonical_query",
    "format_timestamp",
    "new_nonce",
    "parse_v3_authorization",
    "percent_encode",
    "rpc_signature",
    "rpc_string_to_sign",
    "v3_authorization",
    "v3_canonical_request",
    "v3_signature",
    "v3_string_to_sign",
]

#: The algorithm name of V3 signatures, first word of the ``Authorization`` header.
V3_ALGORITHM = "ACS3-HMAC-SHA256"

#: Query parameters the RPC signature adds; never business parameters.
RPC_COMMON_PARAMS = frozenset(
    {
        "AccessKeyId",
        "Action",
        "Format",
        "SecurityToken",
        "Signature",
        "SignatureMethod",
        "SignatureNonce",
        "SignatureType",
        "SignatureVersion",
        "Timestamp",
        "Version",
    }
)

_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_CONTENT_TYPE = "content-type"

#: The httpx request extension that carries the credentials of one attempt: the client asks
#: its provider once per attempt and the signer signs with exactly those.
CREDENTIALS_EXTENSION = "asrtui.credentials"


class SigningKey(Protocol):
    """What a signature needs of credentials (`asrtui.credentials.Credentials` is one).

    A protocol, so that signing stays plain strings in, strings out, below the credentials
    package and its rules.
    """

    @property
    def access_key_id(self) -> str:
        """The AccessKey id, sent in the clear."""
        ...

    @property
    def access_key_secret(self) -> str:
        """The secret the signature is computed with; never sent."""
        ...

    @property
    def security_token(self) -> str:
        """The STS token of temporary credentials, ``""`` for a long-term key."""
        ...


def percent_encode(value: str) -> str:
    """Percent-encode ``value`` as both signature versions require.

    UTF-8, unreserved characters ``A-Z a-z 0-9 - _ . ~`` kept, everything else ``%XY`` in
    upper case: space is ``%20`` (never ``+``), ``*`` is ``%2A`` and ``/`` is ``%2F``. The
    standard library's ``quote`` with no extra safe characters does exactly this.

    >>> percent_encode("a b*c/d~e")
    'a%20b%2Ac%2Fd~e'
    """
    return quote(value, safe="~")


def canonical_query(params: Mapping[str, str]) -> str:
    """Build the canonical query string: sorted by name, both sides encoded, ``k=v`` by ``&``.

    The same string is sent as the URL query, so the server decodes exactly what was signed.

    >>> canonical_query({"b": "2", "a": "x y"})
    'a=x%20y&b=2'
    """
    return "&".join(
        f"{percent_encode(name)}={percent_encode(params[name])}" for name in sorted(params)
    )


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def v3_canonical_request(  # noqa: PLR0917 (the six parts of the canonical request)
    method: str,
    path: str,
    params: Mapping[str, str],
    headers: Mapping[str, str],
    signed_headers: Sequence[str],
    payload_sha256_hex: str,
) -> str:
    """Build the V3 canonical request over exactly the headers named in ``signed_headers``.

    Args:
        method: the HTTP method; upper-cased.
        path: the canonical URI, ``/`` for every RPC-style API.
        params: the URL query parameters, decoded (body parameters are covered by the hash).
        headers: the request headers; names are matched case-insensitively.
        signed_headers: the header names to sign (any case, any order).
        payload_sha256_hex: hex SHA-256 of the request body.

    Raises:
        ValueError: a header named in ``signed_headers`` is not in ``headers``; a verifier
            treats this as an incomplete signature rather than guessing an empty value.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    names = sorted({name.lower() for name in signed_headers})
    lines = []
    for name in names:
        if name not in lowered:
            raise ValueError(f"signed header {name!r} is missing from the request")
        lines.append(f"{name}:{lowered[name].strip()}\n")
    return "\n".join(
        [
            method.upper(),
            path or "/",
            canonical_query(params),
            "".join(lines),
            ";".join(names),
            payload_sha256_hex,
        ]
    )


def v3_string_to_sign(canonical_request: str) -> str:
    """The V3 string to sign: the algorithm name and the hex SHA-256 of the canonical request."""
    return f"{V3_ALGORITHM}\n{_sha256_hex(canonical_request.encode('utf-8'))}"


def v3_signature(secret: str, string_to_sign: str) -> str:
    """Hex HMAC-SHA256 of ``string_to_sign`` keyed with the AccessKey secret."""
    return hmac.new(
        secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256
    ).hexdigest()


def v3_authorization(access_key_id: str, signed_headers: Sequence[str], signature: str) -> str:
    """The ``Authorization`` header value of a V3 request."""
    names = ";".join(sorted({name.lower() for name in signed_headers}))
    return f"{V3_ALGORITHM} Credential={access_key_id},SignedHeaders={names},Signature={signature}"


def parse_v3_authorization(value: str) -> tuple[str, list[str], str]:
    """Split a V3 ``Authorization`` header into key id, signed header names and signature.

    Raises:
        ValueError: the value is not ``ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,
            Signature=..`` with all three parts non-empty.
    """
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != V3_ALGORITHM:
        raise ValueError(f"unsupported signature algorithm {algorithm!r}")
    parts: dict[str, str] = {}
    for item in rest.split(","):
        name, sep, part = item.strip().partition("=")
        if not sep:
            raise ValueError(f"malformed Authorization component {name!r}")
        parts[name] = part
    try:
        key_id = parts["Credential"]
        signed = [name for name in parts["SignedHeaders"].split(";") if name]
        signature = parts["Signature"]
    except KeyError as missing:
        raise ValueError(f"Authorization lacks {missing.args[0]}") from None
    if not key_id or not signed or not signature:
        raise ValueError("Authorization has an empty Credential, SignedHeaders or Signature")
    return key_id, signed, signature


def rpc_string_to_sign(method: str, params: Mapping[str, str]) -> str:
    """The RPC string to sign over every parameter but ``Signature``; the method matters."""
    signed = {name: value for name, value in params.items() if name != "Signature"}
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical_query(signed))}"


def rpc_signature(secret: str, string_to_sign: str) -> str:
    """Base64 HMAC-SHA1 of ``string_to_sign`` keyed with the secret followed by ``&``."""
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def format_timestamp(dt: datetime) -> str:
    """Format an aware datetime as the gateway's UTC ``YYYY-MM-DDTHH:MM:SSZ``.

    Raises:
        ValueError: ``dt`` is naive; a naive time has no defined UTC value to sign.
    """
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("format_timestamp needs a timezone-aware datetime")
    return dt.astimezone(UTC).strftime(_TIMESTAMP_FORMAT)


def new_nonce() -> str:
    """A fresh random signature nonce (32 hex digits), unique per send."""
    return secrets.token_hex(16)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _form_params(request: httpx.Request) -> dict[str, str]:
    content_type = request.headers.get(_CONTENT_TYPE, "")
    if not content_type.lower().startswith("application/x-www-form-urlencoded"):
        return {}
    return dict(parse_qsl(request.content.decode("utf-8"), keep_blank_values=True))


class SignerAuth(httpx.Auth):
    """Signs each send of a Live API request, so every retry carries a new timestamp and nonce.

    The client builds ``POST {endpoint}/`` with the headers ``x-acs-action`` and
    ``x-acs-version`` and the business parameters in the URL query, encoded any way. This
    auth reads the business parameters back from the URL (dropping any signature parameters a
    previous send added), signs, and rewrites the URL query with the encoder it signed with.

    Args:
        credentials: called on every send that does not carry its own credentials in the
            `CREDENTIALS_EXTENSION` request extension (the client's always do).
        version: ``"v3"`` (ACS3-HMAC-SHA256 in headers) or ``"rpc"`` (HMAC-SHA1 in the query).
        clock: the wall clock for timestamps; must return aware datetimes.
        nonce: the source of signature nonces.
    """

    requires_request_body = True

    def __init__(
        self,
        credentials: Callable[[], SigningKey],
        *,
        version: Literal["v3", "rpc"] = "v3",
        clock: Callable[[], datetime] = _utc_now,
        nonce: Callable[[], str] = new_nonce,
    ) -> None:
        if version not in ("v3", "rpc"):
            raise ValueError(f"unknown signature version {version!r}: use 'v3' or 'rpc'")
        self._credentials = credentials
        self._version = version
        self._clock = clock
        self._nonce = nonce

    def __repr__(self) -> str:
        return f"SignerAuth(version={self._version!r})"

    @property
    def version(self) -> Literal["v3", "rpc"]:
        """The signature version this auth applies."""
        return self._version

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Sign ``request`` in place and send it once (httpx calls this on every send)."""
        self.sign(request)
        yield request

    def sign(self, request: httpx.Request) -> None:
        """Sign ``request`` in place with fresh credentials, timestamp and nonce.

        Raises:
            ValueError: the request lacks the ``x-acs-action`` or ``x-acs-version`` header.
        """
        action = request.headers.get("x-acs-action")
        api_version = request.headers.get("x-acs-version")
        if not action or not api_version:
            raise ValueError("a signed request needs the x-acs-action and x-acs-version headers")
        carried = request.extensions.get(CREDENTIALS_EXTENSION)
        credentials: SigningKey = carried if carried is not None else self._credentials()
        params = {
            name: value
            for name, value in parse_qsl(request.url.query.decode("ascii"), keep_blank_values=True)
            if name not in RPC_COMMON_PARAMS
        }
        request.headers.pop("authorization", None)
        if self._version == "v3":
            self._sign_v3(request, credentials, params)
        else:
            self._sign_rpc(request, credentials, params, action, api_version)

    def _sign_v3(
        self, request: httpx.Request, credentials: SigningKey, params: dict[str, str]
    ) -> None:
        headers = request.headers
        if "host" not in headers:
            headers["host"] = request.url.netloc.decode("ascii")
        payload_hash = _sha256_hex(request.content)
        headers["x-acs-date"] = format_timestamp(self._clock())
        headers["x-acs-signature-nonce"] = self._nonce()
        headers["x-acs-content-sha256"] = payload_hash
        if credentials.security_token:
            headers["x-acs-security-token"] = credentials.security_token
        else:
            headers.pop("x-acs-security-token", None)
        signed = ["host", *(name for name in headers if name.startswith("x-acs-"))]
        if _CONTENT_TYPE in headers:
            signed.append(_CONTENT_TYPE)
        canonical = v3_canonical_request(
            request.method, "/", params, dict(headers), signed, payload_hash
        )
        signature = v3_signature(credentials.access_key_secret, v3_string_to_sign(canonical))
        headers["authorization"] = v3_authorization(credentials.access_key_id, signed, signature)
        request.url = request.url.copy_with(query=canonical_query(params).encode("ascii") or None)

    def _sign_rpc(
        self,
        request: httpx.Request,
        credentials: SigningKey,
        params: dict[str, str],
        action: str,
        api_version: str,
    ) -> None:
        params.update(
            {
                "Action": action,
                "Version": api_version,
                "Format": "JSON",
                "AccessKeyId": credentials.access_key_id,
                "SignatureMethod": "HMAC-SHA1",
                "SignatureVersion": "1.0",
                "SignatureNonce": self._nonce(),
                "Timestamp": format_timestamp(self._clock()),
            }
        )
        if credentials.security_token:
            params["SecurityToken"] = credentials.security_token
        signed = {**_form_params(request), **params}
        params["Signature"] = rpc_signature(
            credentials.access_key_secret, rpc_string_to_sign(request.method, signed)
        )
        request.url = request.url.copy_with(query=canonical_query(params).encode("ascii"))
