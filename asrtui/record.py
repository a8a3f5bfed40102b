"""The console's broadcast record: what each refresh and each operator action adds to it.

The console tells a `Recorder` what happened (an answer with its tasks, a failed refresh, an
action of the operator) and the recorder turns it into events (`asrtui.events`), appends them
to the profile's journal (`asrtui.journal`) and offers them to the alert hooks
(`asrtui.hooks`). No Textual here: the console shows what `Recorder` returns.

On start (`Recorder.start`) the recent journal is read back, so a restarted console continues
the history and the event log where the last one stopped, and the tasks the journal last knew
running are the baseline of the first answer: a task that ended while no console ran is
reported ended then (not silently forgotten), and one still running is not reported again as
appeared. A ``session_started`` event marks the place ("restarted here").

Nothing here raises into the console: a journal that cannot be written is said once
(`Recorder.journal_failure`), a hook's failure goes to its ``on_failure``.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import compress, count
from operator import attrgetter, is_not
from typing import TYPE_CHECKING, Any, Final

from asrtui.events import (
    CREDENTIALS_FAILING,
    CREDENTIALS_RECOVERED,
    CREDENTIALS_REFRESHED,
    SESSION_STARTED,
    STATUS_CHANGED,
    TASK_APPEARED,
    TASK_ENDED,
    ErrorEpisodes,
    Event,
    action_event,
    credentials_event,
    diff_tasks,
)
from asrtui.models import Task
from asrtui.protocols import CredentialsStatus

if TYPE_CHECKING:
    # Named for their types only: the demo has neither a journal nor hooks, and the console's
    # first frame does not wait for the journal's code or the hooks' (process spawning,
    # rotating logs) to load; a recorder given them was handed them already loaded.
    from asrtui.hooks import HookRunner
    from asrtui.journal import Journal, Problem

__all__ = [
    "RELOAD_SPAN",
    "CredentialsWatch",
    "Recorder",
    "Reloaded",
    "recent_of",
    "running_at_end",
]

#: How far back a starting console reads the journal for its history and event log.
RELOAD_SPAN: Final = timedelta(hours=24)
#: The most events a starting console takes back (the newest; the event log keeps 1000).
RELOAD_MOST: Final = 1000
#: Events the journal thread masks and writes at a time (about 1 ms of work, a few kilobytes:
#: one whole write), and the pause between two slices of a burst, when the console's loop may
#: take the interpreter lock.
WRITE_SLICE: Final = 8
YIELD_SECONDS: Final = 0.001

#: The most calls kept while the journal is read at start.
_EARLY_MOST: Final = 100


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _Writer:
    """Appends events to a journal from a thread of its own.

    Masking and writing a line costs some 100 us; the first answer of an account with 10,000
    tasks is 10,000 lines, a second the console's loop must not stand still for. The thread
    writes what comes (flushed) in slices of `WRITE_SLICE` lines and pauses between slices of
    a burst, so the loop is never kept waiting for the interpreter lock for long (a key press
    takes it back many times); `close` writes what is left.
    """

    def __init__(self, journal: Journal, on_failure: Callable[[str], None] | None = None) -> None:
        self.journal = journal
        #: Told (from the thread) when an event fails to be made; a failed *write* is kept in
        #: `Journal.failure` instead, which the next good write clears.
        self.on_failure = on_failure
        self._said_failure = False
        self._queue: queue.Queue[Iterable[Event] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._closing = False

    def put(self, event: Event) -> None:
        self.put_many((event,))

    def put_many(self, events: Sequence[Event]) -> None:
        """Queue events in one step: one hand-over to the thread, not one per event (100,000
        puts would each wake the thread and make the loop wait for the interpreter lock)."""
        if events:
            self._put(tuple(events))

    def put_later(self, events: Iterable[Event]) -> None:
        """Queue events that the thread makes as it writes them (a generator): the loop does
        not make them, and no more than one of them is in memory at a time."""
        self._put(events)

    def _put(self, events: Iterable[Event]) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="asrtui-journal", daemon=True)
            self._thread.start()
        self._queue.put(events)

    def _run(self) -> None:
        while (events := self._queue.get()) is not None:
            try:
                self._write(iter(events))
            finally:
                self._queue.task_done()
        self._queue.task_done()

    def _write(self, events: Iterator[Event]) -> None:
        """Write ``events`` in slices, pausing between the slices of a burst.

        The events may be made as they are taken (a generator): one that fails to be made is
        said once through `on_failure`, and the ones made before it are still written.
        """
        more = True
        while more:
            piece: list[Event] = []
            try:
                for event in events:
                    piece.append(event)
                    if len(piece) == WRITE_SLICE:
                        break
                else:
                    more = False
            except Exception as error:  # making an event failed: said once, the thread goes on
                more = False
                if self.on_failure is not None and not self._said_failure:
                    self._said_failure = True
                    self.on_failure(
                        f"Some events were not journaled ({type(error).__name__}: {error})"
                    )
            if piece:
                # Never raises: a failure is kept in `Journal.failure`.
                self.journal.append_many(piece)
            if more and not self._closing:
                # Hand the interpreter lock to the console's loop between slices: a thread
                # that keeps it makes the loop wait up to the switch interval (5 ms) each
                # time it takes it back, many times per key press.
                time.sleep(YIELD_SECONDS)

    def flush(self) -> None:
        """Wait until every event put so far is written."""
        if self._thread is not None:
            self._queue.join()

    def close(self) -> None:
        """Write what is left (without pausing between slices) and stop the thread."""
        if self._thread is not None:
            self._closing = True
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None
        self.journal.close()


_task_id = attrgetter("task_id")


def _appeared(tasks: dict[str, Task], ids: Iterable[str], now: datetime) -> Iterator[Event]:
    """The "appeared" events of ``ids``, in that order, one at a time."""
    for task_id in ids:
        yield from diff_tasks(None, [tasks[task_id]], now)


def _full_events(
    last: tuple[Task, ...] | None, answer: tuple[Task, ...], now: datetime
) -> Iterator[Event]:
    """`diff_tasks` of two answers; on the first one, its "appeared" events made one by one."""
    if last is not None:
        yield from diff_tasks({task.task_id: task for task in last}, answer, now)
        return
    # In id order, as `diff_tasks` reports them, without a map of 100,000 tasks by id: a sort
    # keeps the answer's order among equal ids, and the last of them wins, as in a map.
    ordered = sorted(answer, key=_task_id)
    for index, task in enumerate(ordered, 1):
        if index < len(ordered) and ordered[index].task_id == task.task_id:
            continue
        yield from diff_tasks(None, [task], now)


def _restart_events(answer: tuple[Task, ...], known: set[str], now: datetime) -> Iterator[Event]:
    """The first answer after a restart, against the tasks the journal last knew running."""
    current = {task.task_id: task for task in answer}
    yield from _appeared(current, sorted(current.keys() - known), now)
    for task_id in sorted(known - current.keys()):
        yield Event(
            now,
            TASK_ENDED,
            task_id,
            {"while_away": True},
            f"task {task_id} ended while no console ran",
        )


def _runs_after(event: Event) -> bool | None:
    """Whether ``event`` leaves its task running (``True``), not running (``False``), or says
    nothing of it (``None``)."""
    if event.kind == TASK_APPEARED:
        return True
    if event.kind == TASK_ENDED or (
        event.kind == STATUS_CHANGED and event.detail.get("to") != "running"
    ):
        return False
    return None


def running_at_end(events: Sequence[Event]) -> set[str]:
    """The tasks the events leave running: appeared and not ended since."""
    running: set[str] = set()
    for event in events:
        runs = _runs_after(event)
        if runs is True:
            running.add(event.task_id)
        elif runs is False:
            running.discard(event.task_id)
    return running


def recent_of(found: Iterable[Event | Problem], most: int) -> Reloaded:
    """The last ``most`` events of ``found`` by time, its problems and the tasks it leaves
    running: what `Recorder.load` keeps, as if every event were gathered and sorted by time
    (`asrtui.journal.read_journal`), without gathering them.

    A full journal is up to 50 MB, some 100,000 events when a large account was first seen.
    Gathered, they are ~100 MB at once; read after the first answer (as the console now does),
    that peak left a restarted console at 100,000 tasks at 437 MB after its refreshes, against
    320 MB this way (216-224 MB since `asrtui.ui.taskbook.TaskBook.recall` marks the running
    tasks without a history each; a first launch: 203-207 MB). Here only the ``most`` latest
    events are kept whole; of the others, only what running needs (time, order, task id).
    ``most`` <= 0 keeps every event.
    """
    from heapq import heappush, heapreplace

    reloaded = Reloaded()
    latest: list[tuple[datetime, int, Event]] = []  # a min-heap: the oldest kept first
    marks: list[tuple[datetime, int, bool, str]] = []
    for order, item in enumerate(found):
        if not isinstance(item, Event):
            reloaded.problems.append(item)
            continue
        kept = (item.time, order, item)
        if most <= 0 or len(latest) < most:
            heappush(latest, kept)
        elif (item.time, order) > latest[0][:2]:
            heapreplace(latest, kept)
        runs = _runs_after(item)
        if runs is not None:
            marks.append((item.time, order, runs, item.task_id))
    marks.sort(key=lambda mark: mark[:2])
    for _, _, runs, task_id in marks:
        if runs:
            reloaded.running.add(task_id)
        else:
            reloaded.running.discard(task_id)
    latest.sort(key=lambda kept: kept[:2])
    reloaded.events = [event for _, _, event in latest]
    return reloaded


class CredentialsWatch:
    """Turns successive `CredentialsStatus` readings into renewal events.

    The refresh machinery only counts (`CredentialsStatus.renewals`); the console reads the
    count each tick and this says what moved: a renewal is ``credentials_refreshed``, or
    ``credentials_recovered`` when background refreshes had failed since the last one (or the
    API refused the credentials meanwhile). The first fetch is not a renewal, and a count that
    goes back (another provider, after a profile switch) is a new baseline, not an event.
    """

    def __init__(self) -> None:
        self._renewals: int | None = None
        self._failed = ""

    def observe(
        self, status: CredentialsStatus, now: datetime, *, refused: bool = False
    ) -> Event | None:
        """One reading; the renewal event if the count moved since the last.

        Args:
            status: the source's credentials now.
            now: the wall clock.
            refused: a ``credentials_failing`` episode is open (the API refused them).
        """
        if status.refresh_error:
            self._failed = status.refresh_error
        elif refused and not self._failed:
            self._failed = "the service refused the credentials"
        before, self._renewals = self._renewals, status.renewals
        if before is None or status.renewals <= before or (before == 0 and not self._failed):
            return None
        failed, self._failed = self._failed, ""
        return credentials_event(
            CREDENTIALS_RECOVERED if failed else CREDENTIALS_REFRESHED,
            now,
            mode=status.mode,
            key_id=status.key_id,
            expiration=status.expiration,
            renewals=status.renewals,
            failed=failed,
        )


@dataclass
class Reloaded:
    """What a starting console gets back from the journal."""

    events: list[Event] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    running: set[str] = field(default_factory=set)
    marker: Event | None = None


class Recorder:
    """Events of one console session → the journal and the hooks.

    Args:
        journal: the profile's journal, ``None`` in the demo (nothing is written).
        hooks: the alert hooks.
        clock: the wall clock (aware).
    """

    def __init__(
        self,
        journal: Journal | None,
        hooks: Sequence[HookRunner] = (),
        *,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.journal = journal
        # Hook failures and events the journal's thread failed to make, told once each
        # (`take_notices`); a deque's append is safe from that thread.
        self._notices: deque[str] = deque(maxlen=20)
        self._writer = _Writer(journal, self._notices.append) if journal is not None else None
        # Events for the journal held back until `release`, in order (see `answered_later`).
        self._held: list[Iterable[Event]] = []
        self.hooks = list(hooks)
        self.clock = clock
        # The last answer (``None`` before the first), and whether its ids are all different:
        # the tasks by id are made from it when a full comparison needs them, not kept.
        self._last: tuple[Task, ...] | None = None
        self._unique = True
        self._known: set[str] | None = None
        self._episodes = ErrorEpisodes()
        self._credentials = CredentialsWatch()
        self._failure_told = False
        # Calls made before `begin` (the console reads the journal meanwhile), in order; the
        # oldest are dropped past `_EARLY_MOST`. ``None`` once begun.
        self._early: deque[Callable[[], object]] | None = deque(maxlen=_EARLY_MOST)

    def __repr__(self) -> str:
        return f"Recorder(journal={self.journal!r}, hooks={len(self.hooks)})"

    # -- the session -----------------------------------------------------------------------

    def start(self, *, span: timedelta = RELOAD_SPAN, most: int = RELOAD_MOST) -> Reloaded:
        """Read the recent journal back and mark this session's start in it (`load`, then
        `begin`, in one go)."""
        return self.begin(self.load(span=span, most=most))

    def load(self, *, span: timedelta = RELOAD_SPAN, most: int = RELOAD_MOST) -> Reloaded:
        """Read the recent journal (no event is emitted: safe in a thread of its own).

        A full journal of a busy account is tens of megabytes: the console reads it off its
        loop, and what it is told meanwhile waits for `begin`.
        """
        if self.journal is None:
            return Reloaded()
        from asrtui.journal import scan_journal

        return recent_of(scan_journal(self.journal.path, since=self.clock() - span), most)

    def begin(self, reloaded: Reloaded) -> Reloaded:
        """Start the session on what `load` read: its running tasks are the first answer's
        baseline; the session's mark is written; what came meanwhile is recorded now."""
        if self.journal is not None:
            self._known = set(reloaded.running)
        restarted = bool(reloaded.events)
        marker = Event(
            self.clock(),
            SESSION_STARTED,
            "",
            {"restarted": restarted},
            "console started (restarted here)" if restarted else "console started",
        )
        reloaded.marker = marker
        self._emit([marker])
        early, self._early = self._early, None
        for call in early or ():
            call()
        return reloaded

    def flush(self) -> None:
        """Wait until every event so far is in the journal."""
        self.release()
        if self._writer is not None:
            self._writer.flush()

    def close(self) -> None:
        """Write what is left and let go of the journal file."""
        self.release()
        if self._writer is not None:
            self._writer.close()

    async def aclose(self) -> None:
        """`close`, and stop the hooks (a run in progress is killed)."""
        self.close()
        for hook in self.hooks:
            await hook.aclose()

    @property
    def journal_failure(self) -> str | None:
        """A journal write failure not yet told (then ``None`` until it fails again later)."""
        if self.journal is None or self.journal.failure is None:
            self._failure_told = False
            return None
        if self._failure_told:
            return None
        self._failure_told = True
        return self.journal.failure

    def hook_failed(self, message: str) -> None:
        """A hook's ``on_failure``: kept for the console to show (`take_notices`)."""
        self._notices.append(message)

    def take_notices(self) -> list[str]:
        """Journal and hook failures not yet told; each is told once."""
        told = [failure] if (failure := self.journal_failure) else []
        while self._notices:
            told.append(self._notices.popleft())
        return told

    # -- what the console tells it ---------------------------------------------------------

    def answered(self, tasks: Sequence[Task], now: datetime | None = None) -> list[Event]:
        """A successful answer: the episode's end if one was open, and the task events."""
        now = now or self.clock()
        if self._early is not None:
            self._early.append(lambda: self.answered(tasks, now))
            return []
        events, later = self._compare(tuple(tasks), now)  # no copy for an answer's tuple
        if later is not None:
            events += later
        self._emit(events)
        return events

    def answered_later(self, tasks: Sequence[Task], now: datetime | None = None) -> None:
        """`answered` for the console: the same record, without making the loop wait for it.

        A comparison of every task (the first answer, or one where tasks came or went) is
        made by the journal's thread as it writes, one event at a time: the first answer of
        100,000 tasks is 100,000 "appeared" events, some 2 s of work and 60 MB held until
        written. The thread starts on it at the next `release` (the console's tick), once the
        answer is on screen: writing them takes it seconds more, and until then it would
        take the interpreter lock from the loop drawing the first rows. With alert hooks the
        events are made here (hooks run on the loop); without a journal either, nobody reads
        them and they are not made at all.
        """
        now = now or self.clock()
        if self._early is not None:
            self._early.append(lambda: self.answered_later(tasks, now))
            return
        if self.hooks:
            self.answered(tasks, now)
            return
        events, later = self._compare(tuple(tasks), now)
        if self._writer is not None:
            self._journal(events)
            if later is not None:
                self._held.append(later)

    def _compare(
        self, answer: tuple[Task, ...], now: datetime
    ) -> tuple[list[Event], Iterator[Event] | None]:
        """Take an answer: the events made now, and those of a full comparison, to be made.

        The second part is a generator over values no later answer changes (the answer
        before, this answer's tuple, the restart's baseline), so it can run in
        another thread at any time after; until run it holds no event.
        """
        events: list[Event] = []
        ended = self._episodes.succeeded(now)
        if ended is not None:
            events.append(ended)
        later: Iterator[Event] | None = None
        last = self._last
        if last is None and self._known is not None:
            # The first answer after a restart: the journal's running tasks are the baseline.
            later = _restart_events(answer, self._known, now)
        else:
            quick = self._diff_in_place(answer, now)
            if quick is not None:
                events += quick
            else:
                later = _full_events(last, answer, now)
        if later is not None:
            self._unique = len({task.task_id for task in answer}) == len(answer)
        self._last = answer
        self._known = None
        return events, later

    def _diff_in_place(self, tasks: tuple[Task, ...], now: datetime) -> list[Event] | None:
        """`diff_tasks` against the answer before, in time proportional to what changed.

        A console lists the same tasks every second, most of them the very `Task` objects of
        the answer before (see `asrtui.wire.TaskMemo`): when the same ids came in the same
        order, only the positions whose object differs (found by identity, in C) are
        compared, with the same events as a comparison of every task. ``None`` when ids came
        or went (or repeated).
        """
        last = self._last
        if last is None or len(tasks) != len(last) or not self._unique:
            return None
        changed = [] if tasks is last else list(compress(count(), map(is_not, tasks, last)))
        if any(tasks[i].task_id != last[i].task_id for i in changed):
            return None
        old = {last[i].task_id: last[i] for i in changed}
        fresh = [tasks[i] for i in changed]
        return diff_tasks(old, fresh, now)

    def failed(self, error: BaseException, now: datetime | None = None) -> Event | None:
        """A failed refresh: the episode's first event, once."""
        now = now or self.clock()
        if self._early is not None:
            self._early.append(lambda: self.failed(error, now))
            return None
        event = self._episodes.failed(error, now)
        if event is not None:
            self._emit([event])
        return event

    def acted(
        self,
        action: str,
        *,
        task_id: str = "",
        ok: bool = True,
        note: str = "",
        **facts: Any,
    ) -> Event:
        """An operator action (stop, delete, create, restart, export, profile switch)."""
        event = action_event(action, self.clock(), task_id=task_id, ok=ok, note=note, **facts)
        if self._early is not None:
            self._early.append(lambda: self._emit([event]))
        else:
            self._emit([event])
        return event

    def credentials(
        self, status: CredentialsStatus | None, now: datetime | None = None
    ) -> Event | None:
        """The credentials as the source reads them now (polled by the console's tick).

        A renewal since the last reading is journaled and offered to the hooks
        (`CredentialsWatch`); the event is returned for the console to show.
        """
        if status is None:
            return None
        open_episode = self._episodes.open
        refused = open_episode is not None and open_episode.kind == CREDENTIALS_FAILING
        event = self._credentials.observe(status, now or self.clock(), refused=refused)
        if event is not None:
            self.noted(event)
        return event

    def noted(self, event: Event) -> None:
        """Any other event (credentials refreshed...)."""
        if self._early is not None:
            self._early.append(lambda: self._emit([event]))
        else:
            self._emit([event])

    def release(self) -> None:
        """Hand the journal's thread what `answered_later` held back (the console's tick)."""
        held, self._held = self._held, []
        if self._writer is not None:
            for events in held:
                self._writer.put_later(events)

    def _journal(self, events: Sequence[Event]) -> None:
        """Events for the journal, after any held back: the journal keeps their order."""
        if self._held:
            if events:
                self._held.append(tuple(events))
        elif self._writer is not None:
            self._writer.put_many(events)

    def _emit(self, events: Sequence[Event]) -> None:
        if self._writer is not None:
            self._journal(events)
        for hook in self.hooks:
            for event in events:
                hook.offer(event)
