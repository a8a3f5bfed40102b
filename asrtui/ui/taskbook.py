"""The task book: what this session has seen of the tasks, diffed answer by answer.

Pure Python (no Textual) so it can be tested without a terminal and reused by exports. Each
successful `list_tasks` answer goes through `TaskBook.update`, which returns what happened since
the previous answer (tasks that started, changed, ended or came back) and keeps rows for tasks
that just ended for a while, so an operator still sees a task that vanished a second ago.

A console stays open for days while tasks come and go, so the book forgets a task when its
ended row leaves: its history goes with it, and only its id is remembered (among the
`DEPARTED_SIZE` most recent) to tell a task that comes back from a new one.

Speed matters at 10,000 tasks refreshed every few seconds: tasks are frozen dataclasses, so an
unchanged task is found by one equality test and keeps its `Row` object. Widgets rely on that
identity to keep their caches (a `Row` that ``is`` the previous one needs no re-render).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from itertools import compress, count, islice
from operator import attrgetter, is_not
from typing import Literal

from asrtui.models import Task
from asrtui.redact import redact_value

#: What can happen to a task between two answers.
EventKind = Literal["started", "ended", "changed", "returned"]

#: How many recent events the book keeps for the event log.
EVENT_LOG_SIZE = 1000

#: How many events the book keeps per task for its history.
HISTORY_SIZE = 100

#: How many ids of tasks whose rows left the book remembers, to report their return.
DEPARTED_SIZE = 1000

#: Fields whose values are secrets: a change is reported without the values (the values of
#: the others are shown with any ``auth_key`` masked, as a callback URL may carry one).
_SECRET_FIELDS = frozenset({"stream_url", "ali_uid"})

#: Fields not worth an event on their own: `updated_at` may move on every answer, and an event
#: log flooded with such changes would push out the ones operators care about.
_QUIET_FIELDS = frozenset({"updated_at"})

#: Fields compared to describe a change (``raw`` is the wire form of the others).
_COMPARED_FIELDS = tuple(f.name for f in fields(Task) if f.name != "raw")

#: The compared fields that are not quiet, read in one C call: a task whose only change is
#: quiet (``updated_at`` moving on, maybe on every task of every answer) is told in one tuple
#: comparison instead of a field-by-field walk.
_LOUD_FIELDS = attrgetter(*(name for name in _COMPARED_FIELDS if name not in _QUIET_FIELDS))


@dataclass(frozen=True, slots=True)
class TaskEvent:
    """Something that happened to a task, as seen between two answers.

    Attributes:
        at: when the session noticed it (the time passed to `TaskBook.update`).
        kind: ``started``, ``changed``, ``ended`` or ``returned`` (ended, then listed again).
        task_id: the task.
        detail: a short human-readable description, never containing secrets.
    """

    at: datetime
    kind: EventKind
    task_id: str
    detail: str


@dataclass(frozen=True, slots=True)
class RestartMark:
    """Where an earlier session's history (the journal's) gives way to this one's.

    Attributes:
        at: when this session began.
        detail: the line shown in the history of each task the journal left running.
        running: the tasks the journal left running.
    """

    at: datetime
    detail: str
    running: Collection[str]

    def event(self, task_id: str) -> TaskEvent:
        """The mark in ``task_id``'s history."""
        return TaskEvent(self.at, "changed", task_id, self.detail)


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the task table: the task as last seen and what the session knows of it.

    A `Row` is immutable and replaced when anything about it changes, so ``old_row is new_row``
    means nothing changed (widgets cache their rendering on that).

    Attributes:
        task: the task as last listed (for an ended task: as it was before it vanished).
        first_seen: when this session first saw the task.
        ended_at: when the task vanished from the list, ``None`` while it is listed.
        new_until: until when the task counts as new, ``None`` if it never did (tasks already
            running when the session began are not new).
    """

    task: Task
    first_seen: datetime
    ended_at: datetime | None = None
    new_until: datetime | None = None

    @property
    def task_id(self) -> str:
        """The task id (the row's key)."""
        return self.task.task_id

    @property
    def is_ended(self) -> bool:
        """Whether the task has vanished from the list (the row lingers, dimmed)."""
        return self.ended_at is not None

    def is_new(self, now: datetime) -> bool:
        """Whether the task appeared during this session less than ``new_for`` seconds ago."""
        return self.ended_at is None and self.new_until is not None and now < self.new_until


#: `Row`'s fields, in order: `_first_row` sets them through their slots.
_ROW_FIELDS = ("task", "first_seen", "ended_at", "new_until")
_FAST_ROW = (
    tuple(f.name for f in fields(Row)) == _ROW_FIELDS
    and not hasattr(Row, "__post_init__")
    and "__slots__" in vars(Row)
)
_new_row = object.__new__
if _FAST_ROW:
    _set_row_task, _set_first_seen, _set_ended_at, _set_new_until = (
        getattr(Row, name).__set__ for name in _ROW_FIELDS
    )


def _first_row(task: Task, now: datetime) -> Row:
    """``Row(task, now)``: through the slots (the frozen constructor guards each of them)."""
    if not _FAST_ROW:  # pragma: no cover - only if `Row` loses its slots or gains fields
        return Row(task, now)
    row: Row = _new_row(Row)
    _set_row_task(row, task)
    _set_first_seen(row, now)
    _set_ended_at(row, None)
    _set_new_until(row, None)
    return row


class TaskBook:
    """What the session has seen of the tasks: current rows, lingering ended rows, history.

    Args:
        linger: seconds an ended task stays as a (dimmed) row before it leaves.
        new_for: seconds a task that appeared during the session is marked new.
    """

    def __init__(self, *, linger: float = 60.0, new_for: float = 30.0) -> None:
        self._linger = timedelta(seconds=linger)
        self._new_for = timedelta(seconds=new_for)
        self._rows: dict[str, Row] = {}
        self._rows_view: tuple[Row, ...] | None = ()
        # The last answer's tasks, and how many rows are listed ones: they come first in
        # `_rows`, in answer order, and the lingering ended rows after them.
        self._last_tasks: Sequence[Task] = ()
        self._listed = 0
        self._history: dict[str, deque[TaskEvent]] = {}
        # When the first answer came. A task listed then whose history holds only that it was
        # running then has no history of its own: the event is made when asked for, not kept
        # (a deque a task is some 600 bytes, 60 MB for 100,000 tasks that mostly never do
        # anything else). Such a task is known by its row (`_running_at_start`), not by a set
        # of its ids (another 4 MB at 100,000 tasks).
        self._start_time: datetime | None = None
        # The earlier session's end (`recall`), and the tasks whose histories get its mark when
        # they are made: a task the journal left running whose history is only that mark
        # keeps none, as with the start event (a deque for each of 100,000 running tasks held
        # a restarted console ~60 MB above a first launch).
        self._restart: RestartMark | None = None
        self._marked_later: set[str] = set()
        # Ids of tasks whose rows left, oldest first (a dict as an ordered set).
        self._departed: dict[str, None] = {}
        self._baseline_done = False
        self.events: deque[TaskEvent] = deque(maxlen=EVENT_LOG_SIZE)
        """Recent events of every task, oldest first, for the event log."""
        self.made = 0
        """How many `Row` objects the last `update` made (the rest were kept as they were)."""

    @property
    def linger(self) -> float:
        """Seconds an ended task stays as a row."""
        return self._linger.total_seconds()

    @property
    def new_for(self) -> float:
        """Seconds a task that appeared during the session is marked new."""
        return self._new_for.total_seconds()

    def update(self, tasks: Sequence[Task], now: datetime) -> list[TaskEvent]:
        """Take a new answer and return what changed since the previous one.

        The first call is the baseline: its tasks were already running, so they produce no
        ``started`` events (their history still records when the session first saw them).
        Tasks that vanished become ended rows until ``linger`` seconds have passed; a task
        listed again after it vanished is running again (a ``returned`` event).

        Args:
            tasks: every task of the new answer.
            now: when the answer arrived (timezone-aware).

        Returns:
            The new events: listed tasks in answer order, then tasks that vanished.
        """
        baseline = not self._baseline_done
        self._baseline_done = True
        tasks = tuple(tasks)  # no copy for the tuple of an answer; a list may change later
        quick = None if baseline else self._update_in_place(tasks, now)
        self._last_tasks = tasks
        if quick is not None:
            return quick
        old_rows = self._rows
        if baseline and not old_rows:
            self._take_baseline(tasks, now)
            return []
        new_rows: dict[str, Row] = {}
        events: list[TaskEvent] = []
        new_until = now + self._new_for
        matched = 0

        for task in tasks:
            task_id = task.task_id
            if task_id in new_rows:
                continue  # a duplicate id in one answer: the first one wins
            row = old_rows.get(task_id)
            if row is None:
                if baseline:
                    new_rows[task_id] = Row(task, now)
                    self._start_time = now
                    continue
                new_rows[task_id] = Row(task, now, None, new_until)
                returned = task_id in self._departed
                if returned:
                    del self._departed[task_id]
                kind: EventKind = "returned" if returned else "started"
                detail = "listed again" if returned else _describe_start(task)
                events.append(TaskEvent(now, kind, task_id, detail))
                continue
            matched += 1
            old_task = row.task
            if row.ended_at is not None:
                new_rows[task_id] = Row(task, row.first_seen, None, new_until)
                events.append(TaskEvent(now, "returned", task_id, "listed again"))
                if old_task is not task and old_task != task:
                    change = _describe_change(old_task, task)
                    if change:
                        events.append(TaskEvent(now, "changed", task_id, change))
                continue
            if old_task is task or old_task == task:
                new_rows[task_id] = row
                continue
            new_rows[task_id] = Row(task, row.first_seen, None, row.new_until)
            change = _describe_change(old_task, task)
            if change:
                events.append(TaskEvent(now, "changed", task_id, change))

        self._listed = len(new_rows)
        if matched < len(old_rows):
            self._carry_ended(old_rows, new_rows, now, events)

        self._rows = new_rows
        self._rows_view = None
        self.made = sum(map(is_not, new_rows.values(), map(old_rows.get, new_rows)))
        for event in events:
            self._remember(event)
        self.events.extend(events)
        return events

    def _take_baseline(self, tasks: Sequence[Task], now: datetime) -> None:
        """`update`'s first answer, in one pass: each task a row first seen now, no events.

        A large account's first answer is 100,000 rows made before the first one is drawn:
        each is made through its slots (`_first_row`), a fraction of the frozen constructor's
        cost, and equal to what it would make.
        """
        rows: dict[str, Row] = {}
        for task in tasks:
            task_id = task.task_id
            if task_id not in rows:  # a duplicate id in one answer: the first one wins
                rows[task_id] = _first_row(task, now)
        if rows:
            self._start_time = now
        self._listed = len(rows)
        self._rows = rows
        self._rows_view = None
        self.made = len(rows)

    def _update_in_place(self, tasks: Sequence[Task], now: datetime) -> list[TaskEvent] | None:
        """`update` in time proportional to what changed, when the same ids came in order.

        Answers usually list the same tasks in the same order, most of them the very `Task`
        objects of the answer before (see `asrtui.wire.TaskMemo`): the positions that differ
        are found by identity in C, and only those rows are replaced, in place. ``None`` when
        the answer lists other ids (or the last one listed an id twice): `update` then
        rebuilds the rows.
        """
        last = self._last_tasks
        size = len(tasks)
        if size != len(last) or size != self._listed:
            return None
        if tasks is last:
            changed: list[int] = []
        else:
            changed = list(compress(count(), map(is_not, tasks, last)))
            for index in changed:
                if tasks[index].task_id != last[index].task_id:
                    return None
        rows = self._rows
        events: list[TaskEvent] = []
        self.made = 0
        for index in changed:
            task = tasks[index]
            row = rows[task.task_id]
            old_task = row.task
            if old_task is task or old_task == task:
                continue
            rows[task.task_id] = Row(task, row.first_seen, None, row.new_until)
            self.made += 1
            self._rows_view = None
            change = _describe_change(old_task, task)
            if change:
                events.append(TaskEvent(now, "changed", task.task_id, change))
        if len(rows) > size:
            self._drop_lingered(now)
        for event in events:
            self._remember(event)
        self.events.extend(events)
        return events

    def _drop_lingered(self, now: datetime) -> bool:
        """Drop ended rows that have lingered ``linger`` seconds (they follow the listed ones)."""
        leave_before = now - self._linger
        rows = self._rows
        gone = [
            task_id
            for task_id, row in islice(rows.items(), self._listed, None)
            if row.ended_at is not None and row.ended_at <= leave_before
        ]
        for task_id in gone:
            del rows[task_id]
            self._forget(task_id)
        if gone:
            self._rows_view = None
        return bool(gone)

    def _carry_ended(
        self,
        old_rows: dict[str, Row],
        new_rows: dict[str, Row],
        now: datetime,
        events: list[TaskEvent],
    ) -> None:
        """Keep rows of tasks that vanished (ending them now) until they have lingered enough."""
        leave_before = now - self._linger
        for task_id, row in old_rows.items():
            if task_id in new_rows:
                continue
            if row.ended_at is None:
                new_rows[task_id] = Row(row.task, row.first_seen, now, None)
                events.append(TaskEvent(now, "ended", task_id, "no longer listed"))
            elif row.ended_at > leave_before:
                new_rows[task_id] = row
            else:
                self._forget(task_id)

    def prune(self, now: datetime) -> bool:
        """Drop ended rows that have lingered ``linger`` seconds, without a new answer.

        Useful while refreshes fail or are paused, so ended rows still leave on time.

        Returns:
            Whether any row left.
        """
        return self._drop_lingered(now)

    def rows(self) -> Sequence[Row]:
        """Every current row: listed tasks in answer order, then lingering ended ones."""
        view = self._rows_view
        if view is None:
            view = self._rows_view = tuple(self._rows.values())
        return view

    def get(self, task_id: str) -> Row | None:
        """The row of a task, or ``None`` if it is not (or no longer) a row."""
        return self._rows.get(task_id)

    def history(self, task_id: str) -> list[TaskEvent]:
        """The task's own events this session, oldest first.

        Empty for a task never seen, and for one whose ended row has left.
        """
        return list(self._history_of(task_id, create=False))

    def recall(
        self, history: dict[str, list[TaskEvent]], restart: RestartMark | None = None
    ) -> None:
        """Put events of an earlier session (the journal's) before each task's history, and
        ``restart``'s mark after them in the history of each task it names running.

        The mark of a task with no history yet is put in when its history is made (or asked
        for), not kept until then. This runs on the loop once per start: ~50 ms at 100,000
        running tasks (a deque made for each took ~620 ms).
        """
        if restart is not None:
            self._mark_now()  # an earlier restart's marks, before this one's
        running = restart.running if restart is not None else ()
        for task_id, events in history.items():
            kept = self._history_of(task_id, create=False)
            merged: deque[TaskEvent] = deque(maxlen=HISTORY_SIZE)
            marks = [restart.event(task_id)] if restart is not None and task_id in running else []
            merged.extend([*events, *marks, *kept])
            self._history[task_id] = merged
        if restart is None:
            return
        later: set[str] = set()
        for task_id in running:
            if task_id in history:
                continue
            own = self._history.get(task_id)
            if own is None:
                later.add(task_id)
            else:  # a history of its own already: the mark goes before it
                merged = deque(maxlen=HISTORY_SIZE)
                merged.extend([restart.event(task_id), *own])
                self._history[task_id] = merged
        # The rows' own id strings where there are rows: the journal's are let go.
        rows = self._rows
        self._marked_later = {task_id for task_id in rows if task_id in later}
        self._marked_later.update(later.difference(rows))
        self._restart = RestartMark(restart.at, restart.detail, ())  # not the journal's ids

    def _mark_now(self) -> None:
        """Make the histories still waiting for a restart mark."""
        for task_id in list(self._marked_later):
            self._history_of(task_id, create=True)  # takes it out of `_marked_later`

    def __len__(self) -> int:
        """The number of rows, lingering ended ones included."""
        return len(self._rows)

    def _forget(self, task_id: str) -> None:
        """A task's ended row left: drop its history, remember only that it was here."""
        self._history.pop(task_id, None)
        self._marked_later.discard(task_id)
        departed = self._departed
        departed.pop(task_id, None)
        departed[task_id] = None
        if len(departed) > DEPARTED_SIZE:
            del departed[next(iter(departed))]

    def _remember(self, event: TaskEvent) -> None:
        self._history_of(event.task_id, create=True).append(event)

    def _history_of(self, task_id: str, *, create: bool) -> deque[TaskEvent]:
        """The task's history; the session-start event is put in when the deque is made."""
        history = self._history.get(task_id)
        if history is None:
            history = deque(maxlen=HISTORY_SIZE)
            if self._restart is not None and task_id in self._marked_later:
                history.append(self._restart.event(task_id))
                if create:
                    self._marked_later.discard(task_id)
            if self._start_time is not None and self._running_at_start(task_id):
                history.append(
                    TaskEvent(self._start_time, "started", task_id, "running at session start")
                )
            if create:
                self._history[task_id] = history
        return history

    def _running_at_start(self, task_id: str) -> bool:
        """Whether a task without a history of its own was listed in the first answer.

        Its row tells: rows of the first answer are the only listed ones made without a
        ``new_until`` (a task that appears later is new for a while), and keep none while the
        task is listed. An ended row has none either, but its ``ended`` event made its
        history; a task whose row left has no history at all.
        """
        row = self._rows.get(task_id)
        return row is not None and row.new_until is None


def _describe_start(task: Task) -> str:
    """What an operator wants to know of a new task, without secrets."""
    parts = [task.status_label]
    if task.mode:
        parts.append(task.mode)
    if task.language:
        parts.append(task.language + _targets(task.target_languages))
    if task.tag:
        parts.append(f"tag {task.tag!r}")
    return ", ".join(parts)


def _targets(targets: Iterable[str]) -> str:
    joined = ",".join(targets)
    return f"→{joined}" if joined else ""


def _describe_change(old: Task, new: Task) -> str:
    """The fields that changed, with old and new values except for secrets.

    Returns an empty string when only quiet fields (``updated_at``) changed.
    """
    if _LOUD_FIELDS(old) == _LOUD_FIELDS(new):
        return ""
    parts: list[str] = []
    for name in _COMPARED_FIELDS:
        before = getattr(old, name)
        after = getattr(new, name)
        # `is` first, as the tuple comparison above does (a value unequal to itself, a NaN,
        # is no change when it is the very same object).
        if before is after or before == after or name in _QUIET_FIELDS:
            continue
        if name in _SECRET_FIELDS:
            parts.append(f"{name} changed")
        elif name == "status":
            parts.append(f"status {old.status_label} → {new.status_label}")
        elif name == "extra":
            parts.append("other fields changed")
        else:
            parts.append(f"{name} {_masked(before)!r} → {_masked(after)!r}")
    return "; ".join(parts)


def _masked(value: object) -> object:
    if isinstance(value, datetime):  # as the server wrote it: total over the whole range
        return value.isoformat()
    return redact_value(value)
