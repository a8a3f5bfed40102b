"""Clock skew: the status line warns from the measured offset, and a rejected clock is explained.

The client measures ``local - server`` from each answer's ``Date`` header. The emulator's clock
is injected, so a skewed server is one fixed time and a skewed host another: offsets are exact.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import pytest
from rich.text import Text

import asrtui.cli
import asrtui.connect
from asrtui.__main__ import main
from asrtui.credentials import Credentials
from asrtui.emulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET
from asrtui.protocols import QuotaStats
from asrtui.tasksource import ClientTaskSource
from asrtui.ui.widgets.status_line import (
    CLOCK_ERROR_SECONDS,
    CLOCK_WARN_SECONDS,
    StatusSnapshot,
    clock_offset_of,
    clock_warning,
    render_status,
)
from tests.support.clock import T0, FakeClock
from tests.support.fakes import Console, FakeTaskSource, running_console
from tests.support.fault_rig import ENDPOINT, Wire, build_emulator, client_factory

WARN_STYLE = "bold black on yellow"
ERROR_STYLE = "bold white on red"


@dataclass(frozen=True)
class SkewedStats(QuotaStats):
    """Stats that carry an offset whether or not `QuotaStats` has the field yet."""

    clock_offset: float | None = None


def stats(offset: float | None) -> QuotaStats:
    return SkewedStats(limit=20, effective_limit=20.0, used_last_second=1, clock_offset=offset)


def style_of(text: Text, fragment: str) -> str:
    """The style of the span that holds ``fragment``."""
    start = text.plain.index(fragment)
    for span in text.spans:
        if span.start <= start < span.end:
            return str(span.style)
    return ""


# -- the badge ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "badge", "style"),
    [
        (None, None, None),
        (0.0, None, None),
        (59.9, None, None),
        (-59.9, None, None),
        (CLOCK_WARN_SECONDS, " CLOCK +1m00s ", WARN_STYLE),
        (432.0, " CLOCK +7m12s ", WARN_STYLE),
        (-432.4, " CLOCK -7m12s ", WARN_STYLE),
        (CLOCK_ERROR_SECONDS - 1, " CLOCK +9m59s ", WARN_STYLE),
        (CLOCK_ERROR_SECONDS, " CLOCK +10m00s ", ERROR_STYLE),
        (-1200.0, " CLOCK -20m00s ", ERROR_STYLE),
        (3 * 86400.0, " CLOCK +3d00h ", ERROR_STYLE),
    ],
)
def test_clock_badge_by_offset(offset: float | None, badge: str | None, style: str | None) -> None:
    expected = None if badge is None else (badge, style)
    assert clock_warning(offset) == expected
    line = render_status(StatusSnapshot(profile="prod", region="cn-shanghai", quota=stats(offset)))
    if badge is None:
        assert "CLOCK" not in line.plain
    else:
        assert badge in line.plain
        assert style_of(line, badge.strip()) == style


def test_sources_without_an_offset_show_no_badge() -> None:
    plain = QuotaStats(limit=20, effective_limit=20.0, used_last_second=0)
    assert clock_offset_of(None) is None
    assert clock_offset_of(plain) is None
    for junk in (float("nan"), float("inf"), True, "600"):
        assert clock_offset_of(cast(QuotaStats, _Junk(junk))) is None


@dataclass(frozen=True)
class _Junk:
    clock_offset: object


def test_the_badge_survives_a_narrow_terminal() -> None:
    status = StatusSnapshot(
        profile="production-eu",
        region="eu-central-1",
        data_age=3.0,
        latency=0.2,
        quota=stats(-700.0),
        read_only=True,
        shown=1000,
        total=1000,
    )
    narrow = render_status(status, width=80)
    assert " CLOCK -11m40s " in narrow.plain.split("\n")[0]


# -- measured through the console -----------------------------------------------------------


@asynccontextmanager
async def skewed_console(server_ahead: timedelta) -> AsyncIterator[Console]:
    """The console on the real client; the emulator's clock runs ``server_ahead`` of ours."""
    vt = FakeClock()
    clock = FakeClock()
    wire = Wire(build_emulator(vt, lambda: clock.now() + server_ahead))
    factory = client_factory(wire, vt, max_attempts=2, clock=clock.now)
    credentials = Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
    async with factory(lambda: credentials, ENDPOINT, profile="skewed") as live:
        source = ClientTaskSource(live, profile_name="skewed", region="cn-shanghai")
        async with running_console(
            cast(FakeTaskSource, source), clock=clock, detail_interval=3600.0
        ) as console:
            yield console
    await wire.aclose()


def status_text(console: Console) -> tuple[StatusSnapshot, Text]:
    snapshot = console.screen.status_line.snapshot
    assert snapshot is not None
    return snapshot, render_status(snapshot)


async def test_a_host_clock_7_minutes_ahead_is_a_warning() -> None:
    async with skewed_console(-timedelta(minutes=7, seconds=12)) as console:
        status, text = status_text(console)
        assert not status.stale  # still within the service's 15 minutes
        assert clock_offset_of(status.quota) == 432.0
        assert "CLOCK +7m12s" in text.plain
        assert style_of(text, "CLOCK +7m12s") == WARN_STYLE


async def test_a_host_clock_11_minutes_behind_is_an_error_before_calls_fail() -> None:
    async with skewed_console(timedelta(minutes=11)) as console:
        status, text = status_text(console)
        assert not status.stale
        assert "CLOCK -11m00s" in text.plain
        assert style_of(text, "CLOCK -11m00s") == ERROR_STYLE


async def test_a_host_clock_without_skew_shows_nothing() -> None:
    async with skewed_console(timedelta(0)) as console:
        status, text = status_text(console)
        assert clock_offset_of(status.quota) == 0.0
        assert "CLOCK" not in text.plain


async def test_past_15_minutes_calls_fail_and_the_console_says_why() -> None:
    async with skewed_console(-timedelta(minutes=20)) as console:
        status, text = status_text(console)
        assert status.stale
        assert "(InvalidTimeStamp.Expired)" in status.error
        assert "this machine's clock is 1200 s ahead of the server's" in status.error
        assert "CLOCK +20m00s" in text.plain
        assert style_of(text, "CLOCK +20m00s") == ERROR_STYLE
        assert "STALE" in text.plain


# -- explained by the CLI ---------------------------------------------------------------------


@pytest.fixture
def env_creds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", DEMO_ACCESS_KEY_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", DEMO_ACCESS_KEY_SECRET)


def run_cli_skewed(
    monkeypatch: pytest.MonkeyPatch, server_ahead: timedelta, **client: Any
) -> tuple[int, Wire]:
    vt = FakeClock()
    host: Callable[[], datetime] = lambda: T0  # noqa: E731 - a fixed clock
    wire = Wire(build_emulator(vt, lambda: T0 + server_ahead))
    monkeypatch.setattr(
        asrtui.connect, "LiveClient", client_factory(wire, vt, clock=host, **client)
    )
    return main(["tasks", "--endpoint", ENDPOINT]), wire


@pytest.mark.usefixtures("env_creds")
@pytest.mark.parametrize(
    ("server_ahead", "explained"),
    [
        (-timedelta(minutes=20), "this machine's clock is 1200 s ahead of the server's"),
        (timedelta(minutes=16, seconds=5), "this machine's clock is 965 s behind the server's"),
    ],
)
def test_cli_explains_a_rejected_clock_with_the_measured_offset(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    server_ahead: timedelta,
    explained: str,
) -> None:
    code, wire = run_cli_skewed(monkeypatch, server_ahead)
    assert code == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("asrtui: ")
    assert "(InvalidTimeStamp.Expired)" in line
    assert explained in line
    assert "(the limit is 15 minutes); fix the clock (e.g. enable NTP)" in line
    assert wire.requests == 1  # a clock error is not retried: it would fail the same way


@pytest.mark.usefixtures("env_creds")
def test_cli_works_within_the_window(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run_cli_skewed(monkeypatch, timedelta(minutes=14))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.err == ""
