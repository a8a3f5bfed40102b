"""Display formatting shared by the console: durations, ages and local times.

Pure functions over datetimes and numbers (no Textual, no Rich) so the table, the detail pane
and exports all say the same thing the same way.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

#: Shown where a value is unknown (an unparseable or missing timestamp).
UNKNOWN = "-"

#: Marks a time shown as the server wrote it, because it has no equivalent in local time.
AS_SENT = "(as sent: outside the local time range)"


def format_duration(seconds: float) -> str:
    """A compact duration for narrow columns: ``45s``, ``2m05s``, ``3h12m``, ``4d03h``.

    Two units at most, the larger first, because an operator reads magnitude at a glance and
    a column must not jump in width every second. Negative durations (clock skew between the
    server and this host) count as zero rather than printing a confusing minus sign.

    Args:
        seconds: the duration in seconds.

    Returns:
        The formatted duration.
    """
    total = int(seconds) if seconds > 0 else 0
    if total < 60:
        return f"{total}s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def format_uptime(created_at: datetime | None, now: datetime) -> str:
    """How long a task has existed, e.g. ``3h12m``; `UNKNOWN` without a creation time."""
    if created_at is None:
        return UNKNOWN
    seconds = _seconds_between(created_at, now)
    return UNKNOWN if seconds is None else format_duration(seconds)


def _seconds_between(then: datetime, now: datetime) -> float | None:
    """``now - then`` in seconds, ``None`` if it cannot be computed (never raises).

    Aware datetimes subtract over the whole range with any offset, but a naive one (a task
    built in code) cannot meet an aware one.
    """
    try:
        return (now - then).total_seconds()
    except (OverflowError, TypeError, ValueError):
        return None


def format_age(then: datetime | None, now: datetime) -> str:
    """How long ago something happened, e.g. ``4s ago``; `UNKNOWN` without a time.

    A time slightly in the future (server clock ahead of ours) reads ``just now``.
    """
    if then is None:
        return UNKNOWN
    seconds = _seconds_between(then, now)
    if seconds is None:
        return UNKNOWN
    if seconds < 1:
        return "just now"
    return f"{format_duration(seconds)} ago"


def format_local_time(moment: datetime | None, tz: tzinfo | None = None) -> str:
    """A timestamp in the operator's local time zone: ``2024-05-15 11:51:02 +0800``.

    The offset is always printed because operators and servers are often in different zones.
    A time that has no local equivalent (``0001-01-01T00:00:00+08:00`` is in year 0 in UTC,
    ``9999-12-31T23:59:59-08:00`` in year 10000) is shown as the server wrote it, marked.

    Args:
        moment: a timezone-aware datetime, or ``None``.
        tz: the zone to show; ``None`` for this host's local zone (tests pass one).

    Returns:
        The formatted time, or `UNKNOWN`; never raises.
    """
    if moment is None:
        return UNKNOWN
    try:
        local = moment.astimezone(tz)
        offset = local.strftime("%z")
    except (OverflowError, ValueError, OSError):
        return f"{moment.isoformat()} {AS_SENT}"
    # %Y is not zero-padded below year 1000 on every platform: spell the date out.
    return (
        f"{local.year:04d}-{local.month:02d}-{local.day:02d} "
        f"{local.hour:02d}:{local.minute:02d}:{local.second:02d} {offset}"
    )


def format_clock_time(moment: datetime, tz: tzinfo | None = None) -> str:
    """The time of day of ``moment`` in ``tz`` (local), ``HH:MM:SS``; never raises.

    For the history and the event log. Outside the local range it is the ISO text, marked.
    """
    try:
        return moment.astimezone(tz).strftime("%H:%M:%S")
    except (OverflowError, ValueError, OSError):
        return f"{moment.isoformat()} {AS_SENT}"
