"""Precedence of connection settings: options, then environment, then the default profile."""

from __future__ import annotations

from pathlib import Path

import pytest

from asrtui.credentials import Credentials
from asrtui.credentials.chain import (
    NothingConfiguredError,
    ResolvedSettings,
    resolve_connection_settings,
)
from asrtui.credentials.external import ExternalCredentials
from asrtui.errors import ConfigError, CredentialsError
from asrtui.profiles import Profile, ProfileStore, credential_summary
from tests.support.fakes import credentials_now

PROD = Credentials("FAKEprod", "prod-secret-value-123456")
STAGE = Credentials("FAKEstage", "stage-secret-value-123456")
ENV_KEYS = {
    "ALIBABA_CLOUD_ACCESS_KEY_ID": "FAKEenv",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "env-secret-value-123456",
}


@pytest.fixture
def store(tmp_path: Path) -> ProfileStore:
    store = ProfileStore(tmp_path / "cfg")
    store.add(
        Profile(
            "prod",
            region="cn-beijing",
            endpoint="http://127.0.0.1:9000",
            signature="rpc",
            rate_limit=5,
            refresh=10,
            read_only=True,
            credentials=PROD,
        )
    )
    store.add(Profile("stage", region="ap-southeast-1", credentials=STAGE))
    return store


def resolve(
    store: ProfileStore,
    env: dict[str, str] | None = None,
    *,
    profile: str | None = None,
    endpoint: str | None = None,
    region: str | None = None,
    signature: str | None = None,
) -> ResolvedSettings:
    return resolve_connection_settings(
        profile=profile,
        endpoint=endpoint,
        region=region,
        signature=signature,
        env=env or {},
        store=store,
    )


def test_default_profile_when_nothing_else(store: ProfileStore) -> None:
    settings = resolve(store)
    assert settings.profile == "prod"
    assert credentials_now(settings.credentials) == PROD
    assert (settings.settings.region, settings.settings.endpoint, settings.settings.signature) == (
        "cn-beijing",
        "http://127.0.0.1:9000",
        "rpc",
    )
    assert (
        settings.settings.rate_limit,
        settings.settings.refresh,
        settings.settings.read_only,
    ) == (5, 10.0, True)


def test_environment_keys_beat_default_profile(store: ProfileStore) -> None:
    settings = resolve(store, {**ENV_KEYS, "ALIBABA_CLOUD_SECURITY_TOKEN": "tok-123456789"})
    assert settings.profile == "env"
    assert credentials_now(settings.credentials) == Credentials(
        "FAKEenv", "env-secret-value-123456", "tok-123456789"
    )
    # Nothing of the default profile leaks into an environment session.
    assert (settings.settings.region, settings.settings.endpoint, settings.settings.signature) == (
        "cn-shanghai",
        None,
        "v3",
    )
    assert (settings.settings.rate_limit, settings.settings.read_only) == (20, False)


def test_explicit_profile_beats_environment_keys(store: ProfileStore) -> None:
    env = {**ENV_KEYS, "ALIBABA_CLOUD_REGION_ID": "cn-hangzhou"}
    settings = resolve(store, env, profile="stage")
    assert settings.profile == "stage"
    assert credentials_now(settings.credentials) == STAGE
    assert settings.settings.region == "ap-southeast-1"


def test_options_beat_everything(store: ProfileStore) -> None:
    settings = resolve(
        store,
        {"ALIBABA_CLOUD_REGION_ID": "cn-hangzhou"},
        profile="prod",
        endpoint="https://live.example.com",
        region="eu-central-1",
        signature="v3",
    )
    assert (settings.settings.region, settings.settings.endpoint, settings.settings.signature) == (
        "eu-central-1",
        "https://live.example.com",
        "v3",
    )
    env_settings = resolve(store, ENV_KEYS, region="us-east-1", endpoint="http://127.0.0.1:1")
    assert (env_settings.settings.region, env_settings.settings.endpoint) == (
        "us-east-1",
        "http://127.0.0.1:1",
    )


def test_environment_region_beats_default_profile_region(store: ProfileStore) -> None:
    settings = resolve(store, {"ALIBABA_CLOUD_REGION_ID": "cn-hangzhou"})
    assert settings.profile == "prod"
    assert settings.settings.region == "cn-hangzhou"
    assert resolve(
        store, {**ENV_KEYS, "ALIBABA_CLOUD_REGION_ID": "cn-hangzhou"}
    ).settings.region == ("cn-hangzhou")


def test_environment_profile_beats_default(store: ProfileStore) -> None:
    settings = resolve(store, {"ALIBABA_CLOUD_PROFILE": "stage"})
    assert settings.profile == "stage"
    assert credentials_now(settings.credentials) == STAGE
    # ...but environment keys still win over a profile chosen by the environment.
    assert resolve(store, {**ENV_KEYS, "ALIBABA_CLOUD_PROFILE": "stage"}).profile == "env"
    with pytest.raises(ConfigError, match="No profile named 'nope'"):
        resolve(store, {"ALIBABA_CLOUD_PROFILE": "nope"})


@pytest.mark.parametrize("prefix", ["ALICLOUD_", "ALIBABACLOUD_"])
def test_other_spellings(store: ProfileStore, prefix: str) -> None:
    env = {
        f"{prefix}ACCESS_KEY_ID": "FAKEalt",
        f"{prefix}ACCESS_KEY_SECRET": "alt-secret-value-1234",
        f"{prefix}REGION_ID": "cn-qingdao",
    }
    settings = resolve(store, env)
    assert credentials_now(settings.credentials) == Credentials("FAKEalt", "alt-secret-value-1234")
    assert settings.settings.region == "cn-qingdao"
    assert resolve(store, {f"{prefix}PROFILE": "stage"}).profile == "stage"


def test_official_spelling_wins_over_others(store: ProfileStore) -> None:
    env = {**ENV_KEYS, "ALICLOUD_ACCESS_KEY_ID": "FAKEalt"}
    assert credentials_now(resolve(store, env).credentials).access_key_id == "FAKEenv"


def test_half_an_environment_pair_is_an_error(store: ProfileStore) -> None:
    with pytest.raises(CredentialsError, match="ACCESS_KEY_SECRET is not"):
        resolve(store, {"ALIBABA_CLOUD_ACCESS_KEY_ID": "FAKEenv"})
    with pytest.raises(CredentialsError) as excinfo:
        resolve(store, {"ALIBABA_CLOUD_ACCESS_KEY_SECRET": "lonely-secret-value"})
    assert "lonely-secret-value" not in str(excinfo.value)


def test_nothing_configured_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError) as excinfo:
        resolve(ProfileStore(tmp_path / "empty"))
    text = str(excinfo.value)
    assert "asrtui profile add NAME --access-key-id" in text
    assert "ALIBABA_CLOUD_ACCESS_KEY_ID" in text
    assert "asrtui --demo" in text
    assert excinfo.value.exit_code == 2


def test_only_nothing_configured_is_the_first_run_case(store: ProfileStore, tmp_path: Path) -> None:
    # The console opens its first-run screen on exactly this error (`asrtui.__main__`).
    with pytest.raises(NothingConfiguredError):
        resolve(ProfileStore(tmp_path / "empty"))
    store.remove("prod")
    with pytest.raises(CredentialsError) as excinfo:
        resolve(store)
    assert not isinstance(excinfo.value, NothingConfiguredError)


def test_credential_summary_masks_the_key_id_and_names_only_the_program() -> None:
    key = Credentials("AKIDEXAMPLE1", "example-secret-value-123456")
    assert credential_summary(Profile("a", credentials=key)) == "access key ********PLE1"
    sts = Credentials("AKIDEXAMPLE2", "example-secret-value-123456", "example-token")
    assert credential_summary(Profile("b", credentials=sts)) == "sts ********PLE2"
    command = Profile("c", credential_command="/opt/bin/get-creds --secret s3cr3t")
    assert credential_summary(command) == "command get-creds"
    assert credential_summary(Profile("d")) == "none"


def test_profiles_but_no_default(store: ProfileStore) -> None:
    store.remove("prod")
    with pytest.raises(CredentialsError, match="profile use NAME"):
        resolve(store)


def test_unknown_explicit_profile(store: ProfileStore) -> None:
    with pytest.raises(ConfigError, match=r"No profile named 'nope'.*prod, stage"):
        resolve(store, profile="nope")


def test_invalid_options_are_config_errors(store: ProfileStore) -> None:
    with pytest.raises(ConfigError, match="signature"):
        resolve(store, signature="v4")
    with pytest.raises(ConfigError, match="region"):
        resolve(store, region="Not A Region")
    with pytest.raises(ConfigError, match="endpoint"):
        resolve(store, endpoint="ftp://x")
    with pytest.raises(ConfigError, match="region"):
        resolve(store, {"ALIBABA_CLOUD_REGION_ID": "bad region"})


def test_command_profile_gets_external_provider(store: ProfileStore) -> None:
    store.add(Profile("ext", credential_command="print-creds --x"))
    settings = resolve(store, profile="ext")
    assert isinstance(settings.credentials, ExternalCredentials)
    assert settings.credentials.program == "print-creds"


def test_profile_without_credentials(store: ProfileStore) -> None:
    store.add(Profile("bare"))
    with pytest.raises(CredentialsError, match="'bare' has no credentials"):
        resolve(store, profile="bare")


def test_default_store_is_the_config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    ProfileStore().add(Profile("home", credentials=PROD))
    settings = resolve_connection_settings(
        profile=None, endpoint=None, region=None, signature=None, env={}
    )
    assert settings.profile == "home"


def test_repr_hides_secrets(store: ProfileStore) -> None:
    for settings in (resolve(store), resolve(store, ENV_KEYS)):
        text = (
            repr(settings)
            + repr(settings.credentials)
            + repr(credentials_now(settings.credentials))
        )
        assert "secret-value" not in text
