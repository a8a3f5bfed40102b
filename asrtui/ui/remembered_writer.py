"""Remembered views written from a thread of their own; the newest value of a profile wins.

`RememberedStore.save` re-reads the file, merges the profile's entry in and replaces the file
with an fsync: milliseconds on a quiet disk, far more on a loaded one or a network home
directory, and the console's loop drew nothing and read no key meanwhile. So the loop only
hands the value over (`RememberedWriter.put`), as it does the journal's lines, and a thread
writes it.

Order, the same as when the loop wrote:

- **One thread for every store of the process.** Two profiles' writes never interleave their
  read-merge-replace, so each keeps the other's entry; a profile switch's last write of the old
  profile is done before the new one's first.
- **The last write wins.** A value put while an older one of the same profile still waits
  replaces it: the file ends with the newest view, and a burst of changes costs one write.
- **The exit's write is flushed.** `flush` returns once everything put before it is on disk;
  the app calls it when it ends, so the last change outlives the process.

What a write found (a damaged file set aside, an `OSError`) is handed back, on the event loop
that put the value, to the callback given with it: the event log says it there.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from asrtui.ui.remembered import Remembered, RememberedStore

__all__ = ["WRITER", "Outcome", "RememberedWriter"]

#: What one write found: the file's problems on the way (usually none), or why it failed.
Outcome = list[str] | OSError
Done = Callable[[Outcome], None]


@dataclass(frozen=True)
class _Job:
    store: RememberedStore
    profile: str
    value: Remembered
    done: Done
    loop: asyncio.AbstractEventLoop | None


class RememberedWriter:
    """Writes remembered views in order from one daemon thread, started on the first value."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._waiting: dict[tuple[Path | None, str], _Job] = {}
        self._writing = False
        self._thread: threading.Thread | None = None

    def put(self, store: RememberedStore, profile: str, value: Remembered, done: Done) -> None:
        """Have ``value`` written as ``profile``'s record; ``done`` hears what the write found.

        Called from the event loop, ``done`` runs on it. Called with no loop running (a
        script, a test without one), the value is written at once and ``done`` called here.
        """
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            done(_write(store, profile, value))
            return
        with self._changed:
            self._waiting[(store.path, profile)] = _Job(store, profile, value, done, loop)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="asrtui-remembered", daemon=True
                )
                self._thread.start()
            self._changed.notify_all()

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Wait until every value put so far is written; returns ``False`` on the timeout."""
        with self._changed:
            return self._changed.wait_for(
                lambda: not self._waiting and not self._writing, timeout=timeout
            )

    def _run(self) -> None:
        while True:
            with self._changed:
                self._writing = False
                self._changed.notify_all()
                self._changed.wait_for(lambda: bool(self._waiting))
                key = next(iter(self._waiting))
                job = self._waiting.pop(key)
                self._writing = True
            outcome = _write(job.store, job.profile, job.value)
            if job.loop is not None:
                # A loop already closed (the app ended after its flush timed out) hears nothing.
                with contextlib.suppress(RuntimeError):
                    job.loop.call_soon_threadsafe(job.done, outcome)


def _write(store: RememberedStore, profile: str, value: Remembered) -> Outcome:
    try:
        return store.save(profile, value)
    except OSError as error:
        return error
    except Exception as error:  # a bug: said as a failed write; the thread must live on
        return OSError(0, f"unexpected {type(error).__name__}")


#: The process's one writer: every main screen's remembered view goes through it.
WRITER = RememberedWriter()
