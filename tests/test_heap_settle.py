"""The heap settler: long-lived objects frozen after an answer that made many, leaks bounded.

A full pass of the cyclic collector over every task of a large account stalled the console's
loop for 50-235 ms every few seconds; `HeapSettler` freezes what is alive after an answer that
made many rows, so that full passes walk only what was made since, and runs one full pass each
time the frozen objects double, so that cycles that died frozen are not kept for the session.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asrtui.models import Task
from asrtui.ui.collector import FREEZE_AFTER, HeapSettler
from asrtui.ui.taskbook import TaskBook

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@dataclass
class _Recorder:
    """Stands in for the `gc` module: counts objects frozen, says what was called."""

    alive: int = 0
    frozen: int = 0
    calls: list[str] = field(default_factory=list)
    counted: int = 0

    def freeze(self) -> None:
        self.calls.append("freeze")
        self.frozen += self.alive
        self.alive = 0

    def unfreeze(self) -> None:
        self.calls.append("unfreeze")
        self.alive += self.frozen
        self.frozen = 0

    def collect(self, generation: int = 2) -> int:
        self.calls.append(f"collect({generation})")
        collected, self.alive = self.alive // 2, self.alive - self.alive // 2
        return collected

    def get_freeze_count(self) -> int:
        self.counted += 1
        return self.frozen

    def get_objects(self, generation: int | None = None) -> list[object]:
        # Everything alive and not frozen, as if it had all reached the oldest generation.
        return [None] * self.alive if generation in (None, 2) else []


@pytest.fixture
def real_gc() -> Iterator[None]:
    """No automatic pass during the test; the collector as it was (nothing frozen) after it."""
    gc.unfreeze()
    gc.disable()
    yield
    gc.unfreeze()
    gc.enable()


def test_an_answer_that_made_few_rows_freezes_nothing() -> None:
    recorder = _Recorder(alive=100)
    settler = HeapSettler(collector=recorder)
    assert not settler.settled(FREEZE_AFTER - 1)
    assert not settler.settled(0)
    assert recorder.calls == []


def test_an_answer_that_made_many_rows_freezes_what_is_alive() -> None:
    recorder = _Recorder(alive=1000)
    settler = HeapSettler(collector=recorder)
    assert settler.settled(FREEZE_AFTER)
    assert recorder.calls == ["freeze"]
    assert (recorder.frozen, recorder.alive) == (1000, 0)


def test_a_full_pass_runs_once_the_frozen_objects_doubled() -> None:
    recorder = _Recorder(alive=1000)
    settler = HeapSettler(collector=recorder)
    settler.settled(FREEZE_AFTER)  # 1000 frozen: the reference
    recorder.alive = 1000
    settler.settled(FREEZE_AFTER)  # 2000: not more than double
    assert "collect(2)" not in recorder.calls
    recorder.alive = 1
    settler.settled(FREEZE_AFTER)  # 2001: more than double, collected once
    assert recorder.calls[-4:] == ["freeze", "unfreeze", "collect(2)", "freeze"]
    assert settler.full_passes == 1
    assert recorder.frozen == 2001 - 2001 // 2  # the new reference


@given(
    st.lists(
        st.tuples(st.integers(0, 5000), st.integers(0, 3 * FREEZE_AFTER), st.integers(0, 5000)),
        max_size=40,
    )
)
def test_frozen_objects_never_grow_past_double_the_last_full_pass(
    steps: list[tuple[int, int, int]],
) -> None:
    # Frozen objects are also freed (their last reference gone): the settler's bound then
    # overstates them, and must never understate them.
    recorder = _Recorder()
    settler = HeapSettler(collector=recorder)
    reference: int | None = None
    for alive, made, freed in steps:
        recorder.alive += alive
        recorder.frozen -= min(freed, recorder.frozen)
        passes = settler.full_passes
        froze = settler.settled(made)
        assert froze == (made >= FREEZE_AFTER)
        if not froze:
            continue
        if reference is None or settler.full_passes > passes:
            reference = recorder.frozen
        assert recorder.frozen <= 2 * reference


def test_the_frozen_objects_are_counted_only_when_they_may_have_doubled() -> None:
    # Counting walks every frozen object: not on each settle while thousands of tasks change
    # each second (each answer freezing a tenth more), only when a bound says double is near.
    recorder = _Recorder(alive=100_000)
    settler = HeapSettler(collector=recorder)
    settler.settled(FREEZE_AFTER)
    for _ in range(20):
        recorder.alive = 10_000
        recorder.frozen -= 9_000  # the rows these replace are freed
        settler.settled(FREEZE_AFTER)
    assert settler.freezes == 21
    assert settler.full_passes == 0
    assert recorder.counted <= 3


def test_the_real_collector_freezes_and_a_full_pass_frees_frozen_cycles(real_gc: None) -> None:
    settler = HeapSettler()

    class Cycle:
        other: object = None

    settler.settled(FREEZE_AFTER)
    first = gc.get_freeze_count()
    assert first > 0
    # Cycles that died before the next settle froze them: only a full pass frees them.
    cycles = [Cycle() for _ in range(first + 10)]
    for cycle in cycles:
        cycle.other = cycle
    del cycles, cycle
    settler.settled(FREEZE_AFTER)
    assert settler.full_passes == 1
    assert gc.get_freeze_count() < first + 10


def test_the_book_says_how_many_rows_an_answer_made() -> None:
    book = TaskBook()
    tasks = tuple(Task(f"asr-{n}") for n in range(5))
    book.update(tasks, START)
    assert book.made == 5
    book.update(tasks, START + timedelta(seconds=1))
    assert book.made == 0
    book.update((*tasks[:4], Task("asr-4", tag="x")), START + timedelta(seconds=2))
    assert book.made == 1
    book.update(tasks[:3], START + timedelta(seconds=3))  # two end: their rows are new
    assert book.made == 2
