"""Errors and throttles over the last 5 minutes instead of since start."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from asrtui.protocols import QuotaStats
from asrtui.ui.rates import Window
from asrtui.ui.widgets.status_line import render_status
from tests.support.fakes import FakeTaskSource, running_console


def test_a_burst_of_errors_fades_after_the_window() -> None:
    window = Window(300.0)
    assert window.increase(0.0, 0) == 0
    assert window.increase(10.0, 4) == 4
    assert window.increase(200.0, 5) == 5
    assert window.increase(320.0, 5) == 1  # the 4 of t=10 are older than 5 minutes
    assert window.increase(600.0, 5) == 0


@given(st.lists(st.tuples(st.floats(0.5, 120.0), st.integers(0, 5)), min_size=1, max_size=40))
def test_the_growth_is_what_was_added_within_the_span(steps: list[tuple[float, int]]) -> None:
    window = Window(300.0)
    now, total = 0.0, 0
    added: list[tuple[float, int]] = []
    window.increase(now, total)
    for gap, more in steps:
        now += gap
        total += more
        added.append((now, more))
        got = window.increase(now, total)
        # Every addition within the span counts; one just older may still count (the baseline
        # is the last sample at or before the span's start), never more than that.
        within = sum(m for t, m in added if t > now - 300.0)
        assert within <= got <= total


async def test_the_status_line_counts_the_last_five_minutes() -> None:
    source = FakeTaskSource.with_tasks(1)
    async with running_console(source) as c:
        source.quota_stats = QuotaStats(
            limit=20, effective_limit=20.0, used_last_second=0, errors_total=2
        )
        await c.advance(5)
        text = render_status(c.screen.status_line.snapshot).plain  # type: ignore[arg-type]
        assert "throttled 0 err 2 /5m" in text
        for _ in range(70):
            await c.advance(5)
        text = render_status(c.screen.status_line.snapshot).plain  # type: ignore[arg-type]
        # Faded: the summary says none in the last 5 minutes.
        assert "err 0 /5m" in text
        assert "throttled" not in text
