"""A directory only this user can use: where the quota ledger and the crash reports go.

One rule for every directory asrtui creates for itself at run time: created 0700 if missing,
refused when it is not a directory (a symbolic link included: it could point anywhere) or
belongs to someone else, put back to 0700 when it is not, and refused when its parent is
writable by other users without the sticky bit (they could swap the directory). It raises
`OSError`s, which each caller words or tolerates in its own way (the shared quota falls back
to a process-local one, a crash report says where it could not be written).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["ensure_private_dir"]


def ensure_private_dir(directory: Path) -> Path:
    """Create ``directory`` 0700 if needed; refuse one that is not safely this user's.

    Returns:
        ``directory``.

    Raises:
        OSError: it cannot be created, is not a directory (`NotADirectoryError`), or it or
            its parent is not safely this user's (`PermissionError`).
    """
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = directory.lstat()
    if not stat.S_ISDIR(info.st_mode):
        raise NotADirectoryError(f"{directory} is not a directory")
    if info.st_uid != os.getuid():
        raise PermissionError(f"{directory} belongs to another user")
    if stat.S_IMODE(info.st_mode) != 0o700:
        directory.chmod(0o700)
    parent = directory.parent.lstat()
    if parent.st_uid not in (0, os.getuid()) or (
        parent.st_mode & 0o022 and not parent.st_mode & stat.S_ISVTX
    ):
        raise PermissionError(f"{directory.parent} is writable by other users")
    return directory
