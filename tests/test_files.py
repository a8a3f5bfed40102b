"""Profile files as ssh treats them: owner, mode, kind, links, parents, and failing writes.

Every file of the store (the config directory, ``config.toml``, ``credentials.toml``) meets
every bad kind (another owner, group- or world-writable, a FIFO, a directory, a link to a bad
target, a dangling link): it is refused on read and on write, at once, and nothing on disk
changes. Writes that fail (full disk, quota, read-only, I/O error...) keep the old files and
say what happened in words. The tests run as root here: "another owner" is a real ``chown``
then, and an injected uid (the store seen by another user) otherwise.
"""

from __future__ import annotations

import contextlib
import errno
import grp
import os
import pwd
import stat
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from asrtui import files
from asrtui.credentials import Credentials
from asrtui.errors import ConfigError, CredentialsError
from asrtui.profiles import Profile, ProfileStore
from tests.support.disks import fill, tmpfs
from tests.support.fakes import no_hang

SECRET = "files-SECRET-abcdefghijklmnop"
OTHER_UID = 4242
OTHER_GID = 4242  # no such group: not the user's private group
AS_ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not AS_ROOT, reason="chown to another user needs root")


def _profile(name: str = "prod", secret: str = SECRET) -> Profile:
    return Profile(name, credentials=Credentials("FAKEid0001", secret))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A private directory (0700) holding the config directory and anything it links to."""
    tmp_path.chmod(0o700)
    return tmp_path


@pytest.fixture
def store(root: Path) -> ProfileStore:
    store = ProfileStore(root / "cfg")
    store.add(_profile("prod"))
    return store


def _snapshot(root: Path, *, dir_times: bool = True) -> dict[str, tuple[object, ...]]:
    """Everything under ``root`` as lstat sees it, with link targets and regular contents.

    ``dir_times=False`` leaves out when directories changed (a temporary file came and went).
    """
    result: dict[str, tuple[object, ...]] = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        extra: object = None
        if stat.S_ISLNK(info.st_mode):
            extra = os.readlink(path)
        elif stat.S_ISREG(info.st_mode):
            extra = path.read_bytes()
        key = str(path.relative_to(root))
        result[key] = (
            stat.S_IFMT(info.st_mode),
            info.st_mode,
            info.st_uid,
            info.st_mtime_ns if dir_times or not stat.S_ISDIR(info.st_mode) else None,
            extra,
        )
    return result


# -- the bad kinds, for each file -------------------------------------------------------------

MAKERS: dict[str, Callable[[Path, Path], None]] = {}


def _bad(name: str) -> Callable[[Callable[[Path, Path], None]], Callable[[Path, Path], None]]:
    def register(make: Callable[[Path, Path], None]) -> Callable[[Path, Path], None]:
        MAKERS[name] = make
        return make

    return register


@_bad("other owner")
def _other_owner(path: Path, root: Path) -> None:
    os.chown(path, OTHER_UID, -1, follow_symlinks=False)


def _share_group(path: Path) -> None:
    """Give ``path`` a group others may be in (the user's private group is allowed)."""
    if AS_ROOT:
        os.chown(path, -1, OTHER_GID, follow_symlinks=False)
    elif files._group_is_private(path.lstat().st_gid, os.geteuid()):
        pytest.skip("only root can give a file a group other than the user's private one")


@_bad("group-writable")
def _group_writable(path: Path, root: Path) -> None:
    _share_group(path)
    path.chmod(stat.S_IMODE(path.stat().st_mode) | 0o020)


@_bad("world-writable")
def _world_writable(path: Path, root: Path) -> None:
    path.chmod(stat.S_IMODE(path.stat().st_mode) | 0o002)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        for child in path.iterdir():
            child.unlink()
        path.rmdir()
    else:
        path.unlink()


@_bad("FIFO")
def _fifo(path: Path, root: Path) -> None:
    _remove(path)
    os.mkfifo(path, 0o600)


@_bad("directory or file in its place")
def _other_kind(path: Path, root: Path) -> None:
    is_dir = path.is_dir()
    _remove(path)
    if is_dir:
        path.write_text("not a directory")  # a file where the config directory should be
    else:
        path.mkdir(mode=0o700)


@_bad("symlink to a bad target")
def _link_to_bad(path: Path, root: Path) -> None:
    target = root / f"elsewhere-{path.name}"
    path.rename(target)
    target.chmod(stat.S_IMODE(target.stat().st_mode) | 0o002)
    path.symlink_to(target)


@_bad("symlink to a FIFO")
def _link_to_fifo(path: Path, root: Path) -> None:
    target = root / f"fifo-{path.name}"
    os.mkfifo(target, 0o600)
    _remove(path)
    path.symlink_to(target)


@_bad("dangling symlink")
def _dangling(path: Path, root: Path) -> None:
    _remove(path)
    path.symlink_to(root / "nowhere")


@_bad("symlink into a world-writable directory")
def _link_into_open_dir(path: Path, root: Path) -> None:
    shared = root / "shared"
    shared.mkdir(mode=0o700)
    shared.chmod(0o777)  # no sticky bit: anyone could swap the target
    target = shared / path.name
    path.rename(target)
    path.symlink_to(target)


TARGETS = {
    "config dir": lambda store: store.directory,
    "config.toml": lambda store: store.config_path,
    "credentials.toml": lambda store: store.credentials_path,
}


@pytest.mark.parametrize("kind", sorted(MAKERS))
@pytest.mark.parametrize("which", sorted(TARGETS))
def test_every_file_of_every_bad_kind_is_refused_and_left_untouched(
    root: Path, store: ProfileStore, which: str, kind: str
) -> None:
    if kind == "other owner" and not AS_ROOT:
        pytest.skip("chown to another user needs root (see the injected-uid test)")
    MAKERS[kind](TARGETS[which](store), root)
    before = _snapshot(root)
    with no_hang():
        with pytest.raises(ConfigError) as read_error:
            store.load()
        with pytest.raises(ConfigError) as write_error:
            store.add(_profile("other"))
        with pytest.raises(ConfigError):
            store.remove("prod")
    assert _snapshot(root) == before
    for error in (read_error.value, write_error.value):
        text = str(error)
        assert "\n" not in text
        assert SECRET not in text
        assert error.hint  # says what to do
        assert error.exit_code == 2


@pytest.mark.parametrize(
    ("kind", "which", "fix"),
    [
        ("group-writable", "config.toml", "chmod 600 {path}"),
        ("world-writable", "credentials.toml", "chmod 600 {path}"),
        ("group-writable", "config dir", "chmod 700 {path}"),
        ("world-writable", "config dir", "chmod 700 {path}"),
        ("other owner", "config.toml", "chown root {path}"),
        ("other owner", "credentials.toml", "chown root {path}"),
        ("other owner", "config dir", "chown root {path}"),
    ],
)
def test_the_refusal_names_the_command_that_fixes_it(
    root: Path, store: ProfileStore, kind: str, which: str, fix: str
) -> None:
    if kind == "other owner" and not AS_ROOT:
        pytest.skip("chown to another user needs root")
    path = TARGETS[which](store)
    MAKERS[kind](path, root)
    with pytest.raises(ConfigError) as caught:
        store.load()
    assert fix.format(path=path) in caught.value.hint
    if kind == "other owner":
        assert f"uid {OTHER_UID}" in caught.value.message
    # The fix works: after it, the store is usable again.
    if kind == "other owner":
        os.chown(path, 0, -1)
    else:
        path.chmod(0o700 if path.is_dir() else 0o600)
    assert list(store.load().profiles) == ["prod"]


def test_seen_by_another_user_the_whole_store_is_refused(root: Path, store: ProfileStore) -> None:
    """Without root, the store run as another uid stands for "owned by someone else"."""
    me = os.geteuid()
    assert list(ProfileStore(store.directory, uid=me).load().profiles) == ["prod"]
    before = _snapshot(root)
    other = ProfileStore(store.directory, uid=me + 4242)
    for action in (other.load, lambda: other.add(_profile("x")), lambda: other.remove("prod")):
        with pytest.raises(ConfigError, match=rf"belongs to .*uid {me}\b.*refusing") as caught:
            action()
        assert "chown" in caught.value.hint
    assert _snapshot(root) == before


# -- directories above the config directory ---------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "refused"),
    [
        (0o700, False),
        (0o755, False),
        (0o775, True),
        (0o757, True),
        (0o777, True),
        (0o1777, False),  # sticky, as /tmp: nobody else can rename or remove our directory
        (0o1770, False),
    ],
)
def test_a_directory_above_that_others_can_change_is_refused(
    root: Path, mode: int, refused: bool
) -> None:
    parent = root / "parent"
    parent.mkdir()
    store = ProfileStore(parent / "cfg")
    store.add(_profile())
    if mode & 0o020:
        _share_group(parent)
    parent.chmod(mode)
    before = _snapshot(root)
    if refused:
        with pytest.raises(ConfigError, match=f"directory {parent} above .* writable") as caught:
            store.load()
        assert caught.value.hint == f"run: chmod go-w {parent}"
        with pytest.raises(ConfigError):
            store.add(_profile("b"))
        assert _snapshot(root) == before
    else:
        assert list(store.load().profiles) == ["prod"]


@needs_root
def test_a_directory_above_owned_by_another_user_is_refused(root: Path) -> None:
    parent = root / "parent"
    parent.mkdir()
    store = ProfileStore(parent / "cfg")
    store.add(_profile())
    os.chown(parent, OTHER_UID, -1)
    with pytest.raises(ConfigError, match=f"directory {parent} above .* uid {OTHER_UID}"):
        store.load()
    os.chown(parent, 0, -1)  # root-owned parents (/, /home) are fine
    assert list(store.load().profiles) == ["prod"]


def test_the_check_stops_at_the_home_directory(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As ssh: what is above home is the system's business (an NFS /home, a shared /data)."""
    above = root / "shared"
    home = above / "home"
    home.mkdir(parents=True)
    store = ProfileStore(home / ".config" / "asrtui")
    store.add(_profile())
    above.chmod(0o777)
    monkeypatch.setenv("HOME", str(home))
    assert list(store.load().profiles) == ["prod"]
    home.chmod(0o777)  # home itself is checked
    with pytest.raises(ConfigError, match=f"directory {home} above"):
        store.load()


def test_a_linked_config_directory_is_checked_where_it_really_is(root: Path) -> None:
    real = root / "dotfiles" / "asrtui"
    real.parent.mkdir()
    ProfileStore(real).add(_profile())
    link = root / "cfg"
    link.symlink_to(real)
    store = ProfileStore(link)
    assert list(store.load().profiles) == ["prod"]
    real.parent.chmod(0o777)
    with pytest.raises(ConfigError, match=f"directory {real.parent} above"):
        store.load()


# -- links are written through ----------------------------------------------------------------


@pytest.mark.parametrize("which", ["config.toml", "credentials.toml"])
def test_a_linked_file_is_written_through_and_stays_a_link(root: Path, which: str) -> None:
    store = ProfileStore(root / "cfg")
    store.add(_profile("prod"))
    vault = root / "vault"
    vault.mkdir(mode=0o700)
    path = store.directory / which
    target = vault / which
    path.rename(target)
    path.symlink_to(Path("..") / "vault" / which)  # relative, as a dotfiles manager makes
    store.add(_profile("second", secret="second-SECRET-xyz"))
    store.remove("prod")
    assert path.is_symlink()
    assert os.readlink(path) == str(Path("..") / "vault" / which)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert list(store.load().profiles) == ["second"]
    creds = store.load().get("second").credentials
    assert creds is not None
    assert creds.access_key_secret == "second-SECRET-xyz"
    # No temporary file left in either directory.
    assert sorted(p.name for p in vault.iterdir()) == [which]
    assert not [p for p in store.directory.iterdir() if p.name.endswith(".tmp")]


def test_a_chain_of_links_is_followed_to_its_end(root: Path) -> None:
    store = ProfileStore(root / "cfg")
    store.add(_profile())
    final = root / "final.toml"
    store.credentials_path.rename(final)
    middle = root / "middle.toml"
    middle.symlink_to(final)
    store.credentials_path.symlink_to(middle)
    store.add(_profile("b"))
    assert store.credentials_path.is_symlink()
    assert middle.is_symlink()
    assert "[b]" in final.read_text()


def test_a_link_loop_is_refused(root: Path, store: ProfileStore) -> None:
    store.credentials_path.unlink()
    loop = root / "loop"
    loop.symlink_to(store.credentials_path)
    store.credentials_path.symlink_to(loop)
    before = _snapshot(root)
    with pytest.raises(ConfigError, match="loop"):
        store.load()
    with pytest.raises(ConfigError, match="loop"):
        store.add(_profile("b"))
    assert _snapshot(root) == before


# -- failing writes ---------------------------------------------------------------------------

WORDING = {
    errno.ENOSPC: "is full",
    errno.EDQUOT: "quota",
    errno.EFBIG: "file size limit",
    errno.EROFS: "read-only file system",
    errno.EIO: "input/output error",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}


def _fail_on_temp_files(
    monkeypatch: pytest.MonkeyPatch, operation: str, code: int
) -> Callable[[], int]:
    """Make ``operation`` fail with ``code`` for the store's temporary files only."""
    calls = 0

    def is_temp(fd: int) -> bool:
        with contextlib.suppress(OSError):
            return os.readlink(f"/proc/self/fd/{fd}").endswith(".tmp")
        return False

    def fail() -> None:
        nonlocal calls
        calls += 1
        raise OSError(code, os.strerror(code))

    if operation == "write":
        real_write = os.write

        def write(fd: int, data: bytes) -> int:
            if is_temp(fd):
                fail()
            return real_write(fd, data)

        monkeypatch.setattr(os, "write", write)
    elif operation == "fsync":
        real_fsync = os.fsync

        def fsync(fd: int) -> None:
            if is_temp(fd):
                fail()
            real_fsync(fd)

        monkeypatch.setattr(os, "fsync", fsync)
    elif operation == "replace":

        def replace(src: object, dst: object) -> None:
            fail()

        monkeypatch.setattr(os, "replace", replace)
    else:  # creating the temporary file

        def mkstemp(*args: object, **kwargs: object) -> tuple[int, str]:
            fail()
            raise AssertionError

        monkeypatch.setattr(files.tempfile, "mkstemp", mkstemp)
    return lambda: calls


@pytest.mark.parametrize("operation", ["create", "write", "fsync", "replace"])
@pytest.mark.parametrize("code", sorted(WORDING))
def test_a_failing_write_keeps_the_old_files_and_says_why(
    root: Path, store: ProfileStore, monkeypatch: pytest.MonkeyPatch, operation: str, code: int
) -> None:
    before = _snapshot(root, dir_times=False)
    calls = _fail_on_temp_files(monkeypatch, operation, code)
    for action in (
        lambda: store.add(_profile("second")),
        lambda: store.add(_profile("prod", secret="new-SECRET-value"), replace=True),
        lambda: store.remove("prod"),
    ):
        with pytest.raises(ConfigError) as caught:
            action()
        text = str(caught.value)
        assert f"Cannot write {store.credentials_path}" in text
        assert WORDING[code] in text
        if code not in (errno.EACCES, errno.EPERM):
            assert "permission" not in text.lower()
        assert "the old file was left as it was" in text
    assert calls() >= 3
    monkeypatch.undo()
    # Byte for byte as before, and no temporary file left behind.
    lock_free = {k: v for k, v in _snapshot(root, dir_times=False).items() if k != "cfg/.lock"}
    assert lock_free == {k: v for k, v in before.items() if k != "cfg/.lock"}
    assert store.load().get("prod").credentials == _profile().credentials


def test_a_full_disk_names_the_disk(
    root: Path, store: ProfileStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fail_on_temp_files(monkeypatch, "write", errno.ENOSPC)
    with pytest.raises(ConfigError) as caught:
        store.add(_profile("second"))
    assert caught.value.message == (
        f"Cannot write {store.credentials_path}: the disk holding {store.credentials_path} "
        f"(the file system mounted at {files._mount_point(store.credentials_path)}) is full"
    )
    assert caught.value.hint.startswith("free some space")


@pytest.mark.parametrize("fail_at", [1, 2, 3])
@pytest.mark.parametrize("change", ["add", "replace with a command", "replace the key", "remove"])
def test_a_failure_between_the_two_files_loses_no_profile(
    root: Path, monkeypatch: pytest.MonkeyPatch, change: str, fail_at: int
) -> None:
    """After any step of a change the files load, and each profile has its old or new key."""
    store = ProfileStore(root / "cfg")
    store.add(_profile("prod"))
    store.add(_profile("keep", secret="keep-SECRET"))
    old = store.load().profiles
    real = files.write_private
    count = 0

    def failing(path: Path, data: bytes, **kwargs: object) -> None:
        nonlocal count
        count += 1
        if count == fail_at:
            raise ConfigError("Cannot write: injected")
        real(path, data, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("asrtui.profiles.store.write_private", failing)
    new_prod = {
        "add": None,
        "replace with a command": Profile("prod", credential_command="/bin/true"),
        "replace the key": _profile("prod", secret="changed-SECRET"),
        "remove": None,
    }[change]
    with contextlib.suppress(ConfigError):
        if change == "add":
            store.add(_profile("new", secret="new-SECRET"))
        elif change == "remove":
            store.remove("prod")
        else:
            assert new_prod is not None
            store.add(new_prod, replace=True)
    monkeypatch.undo()
    loaded = store.load().profiles  # loads, whatever step failed
    assert loaded["keep"] == old["keep"]
    if change == "replace with a command" and fail_at == 2:
        # The one state in between that cannot keep the key: the settings still name an
        # AccessKey and the command must not meet one. Settings kept, the key (being
        # replaced) dropped; the error said the change failed.
        assert loaded["prod"] == replace(old["prod"], credentials=None)
    elif "prod" in loaded:
        assert loaded["prod"] in (old["prod"], new_prod)
    else:
        assert change == "remove"
    if "new" in loaded:
        assert loaded["new"].credentials == Credentials("FAKEid0001", "new-SECRET")


# -- a real full and a real read-only file system (root, where mounting is allowed) -----------


@needs_root
def test_a_really_full_disk_keeps_the_profiles(root: Path) -> None:
    with tmpfs(root / "small", "size=64k,mode=0700") as disk:
        store = ProfileStore(disk / "cfg")
        store.add(_profile())
        before = (store.config_path.read_bytes(), store.credentials_path.read_bytes())
        fill(disk)
        with pytest.raises(ConfigError, match=r"the disk holding .* is full"):
            store.add(_profile("second"))
        assert (store.config_path.read_bytes(), store.credentials_path.read_bytes()) == before
        assert sorted(p.name for p in store.directory.iterdir()) == [
            ".lock",
            "config.toml",
            "credentials.toml",
        ]


@needs_root
def test_a_read_only_file_system_is_named(root: Path) -> None:
    with (
        tmpfs(root / "ro", "ro,size=64k") as disk,
        pytest.raises(ConfigError, match="read-only file system"),
    ):
        ProfileStore(disk / "cfg").add(_profile())


# -- the words for each errno -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "words"),
    [
        *WORDING.items(),
        (errno.ENOTDIR, "not a directory"),
        (errno.EISDIR, "is a directory"),
        (errno.ELOOP, "loop"),
        (errno.ENOENT, "does not exist"),
        (errno.EMFILE, "too many open files"),
        (errno.ENAMETOOLONG, "too long"),
    ],
)
def test_each_errno_has_its_own_words(tmp_path: Path, code: int, words: str) -> None:
    reason, hint = files.describe_os_error(OSError(code, os.strerror(code)), tmp_path / "f")
    assert words in reason
    if code not in (errno.EACCES, errno.EPERM):
        assert "permission" not in f"{reason} {hint}".lower()


# -- reading never blocks ---------------------------------------------------------------------


def test_a_file_swapped_for_a_fifo_after_the_check_is_refused_on_the_open_descriptor(
    root: Path, store: ProfileStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ``stat`` saw a regular file; a FIFO put in its place meanwhile is still refused."""
    real_inspect = files.inspect_file

    def swap_after_check(path: Path, **kwargs: object) -> files.PrivateFile:
        checked = real_inspect(path, **kwargs)  # type: ignore[arg-type]
        if path.name == "credentials.toml":
            path.unlink()
            os.mkfifo(path, 0o600)
        return checked

    monkeypatch.setattr(files, "inspect_file", swap_after_check)
    with no_hang(), pytest.raises(ConfigError, match="FIFO"):
        store.load()


def test_a_huge_file_is_not_read_whole(root: Path, store: ProfileStore) -> None:
    with store.config_path.open("ab") as handle:
        handle.truncate(files.MAX_FILE_BYTES + 1)
    with pytest.raises(ConfigError, match="larger than"):
        store.load()


def test_the_lock_file_must_be_a_regular_file(root: Path, store: ProfileStore) -> None:
    lock = store.directory / ".lock"
    lock.unlink()
    lock.symlink_to(root / "elsewhere")
    with pytest.raises(ConfigError, match="symbolic link"):
        store.add(_profile("b"))
    assert not (root / "elsewhere").exists()
    lock.unlink()
    os.mkfifo(lock, 0o600)
    with no_hang(), pytest.raises(ConfigError, match="not a regular file"):
        store.add(_profile("b"))


def test_exposed_credentials_stay_a_credentials_error(root: Path, store: ProfileStore) -> None:
    store.credentials_path.chmod(0o640)
    with pytest.raises(CredentialsError):
        store.load()


def test_a_home_reached_through_a_link_still_ends_the_check(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``/home`` may be a link to ``/usr/home``: the check stops at home either way."""
    shared = root / "shared"
    real_home = shared / "real-home"
    real_home.mkdir(parents=True)
    linked = root / "home-link"
    linked.symlink_to(real_home)
    store = ProfileStore(linked / ".config" / "asrtui")
    store.add(_profile())
    shared.chmod(0o777)
    for home in (linked, real_home):
        monkeypatch.setenv("HOME", str(home))
        assert list(store.load().profiles) == ["prod"]
    monkeypatch.setenv("HOME", str(root / "elsewhere"))
    with pytest.raises(ConfigError, match=f"directory {shared} above"):
        store.load()


# -- the user's private group -----------------------------------------------------------------


def test_a_group_of_the_user_alone_may_write(root: Path) -> None:
    """Debian and Ubuntu: umask 002 and a group per user make ~/.config 0775, and that is fine."""
    uid, gid = os.geteuid(), os.getegid()
    primary = {p.pw_uid for p in pwd.getpwall() if p.pw_gid == gid}
    listed = set(grp.getgrgid(gid).gr_mem)
    if not primary <= {uid} or not listed <= {pwd.getpwuid(uid).pw_name}:
        pytest.skip("the user's group has other members here")
    parent = root / "parent"
    parent.mkdir()
    store = ProfileStore(parent / "cfg")
    store.add(_profile())
    for path in (parent, store.directory, store.config_path):
        os.chown(path, -1, gid)
        path.chmod(stat.S_IMODE(path.stat().st_mode) | 0o020)
    assert list(store.load().profiles) == ["prod"]
    store.credentials_path.chmod(0o620)  # secrets stay the user's alone, as ssh's keys
    with pytest.raises(CredentialsError):
        store.load()


def test_which_groups_are_private() -> None:
    assert not files._group_is_private(OTHER_GID, os.geteuid())  # no such group
    nobody = next((p for p in pwd.getpwall() if p.pw_name == "nobody"), None)
    if nobody is not None and nobody.pw_uid != os.geteuid():
        # nobody's primary group: somebody else is in it.
        assert not files._group_is_private(nobody.pw_gid, os.geteuid())
