"""Generates the screenshots in ``screenshots/`` from the demo console, headless.

Run ``python scripts/screenshots.py`` from the repository root (``--out DIR`` to write elsewhere).
Each screenshot starts a fresh console wired as ``asrtui --demo`` wires it (the seeded in-process
emulator behind a `LiveClient`, a `ClientTaskSource`, the `AsrtuiApp`) and drives it with the
pilot of ``App.run_test``. Nothing is drawn by hand.

So that re-running gives the same pictures, one manual clock stands in for every clock of the
emulator, the client (signatures, retries, its rate limiter) and the console, and the client's
sleeps and retry jitter are virtual and seeded: time moves only when this script says so (every
answer takes `ANSWER_SECONDS` of it, and some shots let minutes pass so that tasks end and
start). The detail pane's background polling is off, so that no fetch races a screenshot; the
highlighted task is still fetched when the cursor moves to it.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import random
import re
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from textual.pilot import Pilot

from asrtui.client import LiveClient
from asrtui.credentials import Credentials
from asrtui.emulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, build_emulator
from asrtui.models import Task, TaskList
from asrtui.protocols import QuotaStats
from asrtui.ratelimit import WindowLimiter
from asrtui.tasksource import DEMO_ENDPOINT, DEMO_FAULTS, ClientTaskSource
from asrtui.ui.app import AsrtuiApp
from asrtui.ui.screens.main import MainScreen
from asrtui.ui.settings import ConsoleSettings

#: The demo's emulator seed and size (those of `asrtui.connect.open_demo_client`).
SEED = 0
TASKS = 12
#: The moment every screenshot starts at.
START = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)
#: How long each answer of the emulator takes on the manual clock.
ANSWER_SECONDS = 0.048
#: How long the console may take to show its first table.
FIRST_REFRESH_TIMEOUT = 30.0
#: The detail pane's polling interval: longer than any shot, so it never polls on its own.
DETAIL_POLL_OFF = 86_400.0
#: Rows a shot whose panel must fit grows by per attempt, and the most it may have.
GROW_ROWS = 4
MAX_ROWS = 100
#: The account id every demo task carries: it must never be on a screenshot.
DEMO_ACCOUNT_UID = "1119309225474343"

Pilot_ = Pilot[Any]


class ManualClock:
    """An aware UTC wall clock and a monotonic clock that move together, only when told."""

    def __init__(self, start: datetime) -> None:
        self._wall = start
        self._mono = 1000.0

    def now(self) -> datetime:
        """The current wall time."""
        return self._wall

    def monotonic(self) -> float:
        """The current monotonic seconds."""
        return self._mono

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass."""
        self._wall += timedelta(seconds=seconds)
        self._mono += seconds

    async def sleep(self, seconds: float) -> None:
        """A virtual sleep: the time passes at once (and other tasks get a turn)."""
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)


class SteadySource:
    """A `TaskSource` whose answers take a fixed time on the manual clock.

    Without it no time would pass during a request and the status line would show a latency of
    0 ms; with real time it would show a different figure on every run.
    """

    def __init__(self, inner: ClientTaskSource, clock: ManualClock) -> None:
        self._inner = inner
        self._clock = clock

    @property
    def profile_name(self) -> str:
        """The profile shown in the status line."""
        return self._inner.profile_name

    @property
    def region(self) -> str:
        """The region shown in the status line."""
        return self._inner.region

    async def list_tasks(self, *, priority: bool = False) -> TaskList:
        """Every task, after `ANSWER_SECONDS`."""
        answer = await self._inner.list_tasks(priority=priority)
        self._clock.advance(ANSWER_SECONDS)
        return answer

    async def get_task(self, task_id: str) -> Task | None:
        """One task, after `ANSWER_SECONDS`."""
        task = await self._inner.get_task(task_id)
        self._clock.advance(ANSWER_SECONDS)
        return task

    async def stop_task(self, task_id: str) -> None:
        """Stop a task."""
        await self._inner.stop_task(task_id)

    async def delete_task(self, task_id: str) -> None:
        """Delete a task."""
        await self._inner.delete_task(task_id)

    def quota(self) -> QuotaStats:
        """The shared limiter's figures."""
        return self._inner.quota()


def demo_client(clock: ManualClock) -> LiveClient:
    """The demo's client (as `asrtui.connect.open_demo_client` builds it) on ``clock``.

    The difference: the emulator, the client and a limiter of its own (20 calls per second, as
    the demo's) read the manual clock, sleep virtually and draw seeded jitter, so the tasks'
    times, the emulator's lifecycles and faults and the quota figure are the same on every run.
    """
    app = build_emulator(
        seed=SEED,
        tasks=TASKS,
        lively=True,
        fault_spec=DEMO_FAULTS,
        clock=clock.now,
        monotonic=clock.monotonic,
    )
    credentials = Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
    return LiveClient(
        lambda: credentials,
        DEMO_ENDPOINT,
        region="cn-shanghai",
        signature="v3",
        limiter=WindowLimiter(20, 1.0, clock=clock.monotonic, sleep=clock.sleep),
        profile="demo",
        transport=httpx.ASGITransport(app=app),
        sleep=clock.sleep,
        rng=random.Random(SEED).random,
        clock=clock.now,
        monotonic=clock.monotonic,
    )


def main_screen(pilot: Pilot_) -> MainScreen:
    """The console's main screen, even while a dialog is on top."""
    for screen in pilot.app.screen_stack:
        if isinstance(screen, MainScreen):
            return screen
    raise RuntimeError("the console shows no main screen")


async def settle(pilot: Pilot_) -> None:
    """Let pending messages, then every running worker and the messages it sent, finish."""
    await pilot.pause()
    while any(not worker.is_finished for worker in pilot.app.workers):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def wait_for_first_refresh(pilot: Pilot_) -> None:
    """Wait until the first task list is on screen and the highlighted task was fetched."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + FIRST_REFRESH_TIMEOUT
    screen = main_screen(pilot)
    while screen.schedule.last_success is None:
        if loop.time() > deadline:
            raise RuntimeError(f"no task list after {FIRST_REFRESH_TIMEOUT:g} s")
        await pilot.pause(0.05)
    await settle(pilot)


async def press(pilot: Pilot_, *keys: str) -> None:
    """Press keys one by one, letting what each starts finish."""
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


async def let_time_pass(pilot: Pilot_, clock: ManualClock, seconds: float) -> None:
    """Let ``seconds`` pass and refresh, so that tasks end and start on screen.

    The screen's refresh trigger runs at once, in the same turn of the loop as the clock
    moves, so the console's own timer cannot start the refresh first (and ``r`` another one).
    """
    clock.advance(seconds)
    main_screen(pilot).refresh_if_due()
    main_screen(pilot).tick()
    await settle(pilot)


async def shot_main(pilot: Pilot_, clock: ManualClock) -> None:
    """The table and the detail pane of the first task, right after start."""


async def shot_detail(pilot: Pilot_, clock: ManualClock) -> None:
    """The detail pane of the task with the longest history of this session."""
    await let_time_pass(pilot, clock, 150)
    screen = main_screen(pilot)
    ids = [row.task.task_id for row in screen.table.visible_rows()]
    longest = max(range(len(ids)), key=lambda i: len(screen.book.history(ids[i])))
    # The cursor stays on its task while rows come and go: move from where it is now.
    cursor = ids.index(screen.table.cursor_task_id or ids[0])
    step = "down" if longest > cursor else "up"
    await press(pilot, *([step] * abs(longest - cursor)))
    if screen.table.cursor_task_id != ids[longest]:
        raise RuntimeError(f"the cursor is on {screen.table.cursor_task_id}, not on {ids[longest]}")


async def shot_filter(pilot: Pilot_, clock: ManualClock) -> None:
    """The filter bar narrowing the table to Japanese tasks."""
    await press(pilot, "slash", "j", "a")


async def shot_help(pilot: Pilot_, clock: ManualClock) -> None:
    """The help screen with every key."""
    await press(pilot, "question_mark")


async def shot_narrow(pilot: Pilot_, clock: ManualClock) -> None:
    """The 80x24 layout: the detail pane below the table."""
    await press(pilot, "down")


async def shot_events(pilot: Pilot_, clock: ManualClock) -> None:
    """The event log after a few minutes in which tasks ended and started."""
    await let_time_pass(pilot, clock, 120)
    await let_time_pass(pilot, clock, 90)
    await press(pilot, "e")


@dataclass(frozen=True)
class Shot:
    """One screenshot: its file name, the terminal size and what to do before taking it."""

    name: str
    size: tuple[int, int]
    steps: Callable[[Pilot_, ManualClock], Awaitable[None]]
    whole: str = ""
    """A scrolling panel (CSS selector) that must fit: the terminal grows until it does."""


SHOTS = (
    Shot("main", (120, 32), shot_main),
    Shot("detail", (120, 32), shot_detail),
    Shot("filter", (120, 32), shot_filter),
    Shot("help", (100, 50), shot_help, whole="#help"),
    Shot("narrow", (80, 24), shot_narrow),
    Shot("events", (120, 32), shot_events),
)

_AUTH_KEY = re.compile(r"auth_key=([^\s│▏]*)")
_TAG = re.compile(r"<[^>]+>")


def check_no_secrets(svg: str, name: str) -> None:
    """Refuse a screenshot that shows a stream's ``auth_key`` or the account id in clear.

    The check reads the SVG's text (tags dropped): an ``auth_key`` value, where one is on
    screen at all, must be the mask.
    """
    text = html.unescape(_TAG.sub("", svg))
    values = _AUTH_KEY.findall(text)
    if any(set(value) - {"*", "…"} for value in values) or DEMO_ACCOUNT_UID in text:
        raise RuntimeError(f"{name}.svg shows a secret in clear; not saving it")


async def render(shot: Shot) -> tuple[str, tuple[int, int]]:
    """The shot as SVG, and the terminal size it was taken at.

    A shot with a ``whole`` panel is taken again `GROW_ROWS` rows taller while that panel
    would have to scroll, so that nothing on it is cut off.
    """
    width, height = shot.size
    while True:
        svg, fits = await render_at(shot, (width, height))
        if fits:
            return svg, (width, height)
        if height >= MAX_ROWS:
            raise RuntimeError(f"{shot.name}: {shot.whole} does not fit in {MAX_ROWS} rows")
        height += GROW_ROWS


async def render_at(shot: Shot, size: tuple[int, int]) -> tuple[str, bool]:
    """Run a fresh demo console at ``size``, do the shot's steps; the SVG and whether it fits."""
    clock = ManualClock(START)
    client = demo_client(clock)
    source = ClientTaskSource(client, profile_name="demo", region=client.region)
    settings = ConsoleSettings(
        refresh_interval=5.0,
        state_path=None,
        clock=clock.now,
        monotonic=clock.monotonic,
        tz=UTC,
        detail_interval=DETAIL_POLL_OFF,
    )
    app = AsrtuiApp(SteadySource(source, clock), settings)
    async with client, app.run_test(size=size) as pilot:
        await wait_for_first_refresh(pilot)
        await shot.steps(pilot, clock)
        await settle(pilot)
        # The status line is also redrawn by a timer on the real clock: whether it ran after
        # the last answer (which moved the manual clock) would change "next 5s" to "4s" from
        # one run to the next. Drawn here from the manual clock, it is the same every run.
        main_screen(pilot).tick()
        await settle(pilot)
        fits = not shot.whole or app.screen.query_one(shot.whole).max_scroll_y == 0
        svg = app.export_screenshot(title=f"asrtui — {shot.name}")
    check_no_secrets(svg, shot.name)
    return svg, fits


async def render_all(names: list[str]) -> list[tuple[Shot, str, tuple[int, int]]]:
    """The named shots (all when ``names`` is empty) as SVG, taken one after the other."""
    taken = []
    for shot in SHOTS:
        if not names or shot.name in names:
            svg, size = await render(shot)
            taken.append((shot, svg, size))
    return taken


def main() -> int:
    """Parse the arguments and write the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="shots to take (default: all)")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent.parent / "screenshots"
    )
    args = parser.parse_args()
    unknown = set(args.names) - {shot.name for shot in SHOTS}
    if unknown:
        parser.error(f"unknown shot(s): {', '.join(sorted(unknown))}")
    shots = asyncio.run(render_all(args.names))
    args.out.mkdir(parents=True, exist_ok=True)
    for shot, svg, (width, height) in shots:
        path = args.out / f"{shot.name}.svg"
        path.write_text(svg, encoding="utf-8")
        print(f"wrote {path} ({width}x{height})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
