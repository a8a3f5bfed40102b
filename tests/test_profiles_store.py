"""The profile store: validation, TOML round trip, atomic writes, permissions, corrupted files."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import stat
from pathlib import Path

import pytest

from asrtui.credentials import Credentials
from asrtui.errors import ConfigError, CredentialsError
from asrtui.files import write_private
from asrtui.profiles import Profile, ProfileSet, ProfileStore, config_dir
from asrtui.profiles import store as store_module

SECRET = "s3cr3t-VALUE-abcdefghijklmnop"
TOKEN = "sts-TOKEN-zyxwvutsrqponmlkjihg"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def store(tmp_path: Path) -> ProfileStore:
    return ProfileStore(tmp_path / "cfg")


def _profile(name: str = "prod", **kwargs: object) -> Profile:
    kwargs.setdefault("credentials", Credentials("FAKEid0001", SECRET))
    return Profile(name, **kwargs)  # type: ignore[arg-type]


# -- the path -------------------------------------------------------------------------------


def test_config_dir_follows_xdg_config_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_dir() == tmp_path / "xdg" / "asrtui"
    assert ProfileStore().config_path == tmp_path / "xdg" / "asrtui" / "config.toml"


# -- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["prod", "a", "cn-prod_2.b", "A" * 64, "0day"])
def test_valid_names(name: str) -> None:
    assert Profile(name).name == name


@pytest.mark.parametrize(
    "name", ["", "A" * 65, "-prod", ".hidden", "with space", "a/b", "prød", "名前", "a\nb"]
)
def test_invalid_names(name: str) -> None:
    with pytest.raises(ConfigError, match="Invalid profile name"):
        Profile(name)


@pytest.mark.parametrize("limit", [0, 21, -1, True])
def test_rate_limit_range(limit: int) -> None:
    with pytest.raises(ConfigError, match="rate limit"):
        Profile("p", rate_limit=limit)


def test_rate_limit_bounds_accepted() -> None:
    assert Profile("p", rate_limit=1).rate_limit == 1
    assert Profile("p", rate_limit=20).rate_limit == 20


@pytest.mark.parametrize("refresh", [0, 0.5, 3601, float("nan")])
def test_refresh_range(refresh: float) -> None:
    with pytest.raises(ConfigError, match="refresh"):
        Profile("p", refresh=refresh)


@pytest.mark.parametrize("region", ["CN_SHANGHAI", "cn shanghai", "-cn", "a" * 70])
def test_region_shape(region: str) -> None:
    with pytest.raises(ConfigError, match="region"):
        Profile("p", region=region)


def test_endpoint_is_validated_and_normalised() -> None:
    assert Profile("p", endpoint="https://127.0.0.1:8080/").endpoint == "https://127.0.0.1:8080"
    with pytest.raises(ConfigError, match="has no scheme"):
        Profile("p", endpoint="127.0.0.1:8080")
    assert Profile("p", endpoint="HTTP://localhost:9/").endpoint == "http://localhost:9"
    with pytest.raises(ConfigError):
        Profile("p", endpoint="ftp://example.com")


def test_signature_values() -> None:
    assert Profile("p", signature="rpc").signature == "rpc"
    with pytest.raises(ConfigError, match="signature"):
        Profile("p", signature="v2")  # type: ignore[arg-type]


def test_credentials_and_command_are_exclusive() -> None:
    with pytest.raises(ConfigError, match="both"):
        _profile(credential_command="get-creds")
    with pytest.raises(ConfigError, match="quoting"):
        Profile("p", credential_command="get 'creds")


def test_profile_repr_hides_secrets() -> None:
    profile = _profile(credentials=Credentials("FAKEid0001", SECRET, TOKEN))
    text = repr(profile) + str(profile)
    assert SECRET not in text
    assert TOKEN not in text
    assert "FAKEid0001" in text


# -- round trip and layout ------------------------------------------------------------------


def test_round_trip(store: ProfileStore) -> None:
    prod = _profile(
        region="ap-southeast-1",
        endpoint="http://127.0.0.1:8080",
        signature="rpc",
        rate_limit=7,
        refresh=2.5,
        read_only=True,
        credentials=Credentials("FAKEid0001", SECRET, TOKEN),
    )
    ext = Profile("ext", credential_command="get-creds --profile x")
    assert store.add(prod) is True  # the first profile becomes the default
    assert store.add(ext) is False
    loaded = store.load()
    assert loaded.profiles == {"prod": prod, "ext": ext}
    assert loaded.default == "prod"
    assert list(loaded.profiles) == ["prod", "ext"]


def test_secrets_only_in_credentials_file(store: ProfileStore) -> None:
    store.add(_profile(credentials=Credentials("FAKEid0001", SECRET, TOKEN)))
    config = store.config_path.read_text()
    credentials = store.credentials_path.read_text()
    assert SECRET not in config
    assert TOKEN not in config
    assert "FAKEid0001" not in config
    assert SECRET in credentials
    assert TOKEN in credentials
    assert 'default = "prod"' in config


def test_modes_of_files_and_directory(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        store = ProfileStore(tmp_path / "parent" / "asrtui")
        store.add(_profile())
    finally:
        os.umask(old)
    assert _mode(store.directory) == 0o700
    assert _mode(store.config_path) == 0o600
    assert _mode(store.credentials_path) == 0o600


def test_add_refuses_existing_unless_replace(store: ProfileStore) -> None:
    store.add(_profile())
    with pytest.raises(ConfigError, match="already exists"):
        store.add(_profile(region="cn-beijing"))
    store.add(_profile(region="cn-beijing"), replace=True)
    assert store.load().get("prod").region == "cn-beijing"


def test_default_management(store: ProfileStore) -> None:
    store.add(_profile("a"))
    store.add(_profile("b"), make_default=True)
    assert store.load().default == "b"
    store.set_default("a")
    assert store.load().default == "a"
    assert store.remove("a") is True
    assert store.load() == ProfileSet({"b": _profile("b")}, None)
    with pytest.raises(ConfigError, match="No profile named 'zz'"):
        store.set_default("zz")
    with pytest.raises(ConfigError, match="No profile named 'zz'"):
        store.remove("zz")


def test_remove_drops_secrets(store: ProfileStore) -> None:
    store.add(_profile("a"))
    store.add(_profile("b", credentials=Credentials("FAKEother", "other-secret-value")))
    store.remove("b")
    assert "other-secret-value" not in store.credentials_path.read_text()


def test_missing_files_mean_no_profiles(store: ProfileStore) -> None:
    assert store.load() == ProfileSet({}, None)
    assert not store.directory.exists()  # reading never creates anything


# -- atomic writes --------------------------------------------------------------------------


def test_no_temporary_files_left(store: ProfileStore) -> None:
    store.add(_profile("a"))
    store.add(_profile("b"))
    store.remove("a")
    assert sorted(p.name for p in store.directory.iterdir()) == [
        ".lock",
        "config.toml",
        "credentials.toml",
    ]


def test_crash_mid_write_keeps_old_file(
    store: ProfileStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.add(_profile("a"))
    config_before = store.config_path.read_bytes()
    secrets_before = store.credentials_path.read_bytes()

    def crash(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(ConfigError, match=r"Cannot write .*credentials.toml: the disk .* is full"):
        store.add(_profile("b"))
    monkeypatch.undo()
    assert store.config_path.read_bytes() == config_before
    assert store.credentials_path.read_bytes() == secrets_before
    assert sorted(p.name for p in store.directory.iterdir()) == [
        ".lock",
        "config.toml",
        "credentials.toml",
    ]
    assert list(store.load().profiles) == ["a"]


def test_atomic_write_cleans_up_on_interrupt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "f.toml"
    target.write_bytes(b"old")

    def interrupted(src: object, dst: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_private(target, b"new", secret=False)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.toml"]


# -- corrupted files ------------------------------------------------------------------------


def test_corrupted_config_names_file_and_line_and_is_never_overwritten(
    store: ProfileStore,
) -> None:
    store.add(_profile("a"))
    broken = b'default = "a"\n[profiles.a]\nregion = "cn-shanghai"\nrate_limit = = 3\n'
    store.config_path.write_bytes(broken)
    with pytest.raises(ConfigError) as excinfo:
        store.load()
    message = str(excinfo.value)
    assert str(store.config_path) in message
    assert "line 4" in message
    with pytest.raises(ConfigError, match="line 4"):
        store.add(_profile("b"))
    with pytest.raises(ConfigError, match="line 4"):
        store.set_default("a")
    assert store.config_path.read_bytes() == broken


def test_corrupted_credentials_error_shows_no_secret(store: ProfileStore) -> None:
    store.add(_profile("a"))
    broken = f'[a]\naccess_key_id = "FAKEid0001"\naccess_key_secret = "{SECRET}\n'.encode()
    store.credentials_path.write_bytes(broken)
    with pytest.raises(ConfigError) as excinfo:
        store.load()
    assert "line 3" in str(excinfo.value)
    assert str(store.credentials_path) in str(excinfo.value)
    assert SECRET not in str(excinfo.value) + repr(excinfo.value)
    with pytest.raises(ConfigError):
        store.remove("a")
    assert store.credentials_path.read_bytes() == broken


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[profiles.a]\nrate-limit = 3\n", "unknown key 'rate-limit'"),
        ('[profiles.a]\nrate_limit = "3"\n', "rate_limit has the wrong type"),
        ("[profiles.a]\nrate_limit = 30\n", r"\[profiles\.a\]: Invalid rate limit"),
        ('default = "b"\n[profiles.a]\n', "default profile 'b' is not defined"),
        ("colour = 1\n", "unknown key 'colour'"),
        ('[profiles."bad name"]\n', "Invalid profile name"),
    ],
)
def test_invalid_config_values(store: ProfileStore, text: str, match: str) -> None:
    store.directory.mkdir(mode=0o700)
    store.config_path.write_text(text)
    store.config_path.chmod(0o600)
    with pytest.raises(ConfigError, match=match) as excinfo:
        store.load()
    assert str(store.config_path) in str(excinfo.value)


def test_credentials_without_secret_are_refused(store: ProfileStore) -> None:
    store.add(_profile("a"))
    store.credentials_path.write_text('[a]\naccess_key_id = "FAKEid0001"\n')
    with pytest.raises(CredentialsError, match="access_key_secret"):
        store.load()


# -- permissions ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620, 0o602])
def test_credentials_readable_by_others_are_refused(store: ProfileStore, mode: int) -> None:
    store.add(_profile("a"))
    store.credentials_path.chmod(mode)
    with pytest.raises(CredentialsError) as excinfo:
        store.load()
    assert f"chmod 600 {store.credentials_path}" in str(excinfo.value)
    assert SECRET not in str(excinfo.value)
    with pytest.raises(CredentialsError):
        store.add(_profile("b"))
    assert _mode(store.credentials_path) == mode  # never "fixed" behind the user's back


def test_config_writable_by_others_is_refused(store: ProfileStore) -> None:
    store.add(_profile("a"))
    store.config_path.chmod(0o644)
    assert store.load().default == "a"  # readable by others is fine: no secrets in it
    store.config_path.chmod(0o646)
    with pytest.raises(ConfigError, match=f"chmod 600 {store.config_path}"):
        store.load()


def _add_many(directory: str, prefix: str, count: int) -> None:
    """Run in another process: add ``count`` profiles, one change each."""
    store = ProfileStore(Path(directory))
    for n in range(count):
        store.add(_profile(f"{prefix}{n}"))


def test_changes_from_two_processes_at_once_lose_nothing(store: ProfileStore) -> None:
    """Each change reads, modifies and writes both files: without the lock one would be lost."""
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_add_many, args=(str(store.directory), prefix, 15))
        for prefix in ("a", "b")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    names = set(store.load().profiles)
    assert names == {f"{prefix}{n}" for prefix in ("a", "b") for n in range(15)}
    assert _mode(store.directory / ".lock") == 0o600


def test_a_change_gives_up_while_another_process_holds_the_lock(
    store: ProfileStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.add(_profile("a"))
    monkeypatch.setattr(store_module, "LOCK_TIMEOUT", 0.1)
    fd = os.open(store.directory / ".lock", os.O_RDWR)
    try:
        # An open file description of its own: flock excludes it like another process.
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(ConfigError, match="Another asrtui is changing the profiles"):
            store.add(_profile("b"))
    finally:
        os.close(fd)
    store.add(_profile("b"))
    assert set(store.load().profiles) == {"a", "b"}


def test_a_wrong_type_says_what_the_value_should_be(store: ProfileStore) -> None:
    store.directory.mkdir(mode=0o700)
    store.config_path.write_text('[profiles.a]\nread_only = "no"\n')
    store.config_path.chmod(0o600)
    with pytest.raises(ConfigError, match="read_only has the wrong type") as excinfo:
        store.load()
    assert excinfo.value.hint == "make it true or false"
    assert excinfo.value.exit_code == 2
