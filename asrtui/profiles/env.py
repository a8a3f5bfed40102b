"""Where a session's connection settings come from: options, then environment, then profiles.

Precedence, highest first, as other cloud CLIs do:

1. explicit command-line options: ``--endpoint``, ``--region``, ``--signature``, and
   ``--profile``, whose profile then supplies everything those options do not;
2. ``ALIBABA_CLOUD_*`` environment variables (also the aliyun CLI's ``ALIBABACLOUD_*`` and
   ``ALICLOUD_*`` spellings, tried in that order): an AccessKey pair (with an optional STS
   token) is used as is, with no profile; ``..._REGION_ID`` sets the region; ``..._PROFILE``
   names the profile to use instead of the default one;
3. the default profile;
4. built-in defaults (region ``cn-shanghai``, signature ``v3``, 20 calls/s, refresh 5 s).

Credentials from the environment never mix with a stored profile's endpoint or limits: an
environment key pair sent to an endpoint chosen for another account would be a surprise. An
explicit ``--profile`` beats environment credentials, as ``aws --profile`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from asrtui.credentials import Credentials
from asrtui.endpoints import DEFAULT_REGION
from asrtui.errors import CredentialsError
from asrtui.profiles.external import ExternalCredentials
from asrtui.profiles.model import (
    DEFAULT_RATE_LIMIT,
    DEFAULT_REFRESH,
    DEFAULT_REQUEST_TIMEOUT,
    Profile,
    Signature,
    check_credentials,
    validate_endpoint,
    validate_name,
    validate_region,
    validate_signature,
)
from asrtui.profiles.store import ProfileStore

__all__ = [
    "ENV_PREFIXES",
    "ENV_PROFILE_NAME",
    "CredentialsProvider",
    "NothingConfiguredError",
    "ResolvedSettings",
    "StaticCredentials",
    "env_value",
    "resolve_connection_settings",
]

#: Environment variable prefixes, in the order they are tried.
ENV_PREFIXES: tuple[str, ...] = ("ALIBABA_CLOUD_", "ALIBABACLOUD_", "ALICLOUD_")
#: The profile name reported when credentials come from the environment.
ENV_PROFILE_NAME = "env"

CredentialsProvider = Callable[[], Credentials]

_NOTHING_CONFIGURED_HINT = (
    "add a profile with 'asrtui profile add NAME --access-key-id ID' (the secret is prompted for),"
    " or set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET,"
    " or try 'asrtui --demo'"
)


class NothingConfiguredError(CredentialsError):
    """Nothing to connect with at all: no credentials in the environment and no profile.

    Its own class so that the console can offer its first-run screen for exactly this case,
    from the one reading of the profile store that `resolve_connection_settings` does.
    """


class StaticCredentials:
    """A credentials provider that always returns the same `Credentials` (secrets hidden)."""

    def __init__(self, credentials: Credentials) -> None:
        self._credentials = credentials

    def __call__(self) -> Credentials:
        """Return the credentials."""
        return self._credentials

    def __repr__(self) -> str:
        return f"StaticCredentials({self._credentials!r})"


@dataclass(frozen=True)
class ResolvedSettings:
    """Everything the composition root needs to build a client for one session.

    Attributes:
        profile: the profile name, or ``env`` when credentials came from the environment.
        credentials: returns the current credentials (runs an external command when due).
        region: the region id.
        endpoint: the explicit endpoint override, normalised, or ``None`` for the region's.
        signature: ``v3`` or ``rpc``.
        rate_limit: calls per second for this account (1..20).
        refresh: seconds between automatic refreshes.
        read_only: whether stop and delete are disabled.
        request_timeout: seconds one request may take in all, connect to last byte.
        max_answer_mb: the profile's answer size limit in MiB; ``None`` when credentials
            come from the environment (then the option, the variable or the default apply).
    """

    profile: str
    credentials: CredentialsProvider = field(repr=False)
    region: str = DEFAULT_REGION
    endpoint: str | None = None
    signature: Signature = "v3"
    rate_limit: int = DEFAULT_RATE_LIMIT
    refresh: float = DEFAULT_REFRESH
    read_only: bool = False
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    max_answer_mb: int | None = None


def env_value(env: Mapping[str, str], suffix: str) -> str | None:
    """The first non-empty ``<prefix><suffix>`` of `ENV_PREFIXES` in ``env``, stripped."""
    found = _env_entry(env, suffix)
    return found[1] if found is not None else None


def _env_entry(env: Mapping[str, str], suffix: str) -> tuple[str, str] | None:
    """The name and stripped value of the variable `env_value` reads, or None."""
    for prefix in ENV_PREFIXES:
        value = env.get(prefix + suffix, "").strip()
        if value:
            return prefix + suffix, value
    return None


def _env_credentials(env: Mapping[str, str]) -> Credentials | None:
    key_id = env_value(env, "ACCESS_KEY_ID")
    secret = env_value(env, "ACCESS_KEY_SECRET")
    if key_id is None and secret is None:
        return None
    if key_id is None or secret is None:
        present, missing = (
            ("ACCESS_KEY_ID", "ACCESS_KEY_SECRET")
            if key_id is not None
            else ("ACCESS_KEY_SECRET", "ACCESS_KEY_ID")
        )
        raise CredentialsError(
            f"ALIBABA_CLOUD_{present} is set but ALIBABA_CLOUD_{missing} is not",
            "set both, or unset both to use a profile",
        )
    token = _env_entry(env, "SECURITY_TOKEN")
    names = {
        attribute: entry[0]
        for attribute, entry in (
            ("access_key_id", _env_entry(env, "ACCESS_KEY_ID")),
            ("access_key_secret", _env_entry(env, "ACCESS_KEY_SECRET")),
            ("security_token", token),
        )
        if entry is not None
    }
    credentials = Credentials(key_id, secret, token[1] if token is not None else "")
    return check_credentials(credentials, source="the environment", names=names)


def _provider(profile: Profile) -> CredentialsProvider:
    if profile.credential_command is not None:
        return ExternalCredentials(profile.credential_command, profile=profile.name)
    if profile.credentials is not None:
        return StaticCredentials(profile.credentials)
    raise CredentialsError(
        f"Profile {profile.name!r} has no credentials",
        f"add them with 'asrtui profile add {profile.name} --access-key-id ID --replace'",
    )


def resolve_connection_settings(
    *,
    profile: str | None,
    endpoint: str | None,
    region: str | None,
    signature: str | None,
    env: Mapping[str, str],
    store: ProfileStore | None = None,
) -> ResolvedSettings:
    """Combine command-line options, the environment and the stored profiles (see module doc).

    Args:
        profile: ``--profile``, or ``None``.
        endpoint: ``--endpoint``, or ``None``.
        region: ``--region``, or ``None``.
        signature: ``--signature``, or ``None``.
        env: the environment (``os.environ``), read only.
        store: the profile store; the one in `asrtui.profiles.store.config_dir` by default.

    Raises:
        NothingConfiguredError: nothing is configured (the message says what to run).
        CredentialsError: the named profile has no credentials, or only half an environment
            key pair is set.
        ConfigError: an option or a stored profile is invalid, or the named profile is missing.
    """
    store = store if store is not None else ProfileStore()
    cli_endpoint = validate_endpoint(endpoint) if endpoint else None
    cli_region = validate_region(region) if region else None
    cli_signature = validate_signature(signature) if signature else None
    env_region_text = env_value(env, "REGION_ID")
    env_region = validate_region(env_region_text) if env_region_text else None

    chosen: Profile | None = None
    if profile:
        chosen = store.load().get(validate_name(profile))
        # A profile named on the command line outranks the environment, region included.
        env_region = None
    else:
        env_credentials = _env_credentials(env)
        if env_credentials is not None:
            return ResolvedSettings(
                profile=ENV_PROFILE_NAME,
                credentials=StaticCredentials(env_credentials),
                region=cli_region or env_region or DEFAULT_REGION,
                endpoint=cli_endpoint,
                signature=cli_signature or "v3",
            )
        profiles = store.load()
        env_profile = env_value(env, "PROFILE")
        if env_profile is not None:
            chosen = profiles.get(env_profile)
        elif profiles.default is not None:
            chosen = profiles.get(profiles.default)
        elif profiles.profiles:
            raise CredentialsError(
                "No default profile is set",
                "run 'asrtui profile use NAME', or pass --profile NAME",
            )
        else:
            raise NothingConfiguredError("No credentials configured", _NOTHING_CONFIGURED_HINT)

    return ResolvedSettings(
        profile=chosen.name,
        credentials=_provider(chosen),
        region=cli_region or env_region or chosen.region,
        endpoint=cli_endpoint or chosen.endpoint,
        signature=cli_signature or chosen.signature,
        rate_limit=chosen.rate_limit,
        refresh=chosen.refresh,
        read_only=chosen.read_only,
        request_timeout=chosen.request_timeout,
        max_answer_mb=chosen.max_answer_mb,
    )
