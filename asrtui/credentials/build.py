"""A profile's credentials provider, whatever its mode: the one place a mode becomes a provider.

`asrtui.credentials.chain` decides *which* source a session uses; this module turns one
profile (an asrtui profile, the aliyun CLI's, a section of credentials.ini) into the provider
of its mode: a stored key, an external command, a role assumed with STS, an ECS role, OIDC,
a credentials URI, or another aliyun CLI profile read now.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from asrtui.credentials.ecs import EcsRoleProvider, metadata_url
from asrtui.credentials.external import ExternalCredentials
from asrtui.credentials.provider import CredentialsProvider, StaticProvider
from asrtui.credentials.sts import (
    DEFAULT_DURATION,
    OidcRoleProvider,
    RoleProvider,
    RoleSettings,
    sts_endpoint,
)
from asrtui.credentials.uri import UriProvider
from asrtui.errors import CredentialsError
from asrtui.profiles.aliyun import read_aliyun_config
from asrtui.profiles.model import Profile
from asrtui.profiles.modes import ModeSettings

__all__ = [
    "aliyun_config_path",
    "aliyun_profile",
    "build_provider",
    "credentials_ini_path",
    "env_true",
]


def env_true(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() == "true"


def _role_settings(mode: ModeSettings, env: Mapping[str, str]) -> RoleSettings:
    return RoleSettings(
        mode.ram_role_arn,
        session_name=mode.ram_session_name,
        duration=mode.expired_seconds or DEFAULT_DURATION,
        policy=mode.policy,
        external_id=mode.external_id,
        endpoint=sts_endpoint(
            env,
            endpoint=mode.sts_endpoint or None,
            region=mode.sts_region or None,
            vpc=mode.enable_vpc,
        ),
    )


def build_provider(
    profile: Profile,
    *,
    env: Mapping[str, str],
    lookup: Callable[[str], Profile],
    where: str = "",
    seen: tuple[str, ...] = (),
) -> CredentialsProvider:
    """The provider of ``profile``'s credentials, whatever its mode.

    Args:
        profile: the profile.
        env: the environment (STS endpoint, metadata URL, IMDSv1 switch).
        lookup: finds the source profile of a ``ChainableRamRoleArn`` by name.
        where: names the profile in messages (``profile 'ops'``).
        seen: the profiles already on this chain of roles (a loop is refused).

    Raises:
        CredentialsError: the profile has no credentials, its role chain loops, or a setting
            cannot be sent (a role ARN that is not one).
    """
    where = where or f"profile '{profile.name}'"
    mode = profile.mode
    if mode is None:
        if profile.credential_command is not None:
            return ExternalCredentials(profile.credential_command, profile=profile.name)
        if profile.credentials is not None:
            return StaticProvider(profile.credentials, source=where)
        raise CredentialsError(
            f"Profile {profile.name!r} has no credentials",
            f"add them with 'asrtui profile add {profile.name} --access-key-id ID --replace'",
        )
    if mode.mode == "RamRoleArn":
        assert profile.credentials is not None  # the profile's rules require it
        key = StaticProvider(profile.credentials, source=where)
        return RoleProvider(key, _role_settings(mode, env), where=where)
    if mode.mode == "ChainableRamRoleArn":
        chain = (*seen, profile.name)
        if mode.source_profile in chain:
            raise CredentialsError(
                f"The role chain of {where} loops: {' -> '.join((*chain, mode.source_profile))}",
                "make one profile of the chain use an AccessKey, ECS or OIDC",
            )
        inner = lookup(mode.source_profile)
        source = build_provider(inner, env=env, lookup=lookup, seen=chain)
        return RoleProvider(
            source, _role_settings(mode, env), where=where, mode="ChainableRamRoleArn"
        )
    if mode.mode == "EcsRamRole":
        return EcsRoleProvider(
            mode.ram_role_name,
            base_url=metadata_url(env),
            imdsv1=not env_true(env, "ALIBABA_CLOUD_IMDSV1_DISABLED"),
            where=where,
        )
    if mode.mode == "OIDC":
        return OidcRoleProvider(
            _role_settings(mode, env),
            provider_arn=mode.oidc_provider_arn,
            token_file=Path(mode.oidc_token_file).expanduser(),
            where=where,
        )
    if mode.mode == "CredentialsURI":
        return UriProvider(mode.credentials_uri, where=where)
    # AliyunProfile: the aliyun CLI's profile, read now (a change there is seen at once).
    found = aliyun_profile(mode.aliyun_profile, env, where)
    return build_provider(
        found.profile,
        env=env,
        lookup=found.lookup,
        where=f"aliyun CLI profile '{mode.aliyun_profile}' ({where})",
    )


@dataclass(frozen=True)
class _Found:
    profile: Profile
    lookup: Callable[[str], Profile]


def aliyun_profile(name: str, env: Mapping[str, str], where: str) -> _Found:
    """The aliyun CLI profile ``name`` from ``~/.aliyun/config.json``, read now."""
    read = read_aliyun_config(aliyun_config_path(env))
    by_name = {profile.name: profile for profile in read.profiles}
    skipped = dict(read.skipped)

    def lookup(wanted: str) -> Profile:
        if wanted in by_name:
            return by_name[wanted]
        if wanted in skipped:
            raise CredentialsError(
                f"The aliyun CLI profile '{wanted}' cannot be used: {skipped[wanted]}",
                "change it with 'aliyun configure', or name another",
            )
        raise CredentialsError(
            f"No aliyun CLI profile named '{wanted}' (for {where})",
            "run 'aliyun configure list' to see them",
        )

    return _Found(lookup(name), lookup)


def aliyun_config_path(env: Mapping[str, str]) -> Path:
    """``~/.aliyun/config.json`` (``HOME`` from ``env`` when set, as the SDK reads it)."""
    home = env.get("HOME", "").strip()
    return (Path(home) if home else Path.home()) / ".aliyun" / "config.json"


def credentials_ini_path(env: Mapping[str, str]) -> Path:
    """``ALIBABA_CLOUD_CREDENTIALS_FILE`` or ``~/.alibabacloud/credentials.ini``."""
    named = env.get("ALIBABA_CLOUD_CREDENTIALS_FILE", "").strip()
    if named:
        return Path(named).expanduser()
    home = env.get("HOME", "").strip()
    return (Path(home) if home else Path.home()) / ".alibabacloud" / "credentials.ini"
