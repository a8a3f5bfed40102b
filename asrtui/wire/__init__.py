"""The Live API wire format: response bodies in, `Task`/`TaskList` values and errors out.

This is the only package that knows wire names (``Tasks``, ``taskId``, ``createdAt``,
``RetCode``, ``Code``...). It is deliberately tolerant of what the documentation and the SDKs
leave open (see ``api-reference.md`` §1): ``Tasks`` arrives as a real map keyed by task id, as
``null``/absent/``{}``, as a map of JSON strings, as one JSON string, as the documentation
generator's ``{"key": "\\"<id>\\": {...}"}`` fragment, or as a list; numbers arrive as strings
and the other way round. It is strict about everything else: a shape it cannot read is a
`MalformedResponseError` naming what was wrong, never a half-parsed table and never another
exception.

Errors arrive on two channels: HTTP 4xx/5xx with a gateway envelope (`error_from_gateway`) and
HTTP 200 with ``RetCode`` other than 2000 (`check_ret_code`).

Server-supplied text that goes into an error message is passed through `asrtui.redact` first,
and body excerpts are short and escaped, so an error never carries a stream token.

The package's modules each own one part: `asrtui.wire.envelope` (the body as one JSON object,
its request id), `asrtui.wire.failures` (the two error channels), `asrtui.wire.tasks` (task
answers into `Task` values), `asrtui.wire.export` (tasks back to wire objects),
`asrtui.wire.stream` (a large listing read in pieces: its task objects while its body
arrives, and a large answer checked in runs), over the small shared pieces of
`asrtui.wire.text`. Callers import the public names from here, but for
`asrtui.wire.stream`'s, which only large answers need: imported from it where one has
arrived, the console's start does not load it.
"""

from __future__ import annotations

from asrtui.wire.envelope import decode_json_object, request_id_of
from asrtui.wire.export import task_to_wire, unread_value
from asrtui.wire.failures import RET_CODE_SUCCESS, check_ret_code, error_from_gateway
from asrtui.wire.tasks import (
    TASK_FIELDS,
    TaskMemo,
    flat_task_objects,
    parse_created_task_id,
    parse_tasks,
)

__all__ = [
    "RET_CODE_SUCCESS",
    "TASK_FIELDS",
    "TaskMemo",
    "check_ret_code",
    "decode_json_object",
    "error_from_gateway",
    "flat_task_objects",
    "parse_created_task_id",
    "parse_tasks",
    "request_id_of",
    "task_to_wire",
    "unread_value",
]
