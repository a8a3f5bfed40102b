"""Display formatting shared by the console: durations, ages and local times.

Pure functions over datetimes and numbers (no Textual, no Rich) so the table, the detail pane
and exports all say the same thing the same way.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

#: Shown where a value is unknown (an unparseable or missing timestamp).
UNKNOWN = "-"


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
    return format_duration((now - created_at).total_seconds())


def format_age(then: datetime | None, now: datetime) -> str:
    """How long ago something happened, e.g. ``4s ago``; `UNKNOWN` without a time.

    A time slightly in the future (server clock ahead of ours) reads ``just now``.
    """
    if then is None:
        return UNKNOWN
    seconds = (now - then).total_seconds()
    if seconds < 1:
        return "just now"
    return f"{format_duration(seconds)} ago"


def format_local_time(moment: datetime | None, tz: tzinfo | None = None) -> str:
    """A timestamp in the operator's local time zone: ``2024-05-15 11:51:02 +0800``.

    The offset is always printed because operators and servers are often in different zones.

    Args:
        moment: a timezone-aware datetime, or ``None``.
        tz: the zone to show; ``None`` for this host's local zone (tests pass one).

    Returns:
        The formatted time, or `UNKNOWN`.
    """
    if moment is None:
        return UNKNOWN
    local = moment.astimezone(tz)
    return local.strftime("%Y-%m-%d %H:%M:%S %z")
