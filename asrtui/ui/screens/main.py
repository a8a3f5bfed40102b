"""The main screen: status line, task table, detail pane, event log, and every operator action.

State flows down (the screen feeds the table, the pane and the status line); events flow up
(the table's `TaskTable.cursor_moved` signal, dialog results). Network calls happen only in workers:

- ``refresh`` (one at a time): `TaskSource.list_tasks` when `RefreshSchedule` says it is due.
  One trigger starts it, `MainScreen.refresh_if_due`: run at mount, then by a timer armed again
  each time a run ends (or the schedule changes), so runs never overlap and nothing else starts
  one. The 1 Hz `MainScreen.tick` only redraws what the clock moves (the status line's ages,
  rows leaving) and polls the detail pane.
- ``detail`` (exclusive): `TaskSource.get_task` for the highlighted task, at once (debounced)
  when the cursor moves and every ``detail_interval`` seconds while it rests.
- ``action``: stop or delete after a confirmation (of the marked tasks, one after the other,
  in `asrtui.ui.marked_actions`).

Errors from the source are `AsrtuiError`s and are shown (stale marker, toast, event log);
anything else escaping a worker is a bug, reported as such without ending the session.

Escape inside tmux: tmux holds a lone Escape for ``escape-time`` (500 ms by default) to tell it
from the start of an escape sequence, then Textual waits its own ``ESCDELAY`` (100 ms). Measured
through a real tmux client, closing the filter took about 0.8 s with the default and about
0.2 s with ``set -sg escape-time 10`` in ``~/.tmux.conf``; the help screen says so.

Longer than most modules on purpose: what is not the screen lives elsewhere (start-up in
`asrtui.ui.first_answer`, the event log's buffer in `asrtui.ui.event_feed`, the cadence in
`asrtui.ui.refresh`, dialogs, export and clipboard in their modules); what is left is the
screen's key bindings, each a few lines over the same state (the book, the schedule, the task
fetched by id), which would only be handed around if split.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, Literal, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Horizontal
from textual.events import Resize
from textual.message import Message
from textual.reactive import var
from textual.timer import Timer
from textual.widgets import Input, Label
from textual.worker import Worker, WorkerState

from asrtui.errors import AsrtuiError
from asrtui.models import Task, TaskList
from asrtui.printable import printable_line
from asrtui.protocols import QuotaStats, TaskSource
from asrtui.redact import redact_text
from asrtui.ui.broadcast import ScreenRecord
from asrtui.ui.collector import HeapSettler
from asrtui.ui.durations import format_duration
from asrtui.ui.event_feed import EventFeed
from asrtui.ui.first_answer import FirstAnswer
from asrtui.ui.frames import PacedFrames
from asrtui.ui.marked_actions import MarkedActions
from asrtui.ui.notices import Burst, Kind, Notice, NoticeLevel, Notifier, next_level, rings, shows
from asrtui.ui.rates import Window
from asrtui.ui.refresh import RefreshSchedule, step_interval
from asrtui.ui.remembered import RememberedStore
from asrtui.ui.settings import ConsoleSettings
from asrtui.ui.summary import TaskCounter
from asrtui.ui.taskbook import Row, TaskBook, TaskEvent
from asrtui.ui.toasts import remove_toasts
from asrtui.ui.view_memory import ViewMemory
from asrtui.ui.widgets.detail import DetailModel, TaskDetail
from asrtui.ui.widgets.key_bar import KeyBar
from asrtui.ui.widgets.status_line import StatusLine, StatusSnapshot
from asrtui.ui.widgets.task_table import ColumnChoice, TaskTable

if TYPE_CHECKING:
    # The dialogs, the export and the event log load when first used, not with the first frame
    # (the event log's `RichLog` alone brings in ``rich.pretty`` and ``attrs``).
    from textual.widget import AwaitMount

    from asrtui.ui.dialogs import ExportRequest
    from asrtui.ui.widgets.event_log import EventLog, NoteKind

#: Terminal width from which the detail pane sits beside the table instead of below it.
WIDE_AT = 120
#: Seconds between two status line updates (and checks of what is due).
TICK_SECONDS = 1.0
#: Seconds a toast stays on screen (Textual's default); task events within it merge.
TOAST_SECONDS = 5.0

ActionKind = Literal["stop", "delete"]


@dataclass(frozen=True)
class _Fetched:
    """The last copy of a task fetched by id, and when (monotonic and wall clock)."""

    task_id: str
    task: Task | None
    mono: float
    at: datetime
    note: str = ""


class MainScreen(PacedFrames[None]):
    """The operator's view of every task of the account.

    Args:
        source: where tasks come from and actions go to.
        settings: cadence, clocks, read-only mode and the bell.
        first_answer: the first `list_tasks` of ``source``, already asked; the first refresh
            takes it instead of asking again. ``None``: the first refresh asks.
    """

    # The key bar shows what fits in 80 columns next to the app's "q Quit" and the palette key,
    # Help first; every binding is in the help screen (?) and the command palette (^p).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help"),
        Binding("slash", "open_filter", "Filter"),
        Binding("escape", "close_filter", "Clear filter", show=False),
        Binding("r", "refresh_now", "Refresh"),
        Binding("p", "toggle_pause", "Pause"),
        Binding("plus,equals_sign", "slower", "Slower refresh", show=False),
        Binding("minus", "faster", "Faster refresh", show=False),
        Binding("s", "cycle_sort", "Sort"),
        Binding("S", "reverse_sort", "Reverse sort", show=False),
        Binding("o", "choose_columns", "Columns: show, hide, order", show=False),
        Binding("d", "toggle_detail", "Detail"),
        Binding("h", "toggle_hide_ended", "Hide ended", show=False),
        Binding("m", "toggle_maximize", "Maximise table", show=False),
        Binding("v", "toggle_reveal", "Reveal", show=False),
        Binding("J", "toggle_raw", "Raw JSON", show=False),
        Binding("e", "toggle_events", "Events", show=False),
        Binding("b", "toggle_bell", "Bell", show=False),
        Binding("t", "cycle_notices", "Toasts: quiet/normal/verbose", show=False),
        Binding("c", "copy_id", "Copy id", show=False),
        Binding("u", "copy_url", "Copy URL", show=False),
        Binding("y", "copy_json", "Copy JSON", show=False),
        Binding("x", "stop_task", "Stop", show=False),
        Binding("X", "delete_task", "Delete", show=False),
        Binding("a", "mark_all", "Mark every task in view (space marks one)", show=False),
        Binding("U", "clear_marks", "Clear the marks", show=False),
        Binding("ctrl+s,E", "export", "Export", show=False),
        Binding("P", "profiles", "Profiles", show=False),
        Binding(
            "n", "restart_task", "Restart as a new task (Create: maintenance mode)", show=False
        ),
        Binding("N", "new_task", "New task (Create: maintenance mode upstream)", show=False),
    ]

    revealed: var[bool] = var(False)
    """Whether secrets are shown in clear: in the detail pane (bound down) and in copies."""

    class ProfilesRequested(Message):
        """The operator asked for the profile switcher; the app owns switching."""

    def __init__(
        self,
        source: TaskSource,
        settings: ConsoleSettings,
        *,
        first_answer: FirstAnswer | None = None,
    ) -> None:
        super().__init__()
        self._source = source
        mine = first_answer is not None and first_answer.source is source
        self._first_answer = first_answer if mine else None
        self._settings = settings
        # The filter's field and its bar's mount, set by the first "/" (`_filter_field`).
        self._filter_mount: tuple[Input, AwaitMount] | None = None
        self._clock = settings.clock
        self._mono = settings.monotonic
        self._book = TaskBook()
        self.memory = ViewMemory(
            RememberedStore.beside(settings.state_path, settings.clock),
            source.profile_name,
            settings.refresh_interval,
            lambda text, bad: self._log_note(self._clock(), "error" if bad else "info", text),
        )
        """This profile's remembered view (`asrtui.ui.view_memory`), restored at mount."""
        self.schedule = RefreshSchedule(self.memory.interval(), self._mono())
        """When the task list is refreshed next (read by tests and the status line)."""
        self.bell_enabled = settings.bell
        """Whether the terminal bell rings when a task ends or errors begin."""
        self.notice_level = NoticeLevel.NORMAL
        """What raises a toast and rings the bell (`asrtui.ui.notices`)."""
        self._held: dict[str, Notice] = {}
        self._throttled = Window()
        self._errors = Window()
        self._ended = Burst("ended", TOAST_SECONDS)
        self._started = Burst("started", TOAST_SECONDS)
        self._list_mono = 0.0
        self._fetched: _Fetched | None = None
        self._last_detail_fetch = float("-inf")
        self._detail_worker: Worker[None] | None = None
        self._due_timer: Timer | None = None
        self._last_error_logged = ""
        self._sharing_degraded = ""
        self._counter = TaskCounter()
        self._settler = HeapSettler()
        self.feed = EventFeed()
        """What the event log shows, kept until its panel is mounted."""
        self.record = ScreenRecord(self, source, settings)
        """The broadcast record: the journal and the alert hooks (`asrtui.ui.broadcast`)."""
        self.marked = MarkedActions(
            self,
            source=source,
            clock=self._clock,
            notice=self._notice,
            refresh=self._request_refresh,
        )
        """Stop, delete and copy of the marked tasks (`asrtui.ui.marked_actions`)."""

    # ------------------------------------------------------------------ composition

    def compose(self) -> ComposeResult:
        """Status line, table and detail pane, key bar (the filter bar, event log come later)."""
        # Set before the widgets mount, so that they are styled once, for the right layout.
        self._apply_width(self.app.size.width)
        tz = self._settings.tz
        yield StatusLine(id="status")
        with Container(id="body"):
            # Ticked by this screen's tick: the ages and the status line repaint together.
            yield TaskTable(clock=self._clock, ticking=False, id="tasks")
            yield TaskDetail(tz=tz, id="detail").data_bind(MainScreen.revealed)
        # The filter bar, hidden until "/", is mounted by its first use (`_filter_field`).
        yield KeyBar(id="keys")

    @property
    def table(self) -> TaskTable:
        """The task table."""
        return self.query_one("#tasks", TaskTable)

    @property
    def detail(self) -> TaskDetail:
        """The detail pane."""
        return self.query_one("#detail", TaskDetail)

    @property
    def event_log(self) -> EventLog:
        """The event log panel (mounted by this first use if need be)."""
        return self._mount_event_log()

    def _mount_event_log(self) -> EventLog:
        """Mount the event log with what was logged so far, unless it is mounted already.

        Hidden until the operator opens it, the panel is not part of the first frame; until it
        is mounted `feed` keeps what there is to log.
        """
        log = self.feed.log
        if log is None:
            from asrtui.ui.widgets.event_log import EventLog

            log = EventLog(tz=self._settings.tz, id="events")
            self.feed.attach(log)
            self.mount(log, before="#filter-bar" if self.query("#filter-bar") else "#keys")
        return log

    def _log_note(self, at: datetime, kind: NoteKind, text: str) -> None:
        self.feed.note(at, kind, text)

    def _log_event(self, event: TaskEvent) -> None:
        self.feed.event(event)

    @property
    def status_line(self) -> StatusLine:
        """The status line."""
        return self.query_one("#status", StatusLine)

    @property
    def book(self) -> TaskBook:
        """What this session has seen of the tasks."""
        return self._book

    def on_mount(self) -> None:
        """Focus the table, start the 1 Hz tick and the first refresh."""
        self.table.focus()
        # At once, not as a message: the detail's title is drawn in the cursor's own frame.
        self.table.cursor_moved.subscribe(self, self._highlighted, immediate=True)
        self.record.start()
        self._log_note(
            self._clock(),
            "info",
            f"Watching profile {self._source.profile_name} in {self._source.region}",
        )
        self.memory.restore(self)
        self.set_interval(TICK_SECONDS, self.tick)
        # The tick first: the first answer, shown at once, puts the cursor on a task, and that
        # highlight fetches the task already (the tick would fetch it a second time).
        self.tick()
        self.refresh_if_due()

    def on_resize(self, event: Resize) -> None:
        """Detail beside the table on wide terminals, below it on narrow ones."""
        self._apply_width(event.size.width)

    def _apply_width(self, width: int) -> None:
        self.set_class(width >= WIDE_AT, "-wide")

    # ------------------------------------------------------------------ the tick

    def tick(self) -> None:
        """Redraw what the clock moves (the status line, the table's time columns), and poll
        the detail pane; runs once per second.

        It never starts a refresh (`refresh_if_due` alone does). Everything here reads the
        injected clocks, so a test moves the fake clock and calls this instead of waiting.
        """
        detail_due = self._detail_due(self._mono())
        if self._book.prune(self._clock()):
            self.table.set_rows(self._book.rows())
            self._counter.pruned(self._book)
        if detail_due:
            self._fetch_detail(self.table.cursor_task_id or "", 0.0)
        self._update_status()
        self.table.tick()
        self.record.tell()
        self.memory.save(self)

    def _start_refresh(self) -> None:
        manual = self.schedule.start()
        first, self._first_answer = self._first_answer, None
        if first is not None and first.done():
            # Already in (typically while the screen mounts): shown in the very first frame.
            try:
                answer = first.result()
            except AsrtuiError as error:
                self._refresh_failed(str(error))
            else:
                self._refresh_succeeded(answer, first.latency)
            return
        self._update_status()
        self._refresh(manual, first)

    def refresh_if_due(self) -> None:
        """The one refresh trigger: start a refresh if one is due, else arm the timer for it.

        Runs at mount and from the timer that `_arm` sets each time a run ends or the schedule
        changes; nothing else starts a refresh (a manual one goes through the schedule too).
        While a run is in flight it does nothing (the run's end re-arms); while paused it
        arms nothing (resuming calls it). A test that moves a fake clock calls it instead of
        waiting for the timer.
        """
        schedule = self.schedule
        if schedule.due(self._mono()):
            self._start_refresh()
        elif not schedule.running and not schedule.paused:
            self._arm()

    def _arm(self) -> None:
        """Arm the timer for the next refresh, now that the previous run is over."""
        if self._due_timer is not None:
            self._due_timer.stop()
        delay = self.schedule.seconds_until_due(self._mono())
        self._due_timer = self.set_timer(max(delay, 0.01), self.refresh_if_due)
        self._update_status()

    # ------------------------------------------------------------------ refresh worker

    @work(group="refresh", exit_on_error=False)
    async def _refresh(self, manual: bool, first: FirstAnswer | None = None) -> None:
        started = self._mono()
        try:
            if first is not None:
                answer = await first.wait()
            else:
                answer = await self._source.list_tasks(priority=manual)
        except AsrtuiError as error:
            self.record.failed(error)
            self._refresh_failed(str(error))
            return
        latency = first.latency if first is not None else self._mono() - started
        self._refresh_succeeded(answer, latency)

    def _refresh_succeeded(self, answer: TaskList, latency: float) -> None:
        now_mono = self._mono()
        now = self._clock()
        first = self.schedule.last_success is None
        events = self._book.update(answer.tasks, now)
        self._counter.answered(self._book, events)
        self.record.answered(answer.tasks)
        self._list_mono = now_mono
        outcome = self.schedule.succeed(now_mono, latency)
        self.table.set_rows(self._book.rows())
        self._report_events(events)
        if first:
            self._log_note(now, "info", f"{len(answer.tasks)} task(s) running")
        if outcome.recovered:
            self._last_error_logged = ""
            self._log_note(now, "recovered", "Refresh recovered")
            self._notice(
                Notice("error", "Refresh works again; data is current.", "Recovered", key="refresh")
            )
        self._show_detail()
        self._settler.settled(self._book.made)
        self._arm()

    def _refresh_failed(self, message: str) -> None:
        # Status line, event log and toast: whatever the error quotes, the one masking rule.
        message = redact_text(message)
        now = self._clock()
        outcome = self.schedule.fail(self._mono(), message)
        if message != self._last_error_logged:
            self._last_error_logged = message
            self._log_note(now, "error", f"Refresh failed: {message}")
        if outcome.failed_first:
            # Before any answer there is no data to fall back on: the toast must not claim some.
            shown = (
                "Showing the last good data"
                if self.schedule.last_success is not None
                else "No data yet"
            )
            self._notice(
                Notice(
                    "error",
                    f"{message}\n{shown}; retrying every"
                    f" {format_duration(self.schedule.interval)}.",
                    "Refresh failed",
                    "error",
                    key="refresh",
                )
            )
        self._arm()

    def _report_events(self, events: list[TaskEvent]) -> None:
        for event in events:
            self._log_event(event)
        now = self._mono()
        for burst in (self._ended, self._started):
            ids = [event.task_id for event in events if event.kind == burst.kind]
            if (notice := burst.add(ids, now)) is not None:
                self._notice(notice)

    def _notice(self, notice: Notice) -> None:
        """Toast and ring as the level says; held while a dialog is on top of this screen."""
        if self.bell_enabled and rings(self.notice_level, notice.kind):
            self.app.bell()
        if not shows(self.notice_level, notice.kind):
            return
        if self.app.screen is not self:
            # Never over a dialog: shown when it closes, one per subject.
            self._held[notice.key or f"#{len(self._held)}"] = notice
            return
        self._toast(notice)

    def _toast(self, notice: Notice) -> None:
        cast(Notifier, self.app).notify(
            notice.message,
            title=notice.title,
            severity=notice.severity,
            markup=False,
            key=notice.key,
        )

    def _answer(self, message: str, key: str, kind: Kind = "answer") -> None:
        """What a key did, one toast per subject (pressing + five times leaves one)."""
        self._notice(Notice(kind, message, key=key))

    def on_screen_suspend(self) -> None:
        """A dialog opens: the toasts on screen go (they would draw over it); the view is saved."""
        self.app.clear_notifications()
        remove_toasts(self)
        self.memory.save(self)

    def on_screen_resume(self) -> None:
        """Show what was held while a dialog was open."""
        held, self._held = self._held, {}
        for notice in held.values():
            self._toast(notice)

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        """The top of every worker: cancelled runs release the schedule, bugs are reported."""
        worker = event.worker
        if worker.group == "refresh" and event.state is WorkerState.CANCELLED:
            self.schedule.abandon(self._mono())
        if event.state is not WorkerState.ERROR:
            return
        error = worker.error
        self.log.error(f"worker {worker.name!r} failed", error)
        # Not an AsrtuiError, so nobody vouched for its text: mask anything secret-looking.
        message = redact_text(f"Internal error in {worker.group}: {type(error).__name__}: {error}")
        self._log_note(self._clock(), "error", message)
        self._notice(
            Notice(
                "error",
                message + "\nThe console keeps running; please report this.",
                "Bug",
                "error",
            )
        )
        if worker.group == "refresh":
            self.schedule.fail(self._mono(), message)
            self._arm()

    # ------------------------------------------------------------------ detail

    def _detail_due(self, now: float) -> bool:
        if not self._detail_visible() or self.schedule.paused:
            return False
        if self.table.cursor_task_id is None:
            return False
        if self._detail_worker is not None and self._detail_worker.is_running:
            return False
        return now - self._last_detail_fetch >= self._settings.detail_interval

    def _detail_visible(self) -> bool:
        return not self.has_class("-no-detail")

    def _highlighted(self, task_id: str | None) -> None:
        """The cursor moved to another task: name it in the detail and fetch it once it rests."""
        self._show_detail()
        if task_id is not None and self._detail_visible():
            self._fetch_detail(task_id, self._settings.detail_debounce)

    @on(TaskTable.MarksChanged)
    def _marks_changed(self) -> None:
        self._update_status()

    @on(TaskTable.Selected)
    def _selected(self) -> None:
        """Enter on a task: show the pane if hidden and move the focus into it."""
        self.remove_class("-no-detail")
        self.detail.focus()

    def _fetch_detail(self, task_id: str, debounce: float) -> None:
        if task_id:
            self._detail_worker = self._fetch_detail_worker(task_id, debounce)

    @work(group="detail", exclusive=True, exit_on_error=False)
    async def _fetch_detail_worker(self, task_id: str, debounce: float) -> None:
        # Exclusive: a newer highlight cancels this one, so moving the cursor down a long list
        # costs one request for the task it stops on, not one per row passed.
        if debounce > 0:
            await self._settings.sleep(debounce)
        self._last_detail_fetch = self._mono()
        note = ""
        task: Task | None = None
        try:
            task = await self._source.get_task(task_id)
        except AsrtuiError as error:
            note = f"Fetching this task failed: {error}"
        if task is None and not note:
            note = "The service no longer knows this task."
        self._fetched = _Fetched(task_id, task, self._mono(), self._clock(), note)
        self._show_detail()

    def shown_task(self) -> Task | None:
        """The freshest copy of the highlighted task: fetched by id or from the last list."""
        task_id = self.table.cursor_task_id
        if task_id is None:
            return None
        row = self._book.get(task_id)
        fetched = self._fetched
        if (
            fetched is not None
            and fetched.task_id == task_id
            and fetched.task is not None
            and fetched.mono >= self._list_mono
        ):
            return fetched.task
        return row.task if row is not None else None

    def _show_detail(self) -> None:
        task = self.shown_task()
        if task is None:
            self.detail.show(None)
            return
        fetched = self._fetched
        own = fetched if fetched is not None and fetched.task_id == task.task_id else None
        self.detail.show(
            DetailModel(
                task=task,
                row=self._book.get(task.task_id),
                history=self._book.history(task.task_id),
                now=self._clock(),
                fetched_at=own.at if own is not None and own.task is task else None,
                note=own.note if own is not None else "",
            )
        )

    # ------------------------------------------------------------------ status line

    def _update_status(self) -> None:
        now = self._mono()
        schedule = self.schedule
        quota: QuotaStats | None
        try:
            quota = self._source.quota()
        except AsrtuiError:
            quota = None
        self._note_sharing(quota)
        recent = None
        if quota is not None:
            recent = (
                self._throttled.increase(now, quota.throttled_total),
                self._errors.increase(now, quota.errors_total),
            )
        table = self.table
        # Optional on a source (`asrtui.protocols.CredentialsStatus`): asked with getattr.
        status_of = getattr(self._source, "credentials_status", None)
        credentials = status_of() if callable(status_of) else None
        self.record.credentials(credentials)
        expiration = getattr(credentials, "expiration", None)
        left = (expiration - self._clock()).total_seconds() if expiration is not None else None
        self.status_line.show(
            StatusSnapshot(
                profile=self._source.profile_name,
                region=self._source.region,
                data_age=schedule.data_age(now),
                latency=schedule.last_latency,
                next_in=schedule.seconds_until_due(now),
                refreshing=schedule.running,
                paused=schedule.paused,
                interval=schedule.interval,
                stale=schedule.stale,
                error=schedule.error,
                quota=quota,
                read_only=bool(self._settings.read_only),
                bell=self.bell_enabled,
                revealed=self.revealed,
                shown=table.row_count,
                total=table.total_count,
                recent_failures=recent,
                credentials=credentials,
                credentials_left=left,
                marked=table.mark_count,
                marked_hidden=table.hidden_mark_count,
                summary=self._counter.summary,
                hidden_sort=self._hidden_sort(),
            )
        )

    def _hidden_sort(self) -> str:
        """The sort (``UPDATED▼``) when no header on screen shows it, else empty."""
        table = self.table
        shown = table.shown_columns()
        return table.sort_label() if shown and table.sort_column not in shown else ""

    def _note_sharing(self, quota: QuotaStats | None) -> None:
        """Log when the quota stops being shared as configured (Redis away), and when it is again.

        The status line's badge shows the state; the event log keeps when it changed.
        """
        degraded = quota.shared_degraded if quota is not None else ""
        if degraded == self._sharing_degraded:
            return
        self._sharing_degraded = degraded
        if degraded:
            where = "this host's" if quota is not None and quota.shared == "host" else "no shared"
            text = f"Quota no longer shared across hosts ({degraded}): {where} budget meanwhile"
            self._log_note(self._clock(), "error", text)
        else:
            self._log_note(self._clock(), "recovered", "Quota shared across hosts again")

    # ------------------------------------------------------------------ refresh actions

    def action_refresh_now(self) -> None:
        """Refresh now (a priority request); coalesced with a refresh already running."""
        if not self._request_refresh():
            self._answer("A refresh is running; another follows right after it.", "refresh-now")

    def _request_refresh(self) -> bool:
        """Start a priority refresh, or queue one after the running one; True if started."""
        if self.schedule.request_manual():
            self._start_refresh()
            return True
        return False

    def action_toggle_pause(self) -> None:
        """Pause or resume the automatic refresh (and the detail pane's polling)."""
        paused = self.schedule.toggle_pause()
        self._answer(
            "Auto-refresh paused (r still refreshes)." if paused else "Auto-refresh on.", "pause"
        )
        self.refresh_if_due()
        self.tick()

    def _set_interval(self, direction: int) -> None:
        seconds = step_interval(self.schedule.interval, direction)
        self.schedule.set_interval(seconds, self._mono())
        if not self.schedule.running:
            self._arm()
        self._answer(f"Refresh every {seconds:g} s.", "interval")

    def action_slower(self) -> None:
        """Refresh less often (next step up, at most 300 s)."""
        self._set_interval(+1)

    def action_faster(self) -> None:
        """Refresh more often (next step down, at least 1 s)."""
        self._set_interval(-1)

    # ------------------------------------------------------------------ view actions

    async def _filter_field(self) -> Input:
        """The filter's field; its bar is mounted (above the key bar) by the first call.

        Hidden until "/", the bar is not part of the first frame, which then goes without
        composing and styling an `Input` (some milliseconds of every start). A caller that
        comes while the mount is under way (the palette's "filter" beside "/") waits for the
        same mount: a second bar would be a duplicate id, which stops the app.
        """
        if self._filter_mount is None:
            field = Input(
                placeholder="text, status:ended tag:news lang:en mode:rtc, ! negates",
                id="filter",
            )
            bar = Horizontal(Label("Filter:", id="filter-label"), field, id="filter-bar")
            self._filter_mount = (field, self.mount(bar, before="#keys"))
        field, mounting = self._filter_mount
        await mounting
        return field

    async def action_open_filter(self) -> None:
        """Show the filter bar and type into it; every keystroke filters."""
        field = await self._filter_field()
        self.add_class("-filtering")
        # Keys typed right after "/" in one burst wait for this focus (`asrtui.ui.typeahead`).
        self.set_focus(field)

    def action_focus_table(self) -> None:
        """Hand the keys back to the table (Esc in the detail pane)."""
        self.set_focus(self.table)

    def action_close_filter(self) -> None:
        """Clear the filter and hide its bar (Escape)."""
        found = self.query("#filter")
        if not found:
            return  # never opened: nothing to clear
        filter_input = found.first(Input)
        if not self.has_class("-filtering") and not filter_input.value:
            return
        filter_input.value = ""
        self.table.set_filter("")
        self.remove_class("-filtering")
        self.set_focus(self.table)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.set_filter(event.value)
        self._update_status()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if not event.value:
            self.remove_class("-filtering")
        self.set_focus(self.table)

    def action_cycle_sort(self) -> None:
        """Sort by the next column."""
        self.table.cycle_sort()
        self._update_status()

    def action_reverse_sort(self) -> None:
        """Flip the sort direction."""
        table = self.table
        table.sort_by(table.sort_column, reverse=not table.sort_reverse)
        self._update_status()

    class ColumnsChosen(Message):
        """The operator applied a column choice (to keep it, e.g. per profile)."""

        def __init__(self, choice: ColumnChoice) -> None:
            super().__init__()
            self.choice = choice

    def action_choose_columns(self) -> None:
        """Show, hide and order the table's columns (`asrtui.ui.screens.columns`)."""
        from asrtui.ui.screens.columns import ColumnChooser

        table = self.table
        self.app.push_screen(
            ColumnChooser(table.column_choice, table.scrollable_content_region.width),
            self._columns_chosen,
        )

    def _columns_chosen(self, choice: ColumnChoice | None) -> None:
        if choice is None or choice == self.table.column_choice:
            return
        self.apply_column_choice(choice)
        self.post_message(self.ColumnsChosen(choice))

    def apply_column_choice(self, choice: ColumnChoice) -> None:
        """Show the table's columns as chosen (a kept `ColumnChoice.from_json`, the chooser)."""
        self.table.set_column_choice(choice)
        self._update_status()

    def action_toggle_detail(self) -> None:
        """Show or hide the detail pane (hidden, it fetches nothing)."""
        self.toggle_class("-no-detail")
        if not self._detail_visible() and self.detail.has_focus:
            self.table.focus()
        self.tick()

    def action_toggle_maximize(self) -> None:
        """The table alone on the screen (m or Esc gives the panes back)."""
        if self.maximized is not None:
            self.minimize()
        else:
            self.maximize(self.table, container=False)
            self.set_focus(self.table)

    def action_toggle_hide_ended(self) -> None:
        """Leave the rows of ended tasks out of the table, or show them again."""
        table = self.table
        table.set_hide_ended(not table.hide_ended)
        self._answer(
            "Ended tasks hidden (h shows them)." if table.hide_ended else "Ended tasks shown.",
            "hide-ended",
        )
        self._update_status()

    def action_toggle_reveal(self) -> None:
        """Show secrets in clear, or mask them again."""
        self.revealed = not self.revealed
        if self.revealed:
            self._answer(
                "Secrets shown in the detail pane and copies; v masks them again.", "reveal"
            )
        else:
            self._answer("Secrets masked.", "reveal")
        self._update_status()

    def action_toggle_raw(self) -> None:
        """Switch the detail pane between fields and raw JSON."""
        self.detail.raw_json = not self.detail.raw_json

    def action_toggle_events(self) -> None:
        """Show or hide the event log."""
        self._mount_event_log()
        self.toggle_class("-events")

    def action_toggle_bell(self) -> None:
        """Turn the terminal bell on task end and errors on or off."""
        self.bell_enabled = not self.bell_enabled
        self._answer("Bell on." if self.bell_enabled else "Bell off.", "bell")
        self._update_status()

    def action_cycle_notices(self) -> None:
        """Toasts: quiet (errors only), normal, verbose (tasks starting too)."""
        self.notice_level = next_level(self.notice_level)
        what = {
            NoticeLevel.QUIET: "errors only",
            NoticeLevel.NORMAL: "errors, tasks ending, actions",
            NoticeLevel.VERBOSE: "everything, tasks starting too",
        }[self.notice_level]
        # Always shown, quiet included: it answers the key just pressed.
        self._toast(Notice("error", f"Toasts {self.notice_level}: {what}.", key="level"))
        self._update_status()

    def action_mark_all(self) -> None:
        """Mark every task in view (after the filter and hide-ended): x, X, c, y, E act on them."""
        self.table.action_mark_all()

    def action_clear_marks(self) -> None:
        """Unmark every task: the keys act on the highlighted task again."""
        self.table.action_clear_marks()

    def action_profiles(self) -> None:
        """Switch to another profile, or add or edit one."""
        self.post_message(self.ProfilesRequested())

    def action_help(self) -> None:
        """Show every key."""
        from asrtui.ui.create_form import CreateTaskForm
        from asrtui.ui.screens.columns import ColumnChooser
        from asrtui.ui.screens.help import HelpScreen
        from asrtui.ui.screens.profiles import ProfileForm, ProfileSwitcher

        self.app.push_screen(
            HelpScreen(
                [
                    ("Tasks", self.BINDINGS),
                    ("Table", TaskTable.BINDINGS),
                    ("Detail pane (Enter)", TaskDetail.BINDINGS),
                    (
                        "Profiles (P)",
                        [Binding("enter", "switch", "Switch"), *ProfileSwitcher.BINDINGS],
                    ),
                    ("Profile form", ProfileForm.BINDINGS),
                    ("Create form (n, N)", CreateTaskForm.BINDINGS),
                    ("Columns (o)", ColumnChooser.BINDINGS),
                ]
            )
        )

    # ------------------------------------------------------------------ clipboard

    def _require_task(self) -> Task | None:
        """The task an action is about: the one the detail pane shows, else the cursor's.

        The pane names its task in its title; what the operator reads there is what they act on.
        """
        model = self.detail.model if self._detail_visible() else None
        task = model.task if model is not None else self.shown_task()
        if task is None:
            self._notice(Notice("answer", "No task highlighted.", severity="warning", key="none"))
        return task

    def _copy(self, text: str, what: str) -> None:
        self.app.copy_to_clipboard(text)
        masked = "" if self.revealed else " (secrets masked; v reveals)"
        self._notice(Notice("action", f"Copied {what}{masked}.", key="copy"))

    def action_copy_id(self) -> None:
        """Copy the highlighted task's id (the marked tasks' ids, one per line, if any)."""
        if marked := self.marked.rows():
            self.marked.copy("id", marked)
        elif task := self._require_task():
            from asrtui.ui import clipboard  # loaded with the first copy (start-up time)

            shown = clipboard.task_id(task, revealed=self.revealed)
            self.app.copy_to_clipboard(shown)
            self._notice(Notice("action", f"Copied task id {printable_line(shown)}.", key="copy"))

    def action_copy_url(self) -> None:
        """Copy the stream URL (of each marked task, if any), masked unless revealed."""
        if marked := self.marked.rows():
            self.marked.copy("url", marked)
        elif task := self._require_task():
            from asrtui.ui import clipboard  # loaded with the first copy (start-up time)

            self._copy(clipboard.stream_url(task, revealed=self.revealed), "stream URL")

    def action_copy_json(self) -> None:
        """Copy the task (the marked tasks) as JSON, masked unless secrets are revealed."""
        if marked := self.marked.rows():
            self.marked.copy("json", marked)
        elif task := self._require_task():
            from asrtui.ui import clipboard
            from asrtui.ui.export import as_shown

            # As the screen shows it: a task no longer listed is copied as ended.
            row = self._book.get(task.task_id)
            shown = as_shown(row) if row is not None and row.is_ended else task
            self._copy(clipboard.task_json(shown, revealed=self.revealed), "task JSON")

    # ------------------------------------------------------------------ stop / delete

    def action_stop_task(self) -> None:
        """Stop the highlighted task, after confirmation."""
        self._confirm_action("stop")

    def action_delete_task(self) -> None:
        """Delete the highlighted task, after confirmation."""
        self._confirm_action("delete")

    def _confirm_action(self, kind: ActionKind) -> None:
        cause = self._settings.read_only
        if cause:
            hint = cause.hint[:1].upper() + cause.hint[1:]
            text = f"Cannot {kind} tasks: read-only because {cause.because}.\n{hint}."
            # A refusal answers a key: shown at every level.
            self._notice(Notice("error", text, severity="warning", key="refused"))
            return
        if marked := self.marked.rows():
            self.marked.confirm(kind, marked)
            return
        task = self._require_task()
        if task is None:
            return
        task_id = task.task_id
        row = self._book.get(task_id)
        if kind == "stop" and ((row is not None and row.is_ended) or not task.is_running):
            # Stopping it again would succeed and say "stopped": nothing was.
            state = "has ended" if row is not None and row.is_ended else f"is {task.status_label}"
            self._notice(
                Notice(
                    "error",
                    f"Task {printable_line(task_id)} {state}: nothing to stop.",
                    severity="warning",
                    key="refused",
                )
            )
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._run_action(kind, task_id)

        from asrtui.ui.dialogs import ConfirmDialog

        question = f"{kind.capitalize()} task {task_id}?"
        if kind == "delete":
            question += "\nIts configuration is removed; this cannot be undone."
        else:
            question += "\nRecognition of its stream ends now."
        self.app.push_screen(
            ConfirmDialog(f"{kind.capitalize()} task", question, kind.capitalize()), answered
        )

    @work(group="action", exit_on_error=False)
    async def _run_action(self, kind: ActionKind, task_id: str) -> None:
        try:
            if kind == "stop":
                await self._source.stop_task(task_id)
            else:
                await self._source.delete_task(task_id)
        except AsrtuiError as error:
            message = redact_text(str(error))
            self._log_note(self._clock(), "error", f"{kind} {task_id} failed: {message}")
            self.record.acted(kind, task_id=task_id, ok=False, note=message)
            self._notice(Notice("error", message, f"Could not {kind}", "error"))
            return
        done = "stopped" if kind == "stop" else "deleted"
        self._log_note(self._clock(), "action", f"{task_id} {done}")
        self.record.acted(kind, task_id=task_id)
        self._notice(Notice("action", f"Task {task_id} {done}."))
        self._request_refresh()

    def action_restart_task(self) -> None:
        """A new task like the highlighted one (running or ended), prefilled, to confirm."""
        if task := self._require_task():
            self.record.create(task)

    def action_new_task(self) -> None:
        """A new task from the create form."""
        self.record.create(None)

    # ------------------------------------------------------------------ export

    def action_export(self) -> None:
        """Export the tasks in view (filter and sort applied), or the marked ones, to JSON/CSV."""
        from asrtui.ui.dialogs import ExportDialog
        from asrtui.ui.export import default_export_path

        # The rows in view (or marked) now: the dialog's count is what is written, even if a
        # refresh changes the view while the operator picks a file; each row as shown then.
        marked = self.marked.rows()
        tasks = marked or self.table.visible_rows()
        what = self.marked.export_title(marked) if marked else ""
        path = default_export_path(self._clock(), tz=self._settings.tz)

        def answered(request: ExportRequest | None) -> None:
            self._export_answered(request, tasks)

        self.app.push_screen(ExportDialog(path, len(tasks), what), answered)

    def _export_answered(self, request: ExportRequest | None, tasks: list[Row]) -> None:
        if request is None:
            return
        from asrtui.ui.export import export_rows, format_for

        fmt = format_for(request.path, request.fmt)
        try:
            written = export_rows(tasks, request.path, fmt)
        except OSError as error:
            reason = error.strerror or type(error).__name__
            self._notice(
                Notice(
                    "error", f"Could not write {request.path}: {reason}", "Export failed", "error"
                )
            )
            return
        self._log_note(self._clock(), "action", f"exported {len(tasks)} to {written}")
        self.record.acted("export", note=f"{len(tasks)} task(s) as {fmt.value}")
        self._notice(Notice("action", f"Exported {len(tasks)} task(s) to {written}"))
