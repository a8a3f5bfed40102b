"""Benchmark of the task table at 10,000 tasks, side by side with Textual's stock DataTable.

Run with ``python benchmarks/table_bench.py`` from the repository root. Everything runs in one
headless ``App.run_test()`` at 160x50. Each figure is the median of a few repeats of the work
itself: the widget calls plus rendering the visible lines (``render_lines`` over the widget's
region, which is what the compositor asks for on the next frame). The "settled" figures add
``await pilot.pause()`` so the screen update and message processing are included too; the
DataTable comparison uses settled figures on both sides because DataTable measures its cells
during the first refresh rather than in ``add_rows``.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import DataTable

from asrtui.models import Task
from asrtui.redact import stream_host_path
from asrtui.ui.durations import format_age, format_uptime
from asrtui.ui.taskbook import TaskBook
from asrtui.ui.widgets.task_table import TaskTable

N_TASKS = 10_000
SIZE = (160, 50)
REPEATS = 5
NOW = datetime(2024, 5, 15, 3, 0, tzinfo=UTC)

TARGETS_MS = {
    "first full table": 100.0,
    "refresh, 1% changed": 20.0,
    "filter keystroke": 30.0,
    "cursor move": 5.0,
}


def make_tasks(count: int, seed: int = 7) -> list[Task]:
    """Tasks shaped like real answers: uuid ids, stream URLs with auth_key, mixed languages."""
    rng = random.Random(seed)
    languages = ("cn", "en", "ja", "yue", "fspk")
    tasks = []
    for index in range(count):
        task_id = f"asr-{uuid.UUID(int=rng.getrandbits(128), version=4)}"
        language = rng.choice(languages)
        tasks.append(
            Task(
                task_id=task_id,
                status=1 if rng.random() > 0.02 else 3,
                mode=rng.choice(("live", "rtc")),
                language=language,
                target_languages=("en", "ja") if rng.random() < 0.3 else (),
                translate_enabled=None,
                tag=f"event-{index % 500:03d}",
                stream_url=(
                    f"http://pull-{index % 40}.example.com/caster/{rng.getrandbits(64):016x}.flv"
                    f"?auth_key=1715745062-0-0-{rng.getrandbits(64):016x}"
                ),
                callback_url="default" if rng.random() < 0.7 else "https://cb.example.com/asr",
                created_at=NOW - timedelta(seconds=rng.randrange(1, 86_400)),
                updated_at=NOW - timedelta(seconds=rng.randrange(1, 600)),
            )
        )
    return tasks


def change_some(tasks: list[Task], fraction: float, seed: int) -> list[Task]:
    """A new answer where ``fraction`` of the tasks changed (new tag or status)."""
    rng = random.Random(seed)
    changed = list(tasks)
    for index in rng.sample(range(len(tasks)), int(len(tasks) * fraction)):
        task = tasks[index]
        changed[index] = replace(task, tag=f"{task.tag}-x{seed}", updated_at=NOW)
    return changed


class BenchApp(App[None]):
    """One table at a time, filling the screen."""

    def compose(self) -> ComposeResult:
        yield TaskTable(clock=lambda: NOW)


def render_visible(widget: Widget) -> None:
    """Render the widget's visible lines, as the compositor does on the next frame."""
    width, height = widget.outer_size
    widget.render_lines(Region(0, 0, width, height))


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def timed(
    pilot: Pilot[None], work: Callable[[], None], widget: Widget
) -> tuple[float, float]:
    """(work + render, work + render + settle) in seconds."""
    await pilot.pause()
    start = time.perf_counter()
    work()
    render_visible(widget)
    done = time.perf_counter()
    await pilot.pause()
    return done - start, time.perf_counter() - start


async def bench_task_table(pilot: Pilot[None], tasks: list[Task]) -> dict[str, tuple[float, float]]:
    app = pilot.app
    results: dict[str, tuple[float, float]] = {}
    book_times: list[float] = []

    first: list[tuple[float, float]] = []
    for _ in range(REPEATS):
        await app.query(TaskTable).remove()
        table = TaskTable(clock=lambda: NOW)
        await app.mount(table)
        table.focus()
        book = TaskBook()
        book.update(tasks, NOW)
        rows = book.rows()
        first.append(await timed(pilot, partial(table.set_rows, rows), table))
    results["first full table"] = _medians(first)

    refresh: list[tuple[float, float]] = []
    current = tasks
    for repeat in range(REPEATS):
        current = change_some(current, 0.01, seed=repeat)
        start = time.perf_counter()
        book.update(current, NOW + timedelta(seconds=5 * (repeat + 1)))
        book_times.append(time.perf_counter() - start)
        rows = book.rows()
        refresh.append(await timed(pilot, partial(table.set_rows, rows), table))
    results["refresh, 1% changed"] = _medians(refresh)

    keystrokes: list[tuple[float, float]] = []
    for _ in range(REPEATS):
        typed = ""
        for char in "event-42":
            typed += char
            keystrokes.append(await timed(pilot, partial(table.set_filter, typed), table))
        table.set_filter("")
    results["filter keystroke"] = _medians(keystrokes)

    moves: list[tuple[float, float]] = []
    for _ in range(REPEATS * 10):
        moves.append(await timed(pilot, table.action_cursor_down, table))
    results["cursor move"] = _medians(moves)

    results["TaskBook.update, 1% changed"] = (statistics.median(book_times), 0.0)
    return results


async def bench_data_table(pilot: Pilot[None], tasks: list[Task]) -> float:
    """Settled seconds for DataTable: add_columns + add_rows + first render (median)."""
    app = pilot.app
    rows = [
        (
            task.task_id,
            task.status_label,
            task.mode,
            task.language,
            task.tag,
            format_uptime(task.created_at, NOW),
            format_age(task.updated_at, NOW),
            stream_host_path(task.stream_url),
            task.callback_url,
        )
        for task in tasks
    ]
    samples = []
    for _ in range(max(2, REPEATS // 2)):
        await app.query("TaskTable, DataTable").remove()
        table: DataTable[str] = DataTable()
        await app.mount(table)
        await pilot.pause()

        def load(table: DataTable[str] = table) -> None:
            table.add_columns(
                "ID", "STATUS", "MODE", "LANG", "TAG", "UPTIME", "UPDATED", "STREAM", "CALLBACK"
            )
            table.add_rows(rows)

        _, settled = await timed(pilot, load, table)
        samples.append(settled)
    return statistics.median(samples)


def _medians(samples: list[tuple[float, float]]) -> tuple[float, float]:
    return (
        statistics.median(s[0] for s in samples),
        statistics.median(s[1] for s in samples),
    )


async def main() -> int:
    tasks = make_tasks(N_TASKS)
    app = BenchApp()
    async with app.run_test(size=SIZE) as pilot:
        ours = await bench_task_table(pilot, tasks)
        stock = await bench_data_table(pilot, tasks)

    print(f"{N_TASKS:,} tasks, {SIZE[0]}x{SIZE[1]}, median of {REPEATS} repeats")
    print(f"{'measure':<30} {'work ms':>9} {'settled ms':>11} {'target ms':>10}  verdict")
    failed = False
    for name, (work, settled) in ours.items():
        target = TARGETS_MS.get(name)
        verdict = ""
        if target is not None:
            ok = work * 1000 <= target
            failed |= not ok
            verdict = "PASS" if ok else "FAIL"
        settled_text = f"{settled * 1000:11.1f}" if settled else f"{'':>11}"
        target_text = f"{target:10.0f}" if target is not None else f"{'':>10}"
        print(f"{name:<30} {work * 1000:9.2f} {settled_text} {target_text}  {verdict}")
    ours_settled = ours["first full table"][1]
    print(f"{'DataTable first full table':<30} {'':>9} {stock * 1000:11.1f}")
    print(
        f"TaskTable loads {stock / ours_settled:.0f}x faster than DataTable "
        f"({ours_settled * 1000:.0f} ms vs {stock * 1000:.0f} ms, settled)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
