"""Console settings handed in by the composition root, and the small remembered UI state."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from asrtui.protocols import ProfileSession
from asrtui.readonly import WRITABLE, ReadOnly
from asrtui.record import Recorder

#: Bounds of the refresh interval the ``+``/``-`` keys move within, in seconds.
MIN_INTERVAL = 1.0
MAX_INTERVAL = 300.0
#: The theme used when nothing else was chosen.
DEFAULT_THEME = "textual-dark"


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ConsoleSettings:
    """Everything the console needs besides its `TaskSource`.

    Clocks are injected so that tests and snapshots run on a fixed time and never sleep.

    Attributes:
        refresh_interval: seconds between two automatic refreshes (1..300 for the keys).
        read_only: whether stop and delete are refused, and because of what (the option, the
            environment, the profile): the keys say why instead of acting.
        bell: ring the terminal bell when a task ends or errors begin (tmux flags the window).
        theme: the Textual theme name; a theme remembered in ``state_path`` wins over it.
        clock: aware UTC wall clock, for local times and ages shown on screen.
        monotonic: monotonic seconds, for refresh cadence, latency and backoff.
        state_path: where the theme choice is remembered; ``None`` writes no file (demo mode).
        detail_interval: seconds between two fetches of the highlighted task.
        detail_debounce: seconds the cursor must rest on a task before it is fetched.
        sleep: waits out ``detail_debounce`` (tests hold it, so that how fast keys arrive on a
            loaded machine cannot decide what they see).
        tz: the zone local times are shown in; ``None`` for this host's zone (tests fix it).
        recorder: this session's broadcast record (journal and alert hooks); ``None`` writes
            nothing (the demo, and tests that do not ask for one).
        new_recorder: makes the record of a profile switched to (``None`` for the demo's).
    """

    refresh_interval: float = 5.0
    read_only: ReadOnly = WRITABLE
    bell: bool = True
    theme: str = DEFAULT_THEME
    clock: Callable[[], datetime] = field(default=_utc_now, repr=False)
    monotonic: Callable[[], float] = field(default=time.monotonic, repr=False)
    state_path: Path | None = None
    detail_interval: float = 2.0
    detail_debounce: float = 0.25
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False)
    tz: tzinfo | None = None
    recorder: Recorder | None = field(default=None, repr=False)
    new_recorder: Callable[[ProfileSession], Recorder | None] | None = field(
        default=None, repr=False
    )


def clamp_interval(seconds: float) -> float:
    """Keep a refresh interval within the bounds the keys allow."""
    return min(MAX_INTERVAL, max(MIN_INTERVAL, seconds))


def load_theme(state_path: Path | None) -> str | None:
    """The theme remembered in ``state_path``, or ``None`` when there is none to read.

    A missing, unreadable or malformed file is not an error worth stopping a console for:
    the configured theme is used instead.
    """
    if state_path is None:
        return None
    try:
        data = json.loads(state_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    theme = data.get("theme") if isinstance(data, dict) else None
    return theme if isinstance(theme, str) and theme else None


def save_theme(state_path: Path | None, theme: str) -> None:
    """Remember ``theme`` in ``state_path`` (atomically); does nothing when it is ``None``.

    Raises:
        OSError: the file or its directory could not be written.
    """
    if state_path is None:
        return
    # Loaded here: the demo never saves, and other sessions save on a key (start-up time).
    from asrtui.files import replace_file

    state_path.parent.mkdir(parents=True, exist_ok=True)
    replace_file(state_path, (json.dumps({"theme": theme}, indent=2) + "\n").encode("utf-8"))
