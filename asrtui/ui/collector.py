"""Keeps the cyclic garbage collector's full passes away from the keys.

Python's collector walks every object it tracks on a full (oldest generation) pass. A console
listing 10,000 tasks holds some 150,000 of them (tasks, rows, Textual's widgets), and a full
pass over those took 50-235 ms of the UI loop on a loaded 2-core machine, every few seconds
while refreshing at 1 s: the slowest key presses were those that landed on one. The objects it
walked are nearly all long-lived and free of cycles (frozen dataclasses): walking them again
finds nothing to free.

So once an answer has made many long-lived objects (the first answer, or one where thousands of
tasks changed), `HeapSettler.settled` freezes everything alive (`gc.freeze`): a full pass then
walks only what was made since. Reference counting still frees a frozen object when its last
reference goes (a task replaced, a row gone); only a frozen *cycle* that becomes garbage is
never collected. To bound that, when the frozen objects have doubled since the last full pass,
the next settle unfreezes, collects once, and freezes again: one full pass per doubling instead
of one every few seconds.

Counting the frozen objects (`gc.get_freeze_count`) walks them all: 10-50 ms of the loop at
10,000 tasks, on every settle while many tasks change each second. So the settler keeps an
upper bound instead, raised at each freeze by the objects that freeze moves (the young
generations, which hold only what was made since the last freeze), and counts exactly only when
the bound passes double: a frozen object freed since only makes the bound high, never low, so
no doubling is missed.

An answer that made few objects (the usual refresh: most tasks unchanged) freezes nothing: the
few it made are collected as usual.
"""

from __future__ import annotations

import gc
from typing import Any, Protocol

__all__ = ["FREEZE_AFTER", "Collector", "HeapSettler"]

#: An answer that made at least this many rows freezes what is alive.
FREEZE_AFTER = 2000


class Collector(Protocol):
    """The part of the `gc` module the settler uses (tests pass a recorder)."""

    def freeze(self) -> None: ...

    def unfreeze(self) -> None: ...

    def collect(self, generation: int = 2) -> int: ...

    def get_freeze_count(self) -> int: ...

    def get_objects(self, generation: int | None = None) -> list[Any]: ...


class HeapSettler:
    """Freezes the long-lived objects after an answer that made many, and bounds what leaks.

    Args:
        freeze_after: the rows an answer must make for a freeze.
        collector: the `gc` module (a recorder in tests).
    """

    def __init__(self, *, freeze_after: int = FREEZE_AFTER, collector: Collector = gc) -> None:
        self._freeze_after = freeze_after
        self._gc = collector
        self._frozen_at_full: int | None = None
        #: At least the objects frozen now (see the module docstring).
        self._frozen_bound = 0
        self.freezes = 0
        """How many times `settled` froze (for tests and the curious)."""
        self.full_passes = 0
        """How many full passes `settled` ran to bound what frozen cycles hold."""

    def __repr__(self) -> str:
        return f"HeapSettler(freezes={self.freezes}, full_passes={self.full_passes})"

    def settled(self, made: int) -> bool:
        """An answer was applied that made ``made`` long-lived objects (rows); freeze if many.

        Returns:
            Whether it froze.
        """
        if made < self._freeze_after:
            return False
        collector = self._gc
        if self._frozen_at_full is None:
            collector.freeze()
            self._frozen_at_full = self._frozen_bound = collector.get_freeze_count()
        else:
            moved = sum(len(collector.get_objects(generation)) for generation in (0, 1, 2))
            collector.freeze()
            self._frozen_bound += moved
            if self._frozen_bound > 2 * self._frozen_at_full:
                self._frozen_bound = collector.get_freeze_count()  # the bound passed: count
            if self._frozen_bound > 2 * self._frozen_at_full:
                # What died in cycles since the last full pass is still counted as frozen:
                # collect it now, once, rather than let repeated freezes keep it for the
                # whole session.
                collector.unfreeze()
                collector.collect()
                collector.freeze()
                self.full_passes += 1
                self._frozen_at_full = self._frozen_bound = collector.get_freeze_count()
        self.freezes += 1
        return True
