"""Display formatting: durations, uptimes, ages and local times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from asrtui.ui.durations import (
    UNKNOWN,
    format_age,
    format_duration,
    format_local_time,
    format_uptime,
)

NOW = datetime(2024, 5, 15, 3, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0s"),
        (0.9, "0s"),
        (45, "45s"),
        (59.99, "59s"),
        (60, "1m00s"),
        (125, "2m05s"),
        (3599, "59m59s"),
        (3600, "1h00m"),
        (3 * 3600 + 12 * 60 + 59, "3h12m"),
        (86_399, "23h59m"),
        (86_400, "1d00h"),
        (4 * 86_400 + 3 * 3600 + 59, "4d03h"),
        (-30, "0s"),
    ],
)
def test_format_duration(seconds: float, expected: str) -> None:
    assert format_duration(seconds) == expected


def test_format_uptime_counts_from_creation() -> None:
    created = NOW - timedelta(hours=3, minutes=12, seconds=5)
    assert format_uptime(created, NOW) == "3h12m"
    assert format_uptime(None, NOW) == UNKNOWN


def test_format_uptime_compares_aware_times_across_offsets() -> None:
    beijing = timezone(timedelta(hours=8))
    created = datetime(2024, 5, 15, 10, 59, 0, tzinfo=beijing)  # 02:59 UTC
    assert format_uptime(created, NOW) == "1m00s"


def test_format_age() -> None:
    assert format_age(NOW - timedelta(seconds=4), NOW) == "4s ago"
    assert format_age(NOW - timedelta(minutes=90), NOW) == "1h30m ago"
    assert format_age(NOW, NOW) == "just now"
    assert format_age(NOW + timedelta(seconds=10), NOW) == "just now"
    assert format_age(None, NOW) == UNKNOWN


def test_format_local_time_shows_the_offset_of_the_requested_zone() -> None:
    beijing = timezone(timedelta(hours=8))
    assert format_local_time(NOW, beijing) == "2024-05-15 11:00:00 +0800"
    assert format_local_time(NOW, UTC) == "2024-05-15 03:00:00 +0000"
    assert format_local_time(None) == UNKNOWN


def test_format_local_time_defaults_to_the_host_zone() -> None:
    expected = NOW.astimezone().strftime("%Y-%m-%d %H:%M:%S %z")
    assert format_local_time(NOW) == expected
