"""Private files as ssh treats them: who may own them, what they may be, how they are written.

The profile files name credential commands that asrtui runs and hold AccessKey secrets, so a
file or directory someone else controls is a way into the account. The rules, checked on
every read and before every write:

- the config directory and each file in it belong to the user running asrtui and are not
  writable by group or others (``credentials.toml`` not even readable); the refusal names the
  ``chown`` / ``chmod`` that fixes it and the file is never "fixed" behind the user's back;
- each directory above (up to the home directory when the config is under it, else up to
  ``/``) belongs to the user or root and is not writable by group or others, unless it has the
  sticky bit (``/tmp``), where nobody else can rename or remove what is ours;
- "writable by group" is let be when the group is the user's private group (its one member
  is the user, as Debian's ssh allows): Debian and Ubuntu give users such a group and the
  umask 002, so their ``~/.config`` is often 0775 and no one else can write it;
- a file must be a regular file: a FIFO, a device, a socket or a directory is refused from its
  ``stat``, before it is opened, and the open itself is non-blocking and re-checked with
  ``fstat`` (so a file swapped in between is caught as well);
- a symbolic link (to a vault, a synced folder) is followed: its target is checked by the same
  rules and written through, atomically, in the target's own directory, so the link survives
  and the two never drift apart; a dangling link or a loop is refused and left untouched;
- a write goes to a temporary file next to its target, is synced and renamed over it: a full
  disk, a quota, a read-only file system or an I/O error leave the old file as it was, the
  temporary file is removed, and the error says which of these it was (`describe_os_error`).

Over 450 lines, and one thing: the rules above hold together (owner, modes, links, the atomic
write), each relying on the others; split, a write could skip a check that the read makes.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import grp
import os
import pwd
import shlex
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from asrtui.errors import ConfigError, CredentialsError

__all__ = [
    "MAX_FILE_BYTES",
    "PrivateFile",
    "check_directory",
    "describe_os_error",
    "file_error",
    "inspect_file",
    "read_private",
    "replace_file",
    "usable_directory",
    "write_private",
]

#: A profile file larger than this is not one (a mistaken link to a log, a disk image...).
MAX_FILE_BYTES = 1 << 20

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "a file"
    for test, name in _KINDS:
        if test(mode):
            return name
    return "an unknown kind of file"


def _mount_point(path: Path) -> Path | None:
    """The mount point of the file system holding ``path`` (or its nearest existing parent)."""
    try:
        current = Path(os.path.abspath(path))
        while not current.exists() and current != current.parent:
            current = current.parent
        device = current.stat().st_dev
        while current != current.parent and current.parent.stat().st_dev == device:
            current = current.parent
    except OSError:
        return None
    return current


def describe_os_error(error: OSError, path: Path) -> tuple[str, str]:
    """What ``error`` met at ``path`` means, in words, and what to do: ``(reason, hint)``.

    The error number decides, never the operation that failed: a full disk is a full disk
    whether the write, the sync or the rename noticed it, and never "check the permissions".
    """
    code = error.errno
    if code in (errno.ENOSPC, errno.EDQUOT):
        mount = _mount_point(path)
        where = f" (the file system mounted at {mount})" if mount is not None else ""
        if code == errno.EDQUOT:
            return (
                f"your disk quota on the disk holding {path}{where} is used up",
                "free some space or ask for a larger quota, then try again",
            )
        return f"the disk holding {path}{where} is full", "free some space, then try again"
    if code == errno.EFBIG:
        return (
            "the file is larger than the file system or the file size limit (ulimit -f) allows",
            "raise the limit or free space, then try again",
        )
    if code == errno.EROFS:
        return (
            f"{path} is on a read-only file system",
            "remount it read-write or use a directory on a writable disk",
        )
    if code in (errno.EACCES, errno.EPERM):
        return (
            "permission denied",
            f"check the owner and permissions of {path} and its directory (ls -ld)",
        )
    if code == errno.ENOTDIR:
        return (
            "a part of the path is a file, not a directory",
            f"remove or rename the file in the way of {path}",
        )
    if code == errno.EISDIR:
        return f"{path} is a directory", "remove or rename it"
    if code == errno.ENOENT:
        return f"{path} does not exist", "create its directory or check the path"
    if code == errno.ELOOP:
        return (
            "a symbolic link in the path points to itself (a loop)",
            f"fix or remove the link at {path}",
        )
    if code == errno.ENXIO:
        return (
            f"{path} is a FIFO or a device with nothing at the other end, not a file",
            "remove it (asrtui creates its files itself)",
        )
    if code == errno.EIO:
        return (
            "input/output error: the disk or its connection failed",
            "check the disk (dmesg) before trying again",
        )
    if code in (errno.EMFILE, errno.ENFILE):
        return "too many open files", "close other programs or raise the limit (ulimit -n)"
    if code == errno.ENAMETOOLONG:
        return "the path is too long", "use a shorter path"
    return error.strerror or type(error).__name__, ""


def file_error(action: str, path: Path, error: OSError, hint: str = "") -> ConfigError:
    """A `ConfigError` saying that ``action`` (e.g. "Cannot write") failed on ``path``, and why."""
    reason, advice = describe_os_error(error, path)
    hints = "; ".join(part for part in (advice, hint) if part)
    return ConfigError(f"{action} {path}: {reason}", hints)


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _owner(uid: int) -> str:
    name = _user_name(uid)
    return f"uid {uid}" if name == str(uid) else f"{name} (uid {uid})"


def _chown_hint(path: Path, uid: int) -> str:
    sudo = "" if os.geteuid() == 0 else "sudo "
    return (
        f"check what it contains, then run: {sudo}chown {shlex.quote(_user_name(uid))} "
        f"{shlex.quote(str(path))}"
    )


def _check_owned(path: Path, info: os.stat_result, uid: int, what: str) -> None:
    if info.st_uid != uid:
        raise ConfigError(
            f"{what} {path} belongs to {_owner(info.st_uid)}, "
            f"not to {_owner(uid)}, who runs asrtui; refusing to use it",
            _chown_hint(path, uid),
        )


@functools.cache
def _group_is_private(gid: int, uid: int) -> bool:
    """Whether group ``gid`` has exactly one member, the user ``uid`` (a user private group).

    Members are those whose primary group it is and those it lists; an unknown group, an
    empty one (used by setgid programs) or one with anybody else is not private.
    """
    try:
        group = grp.getgrgid(gid)
        user = pwd.getpwuid(uid)
        primary = {entry.pw_uid for entry in pwd.getpwall() if entry.pw_gid == gid}
    except KeyError:
        return False
    if primary - {uid} or set(group.gr_mem) - {user.pw_name}:
        return False
    return bool(primary or group.gr_mem)


def _writable_by_others(info: os.stat_result, uid: int) -> bool:
    """Whether someone other than ``uid`` (and root) can write what ``info`` describes."""
    if info.st_mode & 0o002:
        return True
    return bool(info.st_mode & 0o020) and not _group_is_private(info.st_gid, uid)


def _homes() -> set[Path]:
    """The home directory, as named and as resolved (``/home`` may be a link)."""
    with contextlib.suppress(RuntimeError, KeyError):
        home = Path.home()
        return {Path(os.path.abspath(home)), Path(os.path.realpath(home))}
    return set()


def _ancestors(path: Path) -> list[Path]:
    """The directories above ``path`` to check: lexical and resolved, up to home or ``/``."""
    homes = _homes()
    chains: list[Path] = []
    for start in (Path(os.path.abspath(path)), Path(os.path.realpath(path))):
        for parent in start.parents:
            if parent not in chains:
                chains.append(parent)
            if parent in homes:
                break
    return chains


def _check_parents(path: Path, uid: int) -> None:
    """Refuse ``path`` when a directory above it can be changed by someone else."""
    seen: set[tuple[int, int]] = set()
    for parent in _ancestors(path):
        try:
            info = parent.stat()
        except OSError as error:
            raise file_error("Cannot check", parent, error) from None
        if (info.st_dev, info.st_ino) in seen:
            continue
        seen.add((info.st_dev, info.st_ino))
        if info.st_uid not in (uid, 0):
            raise ConfigError(
                f"The directory {parent} above {path} belongs to {_owner(info.st_uid)}, who "
                "could replace the profiles; refusing to use them",
                f"{_chown_hint(parent, uid)}, or keep the config elsewhere (XDG_CONFIG_HOME)",
            )
        if _writable_by_others(info, uid) and not info.st_mode & stat.S_ISVTX:
            raise ConfigError(
                f"The directory {parent} above {path} is writable by other users "
                f"(mode {stat.S_IMODE(info.st_mode):04o}), who could replace the profiles; "
                "refusing to use them",
                f"run: chmod go-w {shlex.quote(str(parent))}",
            )


def check_directory(directory: Path, *, uid: int | None = None) -> bool:
    """Check the config directory and those above it; whether it exists.

    Raises:
        ConfigError: it is not a directory, belongs to someone else, or it or a directory
            above is writable by others (see the module docstring).
    """
    uid = os.geteuid() if uid is None else uid
    try:
        info = directory.stat()
    except FileNotFoundError:
        if not os.path.islink(directory):
            return False
        raise ConfigError(
            f"The config directory {directory} is a symbolic link to "
            f"{os.readlink(directory)}, which does not exist; refusing to use it",
            f"restore its target, or remove the link: rm {shlex.quote(str(directory))}",
        ) from None
    except OSError as error:
        raise file_error("Cannot use", directory, error) from None
    if not stat.S_ISDIR(info.st_mode):
        raise ConfigError(
            f"The config directory {directory} is {_kind(info.st_mode)}",
            "remove or rename it (asrtui creates the directory itself)",
        )
    _check_owned(directory, info, uid, "The config directory")
    if _writable_by_others(info, uid):
        raise ConfigError(
            f"The config directory {directory} is writable by other users "
            f"(mode {stat.S_IMODE(info.st_mode):04o}); refusing to use it",
            f"run: chmod 700 {shlex.quote(str(directory))}",
        )
    _check_parents(directory, uid)
    return True


@dataclass(frozen=True)
class PrivateFile:
    """A checked profile file.

    Attributes:
        path: the path as named (in the config directory).
        target: where the bytes are: ``path`` itself, or the end of its symbolic links.
        exists: whether ``target`` exists (``False``: a missing file, to be created).
    """

    path: Path
    target: Path
    exists: bool

    @property
    def is_link(self) -> bool:
        """Whether ``path`` is a symbolic link (written through to ``target``)."""
        return self.target != self.path


def _check_mode(file: PrivateFile, info: os.stat_result, *, secret: bool, uid: int) -> None:
    """Refuse what is not a regular file, belongs to someone else or is open to others."""
    path = file.target
    named = f"{file.path} (a link to {path})" if file.is_link else f"{file.path}"
    mode = info.st_mode
    if not stat.S_ISREG(mode):
        raise ConfigError(
            f"{named} is {_kind(mode)}, not a regular file; refusing to read it",
            f"replace it with a regular file or remove it: rm {shlex.quote(str(file.path))}",
        )
    if info.st_uid != uid:
        raise ConfigError(
            f"{named} belongs to {_owner(info.st_uid)}, not to {_owner(uid)}, who runs asrtui; "
            "refusing to use it",
            _chown_hint(path, uid),
        )
    if secret and mode & 0o077:
        raise CredentialsError(
            f"{named} is accessible to other users (mode {stat.S_IMODE(mode):04o}); "
            "refusing to use it",
            f"run: chmod 600 {shlex.quote(str(path))}",
        )
    if not secret and _writable_by_others(info, uid):
        raise ConfigError(
            f"{named} is writable by other users (mode {stat.S_IMODE(mode):04o}); "
            "refusing to use it",
            f"run: chmod 600 {shlex.quote(str(path))}",
        )


def inspect_file(path: Path, *, secret: bool, uid: int | None = None) -> PrivateFile:
    """Check ``path`` from its ``lstat`` and ``stat`` alone, without opening it.

    Raises:
        ConfigError: see the module docstring (`CredentialsError` for exposed secrets).
    """
    uid = os.geteuid() if uid is None else uid
    try:
        link = path.lstat()
    except FileNotFoundError:
        return PrivateFile(path, path, exists=False)
    except OSError as error:
        raise file_error("Cannot read", path, error) from None
    if not stat.S_ISLNK(link.st_mode):
        file = PrivateFile(path, path, exists=True)
        _check_mode(file, link, secret=secret, uid=uid)
        return file
    try:
        pointed = os.readlink(path)
    except OSError as error:  # replaced meanwhile
        raise file_error("Cannot follow", path, error) from None
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ConfigError(
            f"{path} is a symbolic link to {pointed}, which does not exist; refusing to use it",
            f"restore its target, or remove the link: rm {shlex.quote(str(path))}",
        ) from None
    except OSError as error:
        raise file_error("Cannot follow", path, error) from None
    file = PrivateFile(path, Path(os.path.realpath(path)), exists=True)
    _check_mode(file, info, secret=secret, uid=uid)
    # The target's directory receives the temporary file and could swap the target.
    _check_parents(file.target, uid)
    return file


def read_private(path: Path, *, secret: bool, uid: int | None = None) -> bytes | None:
    """The bytes of ``path`` (``None`` when it does not exist), after every check.

    The file is opened non-blocking and checked again on the open descriptor: what was
    swapped in after the ``stat`` (a FIFO, another owner's file) is refused all the same.

    Raises:
        ConfigError: see the module docstring; also a file over `MAX_FILE_BYTES`.
    """
    uid = os.geteuid() if uid is None else uid
    file = inspect_file(path, secret=secret, uid=uid)
    if not file.exists:
        return None
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    try:
        fd = os.open(file.target, flags)
    except FileNotFoundError:
        return None  # removed in between: as if it had never been there
    except OSError as error:
        raise file_error("Cannot read", path, error) from None
    try:
        _check_mode(file, os.fstat(fd), secret=secret, uid=uid)
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_FILE_BYTES:
                raise ConfigError(
                    f"{path} is larger than {MAX_FILE_BYTES // 1024} KiB: not a profile file",
                    "check what it is; asrtui will not overwrite it",
                )
    except OSError as error:
        raise file_error("Cannot read", path, error) from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def write_private(path: Path, data: bytes, *, secret: bool, uid: int | None = None) -> None:
    """Replace the content of ``path`` (or its link's target) with ``data`` atomically, 0600.

    The bytes go to a temporary file in the target's directory (same file system, so the
    rename is atomic), are synced, and the file is renamed over the target; the directory is
    synced so the rename survives a power cut. On any failure the temporary file is removed
    and the old file is left as it was.

    Raises:
        ConfigError: the file is refused (see `inspect_file`) or the write failed, with the
            reason in words (`describe_os_error`).
    """
    file = inspect_file(path, secret=secret, uid=uid)
    target = file.target
    try:
        replace_file(target, data)
    except OSError as error:
        raise file_error("Cannot write", path, error, "the old file was left as it was") from None
    _sync_directory(target.parent)


def replace_file(target: Path, data: bytes) -> None:
    """Replace ``target`` with ``data`` atomically: a reader never sees half a file.

    The one atomic writer of asrtui (profiles, the console's state, exports): the bytes go to
    a temporary file (mode 0600) in the target's directory, so the rename is atomic, are
    synced, and the file is renamed over the target. On any failure the temporary file is
    removed and the old file is left as it was. Checks (`write_private`) are the caller's.

    Raises:
        OSError: the directory is not writable, the disk is full, and so on.
    """
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        try:
            os.fchmod(fd, 0o600)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise


def _sync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable; file systems that cannot sync one are let be."""
    try:
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as error:
        raise file_error("Cannot sync", directory, error) from None
    try:
        os.fsync(dir_fd)
    except OSError as error:
        if error.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise file_error("Cannot sync", directory, error) from None
    finally:
        os.close(dir_fd)


def usable_directory(directory: Path, what: str, hint: str) -> Path:
    """Create ``directory`` (0700) if needed and make sure files can be created in it.

    Args:
        directory: the directory (the log or state directory).
        what: what it is for, e.g. "the log directory".
        hint: what else the user can do, e.g. "point XDG_STATE_HOME at a writable directory".

    Raises:
        ConfigError: it is a file, cannot be created, or no file can be written in it (not
            writable, read-only, full), with the reason.
    """
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except FileExistsError:
        raise ConfigError(
            f"Cannot use {directory} as {what}: it is a file, not a directory", hint
        ) from None
    except OSError as error:
        raise file_error(f"Cannot use {what}", directory, error, hint) from None
    # A real file, not `os.access`: that says nothing of a full disk or a read-only mount.
    try:
        fd, probe = tempfile.mkstemp(dir=directory, prefix=".probe-", suffix=".tmp")
    except OSError as error:
        raise file_error(f"Cannot use {what}", directory, error, hint) from None
    try:
        os.write(fd, b"\n")
    except OSError as error:
        raise file_error(f"Cannot use {what}", directory, error, hint) from None
    finally:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(probe)
    return directory
