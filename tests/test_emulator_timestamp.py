"""The emulator reads a request's timestamp exactly as ``datetime.strptime`` does.

`parse_timestamp` reads the usual layout directly (the first ``strptime`` call of a process
builds its locale tables: a start-up cost of the demo console) and hands anything else to
``strptime``. Whatever the text, the two must agree: the same time, or both refuse it.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asrtui.emulator.app import parse_timestamp

_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def _strptime(value: str) -> datetime | str:
    try:
        return datetime.strptime(value, _FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return "refused"


def _ours(value: str) -> datetime | str:
    try:
        return parse_timestamp(value)
    except ValueError:
        return "refused"


#: Characters a field may hold: ASCII digits, other decimal digits (Arabic-Indic, full-width),
#: a superscript digit (a digit to `str.isdigit`, not a decimal), a sign, a space.
_FIELD_CHARS = st.sampled_from("0123456789" * 6 + "\u0663\uff11\u00b2+- ")


def _field(lengths: tuple[int, ...]) -> st.SearchStrategy[str]:
    return st.integers(min_value=min(lengths), max_value=max(lengths)).flatmap(
        lambda n: st.text(_FIELD_CHARS, min_size=n, max_size=n)
    )


@st.composite
def near_timestamps(draw: st.DrawFn) -> str:
    """Texts shaped like a timestamp, with odd fields, separators and lengths."""
    separators = [
        draw(st.sampled_from(choices)) for choices in ("-/", "-/", "Tt x", ":.", ":.", "Zz+")
    ]
    fields = [draw(_field((4, 3, 5)))] + [draw(_field((2, 1, 3))) for _ in range(5)]
    text = "".join(f + s for f, s in zip(fields, separators, strict=True))
    return text + draw(st.sampled_from(["", "", "", "0", " "]))


@st.composite
def real_times(draw: st.DrawFn) -> str:
    """Valid and out-of-range values in the usual layout (month 13, day 31 of April...)."""
    numbers = (
        draw(st.integers(0, 9999)),
        draw(st.integers(0, 13)),
        draw(st.integers(0, 32)),
        draw(st.integers(0, 24)),
        draw(st.integers(0, 60)),
        draw(st.integers(0, 61)),
    )
    return "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}Z".format(*numbers)


@given(st.one_of(near_timestamps(), real_times(), st.text(max_size=24)))
def test_it_reads_what_strptime_reads(value: str) -> None:
    assert _ours(value) == _strptime(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-01T12:00:00Z", datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)),
        ("2024-02-29T23:59:59Z", datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC)),
        ("2024-05-01t12:00:00z", datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)),  # strptime's
        ("2024-5-1T1:2:3Z", datetime(2024, 5, 1, 1, 2, 3, tzinfo=UTC)),  # strptime's too
        ("2023-02-29T00:00:00Z", "refused"),
        ("2024-13-01T00:00:00Z", "refused"),
        ("2024-05-01T24:00:00Z", "refused"),
        ("2024-05-01T12:00:60Z", "refused"),
        ("2024-0\u0665-01T12:00:00Z", "refused"),  # an Arabic-Indic 5: not strptime's month
        # full-width digits: decimals to strptime (and to int), not ASCII: its path
        ("\uff12\uff10\uff12\uff14-05-01T12:00:00Z", datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)),
        ("2024-05-01T12:00:00Z ", "refused"),
        ("2024-05-01T12:00:00X", "refused"),
        ("2024/05-01T12:00:00Z", "refused"),
        ("2024-05-01 12:00:00Z", "refused"),
        ("", "refused"),
    ],
)
def test_seen_cases(value: str, expected: datetime | str) -> None:
    assert _ours(value) == expected == _strptime(value)
