"""The remembered view is written from a thread: the loop never waits on the disk, order holds.

The write (re-read, merge, replace with an fsync) ran on the console's loop once a second after
a change; on a slow disk the console stood still meanwhile. These tests hold what moving it to
a thread must keep: the last value of a profile wins, every profile keeps its entry, the write
a screen or the app's end waits for is on disk, and what a write found comes back on the loop.
"""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import asrtui.ui.remembered
from asrtui.ui.remembered import FILE_NAME, Remembered, RememberedStore
from asrtui.ui.remembered_writer import Outcome, RememberedWriter
from tests.support.fakes import FakeTaskSource, running_console


class GatedStore(RememberedStore):
    """The real store, whose writes wait for the test to open the gate; it counts them."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.gate = threading.Event()
        self.gate.set()
        self.started = threading.Event()
        self.written: list[tuple[str, Remembered]] = []

    def save(self, profile: str, value: Remembered) -> list[str]:
        self.started.set()
        assert self.gate.wait(30), "the test never opened the gate"
        self.written.append((profile, value))
        return super().save(profile, value)


def on_disk(path: Path) -> dict[str, Any]:
    profiles: dict[str, Any] = json.loads(path.read_text())["profiles"]
    return profiles


def interval(seconds: float) -> Remembered:
    return Remembered(interval=seconds, interval_base=5.0)


async def flushed(writer: RememberedWriter) -> None:
    """Wait for the writer without holding the loop, then let its answers arrive."""
    assert await asyncio.to_thread(writer.flush)
    await asyncio.sleep(0)


async def test_the_loop_goes_on_while_a_write_waits_on_the_disk(tmp_path: Path) -> None:
    store = GatedStore(tmp_path / FILE_NAME)
    store.gate.clear()
    writer = RememberedWriter()
    heard: list[Outcome] = []
    writer.put(store, "prod", interval(10.0), heard.append)
    assert await asyncio.to_thread(store.started.wait, 30)
    for _ in range(20):  # the loop turns while the write is held
        await asyncio.sleep(0)
    assert not (tmp_path / FILE_NAME).exists()
    assert heard == []
    store.gate.set()
    await flushed(writer)
    assert on_disk(tmp_path / FILE_NAME)["prod"]["interval"] == 10.0
    assert heard == [[]]


async def test_values_put_while_a_write_runs_collapse_to_the_last(tmp_path: Path) -> None:
    store = GatedStore(tmp_path / FILE_NAME)
    store.gate.clear()
    writer = RememberedWriter()
    heard: list[Outcome] = []
    writer.put(store, "prod", interval(6.0), heard.append)
    assert await asyncio.to_thread(store.started.wait, 30)
    for seconds in (7.0, 8.0, 9.0):
        writer.put(store, "prod", interval(seconds), heard.append)
    writer.put(store, "staging", interval(20.0), heard.append)
    store.gate.set()
    await flushed(writer)
    assert [(name, value.interval) for name, value in store.written] == [
        ("prod", 6.0),
        ("prod", 9.0),
        ("staging", 20.0),
    ]
    saved = on_disk(tmp_path / FILE_NAME)
    assert saved["prod"]["interval"] == 9.0
    assert saved["staging"]["interval"] == 20.0
    assert len(heard) == 3


_PUTS = st.lists(
    st.tuples(st.sampled_from(["prod", "staging", "qa"]), st.integers(3, 60), st.booleans()),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(puts=_PUTS)
def test_the_file_ends_with_each_profiles_last_value(tmp_path: Path, puts: list[Any]) -> None:
    """Whatever the order and wherever the flushes, each profile's newest value is on disk."""
    path = tmp_path / "puts" / FILE_NAME
    if path.exists():
        path.unlink()

    async def scenario() -> None:
        store = RememberedStore(path)
        writer = RememberedWriter()
        last: dict[str, float] = {}
        for profile, seconds, flush in puts:
            writer.put(store, profile, interval(float(seconds)), lambda outcome: None)
            last[profile] = float(seconds)
            if flush:
                await flushed(writer)
        await flushed(writer)
        saved = on_disk(path)
        assert {name: entry["interval"] for name, entry in saved.items()} == last

    asyncio.run(scenario())


async def test_a_failed_write_comes_back_on_the_loop(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).mkdir()  # the file's place is taken: the replace fails
    writer = RememberedWriter()
    heard: list[tuple[Outcome, int]] = []
    writer.put(
        RememberedStore(tmp_path / FILE_NAME),
        "prod",
        interval(10.0),
        lambda outcome: heard.append((outcome, threading.get_ident())),
    )
    await flushed(writer)
    ((outcome, thread),) = heard
    assert isinstance(outcome, OSError)
    assert thread == threading.get_ident()


def test_without_a_loop_the_value_is_written_at_once(tmp_path: Path) -> None:
    heard: list[Outcome] = []
    RememberedWriter().put(
        RememberedStore(tmp_path / FILE_NAME), "prod", interval(10.0), heard.append
    )
    assert heard == [[]]
    assert on_disk(tmp_path / FILE_NAME)["prod"]["interval"] == 10.0


async def test_the_console_writes_off_its_loop_and_waits_for_the_write_as_it_quits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``q`` right after a change: the write, slow and in its thread, is on disk at the end."""
    real = asrtui.ui.remembered.replace_file
    threads: list[int] = []
    slow = threading.Event()  # never set: each write waits its full 0.5 s, a slow disk

    def slow_replace(path: Path, data: bytes) -> None:
        threads.append(threading.get_ident())
        slow.wait(0.5)
        real(path, data)

    monkeypatch.setattr(asrtui.ui.remembered, "replace_file", slow_replace)
    state = tmp_path / "console.json"
    source = FakeTaskSource.with_tasks(4, profile="prod")
    async with running_console(source, state_path=state) as c:
        await c.press("h")
        await c.pilot.press("q")
        # No flush here: quitting waited for the write.
        assert on_disk(state.with_name(FILE_NAME))["prod"]["hide_ended"] is True
    assert threads
    assert threading.get_ident() not in threads
