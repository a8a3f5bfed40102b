"""The parser's compact forms read as the plain ones did.

A task's timestamps share one offset object per offset: each must still be the value the
standard library reads, written back the same.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from asrtui.wire.tasks import _timestamp

_offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@given(moment=st.datetimes(timezones=_offsets))
def test_a_timestamp_is_what_the_standard_library_reads(moment: datetime) -> None:
    text = moment.isoformat()
    parsed = _timestamp(text)
    plain = datetime.fromisoformat(text)
    assert parsed == plain
    assert parsed is not None
    assert parsed.isoformat() == plain.isoformat()
    assert parsed.utcoffset() == plain.utcoffset()
    other = moment.replace(microsecond=(moment.microsecond + 1) % 1_000_000)
    again = _timestamp(other.isoformat())
    assert again is not None
    assert again.tzinfo is parsed.tzinfo  # one offset object, shared


def test_timestamps_without_an_offset_are_still_refused() -> None:
    assert _timestamp("2026-12-07T08:22:53") is None
    assert _timestamp("2026-12-07t08:22:53z") == datetime.fromisoformat("2026-12-07T08:22:53+00:00")
