"""The answer as a whole: a body that must be one JSON object, and its ``RequestId``.

Every answer passes here first (`decode_json_object`); the two error channels
(`asrtui.wire.failures`) and the task parser (`asrtui.wire.tasks`) read the decoded envelope.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Mapping
from typing import Any

from asrtui.errors import MalformedResponseError
from asrtui.redact import redact_text
from asrtui.wire.text import (
    _EXCERPT_CHARS,
    _MALFORMED_HINT,
    _excerpt,
    _first_text,
    _header,
    _kind,
    _loads,
    _one_line,
    _reject_constant,
)

__all__ = [
    "RAW_TASKS_BYTES",
    "SPLIT_IN_RUNS_BYTES",
    "RawTasks",
    "decode_json_object",
    "request_id_of",
]

#: Bodies from this size up are checked and split in runs of members
#: (`asrtui.wire.stream.TaskRunStream`), each checked in its own short call, rather than in
#: one call over the whole body: a console decodes a listing in a worker thread, and a C call
#: holds the interpreter lock for all of its time (26 ms at 100,000 tasks, and 45 more to cut
#: ``Tasks`` into tasks when it changed), which the event loop and a key pressed then waited
#: for. Between runs the lock changes hands as it does between any two Python steps.
SPLIT_IN_RUNS_BYTES = 4 * 1024 * 1024
#: Bodies from this size up keep their ``Tasks`` member as bytes (`RawTasks`): a console asks
#: for the same tens of thousands of tasks every second and most are received unchanged, so
#: `asrtui.wire.parse_tasks` reads only the tasks whose bytes changed. Smaller answers are
#: decoded whole: the saving would not pay for the extra step.
RAW_TASKS_BYTES = 256 * 1024


class RawTasks:
    """The ``Tasks`` member of a large answer, not yet decoded: its bytes, as received.

    Only `asrtui.wire.parse_tasks` reads it. The bytes are valid JSON (the answer was checked
    whole when it was split), so decoding them never fails for a reason the body would not.
    """

    __slots__ = ("data", "runs")

    def __init__(
        self, data: bytes | memoryview, runs: tuple[tuple[int, int], ...] | None = None
    ) -> None:
        self.data = data
        #: Where the runs of whole members lie in ``data`` (``(start, end)``, in order), when
        #: the answer was split in runs (`SPLIT_IN_RUNS_BYTES`): the map's members are those
        #: of ``{`` + each run + ``}``, in order, exactly what decoding ``data`` whole gives.
        self.runs = runs

    def __repr__(self) -> str:  # the bytes hold stream URLs with live tokens
        return f"RawTasks({len(self.data)} bytes)"


def request_id_of(
    envelope: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None
) -> str:
    """The ``RequestId`` of an answer, from its body or else its ``x-acs-request-id`` header.

    Args:
        envelope: the decoded body, if it could be decoded.
        headers: the response headers.

    Returns:
        The request id, or ``""`` when the answer carries none.
    """
    if isinstance(envelope, Mapping):
        found = _first_text(envelope, ("RequestId", "requestId"))
        if found:
            return found[:128]
    return _one_line(_header(headers, "x-acs-request-id"))[:128]


def decode_json_object(
    body: bytes | bytearray, *, http_status: int = 200, request_id_hint: str = ""
) -> dict[str, Any]:
    """Decode a response body that must be one JSON object.

    Args:
        body: the raw body bytes.
        http_status: the HTTP status, carried into the error.
        request_id_hint: the request id from the headers, carried into the error.

    Returns:
        The decoded object.

    Raises:
        MalformedResponseError: empty, non-UTF-8, HTML, truncated or invalid JSON, or a JSON
            value other than an object. The message quotes at most a short escaped excerpt.
    """
    if len(body) >= RAW_TASKS_BYTES:
        split = None
        if len(body) >= SPLIT_IN_RUNS_BYTES:
            from asrtui.wire.stream import split_in_runs  # large answers only

            split = split_in_runs(body)
        if split is None:
            split = _split_object(body)
        if split is not None:
            return split
    value, problem, excerpt = _read_object(body)
    if value is not None:
        return value
    status = f"HTTP {http_status} " if http_status and http_status != 200 else ""
    message = f"The {status}answer is {problem}"
    if excerpt:
        message += f"; it starts {excerpt}"
    raise MalformedResponseError(
        message, _MALFORMED_HINT, request_id=request_id_hint, http_status=http_status
    )


def _split_object(body: bytes | bytearray) -> dict[str, Any] | None:
    """A large answer's members, ``Tasks`` kept as `RawTasks`; ``None`` to decode it whole.

    msgspec checks the whole body and cuts it into members in C, several times faster than
    the standard library decodes it; each member but ``Tasks`` is then decoded by the same
    decoder as a small answer, so values are exactly what `_read_object` would give. Anything
    msgspec refuses or reads differently (a byte order mark, ``NaN``, bytes that are not UTF-8)
    returns ``None``, and the whole answer takes the usual path with its usual errors.
    """
    import msgspec  # loaded with the first large answer only

    if not body.isascii():  # msgspec lets bytes that are not UTF-8 through in strings
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return None
    try:
        members = msgspec.json.decode(body, type=dict[str, msgspec.Raw])
    except (msgspec.DecodeError, ValueError, RecursionError):
        return None
    out: dict[str, Any] = {}
    for name, raw in members.items():
        data = memoryview(raw)
        if name in ("Tasks", "tasks"):
            out[name] = RawTasks(data)
            continue
        try:
            out[name] = json.loads(data.tobytes(), parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            return None
    return out


def _read_object(body: bytes | bytearray) -> tuple[dict[str, Any] | None, str, str]:
    """Decode a JSON object: ``(value, "", "")``, or ``(None, problem, excerpt)`` saying why not.

    ``problem`` completes "The answer is ..."; ``excerpt`` is a short quoted start of the body.
    """
    if body.startswith(codecs.BOM_UTF8):
        body = body[len(codecs.BOM_UTF8) :]
    if not body.strip():
        return None, "an empty body", ""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        head = body[: _EXCERPT_CHARS * 8].decode("utf-8", "replace")
        return None, f"not UTF-8 text (invalid byte at offset {exc.start})", _excerpt(head)
    stripped = text.strip()
    if stripped.startswith("<"):
        return None, f"{_markup_kind(stripped)}, not JSON", _excerpt(stripped)
    ok, value = _loads(text)
    if not ok:
        return None, _json_failure(text), _excerpt(stripped)
    if not isinstance(value, dict):
        return None, f"a JSON {_kind(value)}, not an object", _excerpt(stripped)
    return value, "", ""


def _markup_kind(text: str) -> str:
    """Describe a markup body: an HTML page (with its title when it has one) or XML."""
    head = text[:2048]
    lowered = head.lower()
    if "<html" not in lowered and "<!doctype html" not in lowered:
        return "XML or HTML markup"
    start = lowered.find("<title>")
    end = lowered.find("</title>", start)
    if start >= 0 and end > start:
        title = " ".join(head[start + len("<title>") : end].split())
        if title:
            return f"an HTML page titled {redact_text(title[:60])!r}"
    return "an HTML page"


def _json_failure(text: str) -> str:
    """Why ``text`` is not JSON (completing "The answer is ..."): truncated, too deep, invalid."""
    try:
        json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
            return f"truncated JSON (it ends after {len(text)} characters)"
        return f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
    except RecursionError:
        return "JSON nested too deeply to read"
    except ValueError as exc:
        return f"not valid JSON ({str(exc).split(':')[0][:80]})"
    return "not valid JSON"  # pragma: no cover - only reached if the decoder changes its mind
