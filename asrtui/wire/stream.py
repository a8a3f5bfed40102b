"""The task objects of a large listing, read while its body is still arriving.

At 100,000 tasks the body is some 50 MB: it takes a while to arrive, and decoding it only once
it is whole leaves that time unused. `TaskObjectStream` is fed each chunk as it is read and
cuts off, as soon as they are complete, runs of members of the ``Tasks`` map (the documented
shape: ``"Tasks":{"<id>":{...},...}``), each decoded in C and handed on in the server's order.

Nothing is guessed. A run is cut just after a ``}`` followed by ``,"``, and is kept only if
``{`` + run + ``}`` decodes. The reading starts at a place shown to be where ``Tasks``'s
members start (the members before it decode), and decoding is the same reading from the same
place: a cut inside a string, or inside a task, cannot decode, so a run that does is made of
whole members. At the end (`TaskObjectStream.finish`) the rest of ``Tasks`` is read from the
whole answer, and the end of ``Tasks`` and the members after it are checked the same way, so
the objects handed on are exactly `asrtui.wire.flat_task_objects`' for that answer.

Once the answer has arrived whole, `TaskObjectStream.envelope` can spare the client decoding
it again (50 MB checked a second time): the rest of ``Tasks`` and the members after it are
read as `finish` reads them, the end of ``Tasks`` found by decoding (JSON is read one way
only: a split of the rest that decodes is the answer's), and the envelope is
`asrtui.wire.decode_json_object`'s for that body, ``Tasks`` kept as the same bytes.

The stream only takes what `asrtui.wire.flat_task_objects` vouches for, and stricter: objects
of text, integers, booleans and nulls (no floats: their text is the standard library's
business), each with a non-empty text ``taskId``, and no task id twice. On anything else it
stops taking chunks and `finish` says no: the caller reads the answer the usual way, with its
tolerance and its errors. It never raises on what a server sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Final

from asrtui.wire import envelope as wire_envelope
from asrtui.wire.envelope import RawTasks
from asrtui.wire.text import _reject_constant

__all__ = ["TaskObjectStream", "TaskRunStream", "decode_large_answer", "split_in_runs"]

#: Where the members of ``Tasks`` start, in a compact answer.
_TASKS_START: Final = b'"Tasks":{'
#: Bytes gathered before a run is cut: enough for the C decoder to run at full speed.
_RUN_BYTES: Final = 256 * 1024
#: The start of ``Tasks`` must be found within this many bytes of the answer.
_HEAD_BYTES: Final = 64 * 1024
#: Cuts tried, from the last one back, before waiting for more bytes.
_CUTS_TRIED: Final = 4
#: Bytes waiting uncut before the stream gives up (a task this large is not the usual one).
_MAX_PENDING: Final = 8 * 1024 * 1024
#: A member ends with ``}``, the next one starts with ``,"``.
_CUT: Final = b'},"'
#: JSON's whitespace, which may follow the answer's last ``}``.
_WHITESPACE: Final = b" \t\n\r"


class TaskObjectStream:
    """Feeds a listing's task objects to ``consume`` as runs of them arrive.

    Args:
        consume: called with each run of task objects (new dicts, the caller's to change),
            in the server's order; with no more once the stream declines. If it raises,
            the stream declines (the answer is then read the usual way).
    """

    def __init__(self, consume: Callable[[list[dict[str, Any]]], None]) -> None:
        import msgspec  # loaded by the listings that stream only

        self._consume = consume
        self._decode_runs = msgspec.json.Decoder(dict[str, dict[str, str | int | bool | None]])
        self._decode_members = msgspec.json.Decoder(dict[str, msgspec.Raw])
        self._errors = (msgspec.DecodeError, ValueError, RecursionError)
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._head = b""
        #: Offset in the body of the first byte of ``Tasks``'s members (-1: not found yet).
        self._start = -1
        #: Bytes of members (and the commas between them) handed on so far.
        self._taken = 0
        self._ids: set[str] = set()
        self._next_try = _RUN_BYTES
        self._count = 0
        #: The members before ``Tasks``, undecoded.
        self._before: dict[str, Any] = {}
        #: The envelope `envelope` made (then `finish` has nothing left to read).
        self._envelope: dict[str, Any] | None = None
        self.declined = False

    def __call__(self, chunk: bytes) -> None:
        """Take the next chunk of the body."""
        if self.declined or not chunk:
            return
        try:
            if self._start < 0:
                self._find_start(chunk)
            else:
                self._pending.append(chunk)
                self._pending_size += len(chunk)
                if self._pending_size >= self._next_try:
                    self._cut()
        except self._errors:  # pragma: no cover - each step catches its own
            self.declined = True

    def finish(self, envelope: Mapping[str, Any]) -> bool:
        """Hand on the last objects; whether every task object of ``envelope`` went to ``consume``.

        ``envelope`` is the whole answer as `asrtui.wire.decode_json_object` decoded it.
        ``False``: the stream declined (the objects handed on, if any, are to be dropped).
        """
        if self._envelope is not None and not self.declined:
            return envelope is self._envelope
        if self.declined or self._start < 0 or "Tasks" not in envelope:
            return self._decline()
        tasks = envelope["Tasks"]
        if not isinstance(tasks, RawTasks):  # a small answer, decoded whole
            return self._decline()
        rest = b"".join(self._pending)
        self._pending.clear()
        # If ``Tasks`` is the member read, its members end here, just before its ``}``:
        end = len(tasks.data) - 2 - self._taken
        if end < 0 or rest[end : end + 1] != b"}" or rest[end + 1 : end + 2] not in (b",", b"}"):
            return self._decline()
        if end and not self._take(rest[:end]):
            return self._decline()
        # The members decoded from a member boundary up to ``end``: the ``}`` there closes
        # ``Tasks``. What follows must be the envelope's last members, none of them ``Tasks``.
        after = rest[end + 1 :]
        if after[:1] == b",":
            try:
                members = self._decode_members.decode(b"{" + after[1:])
            except self._errors:
                return self._decline()
            if "Tasks" in members:
                return self._decline()
        return self._count > 0 or self._decline()

    def envelope(self, body: bytes | bytearray) -> dict[str, Any] | None:
        """The whole answer ``body`` as `asrtui.wire.decode_json_object` decodes it, or ``None``.

        ``body`` is the chunks given, joined. The last objects are handed on here, and
        `finish` then only says whether this envelope is the one read. ``None``: the stream
        declines, and the body is to be decoded the usual way (its errors included).
        """
        if self.declined or self._start < 0 or len(body) < wire_envelope.RAW_TASKS_BYTES:
            return None
        try:
            return self._read_envelope(body)
        except self._errors:
            self._decline()
            return None

    def _read_envelope(self, body: bytes | bytearray) -> dict[str, Any] | None:
        rest = b"".join(self._pending)
        self._pending.clear()
        if len(body) != self._start + self._taken + len(rest) or not body.endswith(rest):
            self._decline()
            return None
        # ``Tasks`` last: its members, its ``}``, the answer's ``}``. Else the members after
        # it follow a ``},"``: the split whose two sides decode (a body is read one way only).
        tail = rest.rstrip(_WHITESPACE)
        ends = [len(tail) - 2] if tail.endswith(b"}}") else []
        found = len(tail)
        for _ in range(_CUTS_TRIED):
            found = rest.rfind(_CUT, 0, found)
            if found < 0:
                break
            ends.append(found)
        for end in ends:
            after_text = b"" if end == len(tail) - 2 else rest[end + 1 :]
            try:
                after = self._decode_members.decode(b"{" + after_text[1:]) if after_text else {}
            except self._errors:
                continue
            if not self._take(rest[:end]):
                if self.declined:
                    return None
                continue
            if "Tasks" in after:  # ``Tasks`` again: the last one counts
                self._decline()
                return None
            envelope: dict[str, Any] = {}
            for name, raw in self._before.items():
                envelope[name] = self._member(name, raw)
            at = self._start + self._taken + end  # the ``}`` that closes ``Tasks``
            envelope["Tasks"] = RawTasks(memoryview(body)[self._start - 1 : at + 1])
            for name, raw in after.items():
                envelope[name] = self._member(name, raw)
            self._envelope = envelope
            return envelope
        self._decline()
        return None

    @staticmethod
    def _member(name: str, raw: Any) -> Any:
        """A member's value, as `asrtui.wire.decode_json_object` decodes a large answer's.

        Raises:
            ValueError: the value is not UTF-8 (the C decoder lets such strings through; the
                usual reading says what is wrong), or holds ``NaN`` or the like.
        """
        text = bytes(raw).decode("utf-8")
        if name == "tasks":  # kept as bytes there too
            return RawTasks(memoryview(raw))
        return json.loads(text, parse_constant=_reject_constant)

    def _decline(self) -> bool:
        self.declined = True
        self._pending.clear()
        self._ids.clear()
        return False

    def _find_start(self, chunk: bytes) -> None:
        """Find where ``Tasks``'s members start, and show that it is a member's start."""
        head = self._head + chunk
        at = head.find(_TASKS_START)
        if at < 0:
            self._head = head
            if len(head) > _HEAD_BYTES:
                self._decline()
            return
        self._head = b""
        before = head[:at]
        if before != b"{":
            if before[:1] != b"{" or before[-1:] != b",":
                self._decline()
                return
            try:  # the members before ``Tasks`` (one of them ``Tasks`` again: declined)
                members = self._decode_members.decode(before[:-1] + b"}")
            except self._errors:
                self._decline()
                return
            if "Tasks" in members:
                self._decline()
                return
            self._before = members
        self._start = at + len(_TASKS_START)
        rest = head[self._start :]
        if rest:
            self._pending.append(rest)
            self._pending_size = len(rest)

    def _cut(self) -> None:
        """Hand on the complete members waiting, keeping what follows the last cut."""
        data = b"".join(self._pending)
        limit = len(data)
        for _ in range(_CUTS_TRIED):
            cut = data.rfind(_CUT, 0, limit)
            if cut < 0:
                break
            if self._take(data[: cut + 1]):
                rest = data[cut + 2 :]
                self._pending = [rest] if rest else []
                self._pending_size = len(rest)
                self._taken += cut + 2
                self._next_try = _RUN_BYTES
                return
            if self.declined:
                return
            limit = cut
        self._pending = [data]
        self._next_try = 2 * len(data)  # not again at every chunk: the cost would be quadratic
        if len(data) > _MAX_PENDING:
            self._decline()

    def _utf8(self, run: bytes) -> bool:
        """Whether ``run`` is UTF-8; the stream declines for good if not.

        The C decoder lets bytes that are not UTF-8 through in strings; the usual reading says
        what is wrong with them.
        """
        if run.isascii():
            return True
        try:
            run.decode("utf-8")
        except UnicodeDecodeError:
            self._decline()
            return False
        return True

    def _take(self, run: bytes) -> bool:
        """Decode ``run`` (whole members) and hand its objects on; ``False`` if it does not decode.

        Declines for good on a run that decodes but is not what the stream takes.
        """
        if not self._utf8(run):
            return False
        import msgspec

        try:
            members = self._decode_runs.decode(b"{" + run + b"}")
        except msgspec.ValidationError:  # a float, a container: not for the stream
            self._decline()
            return False
        except self._errors:  # not a run of whole members (or a value msgspec refuses)
            return False
        objects = list(members.values())
        ids = [obj.get("taskId") for obj in objects]
        if set(map(type, ids)) != {str} or "" in ids:
            self._decline()
            return False
        known = len(self._ids)
        self._ids.update(members)
        if len(self._ids) != known + len(members):  # a key again: the whole map keeps one
            self._decline()
            return False
        self._count += len(objects)
        try:
            self._consume(objects)
        except Exception:  # a fault of ours: the usual reading gives the same text, or the error
            self._decline()
            return False
        return True


#: Bytes of a whole body given to `TaskRunStream` at a time by `split_in_runs`.
_FEED_BYTES: Final = 256 * 1024


class TaskRunStream(TaskObjectStream):
    """`TaskObjectStream`'s cutting of ``Tasks`` into runs of whole members, making no object.

    Each run is checked as JSON (``{`` + run + ``}`` decodes, to msgspec ``Raw``: nothing is
    built from it) and where it lies is kept (`runs`), so that `asrtui.wire.parse_tasks`
    can cut the members out of the runs only when ``Tasks`` changed, each run in its own
    short call. An answer received unchanged (the usual refresh) costs the check alone, and
    no object per task is made and dropped each second.
    """

    def __init__(self) -> None:
        super().__init__(_ignore)
        import msgspec

        self._check = msgspec.json.Decoder(msgspec.Raw)
        #: ``(start, end)`` of each run in ``Tasks``'s bytes (its ``{`` is at 0).
        self.runs: list[tuple[int, int]] = []

    def _take(self, run: bytes) -> bool:
        if not self._utf8(run):
            return False
        try:
            self._check.decode(b"".join((b"{", run, b"}")))  # one copy
        except self._errors:  # not a run of whole members (or a value msgspec refuses)
            return False
        if run:
            start = 1 + self._taken  # the members start just after ``Tasks``'s ``{``
            self.runs.append((start, start + len(run)))
        self._count += 1
        return True

    def _decline(self) -> bool:
        self.runs.clear()
        return super()._decline()


def _ignore(objects: list[dict[str, Any]]) -> None:
    """`TaskRunStream` hands nothing on."""


def split_in_runs(body: bytes | bytearray) -> dict[str, Any] | None:
    """A large answer's envelope as `asrtui.wire.decode_json_object` gives it, made in runs.

    ``Tasks`` is `RawTasks` over the same bytes, with where its runs of members lie
    (`RawTasks.runs`). ``None`` where the stream declines (another layout, odd bytes): the
    answer is then split the usual way, with its errors.
    """
    stream = TaskRunStream()
    view = memoryview(body)
    for start in range(0, len(view), _FEED_BYTES):
        stream(view[start : start + _FEED_BYTES].tobytes())
        if stream.declined:
            return None
    envelope = stream.envelope(body)
    if envelope is None:
        return None
    tasks = envelope["Tasks"]
    if isinstance(tasks, RawTasks):  # always: it is the member the stream read
        tasks.runs = tuple(stream.runs)
    return envelope


def decode_large_answer(
    body: bytes | bytearray, *, http_status: int = 200, request_id_hint: str = ""
) -> dict[str, Any]:
    """`asrtui.wire.decode_json_object` for a large answer, in short steps where it can be.

    From `asrtui.wire.envelope.SPLIT_IN_RUNS_BYTES` the answer is split in runs
    (`split_in_runs`), the same envelope; any body that way declines, or a smaller one, is
    decoded by `asrtui.wire.decode_json_object` itself, with its errors.
    """
    if len(body) >= wire_envelope.SPLIT_IN_RUNS_BYTES:
        split = split_in_runs(body)
        if split is not None:
            return split
    return wire_envelope.decode_json_object(
        body, http_status=http_status, request_id_hint=request_id_hint
    )
