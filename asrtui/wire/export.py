"""Tasks back out: the wire object of a task for export, and the values the parser could not read.

`asrtui.output`, the detail pane and the clipboard write what the server sent through these,
so an export shows a value as received even where the parser had to leave a field empty.
"""

from __future__ import annotations

from typing import Any, Final

from asrtui.jsontext import RawJSON, copy_value, tame, to_text
from asrtui.models import Task

__all__ = ["task_to_wire", "unread_value"]


# --------------------------------------------------------------------------------------------
# Values that could not be read

#: The known fields that are parsed into something else than text, by wire name.
_READ_FIELDS: Final = {
    "created_at": "createdAt",
    "updated_at": "updatedAt",
    "report_interval": "reportInterval",
    "auto_terminate_delay": "autoTerminateDelay",
    "translate_enabled": "translateEnabled",
}


def unread_value(task: Task, field: str) -> str | None:
    """What the server sent for a known field that could not be read, as text, else ``None``.

    ``createdAt: "yesterday"`` leaves ``Task.created_at`` ``None``, as an absent one does; the
    views show this text instead (marked), so that a value is never dropped silently.

    Args:
        task: the task.
        field: a `Task` field name (``created_at``, ``report_interval``...).
    """
    name = _READ_FIELDS.get(field)
    if name is None or getattr(task, field, None) is not None:
        return None
    value = task.raw.get(name)
    if value is None:
        return None
    return value if isinstance(value, str) else to_text(value)


# --------------------------------------------------------------------------------------------
# Export


def task_to_wire(task: Task) -> dict[str, Any]:
    """The wire object of a task for JSON export: a copy of what was received, at any depth.

    A value nested too deeply to walk is a `asrtui.jsontext.RawJSON` (written back verbatim
    by `asrtui.jsontext.to_text`).

    A task built in code (with no ``raw``) is written in the wire's own shape and types.
    Secrets are not masked here: pass the result through `asrtui.redact.redact_task_dict`
    unless the user asked for them.
    """
    if task.raw:
        # A known field may hold a deep value too (the parser keeps only unknown ones as text,
        # for speed): here each is kept as text as well, so a view shows it on one marked line.
        wire_object: dict[str, Any] = {}
        for name, value in task.raw.items():
            kept = tame(value)
            wire_object[name] = kept if isinstance(kept, RawJSON) else copy_value(kept)
        return wire_object
    wire: dict[str, Any] = {
        "taskId": task.task_id,
        "status": task.status,
        "mode": task.mode,
        "language": task.language,
        "tag": task.tag,
        "streamUrl": task.stream_url,
        "callbackUrl": task.callback_url,
        "aliUid": task.ali_uid,
    }
    if task.created_at is not None:
        wire["createdAt"] = task.created_at.isoformat()
    if task.updated_at is not None:
        wire["updatedAt"] = task.updated_at.isoformat()
    if task.report_interval is not None:
        wire["reportInterval"] = str(task.report_interval)
    if task.auto_terminate_delay is not None:
        wire["autoTerminateDelay"] = str(task.auto_terminate_delay)
    if task.target_languages:
        wire["targetLanguages"] = list(task.target_languages)
    if task.translate_enabled is not None:
        wire["translateEnabled"] = task.translate_enabled
    wire.update(copy_value(task.extra))
    return wire
