"""The journal: every event of a profile, one JSON line each, kept across restarts.

A broadcast outlives a console: the operator restarts it, the SSH link drops, the machine
reboots. The journal is how "what happened when" survives: the console appends each event
(`asrtui.events`) as one line of JSON to a file per profile in the user state directory
(``$XDG_STATE_HOME/asrtui/journal/<profile>.jsonl``), reloads the recent part on start, and
``asrtui journal`` and ``asrtui report`` read it.

How it is written, and why:

- One ``write`` per line, then ``flush``: a killed process loses at most the line it was
  writing, and every line before it parses. A burst of events (`Journal.append_many`) is
  written a few lines per ``write``. The file is opened in append mode, so two consoles of one
  profile interleave whole lines.
- A file that does not end with a line break (power loss mid-line) is never overwritten or cut:
  a line break is written first, so the half line stays on its own and the reader reports it.
- It rotates by size (``<profile>.jsonl.1`` ... ``.N``, oldest dropped), so a season of
  broadcasts cannot fill the disk.
- Never a secret: events are built masked (`asrtui.events`), and every string is masked once
  more here (`asrtui.logs.redact_log_text`: the AccessKey secrets and STS tokens in use, and
  every token pattern), value by value so the line stays valid JSON.
- A journal that cannot be written (disk full, read-only) never stops the console: the first
  failure is kept in `Journal.failure` for the console to show once, and writing is retried on
  the next event.
- The demo writes nothing: its tasks are invented, and its journal would mix with a real one.

Reading skips what it cannot parse and says where (`Problem`): the good lines are read, the bad
ones reported, nothing rewritten.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Final

import platformdirs

from asrtui.events import Event
from asrtui.logs import redact_log_text
from asrtui.printable import printable_line

__all__ = [
    "JOURNAL_BACKUPS",
    "MAX_JOURNAL_BYTES",
    "MAX_LINE_CHARS",
    "Follower",
    "Journal",
    "JournalRead",
    "Problem",
    "journal_dir",
    "journal_files",
    "journal_path",
    "read_journal",
    "scan_journal",
]

#: A journal file is rotated once it reaches this size.
MAX_JOURNAL_BYTES: Final = 10_000_000
#: Rotated files kept besides the current one.
JOURNAL_BACKUPS: Final = 5
#: A line longer than this is stored with its detail dropped (a hostile tag of megabytes).
MAX_LINE_CHARS: Final = 16_000
#: A message kept in a shortened line.
_SHORT_MESSAGE: Final = 500

_UNSAFE_NAME_RE: Final = re.compile(r"[^A-Za-z0-9._-]")


def journal_dir() -> Path:
    """The directory of the journals: ``journal`` in the user state directory of asrtui."""
    return platformdirs.user_state_path("asrtui") / "journal"


def journal_path(profile: str, directory: Path | None = None) -> Path:
    """The journal file of ``profile``; any character unsafe in a file name is %-encoded."""
    name = _UNSAFE_NAME_RE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), profile)
    if name in ("", ".", ".."):
        name = name.replace(".", "%2E") or "%00"
    return (directory or journal_dir()) / f"{name}.jsonl"


def journal_files(path: Path, backups: int = JOURNAL_BACKUPS) -> list[Path]:
    """The journal's files that exist, oldest first: ``path.N`` ... ``path.1``, ``path``."""
    names = [path.with_name(f"{path.name}.{n}") for n in range(backups, 0, -1)]
    return [p for p in [*names, path] if p.is_file()]


def _masked(value: Any) -> Any:
    """Every string in a JSON value through `redact_log_text`."""
    if isinstance(value, str):
        return redact_log_text(value)
    if isinstance(value, Mapping):
        return {str(k): _masked(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_masked(v) for v in value]
    return value


def encode_line(event: Event) -> str:
    """The journal line of ``event`` (with its line break): masked, at most `MAX_LINE_CHARS`."""
    record = _masked(event.to_json())
    line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str)
    if len(line) > MAX_LINE_CHARS:
        record.pop("detail", None)
        record["message"] = str(record.get("message", ""))[:_SHORT_MESSAGE]
        record["truncated"] = True
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str)
    return line + "\n"


def _private_opener(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


class Journal:
    """Appends events to one profile's journal file; never raises on a write.

    Args:
        path: the file (`journal_path`); its directory is created (0700) when first written.
        max_bytes: rotate once the file reaches this size.
        backups: rotated files kept.
    """

    def __init__(
        self, path: Path, *, max_bytes: int = MAX_JOURNAL_BYTES, backups: int = JOURNAL_BACKUPS
    ) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        #: The first write failure, one line, for the console to show once (then ``None``
        #: again after a write succeeds).
        self.failure: str | None = None
        self._file: IO[str] | None = None

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    def _open(self) -> IO[str]:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle = open(  # noqa: SIM115 - kept open across appends, closed by `close`
            self.path, "a+", encoding="utf-8", opener=_private_opener
        )
        try:
            handle.seek(0, os.SEEK_END)
            if handle.tell() > 0:
                handle.seek(handle.tell() - 1)
                if handle.read(1) != "\n":
                    # A half-written last line: left as it is, and ended, so the next line
                    # starts on its own and the reader reports (never merges) the half one.
                    handle.write("\n")
                    handle.flush()
        except (OSError, UnicodeDecodeError, ValueError):
            with contextlib.suppress(OSError):
                handle.write("\n")
        return handle

    def append(self, event: Event) -> bool:
        """Write ``event`` as one line and flush it; ``False`` (and `failure` set) on an error."""
        return self._write(encode_line(event))

    def append_many(self, events: Sequence[Event]) -> bool:
        """Write ``events`` as lines in one write, then flush; ``False`` (and `failure`) on error.

        For a burst (the first answer of a large account is an event per task): a write and a
        flush per line cost more than masking it. Killed mid-write, the file ends with a half
        line, which the reader reports and the next append leaves on its own. Keep bursts
        short (a few lines, some kilobytes): rotation is checked after each write.
        """
        return self._write("".join(encode_line(event) for event in events)) if events else True

    def _write(self, text: str) -> bool:
        try:
            if self._file is None:
                self._file = self._open()
            self._file.write(text)
            self._file.flush()
            if self._file.tell() >= self.max_bytes:
                self._rotate()
        except OSError as error:
            self._close_quietly()
            reason = printable_line(error.strerror or str(error))
            if self.failure is None:
                self.failure = f"Cannot write the journal {self.path}: {reason}"
            return False
        self.failure = None
        return True

    def _rotate(self) -> None:
        self._close_quietly()
        for n in range(self.backups - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{n}")
            if older.exists():
                os.replace(older, self.path.with_name(f"{self.path.name}.{n + 1}"))
        if self.backups > 0:
            os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
        else:
            self.path.unlink()

    def _close_quietly(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None

    def close(self) -> None:
        """Close the file (appending again reopens it)."""
        self._close_quietly()


@dataclass(frozen=True)
class Problem:
    """A line of a journal that is not an event: where, and why it was skipped."""

    path: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path.name} line {self.line}: {self.reason}, skipped"


@dataclass
class JournalRead:
    """What reading a journal found: its events in order, and the lines it skipped."""

    events: list[Event] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _decode(raw: bytes, path: Path, number: int) -> Event | Problem | None:
    """One line (without its line break): an event, a problem, or ``None`` when blank."""
    if not raw.strip():
        return None
    try:
        record = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return Problem(path, number, "not UTF-8 text")
    except ValueError:
        return Problem(path, number, "not a whole JSON line (half-written or damaged)")
    if not isinstance(record, dict):
        return Problem(path, number, "not a JSON object")
    try:
        return Event.from_json(record)
    except ValueError as error:
        return Problem(path, number, printable_line(str(error)))


def _written_before(file: Path, since: datetime) -> bool:
    try:
        return file.stat().st_mtime < since.timestamp()
    except OSError:
        return False


def _wanted(event: Event, since: datetime | None, task: str | None) -> bool:
    if since is not None and event.time < since:
        return False
    return task is None or event.task_id == task


def scan_journal(
    path: Path,
    *,
    since: datetime | None = None,
    task: str | None = None,
    backups: int = JOURNAL_BACKUPS,
    current: bool = True,
) -> Iterator[Event | Problem]:
    """Each readable event (and each problem) of the journal at ``path`` and its rotated
    files, in the order they were written, one file in memory at a time.

    For a reader that keeps only part of what it reads (the console's reload keeps the last
    1,000 events of up to 50 MB): nothing is gathered here. The arguments are
    `read_journal`'s.
    """
    for file in journal_files(path, backups):
        if file == path and not current:
            continue
        if since is not None and file != path and _written_before(file, since):
            continue  # a rotated file last written before ``since`` holds nothing wanted
        try:
            data = file.read_bytes()
        except OSError as error:
            reason = printable_line(error.strerror or str(error))
            yield Problem(file, 0, f"cannot read it ({reason})")
            continue
        for number, raw in enumerate(data.split(b"\n"), start=1):
            found = _decode(raw, file, number)
            if isinstance(found, Problem) or (found is not None and _wanted(found, since, task)):
                yield found


def read_journal(
    path: Path,
    *,
    since: datetime | None = None,
    task: str | None = None,
    backups: int = JOURNAL_BACKUPS,
    current: bool = True,
) -> JournalRead:
    """Every readable event of the journal at ``path`` and its rotated files, oldest first.

    Args:
        path: the current journal file (`journal_path`).
        since: only events at or after this time.
        task: only the events of this task id.
        current: read the current file too (``False``: only the rotated ones, for a
            `Follower` that reads the current one from its start).

    A missing journal reads as empty. An unreadable file is one problem, not an exception.
    """
    result = JournalRead()
    for found in scan_journal(path, since=since, task=task, backups=backups, current=current):
        if isinstance(found, Problem):
            result.problems.append(found)
        else:
            result.events.append(found)
    result.events.sort(key=lambda event: event.time)
    return result


class Follower:
    """Reads the lines appended to a journal since the last call, across rotations.

    A line is taken only once its line break is there: one being written is read next time.
    """

    def __init__(
        self,
        path: Path,
        *,
        task: str | None = None,
        since: datetime | None = None,
        from_end: bool = True,
    ) -> None:
        self.path = path
        self.task = task
        self.since = since
        self._handle: IO[bytes] | None = None
        self._inode: int | None = None
        self._pending = b""
        self._line = 0
        self._from_end = from_end

    def _open(self) -> None:
        try:
            self._handle = open(self.path, "rb")  # noqa: SIM115 - held while following
        except OSError:
            self._handle = None
            # Not there yet: when it appears, every line of it is new.
            self._from_end = False
            return
        self._inode = os.fstat(self._handle.fileno()).st_ino
        self._pending = b""
        self._line = 0
        if self._from_end:
            # What is there is old, except a line still being written: that is new.
            data = self._handle.read()
            self._line = data.count(b"\n")
            self._pending = data.rpartition(b"\n")[2]
            self._from_end = False

    def _drain(self, found: JournalRead) -> None:
        assert self._handle is not None
        data = self._pending + self._handle.read()
        *lines, self._pending = data.split(b"\n")
        for raw in lines:
            self._line += 1
            item = _decode(raw, self.path, self._line)
            if isinstance(item, Problem):
                found.problems.append(item)
            elif item is not None and _wanted(item, self.since, self.task):
                found.events.append(item)

    def poll(self) -> JournalRead:
        """The events (and problems) appended since the last call."""
        found = JournalRead()
        if self._handle is None:
            self._open()
            if self._handle is None:
                return found
        self._drain(found)
        try:
            inode: int | None = self.path.stat().st_ino
        except OSError:
            inode = None
        if inode != self._inode:
            # Rotated: the old file is read to its end above; the new one from its start.
            self.close()
            if inode is not None:
                self._open()
                if self._handle is not None:
                    self._drain(found)
        return found

    def close(self) -> None:
        """Let go of the file."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def events(
        self, sleep: Callable[[], None], report: Callable[[Problem], None]
    ) -> Iterator[Event]:
        """Events as they are appended, forever; ``sleep`` between two empty polls."""
        while True:
            found = self.poll()
            for problem in found.problems:
                report(problem)
            yield from found.events
            if not found.events:
                sleep()
