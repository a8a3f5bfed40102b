"""The console's side of the broadcast record: journal events shown as the console shows its own.

The main screen tells its `asrtui.record.Recorder` (if it has one: the demo has none) what
happens, and shows what comes back: on start, the recent journal as event-log lines and as the
history of each task, with a "restarted here" line where this session begins; afterwards, the
journal and hook failures, once each. The mapping from journal events to the console's
`TaskEvent` and notes is here, so the screen keeps one line per place it records.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from asrtui.errors import AsrtuiError
from asrtui.events import (
    ACTION,
    API_ERROR_BEGAN,
    API_ERROR_ENDED,
    CREDENTIALS_FAILING,
    CREDENTIALS_RECOVERED,
    CREDENTIALS_REFRESHED,
    SESSION_STARTED,
    STATUS_CHANGED,
    TASK_APPEARED,
    TASK_CHANGED,
    TASK_ENDED,
    THROTTLED,
    Event,
)
from asrtui.models import Task
from asrtui.printable import printable_line
from asrtui.protocols import CredentialsStatus, TaskCreator, TaskSource
from asrtui.record import Recorder, Reloaded
from asrtui.redact import redact_text
from asrtui.ui.event_feed import EventFeed
from asrtui.ui.settings import ConsoleSettings
from asrtui.ui.taskbook import EventKind, RestartMark, TaskBook, TaskEvent

if TYPE_CHECKING:
    from asrtui.taskspec import TaskSpec

    # Only the type: the event log widget loads when its panel first opens, not with the
    # first frame (its `RichLog` brings in ``rich.pretty``, and ``attrs`` when installed).
    from asrtui.ui.widgets.event_log import NoteKind

__all__ = [
    "RESTARTED_HERE",
    "Restart",
    "ScreenRecord",
    "as_log_item",
    "as_task_event",
    "mark",
    "open_create",
    "refusal",
    "restart",
    "shown_of",
]

#: The line that marks where this session took over from the journal.
RESTARTED_HERE = "── console restarted here ──"

#: Seconds the journal's reading waits for the first answer (or its failure) before it starts.
#: A full journal is up to 50 MB: read beside a large first answer, it took the interpreter
#: lock from it (at 100,000 tasks, after a first session, the first row came 1.4 s later).
FIRST_ANSWER_WAIT = 30.0

_TASK_KINDS: dict[str, EventKind] = {
    TASK_APPEARED: "started",
    TASK_ENDED: "ended",
    TASK_CHANGED: "changed",
    STATUS_CHANGED: "changed",
}
_NOTE_KINDS: dict[str, NoteKind] = {
    API_ERROR_BEGAN: "error",
    THROTTLED: "error",
    CREDENTIALS_FAILING: "error",
    API_ERROR_ENDED: "recovered",
    CREDENTIALS_REFRESHED: "info",
    CREDENTIALS_RECOVERED: "recovered",
    ACTION: "action",
    SESSION_STARTED: "info",
}


class RecordingScreen(Protocol):
    """What `ScreenRecord` uses of the main screen."""

    @property
    def feed(self) -> EventFeed: ...

    @property
    def book(self) -> TaskBook: ...

    @property
    def app(self) -> Any: ...

    def notify(
        self, message: str, *, title: str = ..., severity: Any = ..., markup: bool = ...
    ) -> None: ...

    def action_refresh_now(self) -> None: ...

    def run_worker(self, work: Any, *, group: str = ..., exit_on_error: bool = ...) -> Any: ...


#: What the event log shows: a task event, or a note (time, kind, text).
LogItem: TypeAlias = "TaskEvent | tuple[datetime, NoteKind, str]"


def as_task_event(event: Event) -> TaskEvent | None:
    """A journal event about a task as the console's `TaskEvent` (``None`` for the others)."""
    kind = _TASK_KINDS.get(event.kind)
    if kind is None or not event.task_id:
        return None
    message = event.message
    # The journal's message names the task; the console's line shows it apart.
    for prefix in (f"task {event.task_id} ", f"task {event.task_id}"):
        message = message.removeprefix(prefix)
    return TaskEvent(event.time, kind, event.task_id, printable_line(redact_text(message)))


def as_log_item(event: Event) -> LogItem | None:
    """A journal event as an event-log line (``None`` for a kind the log does not show)."""
    task_event = as_task_event(event)
    if task_event is not None:
        return task_event
    kind = _NOTE_KINDS.get(event.kind)
    if kind is None:
        return None
    return (event.time, kind, printable_line(redact_text(event.message or event.kind)))


@dataclass
class Restart:
    """What a starting console shows of the journal.

    Attributes:
        log: event-log lines, oldest first, ending with the "restarted here" line.
        history: per task, its reloaded events (oldest first).
        problems: lines of the journal that could not be read, said once.
        restarted: the "restarted here" mark, for the history of each task still running
            (`TaskBook.recall` puts it in).
    """

    log: list[LogItem] = field(default_factory=list)
    history: dict[str, list[TaskEvent]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    restarted: RestartMark | None = None


def restart(recorder: Recorder | None) -> Restart:
    """Start ``recorder``'s session and turn the recent journal into log lines and histories.

    Without a recorder (the demo) there is nothing to show and nothing is written.
    """
    if recorder is None:
        return Restart()
    return shown_of(recorder.start())


def shown_of(reloaded: Reloaded) -> Restart:
    """The log lines and histories of what `asrtui.record.Recorder.load` read."""
    shown = Restart()
    previous = reloaded.events
    for event in previous:
        item = as_log_item(event)
        if item is None:
            continue
        shown.log.append(item)
        if isinstance(item, TaskEvent):
            shown.history.setdefault(item.task_id, []).append(item)
    if reloaded.marker is not None:
        mark(shown, reloaded)
    shown.problems = [str(problem) for problem in reloaded.problems[:5]]
    if len(reloaded.problems) > 5:
        shown.problems.append(f"and {len(reloaded.problems) - 5} more unreadable lines")
    return shown


def mark(shown: Restart, reloaded: Reloaded) -> None:
    """Add the "restarted here" line where the session began (`Reloaded.marker`, set by
    `asrtui.record.Recorder.begin`): to the log, and as the mark the task book puts in the
    history of each task still running (`TaskBook.recall`)."""
    marker = reloaded.marker
    if not reloaded.events or marker is None:
        return
    shown.log.append((marker.time, "info", RESTARTED_HERE))
    shown.restarted = RestartMark(marker.time, RESTARTED_HERE, reloaded.running)


def refusal(settings: ConsoleSettings, verb: str) -> str | None:
    """Why a change is refused in this session (read-only), or ``None`` when it is allowed."""
    cause = settings.read_only
    if not cause:
        return None
    hint = cause.hint[:1].upper() + cause.hint[1:]
    return f"Cannot {verb} tasks: read-only because {cause.because}.\n{hint}."


def open_create(
    screen: RecordingScreen,
    source: TaskSource,
    settings: ConsoleSettings,
    like: Task | None,
    created: Callable[[str, str], None],
) -> None:
    """Open the create form, prefilled from ``like`` for a restart; refused when read-only.

    Args:
        screen: the main screen (notified of refusals).
        source: where the task is created.
        settings: the session's settings (read-only state, the record).
        like: the task to restart (ended or running), ``None`` for a new task.
        created: called with the verb (``create`` or ``restart``) and the new task's id.
    """
    verb = "restart" if like is not None else "create"
    refused = refusal(settings, verb)
    if refused is not None:
        screen.notify(refused, severity="warning", markup=False)
        return
    if not isinstance(source, TaskCreator):
        screen.notify("This session cannot create tasks.", severity="warning", markup=False)
        return
    recorder = settings.recorder
    like_id = like.task_id if like is not None else None
    create = source.create_task

    async def send(spec: TaskSpec) -> str:
        try:
            return await create(spec)
        except AsrtuiError as error:
            if recorder is not None:
                code = getattr(error, "code", "") or type(error).__name__
                recorder.acted(verb, ok=False, note=str(code), like=like_id, **spec.masked())
            raise

    def finished(task_id: str | None) -> None:
        if task_id is None:
            return
        if recorder is not None:
            recorder.acted(verb, task_id=task_id, like=like_id)
        created(verb, task_id)

    # Loaded when first opened: the first frame has no form (start-up time).
    from asrtui.taskspec import values_of_task
    from asrtui.ui.create_form import CreateTaskForm

    values = values_of_task(like) if like is not None else {}
    screen.app.push_screen(CreateTaskForm(send, values, like=like_id), finished)


class ScreenRecord:
    """The main screen's record: one object, so the screen has one line per place it records.

    Args:
        screen: the main screen (its event feed, task book, notifications, refresh).
        source: where tasks are created.
        settings: the session's settings; `ConsoleSettings.recorder` is the record (``None``:
            nothing is recorded, nothing reloaded).
    """

    def __init__(
        self, screen: RecordingScreen, source: TaskSource, settings: ConsoleSettings
    ) -> None:
        self._screen = screen
        self._source = source
        self._settings = settings
        self.recorder = settings.recorder
        self._first_answer = asyncio.Event()

    def start(self) -> None:
        """Read the recent journal off the loop, then show it in the event log and the task
        histories, marked where this session begins, and say which lines could not be read.

        The reading starts once the first answer is in or has failed (at most
        `FIRST_ANSWER_WAIT` later), so that it does not slow the first task list; what happens
        meanwhile (that answer) is recorded once the reading is done.
        """
        recorder = self.recorder
        if recorder is None:
            return

        async def load() -> None:
            def read() -> tuple[Reloaded, Restart]:
                reloaded = recorder.load()
                return reloaded, shown_of(reloaded)

            if recorder.journal is None:
                # Nothing to read (the demo): no thread is started for it, nor the default
                # executor's module loaded before the first frame.
                reloaded, shown = read()
            else:
                # The task list first (`FIRST_ANSWER_WAIT`): it is what the operator waits for.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._first_answer.wait(), FIRST_ANSWER_WAIT)
                reloaded, shown = await asyncio.to_thread(read)
            recorder.begin(reloaded)
            mark(shown, reloaded)
            self._show(shown, reloaded.marker)

        self._screen.run_worker(load(), group="journal", exit_on_error=False)

    def _show(self, shown: Restart, marker: Event | None) -> None:
        feed = self._screen.feed
        log = list(shown.log)
        if marker is not None and not shown.log:
            log.append((marker.time, "info", marker.message))
        feed.earlier(log)
        self._screen.book.recall(shown.history, shown.restarted)
        for problem in shown.problems:
            feed.note(self._settings.clock(), "error", f"Journal: {problem}")

    def answered(self, tasks: Sequence[Task]) -> None:
        """A refresh succeeded."""
        self._first_answer.set()
        if self.recorder is not None:
            self.recorder.answered_later(tasks, self._settings.clock())

    def failed(self, error: BaseException) -> None:
        """A refresh failed (an episode begins, once)."""
        self._first_answer.set()
        if self.recorder is not None:
            self.recorder.failed(error, self._settings.clock())

    def acted(self, action: str, *, task_id: str = "", ok: bool = True, note: str = "") -> None:
        """An operator action (stop, delete, export...)."""
        if self.recorder is not None:
            self.recorder.acted(action, task_id=task_id, ok=ok, note=note)

    def credentials(self, status: CredentialsStatus | None) -> None:
        """The credentials as the status line reads them (each tick): a renewal is recorded
        and shown in the event log."""
        if self.recorder is None or not isinstance(status, CredentialsStatus):
            return
        event = self.recorder.credentials(status, self._settings.clock())
        item = as_log_item(event) if event is not None else None
        if isinstance(item, tuple):
            self._screen.feed.note(*item)

    def tell(self) -> None:
        """Say journal and hook failures, once each, and let the journal write what the
        last answers left it (called by the tick)."""
        if self.recorder is None:
            return
        self.recorder.release()  # what the last answer left to write, now that it is shown
        for notice in self.recorder.take_notices():
            text = printable_line(redact_text(notice))
            self._screen.feed.note(self._settings.clock(), "error", text)
            self._screen.notify(text, title="Broadcast record", severity="warning", markup=False)

    def create(self, like: Task | None) -> None:
        """``n`` (restart ``like``) or ``N`` (a new task): the form, then the new task at once."""
        screen = self._screen

        def created(verb: str, task_id: str) -> None:
            what = "restarted as" if verb == "restart" else "created:"
            shown = printable_line(task_id)
            screen.feed.note(self._settings.clock(), "action", f"task {what} {shown}")
            screen.notify(f"Task {what} {shown}.", markup=False)
            screen.action_refresh_now()

        open_create(screen, self._source, self._settings, like, created)
