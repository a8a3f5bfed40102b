"""What the console remembers of each profile's view between sessions, and the file it is kept in.

An operator who slows the refresh, silences the toasts, sorts by status and hides ended tasks on
the production profile wants the same view after a restart or a switch back, and a different
one on staging. So each profile's choices are one small record (`Remembered`) in one JSON file
beside the theme's ``console.json`` in the state directory::

    {"version": 1, "profiles": {"prod": {"interval": 10, "interval_base": 5, "sort": "status"}}}

Rules, because the file outlives versions and editors:

- **Damage loses nothing else.** A field of the wrong type or value is dropped alone (the rest
  of the profile's record applies); a profile entry that is not an object is dropped alone;
  other profiles' entries are written back exactly as read, whatever they hold. A file that is
  not JSON at all, or not an object of profiles, is renamed aside (``*.damaged-<UTC time>``)
  before anything is written over it, so not a byte of it is lost. Each problem is returned for
  the event log; nothing here raises on what the file holds.
- **Written atomically** (`asrtui.files.replace_file`), re-read just before each write so that
  two consoles on two profiles keep each other's entries.
- **The profile's own interval wins when it changes.** ``interval`` is kept with
  ``interval_base``, the profile's configured interval when it was chosen: once the profile's
  interval is edited, the edit is the newer choice and the remembered one is let go.
- **Nothing in the demo**: the caller passes no path (see `ConsoleSettings.state_path`).

Columns are opaque here: whatever JSON value the table's column choice gives is kept under
``columns`` and handed back as is (`asrtui.ui.view_memory` applies it when the table can).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self, get_args

from asrtui.printable import printable_line
from asrtui.ui.notices import NoticeLevel
from asrtui.ui.settings import MAX_INTERVAL, MIN_INTERVAL
from asrtui.ui.widgets.task_table.columns import SORT_COLUMNS, SortColumn

__all__ = ["FILE_NAME", "Loaded", "Remembered", "RememberedStore"]

#: The file's name, in the state directory beside ``console.json``.
FILE_NAME = "remembered.json"
#: The format written; a file without it is read as this one.
VERSION = 1


def replace_file(path: Path, data: bytes) -> None:
    """`asrtui.files.replace_file`, its module loaded by the first write (start-up time)."""
    from asrtui.files import replace_file as replace

    replace(path, data)


@dataclass(frozen=True)
class Remembered:
    """One profile's remembered view; ``None`` in a field means "not remembered: the default".

    Attributes:
        interval: seconds between automatic refreshes, as ``+``/``-`` left it.
        interval_base: the profile's own interval when ``interval`` was chosen.
        notices: the toast level (``t``).
        bell: whether the bell rings (``b``).
        sort: the sort column (``s``).
        sort_reverse: whether the sort is descending (``S``).
        columns: the table's column choice, an opaque JSON value.
        detail: whether the detail pane is shown (``d``).
        events: whether the event log is shown (``e``).
        maximized: whether the table fills the screen (``m``).
        hide_ended: whether ended tasks are left out (``h``).
    """

    interval: float | None = None
    interval_base: float | None = None
    notices: NoticeLevel | None = None
    bell: bool | None = None
    sort: SortColumn | None = None
    sort_reverse: bool | None = None
    columns: object = None
    detail: bool | None = None
    events: bool | None = None
    maximized: bool | None = None
    hide_ended: bool | None = None

    def to_json(self) -> dict[str, Any]:
        """The fields that are remembered (not ``None``), as JSON values."""
        out: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if value is not None:
                out[item.name] = str(value) if isinstance(value, NoticeLevel) else value
        return out

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> tuple[Remembered, list[str]]:
        """Read a profile's entry field by field; a field not understood is left out alone.

        Returns:
            The record, and the names of the fields left out (unknown names are ignored:
            a newer version may have written them).
        """
        values: dict[str, Any] = {}
        bad: list[str] = []
        for name, check in _CHECKS.items():
            if name not in raw or raw[name] is None:
                continue
            value = check(raw[name])
            if value is None:
                bad.append(name)
            else:
                values[name] = value
        return cls(**values), bad


def _interval(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    seconds = float(value)
    if not math.isfinite(seconds) or not MIN_INTERVAL <= seconds <= MAX_INTERVAL:
        return None
    return seconds


def _flag(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _level(value: object) -> NoticeLevel | None:
    return NoticeLevel(value) if isinstance(value, str) and value in set(NoticeLevel) else None


def _sort(value: object) -> SortColumn | None:
    return value if isinstance(value, str) and value in SORT_COLUMNS else None


def _any(value: object) -> object:
    return value


_CHECKS: dict[str, Callable[[object], object]] = {
    "interval": _interval,
    "interval_base": _interval,
    "notices": _level,
    "bell": _flag,
    "sort": _sort,
    "sort_reverse": _flag,
    "columns": _any,
    "detail": _flag,
    "events": _flag,
    "maximized": _flag,
    "hide_ended": _flag,
}
assert set(_CHECKS) == {item.name for item in fields(Remembered)}
assert set(get_args(SortColumn)) == set(SORT_COLUMNS)


@dataclass(frozen=True)
class Loaded:
    """A profile's record as read, and what was wrong on the way (for the event log)."""

    value: Remembered
    problems: tuple[str, ...] = ()


class RememberedStore:
    """The remembered views of every profile, in one JSON file.

    Args:
        path: the file; ``None`` remembers nothing (the demo).
        clock: the wall clock naming a damaged file set aside.
    """

    def __init__(self, path: Path | None, clock: Callable[[], datetime] | None = None) -> None:
        self.path = path
        self._clock = clock or (lambda: datetime.now(UTC))

    def __repr__(self) -> str:
        return f"RememberedStore({self.path!s})"

    @classmethod
    def beside(cls, state_path: Path | None, clock: Callable[[], datetime] | None = None) -> Self:
        """The store in the directory of the theme's ``console.json`` (``None``: the demo)."""
        return cls(None if state_path is None else state_path.with_name(FILE_NAME), clock)

    def load(self, profile: str) -> Loaded:
        """The record of ``profile``; a damaged file is set aside, a damaged field dropped."""
        if self.path is None:
            return Loaded(Remembered())
        profiles, problems = self._read()
        entry = profiles.get(profile) if profiles is not None else None
        if entry is None:
            return Loaded(Remembered(), tuple(problems))
        name = printable_line(profile)
        if not isinstance(entry, dict):
            problems.append(
                f"The remembered view of profile {name} in {self.path} was not understood"
                " (not an object); it starts from the defaults"
            )
            return Loaded(Remembered(), tuple(problems))
        value, bad = Remembered.from_json(entry)
        if bad:
            problems.append(
                f"Remembered {', '.join(bad)} of profile {name} in {self.path} not understood;"
                " the default is used instead"
            )
        return Loaded(value, tuple(problems))

    def save(self, profile: str, value: Remembered) -> list[str]:
        """Write ``profile``'s record, every other profile's entry kept as it is in the file.

        Returns:
            What was wrong with the file on the way (a damaged file is set aside first).

        Raises:
            OSError: the file or its directory cannot be written.
        """
        if self.path is None:
            return []
        profiles, problems = self._read()
        merged = dict(profiles or {})
        merged[profile] = value.to_json()
        text = json.dumps({"version": VERSION, "profiles": merged}, indent=2, sort_keys=True)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        replace_file(self.path, (text + "\n").encode("utf-8"))
        return problems

    def _read(self) -> tuple[dict[str, Any] | None, list[str]]:
        """Every profile's raw entry (``None``: no file, or none readable) and the problems."""
        assert self.path is not None
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None, []
        except OSError as error:
            reason = error.strerror or type(error).__name__
            return None, [f"Could not read {self.path}: {reason}; using the defaults"]
        try:
            document = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None, [self._set_aside("is not JSON")]
        if not isinstance(document, dict):
            return None, [self._set_aside("is not a JSON object")]
        profiles = document.get("profiles", {})
        if not isinstance(profiles, dict):
            return None, [self._set_aside("holds no object of profiles")]
        return profiles, []

    def _set_aside(self, what: str) -> str:
        """Rename the damaged file out of the way (so it is never written over) and say where."""
        assert self.path is not None
        stamp = self._clock().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        aside = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        try:
            os.replace(self.path, aside)
        except OSError as error:
            reason = error.strerror or type(error).__name__
            return (
                f"{self.path} {what} and could not be set aside ({reason}); remembered views"
                " start from the defaults and will replace it"
            )
        return (
            f"{self.path} {what}; set aside as {aside.name}, remembered views start from"
            " the defaults"
        )
