"""What happened, as values: the events of a broadcast and how two task lists differ.

One definition for every reader of "what happened": ``asrtui tasks --watch --changes`` prints
these events, the console appends them to the journal (`asrtui.journal`), the report
(`asrtui.report`) summarises them and the alert hooks (`asrtui.hooks`) hand them to the
operator's scripts. So an event is built already masked: its detail holds no stream token,
no account id, no secret of any kind (`asrtui.redact`), and whoever receives one can print,
store or forward it as it is.

`diff_tasks` compares two rounds of a task list. ``updatedAt`` is left out of the comparison:
the service moves it on its own, and an event per task per round would bury the real changes.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any, Final

from asrtui.errors import AuthError, CredentialsError, ThrottledError
from asrtui.models import Task
from asrtui.printable import printable_json, printable_line
from asrtui.redact import mask_url, redact_text, redact_value, stream_host_path

__all__ = [
    "ACTION",
    "API_ERROR_BEGAN",
    "API_ERROR_ENDED",
    "CREDENTIALS_FAILING",
    "CREDENTIALS_RECOVERED",
    "CREDENTIALS_REFRESHED",
    "EVENT_KINDS",
    "SESSION_STARTED",
    "STATUS_CHANGED",
    "TASK_APPEARED",
    "TASK_CHANGED",
    "TASK_ENDED",
    "THROTTLED",
    "ErrorEpisodes",
    "Event",
    "action_event",
    "credentials_event",
    "diff_tasks",
    "error_event",
    "event_line",
    "task_summary",
]

TASK_APPEARED: Final = "task_appeared"
TASK_ENDED: Final = "task_ended"
TASK_CHANGED: Final = "task_changed"
STATUS_CHANGED: Final = "status_changed"
API_ERROR_BEGAN: Final = "api_error_began"
API_ERROR_ENDED: Final = "api_error_ended"
THROTTLED: Final = "throttled"
CREDENTIALS_REFRESHED: Final = "credentials_refreshed"
CREDENTIALS_FAILING: Final = "credentials_failing"
#: Temporary credentials renewed after one or more background refreshes had failed.
CREDENTIALS_RECOVERED: Final = "credentials_recovered"
#: An operator action (stop, delete, create, restart, export, profile switch).
ACTION: Final = "action"
#: A console (or a watch) started writing: the "restarted here" mark between two sessions.
SESSION_STARTED: Final = "session_started"

#: Every kind, in the order the help lists them.
EVENT_KINDS: Final = (
    TASK_APPEARED,
    TASK_ENDED,
    TASK_CHANGED,
    STATUS_CHANGED,
    API_ERROR_BEGAN,
    API_ERROR_ENDED,
    THROTTLED,
    CREDENTIALS_REFRESHED,
    CREDENTIALS_FAILING,
    CREDENTIALS_RECOVERED,
    ACTION,
    SESSION_STARTED,
)

#: Fields of `Task` compared between two rounds (``updated_at``, ``raw`` and ``extra`` are not).
_COMPARED: Final = (
    "mode",
    "language",
    "target_languages",
    "translate_enabled",
    "tag",
    "stream_url",
    "callback_url",
    "created_at",
    "report_interval",
    "auto_terminate_delay",
)


#: The compared fields of a task at once (one C call, not ten ``getattr``: 10,000 tasks a round).
_compared_of = attrgetter(*_COMPARED)


@dataclass(frozen=True)
class Event:
    """One thing that happened, at one time, already free of secrets.

    Attributes:
        time: when it happened (timezone-aware).
        kind: one of `EVENT_KINDS` (a reader meeting an unknown kind keeps it as is).
        task_id: the task it is about, empty when it is about no task.
        detail: JSON-ready facts: the task's tag/stream/language, the changed fields as
            ``[old, new]``, the error code, the action... Never a secret.
        message: one readable line saying what happened.
    """

    time: datetime
    kind: str
    task_id: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        """The event as a JSON object (what the journal stores and a hook reads)."""
        record: dict[str, Any] = {"time": self.time.isoformat(), "kind": self.kind}
        if self.task_id:
            record["task"] = self.task_id
        if self.detail:
            record["detail"] = dict(self.detail)
        if self.message:
            record["message"] = self.message
        return record

    def to_line(self) -> str:
        """`to_json` as one line of JSON: no line break or terminal control whatever it holds."""
        return printable_json(
            json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":"), default=str)
        )

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> Event:
        """Read back an object written by `to_json`.

        Raises:
            ValueError: the object is not an event (no readable time or kind).
        """
        time_text = record.get("time")
        kind = record.get("kind")
        if not isinstance(time_text, str) or not isinstance(kind, str) or not kind:
            raise ValueError("not an event: it needs a time and a kind")
        try:
            time = datetime.fromisoformat(time_text)
        except ValueError:
            raise ValueError(f"not an event: unreadable time {time_text[:40]!r}") from None
        if time.tzinfo is None:
            time = time.replace(tzinfo=UTC)
        task = record.get("task", "")
        detail = record.get("detail", {})
        message = record.get("message", "")
        return cls(
            time=time,
            kind=kind,
            task_id=task if isinstance(task, str) else str(task),
            detail=detail if isinstance(detail, Mapping) else {"value": detail},
            message=message if isinstance(message, str) else str(message),
        )


def _plain(value: Any) -> Any:
    """A field's value as JSON, masked: a datetime as ISO text, a tuple as a list."""
    if isinstance(value, datetime):
        return value.isoformat()
    masked = redact_value(value)
    if isinstance(masked, tuple):
        return list(masked)
    return masked


def task_summary(task: Task) -> dict[str, Any]:
    """What identifies a task to a person, masked: tag, mode, language, stream host and path.

    The stream is shown as host and path only: its query is where ``auth_key`` lives.
    """
    summary: dict[str, Any] = {
        "tag": task.tag,
        "mode": task.mode,
        "language": task.language,
        "stream": stream_host_path(task.stream_url),
        "status": task.status_label,
    }
    if task.target_languages:
        summary["target_languages"] = list(task.target_languages)
    if task.created_at is not None:
        summary["created_at"] = task.created_at.isoformat()
    return {key: redact_value(value) for key, value in summary.items()}


def _name(task: Task) -> str:
    label = printable_line(task.tag) if task.tag else stream_host_path(task.stream_url)
    return f"{task.task_id} ({printable_line(label)})" if label else task.task_id


def diff_tasks(
    before: Mapping[str, Task] | None, after: Sequence[Task], now: datetime
) -> list[Event]:
    """The events between two rounds of the task list.

    Args:
        before: the previous round by task id; ``None`` on the first round, where every task
            present is reported as appeared.
        after: this round's tasks (the running ones, as the API lists them).
        now: the time of this round.

    Returns:
        Appeared, ended (absent from this round, or no longer running), status and field
        changes, in a stable order: by kind of change, then by task id.
    """
    previous = before or {}
    current = {task.task_id: task for task in after}
    events: list[Event] = []
    for task_id in sorted(current.keys() - previous.keys()):
        task = current[task_id]
        events.append(
            Event(now, TASK_APPEARED, task_id, task_summary(task), f"task {_name(task)} appeared")
        )
    for task_id in sorted(previous.keys() & current.keys()):
        old, new = previous[task_id], current[task_id]
        if old is new or (old.status == new.status and _compared_of(old) == _compared_of(new)):
            continue  # unchanged (the same object, or equal where it matters)
        if old.status != new.status:
            detail = task_summary(new) | {"from": old.status_label, "to": new.status_label}
            events.append(
                Event(
                    now,
                    STATUS_CHANGED,
                    task_id,
                    detail,
                    f"task {_name(new)} status {old.status_label} -> {new.status_label}",
                )
            )
        changed = {
            name: [_plain(getattr(old, name)), _plain(getattr(new, name))]
            for name in _COMPARED
            if getattr(old, name) != getattr(new, name)
        }
        if changed:
            events.append(
                Event(
                    now,
                    TASK_CHANGED,
                    task_id,
                    {"changes": changed, "tag": redact_value(new.tag)},
                    f"task {_name(new)} changed: {', '.join(changed)}",
                )
            )
    for task_id in sorted(previous.keys() - current.keys()):
        task = previous[task_id]
        events.append(
            Event(now, TASK_ENDED, task_id, task_summary(task), f"task {_name(task)} ended")
        )
    return events


def error_event(kind: str, now: datetime, error: BaseException | None, text: str = "") -> Event:
    """An API error (began, ended, throttled, credentials failing) as an event.

    The message is masked again (`asrtui.redact.redact_text`): an error's text is built without
    secrets, and this keeps it so if one ever slipped in.
    """
    detail: dict[str, Any] = {}
    if error is not None:
        detail["error"] = type(error).__name__
        code = getattr(error, "code", "")
        if isinstance(code, str) and code:
            detail["code"] = code
        text = text or str(error)
    return Event(now, kind, "", detail, printable_line(redact_text(mask_url(text))))


def action_event(
    action: str,
    now: datetime,
    *,
    task_id: str = "",
    ok: bool = True,
    note: str = "",
    **facts: Any,
) -> Event:
    """An operator action (``stop``, ``delete``, ``create``, ``restart``, ``export``,
    ``profile_switch``): what was done, to which task, whether it worked."""
    detail: dict[str, Any] = {"action": action, "ok": ok}
    detail |= {name: _plain(value) for name, value in facts.items() if value is not None}
    what = f"{action} {task_id}".strip()
    message = f"{what}: {note}" if note else what
    if not ok:
        message = f"{message} (failed)"
    return Event(now, ACTION, task_id, detail, printable_line(redact_text(mask_url(message))))


def credentials_event(
    kind: str,
    now: datetime,
    *,
    mode: str,
    key_id: str,
    expiration: datetime | None,
    renewals: int,
    failed: str = "",
) -> Event:
    """A renewal of temporary credentials (``credentials_refreshed``, or
    ``credentials_recovered`` when it ends failed refreshes) as an event.

    ``key_id`` comes already masked; it is masked again (`asrtui.redact.redact_text`) with
    everything else, so the event holds the mode, the new expiry and a masked key id, never a
    secret or a token. ``failed`` is why the last refresh before this one failed.
    """
    detail: dict[str, Any] = {"mode": mode, "renewals": renewals}
    if key_id:
        detail["key_id"] = key_id
    if expiration is not None:
        detail["expiration"] = expiration.isoformat()
    if failed:
        detail["failed"] = printable_line(redact_text(failed))
    until = (
        f", valid until {expiration.astimezone(UTC):%H:%M:%S} UTC" if expiration is not None else ""
    )
    key = f" ({key_id})" if key_id else ""
    what = "renewed again after failed refreshes" if failed else "renewed"
    message = f"{mode} credentials {what}{key}{until}"
    masked = {name: redact_value(value) for name, value in detail.items()}
    return Event(now, kind, "", masked, printable_line(redact_text(mask_url(message))))


def event_line(event: Event) -> str:
    """One readable line for a terminal: local time, kind, message (control characters escaped)."""
    stamp = event.time.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    return printable_line(f"{stamp}  {event.kind:<21} {event.message}")


def with_time(event: Event, now: datetime) -> Event:
    """The same event at another time (tests and the journal's clock)."""
    return dataclasses.replace(event, time=now)


class ErrorEpisodes:
    """Turns each round's outcome into episode events: began (or throttled, or credentials
    failing) at the first failure, ended at the first success after it; nothing in between.

    One episode at a time: a failure of another kind while one is open does not start another,
    so the report counts the time the API could not be used once.
    """

    def __init__(self) -> None:
        self.open: Event | None = None

    def failed(self, error: BaseException, now: datetime) -> Event | None:
        """A round failed: the episode's first event, or ``None`` if one is open."""
        if self.open is not None:
            return None
        if isinstance(error, ThrottledError):
            kind = THROTTLED
        elif isinstance(error, (AuthError, CredentialsError)):
            kind = CREDENTIALS_FAILING
        else:
            kind = API_ERROR_BEGAN
        self.open = error_event(kind, now, error)
        return self.open

    def succeeded(self, now: datetime) -> Event | None:
        """A round succeeded: the end of the open episode, if any."""
        if self.open is None:
            return None
        began, self.open = self.open, None
        seconds = (now - began.time).total_seconds()
        return Event(
            now,
            API_ERROR_ENDED,
            "",
            {
                "began": began.time.isoformat(),
                "seconds": seconds,
                "code": began.detail.get("code", ""),
            },
            f"the API answers again after {seconds:.0f} s",
        )
