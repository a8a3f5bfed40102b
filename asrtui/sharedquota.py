"""One account's request budget shared by every asrtui process of the user on this host.

Several asrtui processes of one AccessKey on one host (two consoles in two tmux panes and an
``asrtui tasks --watch 0`` in a third) draw on the same quota of the account: the server counts
them together. Each process keeps its own `asrtui.ratelimit.WindowLimiter` (FIFO lanes,
priority, throttling feedback stay local); a `SharedLedger` is the gate between processes that
the limiter consults when its own head-of-queue request would be granted.

The state file
    One small binary file per account in the user runtime directory
    (``platformdirs.user_runtime_path("asrtui")``, else the user cache directory), named after
    a hash of the AccessKey id (never the id in clear, never the secret), created 0600 in a
    0700 directory. It holds the grant times of the last window of all processes, a shared
    "hold until" time, a shared slowed-down limit and the pacing schedule, behind a magic
    number and a CRC. A grant is: take the lock, read, prune entries older than the window,
    append ``now`` if the window has room (and write), release. A file that is empty, foreign,
    truncated, fails its CRC or holds impossible values is reset, never a crash; the file is
    never deleted, since deleting a lock file under other processes splits the budget.

Why ``time.monotonic()`` times are comparable across processes
    On Linux ``time.monotonic()`` reads ``CLOCK_MONOTONIC``, and on macOS
    ``mach_absolute_time``: both count from boot, system-wide, so two processes on one host
    read the same clock. A file left from an earlier boot (the cache directory survives
    reboots) holds times that are either long past (pruned) or, after a short uptime, in the
    future; future times are impossible in this boot, so such a file is reset. The limiter
    passes its own clock's ``now`` to every call, so a virtual clock in tests drives the ledger
    too.

Locking
    ``fcntl.flock`` on the state file, non-blocking: a process that finds the lock taken waits
    a few milliseconds on its event loop instead of blocking it. The kernel releases the lock
    of a process that dies, even by SIGKILL, so a killed process never stalls the others. A
    holder that is stopped (SIGSTOP) while holding it would; after `STUCK_AFTER` seconds of a
    busy lock the ledger logs a warning and lets the process limit itself alone. Every other
    I/O failure does the same: the local window still holds, only the sharing is lost.
    Platforms without ``fcntl`` (Windows) get no ledger: `SharedLedger.for_account` returns
    ``None`` and each process limits itself alone.

Why grants are paced, and how priority requests go first
    A sliding log alone, under saturating demand, replays its first burst forever: N grants
    at the window edge, then nothing for a whole window. A user-initiated request arriving
    mid-window then waits up to a window, and with several processes racing at the edge any of
    them may take the freed slot. So on top of the window the ledger keeps one schedule of
    slots for all processes, ``T = (window + margin) / (N * pacing)`` apart (a GCRA:
    ``next_slot`` is the time of the next free slot; every grant moves it to
    ``max(next_slot, now) + T``):

    - a background grant is allowed from `BACKGROUND_LEAD` ``* T`` before its slot, so a timer
      that fires a little late does not lose the slot;
    - a priority grant is allowed from `PRIORITY_LEAD` ``* T`` before it: it goes ahead of
      every background request of every process (which then each wait a slot more), and two
      or three user actions in different consoles at the same moment do not queue behind
      each other;
    - a priority request that the window itself refuses marks the file, and until it comes
      back, background requests of every process leave it the next slot that leaves the
      window instead of racing it for that slot.
    - a background grant does not leave the window's next free place later than
      `PRIORITY_ROOM` slots from now (`asrtui.quotaledger.room_wait`), and with a lane's
      `asrtui.quotaledger.PriorityLane.second` (off by default), while an operator is at
      work (a priority request of any process asked within the lane's hold), its second
      place later than that many slots.
    - with a priority lane (`asrtui.quotaledger.PriorityLane`, off by default), while a
      priority request of any process asked within the lane's hold, background requests of
      every process leave the window's last places to priority ones (the file records when
      one last asked).

    ``pacing`` (`DEFAULT_PACING`, a little under 1) keeps the schedule slightly slower than
    the window: were both equal, the window would stay full and replay any gap left by a
    cluster of priority requests forever; slightly slower, it has room again within a window
    and the grants spread out evenly by themselves. The window check applies to every grant,
    so no lead or schedule can ever put more than N grants in a window.

Throttling
    `report_throttled` records the slowed-down limit of the reporting process and the
    server's ``retry_after`` in the file: every process then holds its grants until that time
    and caps its window at the shared limit, which recovers by ``recovery_per_second`` calls
    per second (the local limiter's additive increase), so one process being throttled slows
    them all down.

Why one module of this size
    The file format, its lock and the policy applied under the lock are one transaction: a
    decision is only valid for the state it read, and is written back before the lock goes.
    The protocol and the schedule's parameters it shares with Redis and the limiter are in
    `asrtui.quotaledger`.

The safety margin
    Each grant's entry moves to the time its answer arrived (`complete`, called through
    `asrtui.ratelimit.Grant.done`), so the shared window counts every request from the latest
    moment the server can have counted it, whatever the network did: a slow first request (a
    new connection, 25-40 ms here) holds its slot until a window after its answer. On top of
    that the ledger treats its window as ``window + margin`` (`DEFAULT_MARGIN`, 10 ms, 1 % of
    the throughput) for the clock readings of different processes, which are taken a
    scheduling delay apart. Before answers were counted, three saturating processes on a
    loaded 2-core machine drew a throttling answer in about half the runs of the end-to-end
    test; with them, none in 18 runs beside a CPU hog. The margin was 20 ms until the
    benchmark showed it to be most of what kept the sustained rate under 95 % (the
    schedule's ceiling is ``pacing / (1 + margin)``: 96.6 % at 20 ms, 97.5 % at 10 ms), while
    the safety comes from counting answers: a grant's time is read before its request is
    sent and an answer's after it arrived, on one clock.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import os
import stat
import struct
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import platformdirs

from asrtui.privatedir import ensure_private_dir as _ensure_private_dir
from asrtui.quotaledger import (
    BACKGROUND_LEAD,
    DEFAULT_PACING,
    PRIORITY_FIRST_COME,
    PRIORITY_LEAD,
    PRIORITY_ROOM,
    PRIORITY_ROOM_SECOND,
    PRIORITY_SHARE,
    PriorityLane,
    QuotaLedger,
    room_wait,
)

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: each process limits itself alone
    _fcntl: ModuleType | None = None
else:
    _fcntl = fcntl

__all__ = [
    "BACKGROUND_LEAD",
    "DEFAULT_MARGIN",
    "DEFAULT_PACING",
    "LOCK_RETRY",
    "PRIORITY_LEAD",
    "PRIORITY_ROOM",
    "PRIORITY_ROOM_SECOND",
    "PRIORITY_SHARE",
    "STUCK_AFTER",
    "SUPPORTED",
    "LedgerSnapshot",
    "QuotaLedger",
    "SharedLedger",
    "ledger_dir",
    "ledger_path",
]

_log = logging.getLogger("asrtui.sharedquota")

#: Whether this platform can share a budget between processes (it needs ``fcntl.flock``).
SUPPORTED = _fcntl is not None

#: Seconds added to the window against network jitter (see the module docstring).
DEFAULT_MARGIN = 0.01
#: Seconds a process waits before trying a lock that another process holds.
LOCK_RETRY = 0.002
#: Seconds of a continuously busy lock after which a process limits itself alone.
STUCK_AFTER = 2.0
#: The longest hold a state file may ask for; anything longer is junk and resets the file.
MAX_HOLD = 3600.0

_MAGIC = b"ASRTQL02"
# magic, crc32 of the rest, number of grants, number of priority grants, hold_until,
# slow_since, slow_limit, next_slot, priority_waiting_until; then the grant times, then the
# priority grant times.
_HEADER = struct.Struct("<8sIII5d")
# After the entries: when the earliest refused priority request asked, until when its turn
# lasts (its own comeback), and a crc32 of both. An
# earlier version neither reads nor keeps it (it writes the file without), so both can share
# a file: a version without it only loses the order among priority requests.
_TRAILER = struct.Struct("<ddI")
# After that trailer: when a priority request last asked (`PriorityLane`), and a crc32 of it.
# The same rule: a version without it reads the file and drops it (the lane is then given
# back a little early).
_LANE = struct.Struct("<dI")
_ENTRY = struct.Struct("<d")
_MAX_ENTRIES = 4096
#: Answers kept while the lock is busy (a few windows' worth; older ones have left the window).
_MAX_PENDING_COMPLETIONS = 256
#: The shortest wait the ledger asks for.
_MIN_DELAY = 1e-6
#: Seconds another process's clock reading may be ahead of this one's (scheduling delays).
_CLOCK_SLACK = 1.0
_DOMAIN = b"asrtui shared quota v1\x00"


def ledger_dir() -> Path:
    """The directory of the state files: the user runtime dir, else the user cache dir.

    ``platformdirs`` falls back to a directory under ``/tmp`` when ``XDG_RUNTIME_DIR`` is not
    set; such a directory is used only if it is this user's and not writable by others.

    Raises:
        OSError: neither directory can be created or is safe to use.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        runtime = platformdirs.user_runtime_path("asrtui")
    candidates = (runtime, platformdirs.user_cache_path("asrtui"))
    failure: OSError | None = None
    for directory in candidates:
        try:
            _ensure_private_dir(directory)
        except OSError as error:
            failure = error
            continue
        return directory
    assert failure is not None
    raise failure


def ledger_path(access_key_id: str, directory: Path | None = None) -> Path:
    """The state file of an account: a hash of the AccessKey id, never the id itself.

    Args:
        access_key_id: the account's AccessKey id.
        directory: where the file lives; `ledger_dir` when ``None``.
    """
    digest = hashlib.sha256(_DOMAIN + access_key_id.encode("utf-8")).hexdigest()[:32]
    return (directory if directory is not None else ledger_dir()) / f"quota-{digest}.state"


@dataclass
class _State:
    """The decoded state file."""

    grants: list[float] = field(default_factory=list)
    hold_until: float = -math.inf
    slow_since: float = -math.inf
    slow_limit: float = math.inf
    #: GCRA "theoretical arrival time" of the next background grant.
    next_slot: float = -math.inf
    #: Until when a refused priority request will come back for the next free slot.
    priority_waiting_until: float = -math.inf
    #: Grant times of priority requests in the last window (for `PRIORITY_SHARE`).
    priority: list[float] = field(default_factory=list)
    #: When the earliest priority request refused by the window asked (while it comes back).
    priority_first: float = math.inf
    #: Until when that request's turn lasts: its own comeback, so that one that never comes
    #: back (cancelled) holds nobody up past it, however long the others keep coming back.
    priority_first_until: float = -math.inf
    #: When a priority request of any process last asked (the lane, `PriorityLane`).
    priority_asked: float = -math.inf

    def encode(self) -> bytes:
        body = struct.pack(
            f"<II5d{len(self.grants)}d{len(self.priority)}d",
            len(self.grants),
            len(self.priority),
            self.hold_until,
            self.slow_since,
            self.slow_limit,
            self.next_slot,
            self.priority_waiting_until,
            *self.grants,
            *self.priority,
        )
        turn = struct.pack("<dd", self.priority_first, self.priority_first_until)
        trailer = _TRAILER.pack(self.priority_first, self.priority_first_until, zlib.crc32(turn))
        asked = struct.pack("<d", self.priority_asked)
        lane = _LANE.pack(self.priority_asked, zlib.crc32(asked))
        return _MAGIC + struct.pack("<I", zlib.crc32(body)) + body + trailer + lane

    @classmethod
    def decode(cls, data: bytes, now: float, horizon: float) -> _State | None:
        """The state in ``data``, or ``None`` when it is not a plausible state of this boot.

        Args:
            data: the file's bytes (an empty file is a fresh state, not a corrupt one).
            now: the caller's clock.
            horizon: how far in the future a stored time may plausibly lie.
        """
        if not data:
            return cls()
        if len(data) < _HEADER.size or data[:8] != _MAGIC:
            return None
        _, crc, count, pcount, hold, since, slow, nxt, waiting = _HEADER.unpack_from(data)
        end = _HEADER.size + (count + pcount) * _ENTRY.size
        if (
            count > _MAX_ENTRIES
            or pcount > _MAX_ENTRIES
            or len(data) < end
            or zlib.crc32(data[12:end]) != crc
        ):
            return None
        grants = list(struct.unpack_from(f"<{count}d", data, _HEADER.size))
        priority = list(struct.unpack_from(f"<{pcount}d", data, _HEADER.size + count * _ENTRY.size))
        latest = now + horizon
        if any(not math.isfinite(g) or g > latest for g in grants + priority):
            return None
        if math.isnan(hold) or hold > now + MAX_HOLD:
            return None
        if math.isnan(since) or since > latest or math.isnan(slow) or slow < 1:
            return None
        if math.isnan(nxt) or nxt > latest or math.isnan(waiting) or waiting > latest:
            return None
        first, turn = math.inf, -math.inf
        if len(data) >= end + _TRAILER.size:
            value, until, check = _TRAILER.unpack_from(data, end)
            plausible = not math.isnan(value) and not math.isnan(until)
            if check == zlib.crc32(data[end : end + 16]) and plausible and until <= latest:
                first, turn = (value, until) if value <= latest else (math.inf, -math.inf)
        asked = -math.inf
        lane_at = end + _TRAILER.size
        if len(data) >= lane_at + _LANE.size:
            value, check = _LANE.unpack_from(data, lane_at)
            if check == zlib.crc32(data[lane_at : lane_at + 8]) and value <= latest:
                asked = value  # NaN fails the comparison: the lane is simply not kept
        return cls(grants, hold, since, slow, nxt, waiting, priority, first, turn, asked)


@dataclass(frozen=True)
class LedgerSnapshot:
    """What the state file says right now, for tests and diagnostics.

    Attributes:
        used: grants of all processes in the last window.
        hold_remaining: seconds every process still holds its grants (0 when none).
        shared_limit: the slowed-down limit every process obeys (``inf`` when none).
    """

    used: int
    hold_remaining: float
    shared_limit: float


class _Busy(Exception):
    """Another process holds the lock."""


class SharedLedger:
    """The cross-process gate of one account's budget, backed by a locked state file.

    Args:
        path: the state file (`ledger_path` of the account); created 0600 when missing.
        margin: seconds added to the window against network jitter.
        recovery_per_second: calls per window a shared slowed-down limit regains per second.
        lane: the places kept for priority requests while they keep asking (paced only).

    Raises:
        RuntimeError: on a platform without ``fcntl`` (check `SUPPORTED`).
        ValueError: a negative margin.
    """

    def __init__(
        self,
        path: Path,
        *,
        margin: float = DEFAULT_MARGIN,
        pacing: float | None = DEFAULT_PACING,
        recovery_per_second: float = 1.0,
        lane: PriorityLane | None = None,
    ) -> None:
        if not SUPPORTED:  # pragma: no cover - Windows
            raise RuntimeError("sharing a quota between processes needs fcntl")
        if not margin >= 0:
            raise ValueError(f"margin must be a number of seconds >= 0, got {margin}")
        if pacing is not None and not 0 < pacing <= 1:
            raise ValueError(f"pacing must be in (0, 1] or None, got {pacing}")
        self._path = path
        self._margin = margin
        self._pacing = pacing
        self._recovery = recovery_per_second
        self._lane = PriorityLane() if lane is None else lane
        self._busy_since: float | None = None
        self._pending: _State | None = None
        #: Answers arrived (grant time, answer time) not yet written to the file.
        self._completions: list[tuple[float, float]] = []
        self._warned = False

    @classmethod
    def for_account(
        cls,
        access_key_id: str,
        *,
        directory: Path | None = None,
        margin: float = DEFAULT_MARGIN,
        pacing: float | None = DEFAULT_PACING,
    ) -> SharedLedger | None:
        """The ledger of an account, or ``None`` when this host cannot share one.

        ``None`` (each process limits itself alone) on platforms without ``fcntl`` and when
        no private directory can be had; the reason is logged.

        Args:
            access_key_id: the account's AccessKey id (hashed into the file name).
            directory: where the state file lives; `ledger_dir` when ``None``.
            margin: seconds added to the window against network jitter.
        """
        if not SUPPORTED:  # pragma: no cover - Windows
            _log.info("no fcntl on this platform: the quota is not shared between processes")
            return None
        try:
            if directory is None:
                directory = ledger_dir()
            else:
                _ensure_private_dir(directory)
        except OSError as error:
            _log.warning("quota not shared between processes: %s", error)
            return None
        return cls(ledger_path(access_key_id, directory), margin=margin, pacing=pacing)

    def __repr__(self) -> str:
        return f"SharedLedger({str(self._path)!r}, margin={self._margin})"

    @property
    def path(self) -> Path:
        """The state file."""
        return self._path

    @property
    def where(self) -> str:
        """``host``: the processes of this host share the budget."""
        return "host"

    @property
    def degraded(self) -> str:
        """Empty: a file that cannot be used makes the process limit itself alone (logged)."""
        return ""

    async def reserve(
        self,
        now: float,
        capacity: int,
        window: float,
        *,
        priority: bool = False,
        spread: float = 0.0,
        since: float | None = None,
    ) -> float:
        """`try_grant` for the `QuotaLedger` protocol (the file is never waited on)."""
        return self.try_grant(now, capacity, window, priority=priority, spread=spread, since=since)

    # -- the gate ------------------------------------------------------------------------------

    def try_grant(
        self,
        now: float,
        capacity: int,
        window: float,
        *,
        priority: bool = False,
        spread: float = 0.0,
        since: float | None = None,
    ) -> float:
        """Record a grant at ``now`` if the shared window allows it.

        Args:
            now: the caller's monotonic clock (the limiter's own, so a virtual clock works).
            capacity: the caller's effective limit per window.
            window: the caller's window in seconds (the ledger adds its margin).
            priority: a user-initiated request: it may take a slot ahead of every background
                request (see the module docstring).
            spread: the caller's measured round-trip spread (`asrtui.ratelimit`): when larger
                than the margin it widens the pacing schedule's window in its place, so that
                slots N apart reach the server a window apart whatever the jitter.
            since: when the request first asked: a priority request refused by the window
                keeps the next place against those that asked later (``None``: no part in
                that order).

        Returns:
            ``0.0`` when the grant was recorded; otherwise the seconds after which a grant
            may be possible (the lock was busy, or the window, a hold or the pacing says no).
        """
        try:
            with self._locked(now, window) as (fd, state, changed):
                delay, dirty = self._decide(
                    state,
                    now,
                    max(1, capacity),
                    window,
                    priority,
                    spread=max(0.0, spread),
                    since=since,
                )
                if dirty or changed:
                    self._write(fd, state)
                return delay
        except _Busy:
            return 0.0 if self._stuck(now) else LOCK_RETRY
        except OSError as error:
            self._fail_open(error)
            return 0.0

    def complete(self, granted_at: float, now: float) -> None:
        """Move this process's grant made at ``granted_at`` to ``now``, when its answer came.

        The shared window then counts the request from the latest moment the server can have
        counted it (`asrtui.ratelimit`, "Counting where the server counts"). A grant that
        already left the file is added again from ``now``. When the lock is busy the move is
        kept and applied by the next call that gets it.

        Args:
            granted_at: the clock reading the grant was recorded with.
            now: the caller's monotonic clock when the answer arrived.
        """
        if len(self._completions) >= _MAX_PENDING_COMPLETIONS:
            del self._completions[0]  # a lock busy for that long: the oldest no longer matter
        self._completions.append((granted_at, now))
        self._flush(now)

    def report_throttled(
        self, now: float, effective_limit: float, retry_after: float | None = None
    ) -> None:
        """Share a ``Throttling*`` answer: every process slows down and honours the hold.

        Args:
            now: the caller's monotonic clock.
            effective_limit: the reporting limiter's limit after slowing down.
            retry_after: seconds the server asked to wait, if it said.
        """
        report = _State(slow_since=now, slow_limit=max(1.0, effective_limit))
        if retry_after is not None and retry_after > 0:
            report.hold_until = now + min(retry_after, MAX_HOLD)
        self._pending = report if self._pending is None else self._merge(self._pending, report)
        self._flush(now)

    def _flush(self, now: float) -> None:
        """Write what is pending (answers, throttling reports) if the lock is free now.

        `_locked` merges the pending changes into the state; a busy lock leaves them pending
        for the next call that gets it.
        """
        try:
            with self._locked(now, 1.0) as (fd, state, _):
                self._write(fd, state)
        except _Busy:
            pass
        except OSError as error:
            self._fail_open(error)

    def snapshot(self, now: float, window: float = 1.0) -> LedgerSnapshot:
        """What every process sees at ``now`` (nothing is recorded).

        Raises:
            OSError: the state file cannot be read.
        """
        fd = self._open()
        try:
            state = self._read(fd, now, self._plausible_future(window)) or _State()
        finally:
            os.close(fd)
        horizon = window + self._margin
        return LedgerSnapshot(
            used=sum(1 for g in state.grants if g + horizon > now),
            hold_remaining=max(0.0, state.hold_until - now),
            shared_limit=self._shared_limit(state, now),
        )

    # -- policy --------------------------------------------------------------------------------

    def _decide(
        self,
        state: _State,
        now: float,
        capacity: int,
        window: float,
        priority: bool,
        *,
        spread: float = 0.0,
        since: float | None = None,
    ) -> tuple[float, bool]:
        """Append a grant to ``state`` or say how long to wait.

        Returns:
            The seconds to wait (0 when granted) and whether ``state`` must be written back.
        """
        horizon = window + self._margin
        state.grants = sorted(g for g in state.grants if g + horizon > now)
        state.priority = [g for g in state.priority if g + horizon > now]
        shared = self._shared_limit(state, now)
        if shared < math.inf:
            capacity = max(1, min(capacity, math.floor(shared + 1e-9)))
        # Priority goes ahead of the schedule only within its share of the window.
        ahead = priority and len(state.priority) < PRIORITY_SHARE * capacity
        delay = state.hold_until - now
        # The margin and the caller's measured spread both stand for the same delays (clock
        # readings and round trips a scheduling delay apart): the larger one widens the schedule.
        spacing = (window + max(self._margin, spread)) / (capacity * (self._pacing or 1.0))
        if self._pacing is not None:
            lead = PRIORITY_LEAD if ahead else BACKGROUND_LEAD
            delay = max(delay, state.next_slot - lead * spacing - now)
        # A refused priority request of any process gets the next slot that leaves the window,
        # against background requests and priority requests that asked after it (a caller
        # that does not say when it asked takes no part in that order).
        waiting = now < state.priority_waiting_until
        turn = waiting and now < state.priority_first_until
        first = state.priority_first if turn else math.inf
        later = since is not None and since > first + PRIORITY_FIRST_COME
        mine = since is not None and abs(since - first) <= PRIORITY_FIRST_COME
        room = capacity
        if waiting and (not priority or later):
            room = max(1, capacity - 1)
        # Background leaves the lane's places to priority requests while they keep asking.
        asked_changed = False
        if self._pacing is not None:
            if priority and now > state.priority_asked:
                state.priority_asked, asked_changed = now, True
            lane = self._lane.room(
                capacity, priority=priority, asked_at=state.priority_asked, now=now
            )
            room = min(room, lane)
        used = len(state.grants)
        if used >= room:
            wait = self._lane.wait(
                state.grants, horizon, capacity, room, asked_at=state.priority_asked, now=now
            )
            delay = max(delay, wait)
        elif self._pacing is not None and not priority:
            # The last free places stay free for priority requests while the next ones would
            # free later than `PRIORITY_ROOM` slots from now (and the second, with the lane's
            # `PriorityLane.second`).
            second = self._lane.second_room(state.priority_asked, now)
            wait = room_wait(state.grants, horizon, capacity, spacing, now, second=second)
            delay = max(delay, wait)
        if delay > 0:
            # Float rounding can leave a delay of a few ulps; a waiter sleeping that long may
            # be woken at the same clock reading and ask again forever (a virtual clock does).
            delay = max(delay, _MIN_DELAY)
            if not ahead:
                return delay, asked_changed
            comeback = now + min(delay, horizon) + spacing
            state.priority_waiting_until = max(state.priority_waiting_until, comeback)
            if mine:
                state.priority_first_until = comeback
            elif since is not None and since < first:
                state.priority_first, state.priority_first_until = since, comeback
            return delay, True
        state.grants.append(now)
        if priority:
            state.priority.append(now)
            if mine or (since is not None and since < first):
                # Served: the next one refused takes its turn.
                state.priority_first, state.priority_first_until = math.inf, -math.inf
        if self._pacing is not None:
            state.next_slot = max(state.next_slot, now) + spacing
        if shared < math.inf and shared >= capacity + self._recovery * horizon:
            state.slow_limit, state.slow_since = math.inf, -math.inf  # fully recovered
        return 0.0, True

    def _plausible_future(self, window: float) -> float:
        """How far past ``now`` a stored time may lie in this boot.

        Another process may have granted after this caller read its clock (by as much as a
        scheduling delay), and the pacing schedule runs a few slots ahead (a slot is a whole
        window when the limit is 1); anything later comes from an earlier boot.
        """
        slots_ahead = PRIORITY_LEAD + 2
        return slots_ahead * (window + self._margin) / (self._pacing or 1.0) + _CLOCK_SLACK

    def _shared_limit(self, state: _State, now: float) -> float:
        if state.slow_limit == math.inf:
            return math.inf
        return state.slow_limit + self._recovery * max(0.0, now - state.slow_since)

    def _merge(self, state: _State, report: _State) -> _State:
        """``state`` with a throttling report applied (the stricter of both wins)."""
        now = report.slow_since
        state.slow_limit = min(self._shared_limit(state, now), report.slow_limit)
        state.slow_since = now
        state.hold_until = max(state.hold_until, report.hold_until)
        return state

    # -- file ----------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self, now: float, window: float) -> Iterator[tuple[int, _State, bool]]:
        """Open and lock the file without blocking; yield its descriptor and decoded state.

        Pending throttling reports are merged into the state before it is yielded; the flag
        says whether the state already differs from the file (merged, or reset) and must be
        written back.

        Raises:
            _Busy: another process holds the lock.
            OSError: the file cannot be opened, read or locked.
        """
        assert _fcntl is not None
        fd = self._open()
        try:
            try:
                _fcntl.flock(fd, _fcntl.LOCK_EX | _fcntl.LOCK_NB)
            except BlockingIOError:
                if self._busy_since is None:
                    self._busy_since = now
                raise _Busy from None
            self._busy_since = None
            state = self._read(fd, now, self._plausible_future(window))
            changed = state is None
            if state is None:
                _log.warning("quota state file %s was unreadable: reset", self._path)
                state = _State()
            if self._pending is not None:
                state = self._merge(state, self._pending)
                self._pending = None
                changed = True
            if self._completions:
                self._apply_completions(state)
                changed = True
            yield fd, state, changed
        finally:
            os.close(fd)  # closing releases the lock

    def _apply_completions(self, state: _State) -> None:
        """Move the entries of answered grants to their answer times (see `complete`)."""
        for granted_at, answered_at in self._completions:
            with contextlib.suppress(ValueError):
                state.grants.remove(granted_at)
            if len(state.grants) < _MAX_ENTRIES:
                state.grants.append(answered_at)
        self._completions.clear()

    def _open(self) -> int:
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(self._path, flags, 0o600)
        except FileNotFoundError:
            # The runtime directory was cleaned away under a long-running process.
            _ensure_private_dir(self._path.parent)
            fd = os.open(self._path, flags, 0o600)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
                raise PermissionError(f"{self._path} is not a regular file of this user")
            if stat.S_IMODE(info.st_mode) != 0o600:
                os.fchmod(fd, 0o600)
        except OSError:
            os.close(fd)
            raise
        return fd

    @staticmethod
    def _read(fd: int, now: float, horizon: float) -> _State | None:
        size = os.fstat(fd).st_size
        data = os.pread(fd, min(size, _HEADER.size + 2 * _MAX_ENTRIES * _ENTRY.size), 0)
        return _State.decode(data, now, horizon)

    @staticmethod
    def _write(fd: int, state: _State) -> None:
        data = state.encode()
        os.pwrite(fd, data, 0)
        os.ftruncate(fd, len(data))

    def _stuck(self, now: float) -> bool:
        """Whether the lock has been busy so long that its holder must be stopped."""
        if self._busy_since is None or now - self._busy_since < STUCK_AFTER:
            return False
        if not self._warned:
            self._warned = True
            _log.warning(
                "quota state file %s stayed locked for %.0f s; limiting this process alone",
                self._path,
                now - self._busy_since,
            )
        return True

    def _fail_open(self, error: OSError) -> None:
        if not self._warned:
            self._warned = True
            _log.warning("quota not shared between processes (%s); limiting alone", error)
