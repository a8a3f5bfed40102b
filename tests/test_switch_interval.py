"""While the console runs, a thread holding the interpreter lock gives it up to the event loop
within `SWITCH_INTERVAL`; the process's own setting is back once the console has ended."""

from __future__ import annotations

import sys

import pytest

from asrtui.ui.app import SWITCH_INTERVAL
from tests.support.fakes import FakeTaskSource, running_console


@pytest.mark.parametrize("before", [0.005, 0.0005, 0.02])
async def test_the_console_shortens_the_switch_interval_and_gives_it_back(before: float) -> None:
    original = sys.getswitchinterval()
    sys.setswitchinterval(before)
    try:
        async with running_console(FakeTaskSource.with_tasks(2)):
            # Never longer than the console's, never longer than what was set before.
            assert sys.getswitchinterval() == pytest.approx(min(before, SWITCH_INTERVAL))
        assert sys.getswitchinterval() == pytest.approx(before)
    finally:
        sys.setswitchinterval(original)
