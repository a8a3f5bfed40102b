"""Textual's and Rich's rendering caches, emptied now and then so they stay small.

Textual and Rich memoise small pure functions with ``functools.lru_cache`` (region
arithmetic, style composition, ANSI codes, cell widths of strings): up to 4,096 or 16,384
entries each, process-wide. A console drawing a table of changing tasks in a real terminal
feeds them new keys all the time (times, ages, regions of toasts coming and going): ~5,000
new entries a minute at 1-second refreshes. So they kept growing for the first ~40 minutes of
a broadcast, ~20 MiB in all, before they reached their caps, in a straight line that looked
like a leak.

`trim_render_caches` empties every bounded one of them; the console does so every
`TRIM_SECONDS`, so they hold no more than a minute's worth of entries. What is still in use is
computed again at the next frame (a few milliseconds, once a minute). Caches without a size
limit (per class, filled once at start) are left alone.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterator
from typing import Any

__all__ = ["TRIM_SECONDS", "render_caches", "trim_render_caches"]

#: Seconds between two trims of the rendering caches.
TRIM_SECONDS = 60.0

#: Packages whose caches are trimmed.
_PACKAGES = ("textual", "rich")


def _wrapper(value: object) -> Any | None:
    """The ``lru_cache`` wrapper behind ``value`` (a function, classmethod or staticmethod)."""
    inner = getattr(value, "__func__", value)
    return inner if isinstance(inner, functools._lru_cache_wrapper) else None


def render_caches() -> Iterator[Any]:
    """Every bounded ``lru_cache`` of the loaded Textual and Rich modules and their classes."""
    seen: set[int] = set()
    for name, module in list(sys.modules.items()):
        if module is None or name.split(".", 1)[0] not in _PACKAGES:
            continue
        for value in list(vars(module).values()):
            candidates = [value]
            if isinstance(value, type) and value.__module__ == name:
                candidates = list(vars(value).values())
            for candidate in candidates:
                cache = _wrapper(candidate)
                if cache is None or id(cache) in seen:
                    continue
                seen.add(id(cache))
                if cache.cache_info().maxsize is not None:
                    yield cache


def trim_render_caches() -> int:
    """Empty the bounded rendering caches of Textual and Rich.

    Returns:
        How many entries were dropped.
    """
    dropped = 0
    for cache in render_caches():
        dropped += cache.cache_info().currsize
        cache.cache_clear()
    return dropped
