"""The C heap of a process that reads large answers for hours: buffers go back to the system.

glibc serves an allocation of 128 KiB or more with its own memory map, returned when freed,
but it raises that threshold to the size of each such buffer freed (up to 32 MiB): after the
first large answer, the next answers' bodies (tens of megabytes at 100,000 tasks) come from the
heap instead, which a long session then holds on to as it fragments. Fixing the threshold keeps
every large buffer a map of its own; `trim` gives back what the heap holds free. Elsewhere
than glibc both do nothing.
"""

from __future__ import annotations

import ctypes
import functools
from typing import Final

__all__ = ["LARGE_BUFFER_BYTES", "keep_large_buffers_apart", "trim"]

#: Buffers from this size up are mapped on their own (glibc's default, made fixed).
LARGE_BUFFER_BYTES: Final = 128 * 1024

_M_MMAP_THRESHOLD: Final = -3  # mallopt's parameter number, from glibc's malloc.h


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    """glibc, when this process runs on it (``None`` on musl, macOS, Windows).

    Looked up among the symbols the process has loaded already (``dlopen(NULL)``), where the C
    library it runs on is: ``ctypes.util.find_library`` would run ``ldconfig -p`` in a child
    process to find a file name, some 10-20 ms of every console's start.
    """
    try:
        libc = ctypes.CDLL(None)
    except (OSError, TypeError):  # TypeError: Windows takes no ``None``
        return None
    if not hasattr(libc, "malloc_trim") or not hasattr(libc, "mallopt"):
        return None
    return libc


@functools.cache
def keep_large_buffers_apart() -> bool:
    """Fix glibc's map threshold at `LARGE_BUFFER_BYTES` (once); whether it was set."""
    libc = _glibc()
    return libc is not None and bool(libc.mallopt(_M_MMAP_THRESHOLD, LARGE_BUFFER_BYTES))


def trim() -> bool:
    """Give the memory the C heap holds free back to the system; whether any was.

    Takes some milliseconds on a large heap, without the interpreter lock (ctypes lets go of
    it): call it from a worker thread after a large answer was read.
    """
    libc = _glibc()
    return bool(libc.malloc_trim(0)) if libc is not None else False
