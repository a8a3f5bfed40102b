"""Property: any profile name or value is either stored and read back as it was, or refused.

Refused means `ConfigError` (or its `CredentialsError`), never another exception. Stored means
the two files in the config directory, and nothing else anywhere: names and values with
slashes, dots, control characters or thousands of characters must never reach a path.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from asrtui.credentials import Credentials
from asrtui.errors import ConfigError
from asrtui.profiles import Profile, ProfileSet, ProfileStore

_AWKWARD = [
    "", " ", ".", "..", "../x", "a/b", "/etc/passwd", "~", "\\", "a\\..\\b", "con", "NUL",
    "prod", "Prod-2.eu_1", "0", "-prod", ".hidden", "a b", "名前", "prød", "é" * 3,
    "a\x00b", "a\nb", "\x1b[31m", "'", '"', '"""', "'''", "[x]", "a.b.c", "#", "=", "x" * 64,
    "x" * 65, "y" * 5000, "\u2028", "\ufeff", "\U0001f600",
]  # fmt: skip
TEXT = st.one_of(st.sampled_from(_AWKWARD), st.text(max_size=24), st.text(min_size=200))
NAMES = st.one_of(
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", fullmatch=True),
    TEXT,
)
REGIONS = st.one_of(st.sampled_from(["cn-shanghai", "ap-southeast-1", " eu-central-1 "]), TEXT)
ENDPOINTS = st.one_of(
    st.none(),
    st.sampled_from(["https://live.aliyuncs.com", "http://127.0.0.1:8080", "HTTP://Example.COM"]),
    TEXT,
)
SECRETS = st.one_of(st.sampled_from(["FAKE5tExample", "s3cr3t"]), TEXT)
CREDENTIALS = st.one_of(
    st.none(),
    st.builds(Credentials, SECRETS, SECRETS, st.one_of(st.just(""), SECRETS)),
)
PROFILES: st.SearchStrategy[dict[str, Any]] = st.fixed_dictionaries(
    {"name": NAMES},
    optional={
        "region": REGIONS,
        "endpoint": ENDPOINTS,
        "signature": st.one_of(st.sampled_from(["v3", "rpc"]), TEXT),
        "rate_limit": st.one_of(st.integers(-5, 30), st.booleans()),
        "refresh": st.one_of(
            st.floats(allow_nan=True, allow_infinity=True), st.integers(-10, 5000)
        ),
        "read_only": st.booleans(),
        "credentials": CREDENTIALS,
        "credential_command": st.one_of(st.none(), TEXT),
    },
)


def _everything_under(root: Path) -> set[Path]:
    return {path.relative_to(root) for path in root.rglob("*")}


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)
@given(fields=PROFILES, make_default=st.booleans())
def test_a_profile_is_stored_and_read_back_or_refused(
    fields: dict[str, Any], make_default: bool
) -> None:
    try:
        profile = Profile(**fields)
    except ConfigError:
        event("refused")
        return
    event("accepted")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        store = ProfileStore(root / "home" / "config" / "asrtui")
        store.add(profile, make_default=make_default)
        loaded = store.load()
        assert loaded.profiles == {profile.name: profile}
        assert loaded.default == profile.name
        assert _everything_under(root) == {
            Path("home"),
            Path("home/config"),
            Path("home/config/asrtui"),
            Path("home/config/asrtui/.lock"),
            Path("home/config/asrtui/config.toml"),
            Path("home/config/asrtui/credentials.toml"),
        }
        assert (os.stat(store.credentials_path).st_mode & 0o777) == 0o600
        # Every secret sits in the credentials file alone.
        if profile.credentials is not None:
            config_text = store.config_path.read_text(encoding="utf-8")
            for secret in (
                profile.credentials.access_key_secret,
                profile.credentials.security_token,
            ):
                if len(secret) >= 8 and secret not in (profile.credential_command or ""):
                    assert secret not in config_text
        assert store.remove(profile.name)
        assert store.load() == ProfileSet({}, None)


@settings(max_examples=200, deadline=None)
@given(name=NAMES)
def test_looking_up_removing_or_choosing_any_name_is_config_error_at_worst(name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        store = ProfileStore(root / "cfg")
        store.add(Profile("prod", credentials=Credentials("FAKE5tExample", "s3cr3t-value")))
        before = _everything_under(root)
        for act in (store.load().get, store.remove, store.set_default):
            try:
                act(name)
            except ConfigError:
                continue
            assert name == "prod"
        after = _everything_under(root)
        assert after == before


@pytest.mark.parametrize("name", ["../outside", "a/b", "..", "/tmp/x", "名前", "a\x00b"])
def test_path_like_names_are_refused_before_any_file_is_written(tmp_path: Path, name: str) -> None:
    store = ProfileStore(tmp_path / "cfg")
    with pytest.raises(ConfigError, match="Invalid profile name"):
        store.add(Profile(name))
    assert not (tmp_path / "cfg").exists()
    assert list(tmp_path.iterdir()) == []


# What can be sent in a request: printable ASCII. Anything else is refused when the profile is
# made (tests/test_credential_values.py), so it never reaches the file.
_SENDABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7E)


@settings(max_examples=50, deadline=None)
@given(secret=st.text(_SENDABLE, min_size=1), token=st.text(_SENDABLE))
def test_any_secret_round_trips_through_the_credentials_file(secret: str, token: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = ProfileStore(Path(tmp) / "cfg")
        credentials = Credentials("FAKE5tExample", secret, token)
        store.add(Profile("prod", credentials=credentials))
        stored = store.load().get("prod").credentials
        assert stored == credentials
