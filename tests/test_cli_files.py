"""The seen cases, end to end through ``main``: profile files and state directories.

Each test is one case met outside: a linked ``credentials.toml`` replaced by a copy, another
user's ``config.toml`` trusted, a FIFO that hung the program, and a state directory that was a
file (``NotADirectoryError``) or a full disk explained as permissions. Every one now ends with
one line on stderr and exit code 2, and loses nothing.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
from pathlib import Path

import pytest

from asrtui.__main__ import main
from asrtui.profiles import ProfileStore
from tests.support.disks import fill, tmpfs
from tests.support.fakes import no_hang

SECRET = "cli-files-SECRET-0123456789"


class Run:
    """Runs ``main`` with a stdin and returns (code, stdout, stderr); fails instead of hanging."""

    def __init__(self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
        self.capsys = capsys
        self.monkeypatch = monkeypatch

    def __call__(self, *argv: str, stdin: str = "") -> tuple[int, str, str]:
        self.monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        with no_hang():
            code = main(list(argv))
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    return Run(capsys, monkeypatch)


def _add(run: Run, name: str) -> None:
    code, _out, err = run(
        "profile", "add", name, "--access-key-id", f"FAKE{name}", "--secret-stdin",
        stdin=f"{SECRET}\n",
    )  # fmt: skip
    assert code == 0, err


def _one_line_exit_2(code: int, err: str) -> None:
    assert code == 2, err
    assert err.count("\n") == 1, err
    assert err.startswith("asrtui: ")
    assert "unexpected error" not in err
    assert "Traceback" not in err
    assert SECRET not in err


# -- a linked credentials.toml ----------------------------------------------------------------


def test_seen_a_linked_credentials_file_stays_a_link_after_profile_add(
    run: Run, tmp_path: Path
) -> None:
    _add(run, "prod")
    store = ProfileStore()
    vault = tmp_path / "vault"
    vault.mkdir(mode=0o700)
    target = vault / "asrtui-credentials.toml"
    store.credentials_path.rename(target)
    store.credentials_path.symlink_to(target)
    _add(run, "stage")
    assert store.credentials_path.is_symlink()
    assert os.readlink(store.credentials_path) == str(target)
    assert "[stage]" in target.read_text()
    code, out, _err = run("profile", "list")
    assert code == 0
    assert "prod" in out
    assert "stage" in out


# -- another user's config.toml, an open directory --------------------------------------------


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
def test_seen_another_users_config_is_refused_and_its_command_never_run(
    run: Run, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    store = ProfileStore()
    store.directory.mkdir(mode=0o700, parents=True)
    store.config_path.write_text(
        f'default = "evil"\n[profiles.evil]\ncredential_command = "touch {marker}"\n'
    )
    store.config_path.chmod(0o644)
    os.chown(store.config_path, 4242, -1)
    for argv in (("profile", "list"), ("tasks",), ("profile", "test", "evil")):
        code, _out, err = run(*argv)
        _one_line_exit_2(code, err)
        assert "belongs to uid 4242" in err
        assert f"chown root {store.config_path}" in err
    assert not marker.exists()


@pytest.mark.parametrize("mode", [0o775, 0o777])
@pytest.mark.parametrize("which", ["config dir", "its parent"])
def test_seen_a_group_or_world_writable_config_directory_is_refused(
    run: Run, which: str, mode: int
) -> None:
    _add(run, "prod")
    directory = ProfileStore().directory
    path = directory if which == "config dir" else directory.parent
    if mode & 0o020 and os.geteuid() == 0:
        os.chown(path, -1, 4242)  # a group others may be in, not the user's private one
    elif mode & 0o020:
        pytest.skip("only root can give a directory a group other than the user's own")
    path.chmod(mode)
    for argv in (("profile", "list"), ("tasks",)):
        code, _out, err = run(*argv)
        _one_line_exit_2(code, err)
        assert "writable by other users" in err
        assert str(path) in err


# -- a FIFO -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["credentials.toml", "config.toml"])
def test_seen_a_fifo_is_refused_at_once(run: Run, name: str) -> None:
    _add(run, "prod")
    path = ProfileStore().directory / name
    path.unlink()
    os.mkfifo(path, 0o600)
    for argv in (
        ("profile", "list"),
        ("tasks",),
        ("profile", "add", "b", "--access-key-id", "x", "--secret-stdin"),
    ):
        code, _out, err = run(*argv, stdin=f"{SECRET}\n")
        _one_line_exit_2(code, err)
        assert "FIFO" in err
    assert os.path.exists(path)


# -- state and log directories ----------------------------------------------------------------

COMMANDS = [
    (),
    ("--demo",),
    ("tasks",),
    ("tasks", "--demo"),
    ("stop", "t-1", "--yes"),
    ("delete", "t-1", "--yes"),
    ("profile", "list"),
    ("profile", "show", "prod"),
    ("profile", "test", "prod"),
    ("emulator",),
]


@pytest.fixture
def state_is_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "state-file"
    path.write_text("not a directory")
    monkeypatch.setenv("XDG_STATE_HOME", str(path))
    return path


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_seen_a_state_home_that_is_a_file_with_a_debug_log(
    run: Run, state_is_a_file: Path, argv: tuple[str, ...]
) -> None:
    _add(run, "prod")
    code, _out, err = run("--log-level", "debug", *argv)
    _one_line_exit_2(code, err)
    assert f"Cannot use the log directory {state_is_a_file}/asrtui" in err
    assert "a part of the path is a file, not a directory" in err
    assert "XDG_STATE_HOME" in err


def test_a_state_home_that_is_a_file_stops_the_console_before_it_starts(
    run: Run, state_is_a_file: Path
) -> None:
    """The console remembers its theme there: a broken state dir is said before, not during."""
    _add(run, "prod")
    code, _out, err = run()
    _one_line_exit_2(code, err)
    assert "the state directory" in err
    assert "XDG_STATE_HOME" in err


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (errno.ENOSPC, "is full"),
        (errno.EDQUOT, "quota"),
        (errno.EROFS, "read-only file system"),
        (errno.EACCES, "permission denied"),
    ],
)
def test_seen_a_full_log_disk_is_called_full(
    run: Run, monkeypatch: pytest.MonkeyPatch, code: int, words: str
) -> None:
    real_write = os.write

    def write(fd: int, data: bytes) -> int:
        name = ""
        with contextlib.suppress(OSError):
            name = os.readlink(f"/proc/self/fd/{fd}")
        if "/asrtui/log/" in name:
            raise OSError(code, os.strerror(code))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    status, _out, err = run("--log-level", "info", "tasks", "--demo")
    _one_line_exit_2(status, err)
    assert words in err
    if code != errno.EACCES:
        assert "permission" not in err.lower()


def test_a_refused_file_is_said_before_the_secret_is_asked_for(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    _add(run, "prod")
    ProfileStore().credentials_path.chmod(0o644)

    def no_prompt(prompt: str = "") -> str:
        raise AssertionError("asked for a secret that could not be stored")

    monkeypatch.setattr("getpass.getpass", no_prompt)
    code, _out, err = run("profile", "add", "b", "--access-key-id", "FAKEb")
    _one_line_exit_2(code, err)
    assert "chmod 600" in err


# -- real disks: a full one and one nobody can write (root mounts a tmpfs for them) -----------


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
@pytest.mark.parametrize("argv", [("--log-level", "debug", "tasks", "--demo"), ()], ids=str)
def test_a_really_full_state_disk_is_called_full(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...]
) -> None:
    _add(run, "prod")
    with tmpfs(tmp_path / "state", "size=64k,mode=0700") as disk:
        (disk / "asrtui" / "log").mkdir(parents=True, mode=0o700)
        fill(disk)
        monkeypatch.setenv("XDG_STATE_HOME", str(disk))
        code, _out, err = run(*argv)
    _one_line_exit_2(code, err)
    assert f"the disk holding {disk}/asrtui" in err
    assert "is full" in err
    assert "permission" not in err.lower()


@pytest.mark.parametrize("argv", [("--log-level", "debug", "tasks", "--demo"), ()], ids=str)
def test_a_state_directory_nobody_can_write_is_a_config_error(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...]
) -> None:
    _add(run, "prod")
    with contextlib.ExitStack() as stack:
        if os.geteuid() == 0:  # root writes anywhere a mode allows: a read-only disk then
            state = stack.enter_context(tmpfs(tmp_path / "state", "ro,size=64k"))
            words = "read-only file system"
        else:
            state = tmp_path / "state"
            state.mkdir(mode=0o500)
            words = "permission denied"
        monkeypatch.setenv("XDG_STATE_HOME", str(state))
        code, _out, err = run(*argv)
    _one_line_exit_2(code, err)
    assert words in err
    assert "XDG_STATE_HOME" in err
