"""The report after the show: a journal's events summarised for a person or a ticket.

`build_report` reads events (`asrtui.events`, oldest first, as `asrtui.journal.read_journal`
returns them) and works out, per task, when it was first and last seen, how long it ran, the
gaps in what is known of it and how it ended; the API outages and the throttling with their
durations; every operator action; and the sessions (where the console was restarted).
`render_markdown` and `render_json` write it out.

How the times are counted, since a journal only records changes:

- A task runs from the event that first shows it running (``task_appeared``, or a status
  back to running) to its ``task_ended`` (or a status other than running). A task still
  running at the last event is counted to the end of the report and said to be running.
- A **gap** is a stretch of a task's life where nobody could see it: the API was failing (an
  outage or throttling episode), or no console was writing (between the last event of one
  session and the start of the next). The task is counted as running through a gap (it ran
  before and after); the gap says how long that is an assumption.
- An **episode** (outage or throttling) runs from its ``api_error_began`` (or ``throttled``)
  to the next ``api_error_ended``; one still open at a restart ends there (nothing can be
  known past it), one still open at the end of the journal is counted to the end and shown
  as open.
- A task that ends after a stop or a delete by the operator is said to be "stopped by the
  operator"; otherwise it "ended" (it left the list of running tasks).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from asrtui.events import (
    ACTION,
    API_ERROR_BEGAN,
    API_ERROR_ENDED,
    CREDENTIALS_FAILING,
    SESSION_STARTED,
    STATUS_CHANGED,
    TASK_APPEARED,
    TASK_ENDED,
    THROTTLED,
    Event,
)
from asrtui.printable import printable_line

__all__ = [
    "Episode",
    "Report",
    "TaskRecord",
    "build_report",
    "format_duration",
    "render_json",
    "render_markdown",
    "report_json",
]


@dataclass(frozen=True)
class Span:
    """A stretch of time, with what it was."""

    start: datetime
    end: datetime
    what: str = ""

    @property
    def seconds(self) -> float:
        """Its length in seconds."""
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class Episode:
    """An API outage or a throttling episode."""

    start: datetime
    end: datetime
    code: str
    message: str
    open: bool = False

    @property
    def seconds(self) -> float:
        """Its length in seconds."""
        return (self.end - self.start).total_seconds()


@dataclass
class TaskRecord:
    """What the journal says of one task."""

    task_id: str
    tag: str = ""
    stream: str = ""
    language: str = ""
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    runs: list[Span] = field(default_factory=list)
    gaps: list[Span] = field(default_factory=list)
    ended: str = "still running at the end of the journal"
    ended_at: datetime | None = None
    #: While reading: when the current run began (``None``: not running).
    running_since: datetime | None = field(default=None, repr=False)
    #: While reading: "stopped by the operator" once a stop or delete of it succeeded.
    stopped_by: str = field(default="", repr=False)

    @property
    def running_seconds(self) -> float:
        """The total running time in seconds."""
        return sum(run.seconds for run in self.runs)


@dataclass
class Report:
    """The whole summary (see the module docstring for how it is counted)."""

    start: datetime | None
    end: datetime | None
    events: int
    sessions: list[datetime]
    tasks: list[TaskRecord]
    outages: list[Episode]
    throttling: list[Episode]
    actions: list[Event]
    timeline: list[Event]
    profile: str = ""


def _is_throttling(event: Event) -> bool:
    return event.kind == THROTTLED or str(event.detail.get("code", "")).startswith("Throttling")


def _blind_spans(events: Sequence[Event], end: datetime) -> tuple[list[Span], list[Episode]]:
    """Times nobody could see the tasks (episodes and the console being down), and episodes."""
    blind: list[Span] = []
    episodes: list[Episode] = []
    open_episode: Event | None = None
    previous: Event | None = None
    for event in events:
        if event.kind == SESSION_STARTED and previous is not None:
            if open_episode is not None:
                episodes.append(_episode(open_episode, previous.time, is_open=False))
                open_episode = None
            if event.time > previous.time:
                blind.append(Span(previous.time, event.time, "no console running"))
        elif event.kind in (API_ERROR_BEGAN, THROTTLED, CREDENTIALS_FAILING):
            if open_episode is None:
                open_episode = event
        elif event.kind == API_ERROR_ENDED and open_episode is not None:
            episodes.append(_episode(open_episode, event.time, is_open=False))
            open_episode = None
        previous = event
    if open_episode is not None:
        episodes.append(_episode(open_episode, end, is_open=True))
    for episode in episodes:
        what = "throttled" if episode.code.startswith("Throttling") else "API failing"
        blind.append(Span(episode.start, episode.end, f"{what} ({episode.code})"))
    blind.sort(key=lambda span: span.start)
    return blind, episodes


def _episode(began: Event, end: datetime, *, is_open: bool) -> Episode:
    code = str(began.detail.get("code") or began.detail.get("error") or "")
    if began.kind == THROTTLED and not code.startswith("Throttling"):
        code = f"Throttling{'.' + code if code else ''}"
    return Episode(began.time, max(end, began.time), code or "error", began.message, is_open)


def _overlaps(spans: Iterable[Span], start: datetime, end: datetime) -> list[Span]:
    found = []
    for span in spans:
        lo, hi = max(span.start, start), min(span.end, end)
        if lo < hi:
            found.append(Span(lo, hi, span.what))
    return found


def _task(records: dict[str, TaskRecord], event: Event) -> TaskRecord:
    record = records.get(event.task_id)
    if record is None:
        record = records[event.task_id] = TaskRecord(event.task_id)
        record.first_seen = event.time
    detail = event.detail
    for name, attribute in (("tag", "tag"), ("stream", "stream"), ("language", "language")):
        value = detail.get(name)
        if isinstance(value, str) and value:
            setattr(record, attribute, value)
    record.last_seen = event.time
    return record


def _start(record: TaskRecord, when: datetime) -> None:
    if record.running_since is None:
        record.running_since = when
        record.ended, record.ended_at = "still running at the end of the journal", None


def _stop(record: TaskRecord, when: datetime, how: str) -> None:
    if record.running_since is not None:
        record.runs.append(Span(record.running_since, when))
        record.running_since = None
    if record.stopped_by:
        how = record.stopped_by
    record.ended, record.ended_at = how, when


def build_report(events: Sequence[Event], *, profile: str = "") -> Report:
    """Summarise ``events`` (any order; sorted here by time)."""
    ordered = sorted(events, key=lambda event: event.time)
    start = ordered[0].time if ordered else None
    end = ordered[-1].time if ordered else None
    blind, episodes = _blind_spans(ordered, end) if end else ([], [])
    records: dict[str, TaskRecord] = {}
    actions: list[Event] = []
    for event in ordered:
        if event.kind == ACTION:
            actions.append(event)
            action = str(event.detail.get("action", ""))
            if event.task_id and event.detail.get("ok", True) and action in ("stop", "delete"):
                verb = "stopped" if action == "stop" else "deleted"
                _task(records, event).stopped_by = f"{verb} by the operator"
            continue
        if not event.task_id:
            continue
        record = _task(records, event)
        if event.kind == TASK_APPEARED:
            _start(record, event.time)
        elif event.kind == TASK_ENDED:
            _stop(record, event.time, "ended (left the list of running tasks)")
        elif event.kind == STATUS_CHANGED:
            to = str(event.detail.get("to", ""))
            if to == "running":
                _start(record, event.time)
            else:
                _stop(record, event.time, f"status {to or '?'}")
        elif record.running_since is None and record.ended_at is None:
            # Known only from a change: it was running then.
            _start(record, event.time)
    for record in records.values():
        if record.running_since is not None and end is not None:
            record.runs.append(Span(record.running_since, end))
            record.last_seen = end
        life_end = record.ended_at or end
        if record.first_seen is not None and life_end is not None:
            record.gaps = _overlaps(blind, record.first_seen, life_end)
            for before, after in zip(record.runs, record.runs[1:], strict=False):
                record.gaps.append(Span(before.end, after.start, "not running"))
            record.gaps.sort(key=lambda span: span.start)
    tasks = sorted(records.values(), key=lambda r: (r.first_seen or datetime.min, r.task_id))
    return Report(
        start=start,
        end=end,
        events=len(ordered),
        sessions=[e.time for e in ordered if e.kind == SESSION_STARTED],
        tasks=tasks,
        outages=[e for e in episodes if not e.code.startswith("Throttling")],
        throttling=[e for e in episodes if e.code.startswith("Throttling")],
        actions=actions,
        timeline=ordered,
        profile=profile,
    )


def format_duration(seconds: float) -> str:
    """``1h 02m 03s``, ``4m 05s``, ``7s``: whole seconds, the largest unit first."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def _cell(text: str) -> str:
    """A Markdown table cell: one line, no control character, ``|`` escaped."""
    return printable_line(text).replace("|", "\\|") or "-"


def _when(moment: datetime | None, tz: tzinfo | None) -> str:
    return "-" if moment is None else moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def _clock(moment: datetime, tz: tzinfo | None) -> str:
    return moment.astimezone(tz).strftime("%H:%M:%S")


def _gaps_text(record: TaskRecord) -> str:
    if not record.gaps:
        return "none"
    total = sum(gap.seconds for gap in record.gaps)
    return f"{len(record.gaps)}, {format_duration(total)}"


def render_markdown(report: Report, *, tz: tzinfo | None = None) -> str:
    """The report as Markdown: readable in a terminal, pasteable into a ticket.

    Args:
        report: from `build_report`.
        tz: the time zone of the times shown (default: this machine's).
    """
    lines: list[str] = []
    title = f"# Broadcast report: profile {printable_line(report.profile)}"
    lines.append(title if report.profile else "# Broadcast report")
    lines.append("")
    if report.start is None or report.end is None:
        lines.append("The journal holds no events in this period.")
        return "\n".join(lines) + "\n"
    offset = report.start.astimezone(tz).strftime("%z")
    zone = f"UTC{offset[:3]}:{offset[3:]}" if offset else "local time"
    restarts = len(report.sessions) - 1 if report.sessions else 0
    lines.append(
        f"From {_when(report.start, tz)} to {_when(report.end, tz)} ({zone}), "
        f"{format_duration((report.end - report.start).total_seconds())}; "
        f"{report.events} events; {len(report.tasks)} tasks; "
        f"{restarts} console restart{'s' if restarts != 1 else ''}."
    )
    lines += ["", "## Tasks", ""]
    if report.tasks:
        lines.append(
            "| Task | Tag | Stream | Lang | First seen | Last seen | Running | Gaps "
            "| How it ended |"
        )
        lines.append("|---|---|---|---|---|---|---|---|---|")
        for t in report.tasks:
            ended = t.ended + (f" at {_clock(t.ended_at, tz)}" if t.ended_at else "")
            lines.append(
                "| "
                + " | ".join(
                    _cell(value)
                    for value in (
                        t.task_id,
                        t.tag,
                        t.stream,
                        t.language,
                        _when(t.first_seen, tz),
                        _when(t.last_seen, tz),
                        format_duration(t.running_seconds),
                        _gaps_text(t),
                        ended,
                    )
                )
                + " |"
            )
        gapped = [t for t in report.tasks if t.gaps]
        if gapped:
            lines += ["", "Gaps (the task is counted as running through them):", ""]
            for t in gapped:
                for gap in t.gaps:
                    lines.append(
                        f"- {_cell(t.task_id)}: {_clock(gap.start, tz)}-{_clock(gap.end, tz)} "
                        f"({format_duration(gap.seconds)}) {_cell(gap.what)}"
                    )
    else:
        lines.append("No task in this period.")
    for heading, episodes in (("API outages", report.outages), ("Throttling", report.throttling)):
        lines += ["", f"## {heading}", ""]
        if not episodes:
            lines.append("None.")
            continue
        total = sum(e.seconds for e in episodes)
        lines.append(f"{len(episodes)}, {format_duration(total)} in all.")
        lines += ["", "| Began | Ended | Duration | Error |", "|---|---|---|---|"]
        for e in episodes:
            ended = "(still going)" if e.open else _when(e.end, tz)
            lines.append(
                f"| {_when(e.start, tz)} | {ended} | {format_duration(e.seconds)} | "
                f"{_cell(e.code)}: {_cell(e.message)} |"
            )
    lines += ["", "## Operator actions", ""]
    if report.actions:
        lines += ["| Time | Action | Task | Result |", "|---|---|---|---|"]
        for a in report.actions:
            ok = "ok" if a.detail.get("ok", True) else "failed"
            lines.append(
                f"| {_when(a.time, tz)} | {_cell(str(a.detail.get('action', '')))} | "
                f"{_cell(a.task_id)} | {ok} |"
            )
    else:
        lines.append("None.")
    lines += ["", "## Timeline", ""]
    for event in report.timeline:
        lines.append(f"- {_when(event.time, tz)} {event.kind}: {_cell(event.message)}")
    return "\n".join(lines) + "\n"


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _span_json(span: Span) -> dict[str, Any]:
    return {
        "start": _iso(span.start),
        "end": _iso(span.end),
        "seconds": span.seconds,
        "what": span.what,
    }


def _episode_json(e: Episode) -> dict[str, Any]:
    return {
        "start": _iso(e.start),
        "end": _iso(e.end),
        "seconds": e.seconds,
        "code": e.code,
        "message": e.message,
        "open": e.open,
    }


def report_json(report: Report) -> dict[str, Any]:
    """The report as a JSON-ready object (times ISO-8601, durations in seconds)."""
    return {
        "profile": report.profile,
        "start": _iso(report.start),
        "end": _iso(report.end),
        "events": report.events,
        "sessions": [_iso(s) for s in report.sessions],
        "tasks": [
            {
                "task_id": t.task_id,
                "tag": t.tag,
                "stream": t.stream,
                "language": t.language,
                "first_seen": _iso(t.first_seen),
                "last_seen": _iso(t.last_seen),
                "running_seconds": t.running_seconds,
                "runs": [_span_json(run) for run in t.runs],
                "gaps": [_span_json(gap) for gap in t.gaps],
                "ended": t.ended,
                "ended_at": _iso(t.ended_at),
            }
            for t in report.tasks
        ],
        "outages": [_episode_json(e) for e in report.outages],
        "throttling": [_episode_json(e) for e in report.throttling],
        "actions": [a.to_json() for a in report.actions],
        "timeline": [e.to_json() for e in report.timeline],
    }


def render_json(report: Report) -> str:
    """`report_json` as indented JSON text."""
    return json.dumps(report_json(report), ensure_ascii=False, indent=2) + "\n"
