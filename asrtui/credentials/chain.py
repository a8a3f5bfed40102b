"""Where a session's credentials and settings come from: one ordered chain, first match wins.

Highest first (README "Profiles and credentials" has the same list):

1. ``--profile NAME``: that asrtui profile, any mode;
2. an environment AccessKey (``ALIBABA_CLOUD_ACCESS_KEY_ID`` and ``..._SECRET``, with
   ``..._SECURITY_TOKEN`` for STS; the aliyun CLI's ``ALIBABACLOUD_*`` and ``ALICLOUD_*``
   spellings too); with ``ALIBABA_CLOUD_ROLE_ARN`` beside it, that role is assumed with it
   (RamRoleArn; the Python SDK ignores the role there, some Alibaba tools do not);
3. the OIDC trio ``ALIBABA_CLOUD_OIDC_TOKEN_FILE``, ``..._OIDC_PROVIDER_ARN`` and
   ``..._ROLE_ARN`` (ACK RRSA);
4. the asrtui profile named by ``ALIBABA_CLOUD_PROFILE``, when there is one of that name;
5. the default asrtui profile;
6. ``~/.aliyun/config.json``, read now: its profile ``ALIBABA_CLOUD_PROFILE`` or ``current``
   (off with ``ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true``);
7. ``~/.alibabacloud/credentials.ini`` (or ``ALIBABA_CLOUD_CREDENTIALS_FILE``), section
   ``ALIBABA_CLOUD_PROFILE`` or ``default``;
8. the ECS RAM role named by ``ALIBABA_CLOUD_ECS_METADATA``;
9. ``ALIBABA_CLOUD_CREDENTIALS_URI``;
10. an ECS RAM role found by asking the metadata service, once per run, at most 1 s, unless
    ``ALIBABA_CLOUD_ECS_METADATA_DISABLED=true``: the last resort, so that off the cloud it
    costs a second only when nothing else is configured.

asrtui's own order (options, then environment, then the default profile) is kept, and the
sources the SDKs add come after asrtui's profiles: a user who set up asrtui profiles meant
them. Two places differ from the Python SDK's chain on purpose: the role ARN beside an
environment AccessKey (2), and the credentials URI before an ECS role that has to be probed
(9, 10), so that a configured URI never waits for the probe.

``--region``, ``--endpoint`` and ``--signature`` override what the source says; the region is
then ``ALIBABA_CLOUD_REGION_ID``, the profile's, or ``cn-shanghai``. Credentials from outside
asrtui's profiles never take a stored profile's endpoint or limits. `ResolvedSettings.trail`
keeps why each earlier source was passed over, for ``asrtui whoami``. The provider of the
source found is built by `asrtui.credentials.build`, whatever its mode; the settings are one
`asrtui.sessionsettings.Settings`, resolved here once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from asrtui.credentials.build import (
    aliyun_config_path,
    aliyun_profile,
    build_provider,
    credentials_ini_path,
    env_true,
)
from asrtui.credentials.ecs import EcsRoleProvider, metadata_url, probe_instance_role
from asrtui.credentials.provider import CredentialsProvider, StaticProvider
from asrtui.credentials.sts import (
    OidcRoleProvider,
    RoleProvider,
    RoleSettings,
    sts_endpoint,
)
from asrtui.credentials.uri import UriProvider
from asrtui.credentials.value import Credentials
from asrtui.errors import CredentialsError
from asrtui.profiles.aliyun import read_aliyun_config
from asrtui.profiles.ini import read_credentials_ini
from asrtui.profiles.model import Profile, check_credentials, validate_name
from asrtui.profiles.store import ProfileStore
from asrtui.sessionsettings import (
    DEFAULT_REGION,
    Settings,
    Signature,
    validate_endpoint,
    validate_region,
    validate_signature,
)

__all__ = [
    "ENV_PREFIXES",
    "ENV_PROFILE_NAME",
    "NothingConfiguredError",
    "ResolvedSettings",
    "env_value",
    "resolve_connection_settings",
]

#: Environment variable prefixes, in the order they are tried.
ENV_PREFIXES: tuple[str, ...] = ("ALIBABA_CLOUD_", "ALIBABACLOUD_", "ALICLOUD_")
#: The profile name reported when credentials come from the environment.
ENV_PROFILE_NAME = "env"

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


@dataclass(frozen=True)
class ResolvedSettings:
    """What the chain found for one session: whose credentials, and the settings to use.

    Attributes:
        profile: the profile name, or ``env`` when credentials came from the environment.
        credentials: hands out the current credentials (`CredentialsProvider`).
        settings: the profile's settings, or the defaults for credentials from outside
            asrtui's profiles, with the region of the environment and the options given.
        trail: why each source before the chosen one was passed over (``asrtui whoami``).
    """

    profile: str
    credentials: CredentialsProvider = field(repr=False)
    settings: Settings = field(default_factory=Settings)
    trail: tuple[str, ...] = ()


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


#: What the chain found: the provider, a name for the status line, its region if it has one.
_Match = tuple[CredentialsProvider, str, str | None]


class _Chain:
    """Steps 2, 3 and 6 to 10 of the module doc, each saying why it passed."""

    def __init__(self, env: Mapping[str, str], probe: Callable[[Mapping[str, str]], str | None]):
        self.env = env
        self.probe = probe
        self.trail: list[str] = []

    def passed(self, what: str) -> None:
        self.trail.append(what)

    def environment(self) -> _Match | None:
        env = self.env
        credentials = _env_credentials(env)
        role_arn = env.get("ALIBABA_CLOUD_ROLE_ARN", "").strip()
        if credentials is not None:
            static = StaticProvider(credentials, source="the environment")
            if not role_arn or _oidc_trio(env):
                return static, ENV_PROFILE_NAME, None
            role = RoleSettings(
                role_arn,
                session_name=env.get("ALIBABA_CLOUD_ROLE_SESSION_NAME", "").strip(),
                external_id=env.get("ALIBABA_CLOUD_EXTERNAL_ID", "").strip(),
                endpoint=sts_endpoint(env),
            )
            where = "the environment (ALIBABA_CLOUD_ROLE_ARN)"
            return RoleProvider(static, role, where=where), ENV_PROFILE_NAME, None
        self.passed("environment AccessKey: ALIBABA_CLOUD_ACCESS_KEY_ID is not set")
        trio = _oidc_trio(env)
        if trio is not None:
            token_file, provider_arn = trio
            role = RoleSettings(
                role_arn,
                session_name=env.get("ALIBABA_CLOUD_ROLE_SESSION_NAME", "").strip(),
                endpoint=sts_endpoint(env),
            )
            provider = OidcRoleProvider(
                role,
                provider_arn=provider_arn,
                token_file=token_file,
                where="the environment (OIDC)",
            )
            return provider, ENV_PROFILE_NAME, None
        self.passed(
            "environment OIDC: ALIBABA_CLOUD_OIDC_TOKEN_FILE, ..._OIDC_PROVIDER_ARN and "
            "..._ROLE_ARN are not all set"
        )
        return None

    def after_profiles(self) -> _Match | None:
        for step in (self.aliyun_cli, self.credentials_ini, self.named_ecs, self.uri, self.ecs):
            found = step()
            if found is not None:
                return found
        return None

    def aliyun_cli(self) -> _Match | None:
        env = self.env
        path = aliyun_config_path(env)
        if env_true(env, "ALIBABA_CLOUD_CLI_PROFILE_DISABLED"):
            self.passed(f"{path}: ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true")
            return None
        if not path.is_file():
            self.passed(f"{path}: no such file")
            return None
        read = read_aliyun_config(path)
        name = env.get("ALIBABA_CLOUD_PROFILE", "").strip() or read.current_name
        if not name:
            self.passed(f"{path}: no current profile and ALIBABA_CLOUD_PROFILE is not set")
            return None
        found = aliyun_profile(name, env, f"{path}")
        where = f"aliyun CLI profile '{name}' in {path}"
        provider = build_provider(found.profile, env=env, lookup=found.lookup, where=where)
        return provider, f"aliyun:{name}", found.profile.region

    def credentials_ini(self) -> _Match | None:
        env = self.env
        path = credentials_ini_path(env)
        if not path.is_file():
            self.passed(f"{path}: no such file")
            return None
        section = env.get("ALIBABA_CLOUD_PROFILE", "").strip() or "default"
        profile = read_credentials_ini(path, section)
        if profile is None:
            self.passed(f"{path}: no section [{section}]")
            return None
        where = f"[{section}] of {path}"

        def no_chain(name: str) -> Profile:
            raise CredentialsError(f"{where} cannot chain roles", "")  # pragma: no cover

        provider = build_provider(profile, env=env, lookup=no_chain, where=where)
        return provider, f"ini:{section}", None

    def named_ecs(self) -> _Match | None:
        role = self.env.get("ALIBABA_CLOUD_ECS_METADATA", "").strip()
        if not role:
            self.passed("ECS RAM role: ALIBABA_CLOUD_ECS_METADATA is not set")
            return None
        return self._ecs(role, "the ECS RAM role named by ALIBABA_CLOUD_ECS_METADATA")

    def uri(self) -> _Match | None:
        uri = self.env.get("ALIBABA_CLOUD_CREDENTIALS_URI", "").strip()
        if not uri:
            self.passed("credentials URI: ALIBABA_CLOUD_CREDENTIALS_URI is not set")
            return None
        provider = UriProvider(uri, where="ALIBABA_CLOUD_CREDENTIALS_URI")
        return provider, ENV_PROFILE_NAME, None

    def ecs(self) -> _Match | None:
        if env_true(self.env, "ALIBABA_CLOUD_ECS_METADATA_DISABLED"):
            self.passed("ECS metadata service: ALIBABA_CLOUD_ECS_METADATA_DISABLED=true")
            return None
        role = self.probe(self.env)
        if role is None:
            self.passed(f"ECS metadata service at {metadata_url(self.env)}: no answer")
            return None
        return self._ecs(role, f"the ECS RAM role '{role}' of this instance")

    def _ecs(self, role: str, where: str) -> _Match:
        provider = EcsRoleProvider(
            role,
            base_url=metadata_url(self.env),
            imdsv1=not env_true(self.env, "ALIBABA_CLOUD_IMDSV1_DISABLED"),
            where=where,
        )
        return provider, f"ecs:{role}", None


def _oidc_trio(env: Mapping[str, str]) -> tuple[Path, str] | None:
    token_file = env.get("ALIBABA_CLOUD_OIDC_TOKEN_FILE", "").strip()
    provider_arn = env.get("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "").strip()
    role_arn = env.get("ALIBABA_CLOUD_ROLE_ARN", "").strip()
    if token_file and provider_arn and role_arn:
        return Path(token_file).expanduser(), provider_arn
    return None


def resolve_connection_settings(
    *,
    profile: str | None,
    endpoint: str | None,
    region: str | None,
    signature: str | None,
    env: Mapping[str, str],
    store: ProfileStore | None = None,
    probe: Callable[[Mapping[str, str]], str | None] | None = None,
) -> ResolvedSettings:
    """Walk the chain of the module doc; the first source that has credentials wins.

    Args:
        profile: ``--profile``, or ``None``.
        endpoint: ``--endpoint``, or ``None``.
        region: ``--region``, or ``None``.
        signature: ``--signature``, or ``None``.
        env: the environment (``os.environ``), read only.
        store: the profile store; the one in `asrtui.profiles.store.config_dir` by default.
        probe: asks the ECS metadata service for the instance's role (step 10);
            `asrtui.credentials.ecs.probe_instance_role` by default.

    Raises:
        NothingConfiguredError: nothing is configured (the message says what to run).
        CredentialsError: the chosen source has no usable credentials, or only half an
            environment key pair is set.
        ConfigError: an option or a stored profile is invalid, or the named profile is missing.
    """
    store = store if store is not None else ProfileStore()
    cli_endpoint = validate_endpoint(endpoint) if endpoint else None
    cli_region = validate_region(region) if region else None
    cli_signature = validate_signature(signature) if signature else None
    env_region_text = env_value(env, "REGION_ID")
    env_region = validate_region(env_region_text) if env_region_text else None

    chain = _Chain(env, probe if probe is not None else probe_instance_role)
    chosen: Profile | None = None
    profiles = None
    if profile:
        profiles = store.load()
        chosen = profiles.get(validate_name(profile))
        # A profile named on the command line outranks the environment, region included.
        env_region = None
    else:
        found = chain.environment()
        if found is None:
            profiles = store.load()
            env_profile = env_value(env, "PROFILE")
            if env_profile is not None and env_profile in profiles.profiles:
                chosen = profiles.get(env_profile)
            elif env_profile is not None:
                # The variable is shared with the aliyun CLI and the SDKs: their profile of
                # that name, else the error that names asrtui's profiles.
                chain.passed(f"ALIBABA_CLOUD_PROFILE={env_profile}: no asrtui profile of that name")
                found = chain.aliyun_cli() or chain.credentials_ini()
                if found is None:
                    profiles.get(env_profile)  # raises, listing the profiles there are
            elif profiles.default is not None:
                chosen = profiles.get(profiles.default)
            elif profiles.profiles:
                raise CredentialsError(
                    "No default profile is set",
                    "run 'asrtui profile use NAME', or pass --profile NAME",
                )
            else:
                chain.passed("asrtui profiles: none stored")
                found = chain.after_profiles()
                if found is None:
                    raise NothingConfiguredError(
                        "No credentials configured", _NOTHING_CONFIGURED_HINT
                    )
        if found is not None:
            provider, name, source_region = found
            # Credentials from outside asrtui's profiles take no stored profile's settings.
            source_settings = Settings(region=env_region or source_region or DEFAULT_REGION)
            return ResolvedSettings(
                profile=name,
                credentials=provider,
                settings=_with_options(source_settings, cli_region, cli_endpoint, cli_signature),
                trail=tuple(chain.trail),
            )

    assert chosen is not None
    assert profiles is not None
    loaded = profiles
    why = (
        "named by --profile"
        if profile
        else (
            "named by ALIBABA_CLOUD_PROFILE"
            if env_value(env, "PROFILE") == chosen.name
            else "the default profile"
        )
    )
    stored = Settings.of(chosen)
    if env_region is not None:
        stored = replace(stored, region=env_region)
    return ResolvedSettings(
        profile=chosen.name,
        credentials=build_provider(chosen, env=env, lookup=loaded.get),
        settings=_with_options(stored, cli_region, cli_endpoint, cli_signature),
        trail=(*chain.trail, f"asrtui profile '{chosen.name}': {why}"),
    )


def _with_options(
    settings: Settings, region: str | None, endpoint: str | None, signature: Signature | None
) -> Settings:
    """``settings`` changed by ``--region``, ``--endpoint`` and ``--signature`` where given."""
    return replace(
        settings,
        region=region or settings.region,
        endpoint=endpoint or settings.endpoint,
        signature=signature or settings.signature,
    )
