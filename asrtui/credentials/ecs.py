"""``EcsRamRole``: the instance RAM role's credentials from the ECS metadata service.

IMDSv2 as the SDK does it: ``PUT /latest/api/token`` with
``X-aliyun-ecs-metadata-token-ttl-seconds``, then ``GET`` the role name (when not given) and
the role's credentials under ``/latest/meta-data/ram/security-credentials/`` with
``X-aliyun-ecs-metadata-token``. Without a token (an old image, a proxy that refuses ``PUT``)
the requests go without it (IMDSv1), unless ``ALIBABA_CLOUD_IMDSV1_DISABLED=true``. Every call
has the SDK's 1 s connect and read timeouts.

`probe_instance_role` is the default chain's last resort: it asks once per run whether a
metadata service answers here, and a machine off the cloud pays at most its one second.
``ASRTUI_ECS_METADATA_URL`` replaces ``http://100.100.100.200`` (a proxy, the emulator).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import httpx

from asrtui.credentials.refresh import Fetched, RefreshingProvider
from asrtui.credentials.remote import Answer, call, json_object, temporary_credentials
from asrtui.errors import CredentialsError, CredentialsServiceError

__all__ = [
    "DEFAULT_METADATA_URL",
    "METADATA_TIMEOUT",
    "METADATA_URL_VAR",
    "EcsRoleProvider",
    "forget_probes",
    "metadata_url",
    "probe_instance_role",
]

DEFAULT_METADATA_URL = "http://100.100.100.200"
METADATA_URL_VAR = "ASRTUI_ECS_METADATA_URL"
#: The SDK's metadata timeouts: connect 1 s, read 1 s.
METADATA_TIMEOUT = httpx.Timeout(1.0, connect=1.0)
_DEADLINE = 3.0
_TOKEN_PATH = "/latest/api/token"
_ROLES_PATH = "/latest/meta-data/ram/security-credentials/"
_TOKEN_TTL = "21600"
_HINT = "check that this is an ECS instance with a RAM role attached (or ASRTUI_ECS_METADATA_URL)"


def metadata_url(env: Mapping[str, str]) -> str:
    """The metadata service's base URL: ``ASRTUI_ECS_METADATA_URL`` or the ECS address."""
    return (env.get(METADATA_URL_VAR, "").strip() or DEFAULT_METADATA_URL).rstrip("/")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _true(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() == "true"


class _Metadata:
    """Calls to one metadata service, IMDSv2 first."""

    def __init__(
        self, base_url: str, *, imdsv1: bool, transport: httpx.AsyncBaseTransport | None
    ) -> None:
        self.base_url = base_url
        self.imdsv1 = imdsv1
        self.transport = transport
        self.source = f"the ECS metadata service at {base_url}"

    async def _call(self, method: str, path: str, headers: Mapping[str, str]) -> Answer:
        """One request to the service, with its timeouts, deadline and hint."""
        return await call(
            method,
            self.base_url + path,
            source=self.source,
            timeouts=METADATA_TIMEOUT,
            deadline=_DEADLINE,
            headers=headers,
            transport=self.transport,
            hint=_HINT,
        )

    async def token(self) -> str | None:
        """An IMDSv2 token; ``None`` when the service refuses ``PUT`` and IMDSv1 is allowed."""
        # No answer at all raises: IMDSv1 would not answer either.
        answer = await self._call(
            "PUT", _TOKEN_PATH, {"X-aliyun-ecs-metadata-token-ttl-seconds": _TOKEN_TTL}
        )
        if answer.status == 200 and answer.body.strip():
            return answer.body.decode("ascii", "replace").strip()
        if self.imdsv1:
            return None
        raise CredentialsServiceError(
            f"{self.source} gave no IMDSv2 token (HTTP {answer.status}) and IMDSv1 is disabled",
            "unset ALIBABA_CLOUD_IMDSV1_DISABLED, or check the instance's metadata settings",
        )

    async def get(self, path: str, token: str | None) -> tuple[int, bytes]:
        headers = {"X-aliyun-ecs-metadata-token": token} if token else {}
        answer = await self._call("GET", path, headers)
        return answer.status, answer.body

    async def role_name(self, token: str | None) -> str:
        status, body = await self.get(_ROLES_PATH, token)
        name = body.decode("ascii", "replace").strip().splitlines()[0] if body.strip() else ""
        if status == 404 or (status == 200 and not name):
            raise CredentialsError(
                "This ECS instance has no RAM role attached",
                "attach one in the ECS console, or use another credential mode",
            )
        if status != 200 or not all(c.isalnum() or c in "._-@" for c in name):
            raise CredentialsServiceError(
                f"{self.source} did not answer the instance's role name (HTTP {status})", _HINT
            )
        return name


class EcsRoleProvider(RefreshingProvider):
    """``EcsRamRole``: the instance role's credentials, refreshed before expiry.

    Args:
        role_name: the role; discovered from the metadata service when empty.
        base_url: the metadata service (`metadata_url`).
        imdsv1: whether to fall back to requests without a token.
        where: names the configuration in messages.
        clock: the wall clock.
        transport: an httpx transport (tests).
    """

    def __init__(
        self,
        role_name: str = "",
        *,
        base_url: str = DEFAULT_METADATA_URL,
        imdsv1: bool = True,
        where: str = "the ECS instance RAM role",
        clock: Callable[[], datetime] = _utc_now,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._role_name = role_name
        self._service = _Metadata(base_url, imdsv1=imdsv1, transport=transport)
        super().__init__(
            self._fetch_role,
            mode="EcsRamRole",
            source=where,
            quota_key=f"ecs-role:{role_name}" if role_name else "",
            clock=clock,
        )

    async def _fetch_role(self) -> Fetched:
        service = self._service
        token = await service.token()
        role = self._role_name or await service.role_name(token)
        self._role_name = role
        self._quota_key = self._quota_key or f"ecs-role:{role}"
        status, body = await service.get(_ROLES_PATH + role, token)
        source = f"{service.source} (role {role})"
        if status == 404:
            raise CredentialsError(
                f"The ECS instance has no RAM role named {role!r}",
                "check the role name (ALIBABA_CLOUD_ECS_METADATA, ram_role_name)",
            )
        if status != 200:
            raise CredentialsServiceError(f"{source} failed (HTTP {status})", _HINT)
        data = json_object(Answer(status, "", body), source)
        if data.get("Code") != "Success":
            raise CredentialsServiceError(f"{source} did not answer Code Success", _HINT)
        return temporary_credentials(data, source, now=self._clock())


#: The outcome of this run's probe of the metadata service, by base URL (at most one each).
_PROBED: dict[str, str | None] = {}


def probe_instance_role(
    env: Mapping[str, str], *, transport: httpx.BaseTransport | None = None
) -> str | None:
    """The instance's role name if a metadata service answers here, else ``None``; once a run.

    Synchronous: the chain is resolved before the console starts. Off the cloud the ``PUT``
    meets nothing, within the 1 s connect timeout, and nothing else is tried; an answer that
    is not a token falls back to IMDSv1 unless disabled.
    """
    base = metadata_url(env)
    if base in _PROBED:
        return _PROBED[base]
    imdsv1 = not _true(env, "ALIBABA_CLOUD_IMDSV1_DISABLED")
    found: str | None = None
    try:
        with httpx.Client(
            transport=transport, timeout=METADATA_TIMEOUT, follow_redirects=False
        ) as client:
            put = client.put(
                base + _TOKEN_PATH, headers={"X-aliyun-ecs-metadata-token-ttl-seconds": _TOKEN_TTL}
            )
            token = put.text.strip() if put.status_code == 200 else ""
            if token or imdsv1:
                headers = {"X-aliyun-ecs-metadata-token": token} if token else {}
                roles = client.get(base + _ROLES_PATH, headers=headers)
                name = roles.text.strip().splitlines()[0] if roles.text.strip() else ""
                if roles.status_code == 200 and name:
                    found = name
    except (httpx.HTTPError, httpx.InvalidURL, UnicodeDecodeError):
        found = None
    _PROBED[base] = found
    return found


def forget_probes() -> None:
    """Forget this run's probes (tests run several 'runs' in one process)."""
    _PROBED.clear()
