"""The C heap settings for long sessions: set once where glibc runs, harmless elsewhere."""

from __future__ import annotations

import platform
import subprocess
import sys
from typing import cast

import pytest

from asrtui import heap
from asrtui.client import LiveClient
from asrtui.models import TaskList
from asrtui.tasksource import TRIM_AFTER_TASKS, ClientTaskSource
from tests.support.fakes import make_task


def test_large_buffers_are_kept_apart_on_glibc_and_nothing_breaks_elsewhere() -> None:
    on_glibc = platform.libc_ver()[0] == "glibc"
    assert heap.keep_large_buffers_apart() is on_glibc
    assert heap.keep_large_buffers_apart() is on_glibc  # once: the same answer again
    assert isinstance(heap.trim(), bool)


_CHILD = """
import sys
from asrtui import heap

if sys.argv[1] == "apart":
    heap.keep_large_buffers_apart()

def resident_kb():
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

before = resident_kb()
kept = []
for _ in range(6):
    # A fresh body of a large answer each time, then values that live on (a task or two);
    # with glibc's moving threshold, the later bodies would come from the heap, under what
    # lives on, and stay resident.
    block = bytearray(16 * 1024 * 1024)
    block[::4096] = b"x" * len(block[::4096])
    kept.append(b"y" * 2000)
    del block
print(resident_kb() - before)
"""


def test_large_freed_buffers_go_back_to_the_system() -> None:
    if platform.libc_ver()[0] != "glibc":
        return
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, "apart"], capture_output=True, text=True, check=True
    )
    assert int(done.stdout) < 8 * 1024  # kB: none of the 16 MiB blocks stayed resident


@pytest.mark.parametrize(
    ("count", "trims"),
    [(0, 0), (1, 0), (TRIM_AFTER_TASKS - 1, 0), (TRIM_AFTER_TASKS, 1), (1000, 1), (20_000, 1)],
)
async def test_the_console_trims_the_heap_after_each_answer_from_the_threshold_up(
    count: int, trims: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The console's source gives the free C heap back after each answer of that size or more
    # (start-up garbage and the answer's own buffers), and only then: a small account's
    # refresh stays a plain call.
    called: list[int] = []

    def trim() -> bool:
        called.append(1)
        return True

    monkeypatch.setattr(heap, "trim", trim)
    answer = TaskList(tuple(make_task(n) for n in range(count)))

    class Client:
        async def list_tasks(self, *, priority: bool = False) -> TaskList:
            return answer

    source = ClientTaskSource(cast(LiveClient, Client()), profile_name="p", region="r")
    assert await source.list_tasks() is answer
    assert await source.list_tasks(priority=True) is answer
    assert len(called) == 2 * trims
