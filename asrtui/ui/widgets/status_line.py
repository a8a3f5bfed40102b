"""The always-visible status line: where we are, how fresh the data is, and how the quota fares.

It also warns about this host's clock: the service rejects any request whose timestamp is more
than 15 minutes off its own clock (``InvalidTimeStamp.Expired``), so every call would fail at
once. The client measures the offset from each answer's ``Date`` header; the line shows it from
one minute off (a drifting clock, worth fixing) and turns red from ten minutes (close to the
limit), before the requests start failing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Static

from asrtui.protocols import CredentialsStatus, QuotaStats
from asrtui.ui.durations import format_duration
from asrtui.ui.summary import TaskSummary

#: From this many seconds of clock offset the status line warns (NTP keeps clocks far closer).
CLOCK_WARN_SECONDS = 60.0
#: From this many seconds the warning turns red: the service rejects requests at 15 minutes.
CLOCK_ERROR_SECONDS = 600.0


@dataclass(frozen=True)
class StatusSnapshot:
    """Everything the status line shows, computed by the screen once per tick.

    Equal snapshots render equally, so an unchanged second costs one comparison.

    Attributes:
        profile: the profile name.
        region: the region id.
        data_age: seconds since the last good answer, ``None`` before the first.
        latency: seconds the last good answer took.
        next_in: seconds until the next automatic refresh.
        refreshing: a refresh is in flight.
        paused: automatic refresh is paused.
        interval: the refresh interval in seconds.
        stale: the last refresh failed; the data shown is older than the last attempt.
        error: the last refresh error (``str(error)``), shown while stale.
        quota: the limiter counters (and the measured clock offset, when the source reports
            one), ``None`` when the source could not say.
        read_only: stop and delete are refused.
        bell: the terminal bell is on.
        revealed: secrets are shown in clear.
        shown: rows in view (after the filter).
        total: rows known.
        recent_failures: throttling answers and failed calls in the last 5 minutes (the
            quota's totals are shown when ``None``).
        credentials: the mode and expiry of the credentials, when the source says.
        credentials_left: seconds until the temporary credentials expire, when known.
        marked: marked tasks in view (what stop, delete, copy and export act on).
        marked_hidden: marked tasks the filter or hide-ended leaves out of view.
        summary: running, ended and just-changed tasks (`asrtui.ui.summary`), ``None``
            before the first answer.
        hidden_sort: the sort (``UPDATED▼``) when its column is not on screen, else empty.
    """

    profile: str
    region: str
    data_age: float | None = None
    latency: float | None = None
    next_in: float = 0.0
    refreshing: bool = False
    paused: bool = False
    interval: float = 5.0
    stale: bool = False
    error: str = ""
    quota: QuotaStats | None = None
    read_only: bool = False
    bell: bool = False
    revealed: bool = False
    shown: int = 0
    total: int = 0
    recent_failures: tuple[int, int] | None = None
    credentials: CredentialsStatus | None = None
    credentials_left: float | None = None
    marked: int = 0
    marked_hidden: int = 0
    summary: TaskSummary | None = None
    hidden_sort: str = ""


def clock_offset_of(quota: QuotaStats | None) -> float | None:
    """The measured local-minus-server clock offset in seconds, if the source reports one.

    Read with ``getattr`` so that sources whose stats do not carry the offset still work.
    """
    value = getattr(quota, "clock_offset", None)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def clock_warning(offset: float | None) -> tuple[str, str] | None:
    """The clock badge and its style for an offset, or ``None`` while the clock is close enough.

    ``+`` means this host's clock is ahead of the server's, ``-`` behind.

    Args:
        offset: local minus server clock in seconds, ``None`` when not measured.

    Returns:
        ``(text, style)``, e.g. ``(" CLOCK +7m12s ", "bold black on yellow")``.
    """
    if offset is None or abs(offset) < CLOCK_WARN_SECONDS:
        return None
    sign = "+" if offset > 0 else "-"
    text = f" CLOCK {sign}{format_duration(abs(offset))} "
    if abs(offset) >= CLOCK_ERROR_SECONDS:
        return text, "bold white on red"
    return text, "bold black on yellow"


#: Modes shown in the status line: temporary credentials, whose time left matters.
_STATIC_MODES = frozenset({"AK", "StsToken"})


def credentials_part(status: StatusSnapshot) -> tuple[str, str] | None:
    """`` RamRoleArn 52m`` (dim), or a warning when refreshing them keeps failing.

    Long-term keys show nothing: the line keeps its look for the common case.
    """
    creds = status.credentials
    if creds is None or (creds.mode in _STATIC_MODES and not creds.refresh_error):
        return None
    left = status.credentials_left
    if creds.refresh_error:
        when = (
            "expired"
            if left is not None and left <= 0
            else (f"expire in {format_duration(left)}" if left is not None else "not renewed")
        )
        return (
            f" ⚠ keys {when}: refresh failing",
            "bold yellow" if left and left > 60 else "bold red",
        )
    if left is None:
        return (f" · {creds.mode}", "dim")
    return (f" · {creds.mode} {format_duration(left)}", "dim")


def _limit(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.1f}"


#: A run of text and its style.
_Piece = tuple[str, str]


@dataclass(frozen=True, slots=True)
class _Part:
    """One part of the status line, and from which fitting step on it is left out.

    ``drop`` 0: never left out (what the operator must not miss: the profile, the modes, the
    data's age, errors, a hidden sort, the count of tasks in view); otherwise lower goes
    first.
    """

    pieces: tuple[_Piece, ...]
    drop: int = 0
    sep: bool = True


# What a narrow terminal gives up first, in this order (see `_parts`).
_DROP_BELL = 1
_DROP_NO_ERRORS = 2
_DROP_CHANGED = 3
_DROP_RATE = 4
_DROP_REGION = 5
_DROP_NEXT = 6
_DROP_MODE = 7
_DROP_ENDED = 8
_DROP_RUNNING = 9
_FIT_STEPS: tuple[tuple[bool, bool, int], ...] = (
    (True, False, 0),
    (True, True, 0),
    *((True, True, drop) for drop in range(_DROP_BELL, _DROP_RUNNING + 1)),
)
_SEP: _Piece = (" │ ", "dim")


def render_status(status: StatusSnapshot, width: int = 0) -> Text:
    """The status line as styled text; server strings go in as plain text, never markup.

    Args:
        status: what to show.
        width: the cells available. When the first line does not fit, it is fitted in steps:
            a compact form (no latency, no "ago", no "tasks"), then shorter words, then the
            least needed parts left out one by one (`_Part.drop`); what still does not fit
            is cut with an ellipsis. It never wraps, so it never covers the table. ``0``: no
            limit.
    """
    text = _render(status, compact=False, short=False, drop=0)
    if not width or _first_line_fits(text, width):
        return text
    for compact, short, drop in _FIT_STEPS:
        text = _render(status, compact=compact, short=short, drop=drop)
        if _first_line_fits(text, width):
            return text
    return _cut_first_line(text, width)


def _first_line_fits(text: Text, width: int) -> bool:
    return cell_len(text.plain.split("\n", 1)[0]) <= width


def _cut_first_line(text: Text, width: int) -> Text:
    end = text.plain.find("\n")
    first = text[:end] if end >= 0 else text.copy()
    first.truncate(width, overflow="ellipsis")
    return first if end < 0 else Text.assemble(first, text[end:])


def _render(status: StatusSnapshot, *, compact: bool, short: bool, drop: int) -> Text:
    pieces: list[_Piece] = []
    for part in _parts(status, compact=compact, short=short):
        if part.drop and part.drop <= drop:
            continue
        if part.sep:
            pieces.append(_SEP)
        pieces.extend(part.pieces)
    if status.stale:
        age = "no data yet" if status.data_age is None else format_duration(status.data_age)
        pieces += [
            ("\n", ""),
            (" STALE ", "bold white on red"),
            (f" {age}: ", "bold red"),
            (status.error, "red"),
        ]
    return Text.assemble(*pieces, no_wrap=False, overflow="fold")


def _parts(status: StatusSnapshot, *, compact: bool, short: bool) -> list[_Part]:
    """The line's parts, left to right, in their long (or compact, or short) words."""
    parts = [
        _Part(((f" {status.profile}", "bold"),), sep=False),
        _Part(((f" · {status.region}", ""),), _DROP_REGION, sep=False),
    ]
    credentials = credentials_part(status)
    if credentials is not None:
        parts.append(_Part((credentials,), _DROP_MODE if credentials[1] == "dim" else 0, False))
    # Modes that change what keys do come first, so that a narrow terminal never hides them;
    # next to them the clock, since at 15 minutes every call fails.
    badges: list[_Piece] = []
    if status.read_only:
        badges.append((" READ-ONLY ", "bold black on cyan"))
    if status.revealed:
        badges.append((" SECRETS SHOWN ", "bold white on red"))
    if status.marked or status.marked_hidden:
        # Marks change what x, X, c, y and E act on: as much a mode as read-only.
        badges.append((f" {status.marked} MARKED ", "bold black on magenta"))
        if status.marked_hidden:
            badges.append((f"+{status.marked_hidden} hidden", "dim"))
    clock = clock_warning(clock_offset_of(status.quota))
    if clock is not None:
        badges.append(clock)
    parts += [_Part(((" ", ""), badge), sep=False) for badge in badges]
    if status.data_age is None:
        parts.append(_Part((("loading…", "italic"),)))
    else:
        fresh = f"↻ {format_duration(status.data_age)}"
        if not compact:
            fresh += " ago"
            if status.latency is not None:
                fresh += f" {status.latency * 1000:.0f}ms"
        parts.append(_Part(((fresh, ""),)))
    if status.refreshing:
        parts.append(_Part((("refreshing…", "cyan"),)))
    elif status.paused:
        parts.append(_Part(((" PAUSED ", "bold black on yellow"),)))
    elif status.stale:
        parts.append(_Part(((f"retry in {format_duration(status.next_in)}", "yellow"),)))
    else:
        due = f"next {format_duration(status.next_in)}"
        words = due if short else f"{due}/{_limit(status.interval)}s"
        parts.append(_Part(((words, ""),), _DROP_NEXT))
    if status.quota is not None:
        parts += _quota_parts(status, status.quota, compact=compact, short=short)
    summary = status.summary
    if summary is not None:
        running, ended, changed = (
            ("run", "end", "chg") if short else ("running", "ended", "changed")
        )
        parts += [
            _Part(((f"{summary.running} {running}", ""),), _DROP_RUNNING),
            _Part(((f" {summary.ended} {ended}", ""),), _DROP_ENDED, sep=False),
            _Part(((f" {summary.changed} {changed}", ""),), _DROP_CHANGED, sep=False),
        ]
    if status.hidden_sort:
        # The sort's column is not on screen: no header arrow says what orders the rows.
        parts.append(_Part(((f"sort {status.hidden_sort}", "bold"),)))
    parts.append(_Part(((f"{status.shown}/{status.total}" + ("" if compact else " tasks"), ""),)))
    if not status.bell:
        parts.append(_Part((("  bell off", "dim"),), _DROP_BELL, sep=False))
    return parts


def _quota_parts(
    status: StatusSnapshot, quota: QuotaStats, *, compact: bool, short: bool
) -> list[_Part]:
    """The request rate, where the budget is shared, and errors over the last 5 minutes."""
    text = f"{quota.used_last_second}/{_limit(quota.effective_limit)} req/s"
    parts: list[_Part] = []
    if quota.effective_limit < quota.limit:
        slowed = "slowed" if short else f"(slowed from {quota.limit})"
        parts.append(_Part(((f"{text} {slowed}", "yellow"),)))
    else:
        parts.append(_Part(((text, ""),), _DROP_RATE))
    # Where the budget is shared: a quota meant for every host that only this one sees
    # (Redis away) is worth a badge, since other hosts may spend it meanwhile.
    if quota.shared_degraded:
        badge = " QUOTA HOST ONLY " if quota.shared == "host" else " QUOTA NOT SHARED "
        parts.append(_Part(((" ", ""), (badge, "bold black on yellow")), sep=False))
    elif quota.shared and not compact:
        parts.append(_Part(((f" {quota.shared}", "dim"),), _DROP_RATE, sep=False))
    throttled, errors = status.recent_failures or (quota.throttled_total, quota.errors_total)
    # Over the last 5 minutes: a past incident fades instead of staying for good.
    if throttled or errors:
        words = (
            (f"thr {throttled} " if throttled else "") + f"err {errors}/5m"
            if short
            else f"throttled {throttled} err {errors} /5m"
        )
        parts.append(_Part(((words, "yellow"),)))
    else:
        parts.append(_Part((("err 0/5m" if short else "err 0 /5m", "dim"),), _DROP_NO_ERRORS))
    return parts


class StatusLine(Static):
    """One line (two while stale) at the top of the screen, updated once per second.

    An update that keeps the number of lines redraws the line alone: laying the whole screen
    out again every second would be most of what an idle console spends.
    """

    DEFAULT_CSS = """
    StatusLine {
        dock: top;
        height: auto;
        max-height: 4;
        background: $panel;
        color: $foreground;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._shown: StatusSnapshot | None = None
        self._laid_out = (-1, -1)
        self._text: Text | None = None

    @property
    def snapshot(self) -> StatusSnapshot | None:
        """What the line shows now (tests read it rather than the rendering)."""
        return self._shown

    def show(self, status: StatusSnapshot) -> None:
        """Show ``status``; does nothing when it equals what is shown."""
        if status == self._shown:
            return
        self._shown = status
        self._show(render_status(status, self.size.width))

    def on_resize(self) -> None:
        """Re-render for the new width (compact or not)."""
        if self._shown is not None:
            self._show(render_status(self._shown, self.size.width))

    def _show(self, text: Text) -> None:
        """Show ``text``, laying the screen out again only if its height changes."""
        width = self.size.width
        size = (-1, -1)
        if width > 0:
            # Counted as Textual counts the height of a `Text`.
            size = (width, len(Text(text.plain).wrap(self.app.console, width)))
        if text != self._text:
            self._text = text
            self.update(text, layout=size[0] < 0 or size != self._laid_out)
        self._laid_out = size
