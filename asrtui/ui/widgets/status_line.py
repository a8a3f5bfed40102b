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


def render_status(status: StatusSnapshot, width: int = 0) -> Text:
    """The status line as styled text; server strings go in as plain text, never markup.

    Args:
        status: what to show.
        width: the cells available; when the first line does not fit, a compact form
            (no latency, no "ago", no "tasks") is tried before it wraps. ``0``: no limit.
    """
    text = _render(status, compact=False)
    if width and cell_len(text.plain.split("\n", 1)[0]) > width:
        return _render(status, compact=True)
    return text


def _render(status: StatusSnapshot, *, compact: bool) -> Text:
    sep = (" │ ", "dim")
    parts: list[str | tuple[str, str] | Text] = [
        (f" {status.profile}", "bold"),
        f" · {status.region}",
    ]
    credentials = credentials_part(status)
    if credentials is not None:
        parts.append(credentials)
    # Modes that change what keys do come first, so that a narrow terminal never hides them.
    if status.read_only:
        parts.append(" ")
        parts.append((" READ-ONLY ", "bold black on cyan"))
    if status.revealed:
        parts.append(" ")
        parts.append((" SECRETS SHOWN ", "bold white on red"))
    if status.marked or status.marked_hidden:
        # Marks change what x, X, c, y and E act on: as much a mode as read-only.
        parts.append(" ")
        parts.append((f" {status.marked} MARKED ", "bold black on magenta"))
        if status.marked_hidden:
            parts.append((f" +{status.marked_hidden} hidden", "dim"))
    # Next to the modes, so a narrow terminal never hides it: at 15 minutes every call fails.
    clock = clock_warning(clock_offset_of(status.quota))
    if clock is not None:
        parts.append(" ")
        parts.append(clock)
    parts.append(sep)
    if status.data_age is None:
        parts.append(("loading…", "italic"))
    else:
        fresh = f"↻ {format_duration(status.data_age)}"
        if not compact:
            fresh += " ago"
            if status.latency is not None:
                fresh += f" {status.latency * 1000:.0f}ms"
        parts.append(fresh)
    parts.append(sep)
    if status.refreshing:
        parts.append(("refreshing…", "cyan"))
    elif status.paused:
        parts.append((" PAUSED ", "bold black on yellow"))
    elif status.stale:
        parts.append((f"retry in {format_duration(status.next_in)}", "yellow"))
    else:
        parts.append(f"next {format_duration(status.next_in)}/{_limit(status.interval)}s")
    if status.quota is not None:
        quota = status.quota
        parts.append(sep)
        text = f"{quota.used_last_second}/{_limit(quota.effective_limit)} req/s"
        style = ""
        if quota.effective_limit < quota.limit:
            text += f" (slowed from {quota.limit})"
            style = "yellow"
        parts.append((text, style))
        # Where the budget is shared: a quota meant for every host that only this one sees
        # (Redis away) is worth a badge, since other hosts may spend it meanwhile.
        if quota.shared_degraded:
            parts.append(" ")
            badge = " QUOTA HOST ONLY " if quota.shared == "host" else " QUOTA NOT SHARED "
            parts.append((badge, "bold black on yellow"))
        elif quota.shared and not compact:
            parts.append((f" {quota.shared}", "dim"))
        throttled, errors = status.recent_failures or (quota.throttled_total, quota.errors_total)
        if throttled or errors:
            # Over the last 5 minutes: a past incident fades instead of staying for good.
            parts.append(sep)
            parts.append((f"throttled {throttled} err {errors} /5m", "yellow"))
    parts.append(sep)
    parts.append(f"{status.shown}/{status.total}" + ("" if compact else " tasks"))
    if not status.bell:
        parts.append(("  bell off", "dim"))
    if status.stale:
        parts.append("\n")
        parts.append((" STALE ", "bold white on red"))
        age = "no data yet" if status.data_age is None else format_duration(status.data_age)
        parts.append((f" {age}: ", "bold red"))
        parts.append((status.error, "red"))
    return Text.assemble(*parts, no_wrap=False, overflow="fold")


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
