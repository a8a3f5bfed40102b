"""Domain values for real-time ASR tasks: frozen dataclasses that know no wire names.

The only module that knows wire names (``taskId``, ``createdAt``, ``RetCode``...) is
`asrtui.wire`, which turns response bodies into these values.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

#: A JSON value as decoded by the standard library, kept opaque outside the wire parser.
JSONValue = object

#: The one status value seen on the wire, on running tasks.
RUNNING_STATUS = 1


class ReceivedObject(Mapping[str, JSONValue]):
    """A JSON object as received, read-only and compact: its names and its values, in order.

    A task's ``raw`` is one per task, 100,000 of them in a large account: as a dict of 12
    members it is 464 bytes; as two tuples, the names shared by every object received with
    the same names in the same order, it is about 200. It reads as the dict it was made from
    (same items in the same order, equal to it); lookups scan its dozen names.
    """

    __slots__ = ("_names", "_values")

    def __init__(self, members: Mapping[str, JSONValue]) -> None:
        self._names: tuple[str, ...] = _shared_names(tuple(members))
        self._values: tuple[JSONValue, ...] = tuple(members.values())

    @classmethod
    def of(cls, names: tuple[str, ...], values: tuple[JSONValue, ...]) -> ReceivedObject:
        """The object of these member names and values, pairwise (as many of each).

        For a reader that holds both already (the wire parser, 100,000 times for a large
        answer): no dict is made in between.
        """
        made = cls.__new__(cls)
        made._names = _shared_names(names)
        made._values = values
        return made

    def __getitem__(self, name: str) -> JSONValue:
        try:
            return self._values[self._names.index(name)]
        except ValueError:
            raise KeyError(name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return repr(dict(zip(self._names, self._values, strict=True)))


#: The member names of the objects received, each tuple once (`ReceivedObject`); bounded.
_NAMES: dict[tuple[str, ...], tuple[str, ...]] = {}
_MOST_NAMES = 1024


def _shared_names(names: tuple[str, ...]) -> tuple[str, ...]:
    """The one tuple kept of these names (`_NAMES`), or ``names`` once it holds its most."""
    shared = _NAMES.get(names)
    if shared is None:
        shared = names if len(_NAMES) >= _MOST_NAMES else _NAMES.setdefault(names, names)
    return shared


@dataclass(frozen=True, slots=True)
class Task:
    """One real-time ASR task as the API reported it.

    Slotted: a console holds one per task listed (100,000 of them), and an instance dict of
    16 fields is 464 bytes where the slots are 128.

    Attributes:
        task_id: the task id (``asr-...``).
        status: the raw status; ``1`` means running, anything else is shown as received.
        mode: ``live`` or ``rtc`` (or whatever the server sent).
        language: the source language (``cn``, ``en``, ``ja``, ``yue``, ``fspk``...).
        target_languages: translation targets, empty when translation is off or unknown.
        translate_enabled: whether translation is on, ``None`` when the server did not say.
        tag: the user's tag (may be empty).
        stream_url: the pulled stream URL; carries a live ``auth_key``: mask before display.
        callback_url: where results are posted (``default`` for the built-in callback); may
            carry a token too: mask before display.
        created_at: when the task was created (timezone-aware), if parseable.
        updated_at: when the task was last updated (timezone-aware), if parseable.
        report_interval: report interval in milliseconds, if numeric.
        auto_terminate_delay: auto-terminate delay in seconds, if numeric.
        ali_uid: the account id (sensitive: mask before display).
        extra: wire fields this version does not know, kept for the raw view.
        raw: the task object exactly as received, for JSON export and the raw view (a
            `ReceivedObject` when parsed).
    """

    task_id: str
    status: int | str | None = RUNNING_STATUS
    mode: str = ""
    language: str = ""
    target_languages: tuple[str, ...] = ()
    translate_enabled: bool | None = None
    tag: str = ""
    stream_url: str = field(default="", repr=False)
    callback_url: str = field(default="", repr=False)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    report_interval: int | None = None
    auto_terminate_delay: int | None = None
    ali_uid: str = field(default="", repr=False)
    extra: Mapping[str, JSONValue] = field(default_factory=dict, repr=False, compare=True)
    raw: Mapping[str, JSONValue] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_running(self) -> bool:
        """Whether the status is the one value known to mean running."""
        return self.status == RUNNING_STATUS

    @property
    def status_label(self) -> str:
        """``running`` for status 1; any other value shown raw, never guessed."""
        if self.status == RUNNING_STATUS:
            return "running"
        if self.status is None:
            return "?"
        return str(self.status)


@dataclass(frozen=True)
class TaskList:
    """The answer of one query: tasks keyed by id, plus the request id for support."""

    tasks: tuple[Task, ...]
    request_id: str = ""
