"""A few tasks in a few versions, and answers made of them: for comparing two task books.

Tests that check a leaner `asrtui.ui.taskbook.TaskBook` against the book as it was (a
reference subclass) drive both with the same random answers drawn from `ANSWER`.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from hypothesis import strategies as st

from asrtui.models import Task

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
IDS = ("asr-a", "asr-b", "asr-c", "asr-d", "asr-e")
#: Each task as first listed, changed, and changed quietly (only ``updated_at``).
POOL = {
    task_id: [
        Task(task_id, tag="t"),
        Task(task_id, tag="changed"),
        dataclasses.replace(Task(task_id, tag="t"), updated_at=START),
    ]
    for task_id in IDS
}
#: An answer: up to six picks from `POOL` (a task may repeat, as a bad answer may).
ANSWER = st.lists(st.tuples(st.sampled_from(IDS), st.integers(0, 2)), max_size=6).map(
    lambda picks: [POOL[task_id][variant] for task_id, variant in picks]
)
