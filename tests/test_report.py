"""``asrtui report`` over a scripted journal: exact durations; the README example is this one."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asrtui.__main__ import main
from asrtui.events import (
    ACTION,
    API_ERROR_BEGAN,
    API_ERROR_ENDED,
    SESSION_STARTED,
    TASK_APPEARED,
    TASK_CHANGED,
    TASK_ENDED,
    THROTTLED,
    Event,
)
from asrtui.journal import Journal, journal_path
from asrtui.report import build_report, format_duration, render_markdown, report_json

DAY = datetime(2026, 12, 6, tzinfo=UTC)


def at(clock: str) -> datetime:
    hours, minutes, seconds = (int(part) for part in clock.split(":"))
    return DAY + timedelta(hours=hours, minutes=minutes, seconds=seconds)


A = {"tag": "news-desk", "stream": "pull.example.com/live/news.flv", "language": "cn"}
B = {"tag": "sports-main", "stream": "pull.example.com/live/sports.flv", "language": "en"}
C = {"tag": "sports-main", "stream": "pull.example.com/live/sports.flv", "language": "en"}


def scripted() -> list[Event]:
    """A broadcast: throttling, an outage, a task ending, a restart of it, a console restart."""
    return [
        Event(at("20:00:00"), SESSION_STARTED, "", {}, "console started"),
        Event(at("20:00:05"), TASK_APPEARED, "asr-a", A, "task asr-a (news-desk) appeared"),
        Event(at("20:00:05"), TASK_APPEARED, "asr-b", B, "task asr-b (sports-main) appeared"),
        Event(at("20:10:00"), THROTTLED, "", {"code": "Throttling.User"}, "throttled"),
        Event(at("20:10:30"), API_ERROR_ENDED, "", {}, "answers again"),
        Event(
            at("20:20:00"),
            API_ERROR_BEGAN,
            "",
            {"code": "ServiceUnavailable"},
            "The service is unavailable (ServiceUnavailable)",
        ),
        Event(at("20:22:00"), API_ERROR_ENDED, "", {}, "answers again"),
        Event(at("20:30:00"), TASK_ENDED, "asr-b", B, "task asr-b (sports-main) ended"),
        Event(
            at("20:31:00"),
            ACTION,
            "asr-c",
            {"action": "restart", "ok": True, "like": "asr-b"},
            "restart asr-c: like asr-b",
        ),
        Event(at("20:31:02"), TASK_APPEARED, "asr-c", C, "task asr-c (sports-main) appeared"),
        Event(
            at("20:40:00"),
            TASK_CHANGED,
            "asr-a",
            {"changes": {"report_interval": [0, 200]}, "tag": "news-desk"},
            "task asr-a (news-desk) changed: report_interval",
        ),
        # The console was killed after 20:40:00 and started again at 20:45:00.
        Event(at("20:45:00"), SESSION_STARTED, "", {}, "console started (restarted here)"),
        Event(at("20:45:01"), TASK_APPEARED, "asr-a", A, "task asr-a (news-desk) appeared"),
        Event(at("20:45:01"), TASK_APPEARED, "asr-c", C, "task asr-c (sports-main) appeared"),
        Event(at("21:00:00"), ACTION, "asr-c", {"action": "stop", "ok": True}, "stop asr-c"),
        Event(at("21:00:02"), TASK_ENDED, "asr-c", C, "task asr-c (sports-main) ended"),
        Event(at("21:30:00"), TASK_ENDED, "asr-a", A, "task asr-a (news-desk) ended"),
    ]


def test_scripted_journal_gives_exact_durations() -> None:
    report = report_json(build_report(scripted(), profile="studio"))
    tasks = {t["task_id"]: t for t in report["tasks"]}
    assert list(tasks) == ["asr-a", "asr-b", "asr-c"]
    a, b, c = tasks["asr-a"], tasks["asr-b"], tasks["asr-c"]
    assert a["running_seconds"] == 89 * 60 + 55
    assert [(g["seconds"], g["what"]) for g in a["gaps"]] == [
        (30.0, "throttled (Throttling.User)"),
        (120.0, "API failing (ServiceUnavailable)"),
        (300.0, "no console running"),
    ]
    assert a["ended"].startswith("ended")
    assert b["running_seconds"] == 29 * 60 + 55
    assert [g["seconds"] for g in b["gaps"]] == [30.0, 120.0]
    assert b["ended_at"] == at("20:30:00").isoformat()
    assert c["running_seconds"] == 29 * 60
    assert [g["seconds"] for g in c["gaps"]] == [300.0]
    assert c["ended"] == "stopped by the operator"
    assert [(o["code"], o["seconds"]) for o in report["outages"]] == [("ServiceUnavailable", 120)]
    assert [(o["code"], o["seconds"]) for o in report["throttling"]] == [("Throttling.User", 30)]
    assert [a["detail"]["action"] for a in report["actions"]] == ["restart", "stop"]
    assert report["sessions"] == [at("20:00:00").isoformat(), at("20:45:00").isoformat()]
    assert len(report["timeline"]) == len(scripted())


def test_an_episode_open_at_a_restart_ends_there_and_one_open_at_the_end_is_open() -> None:
    events = [
        Event(at("10:00:00"), SESSION_STARTED),
        Event(at("10:00:01"), TASK_APPEARED, "asr-a"),
        Event(at("10:01:00"), API_ERROR_BEGAN, detail={"code": "InternalError"}),
        Event(at("10:02:00"), API_ERROR_BEGAN, detail={"code": "InternalError"}),
        Event(at("10:05:00"), SESSION_STARTED),
        Event(at("10:06:00"), THROTTLED, detail={"code": "Throttling.Api"}),
        Event(at("10:07:00"), TASK_APPEARED, "asr-a"),
    ]
    report = report_json(build_report(events))
    assert [(o["seconds"], o["open"]) for o in report["outages"]] == [(60.0, False)]
    assert [(o["seconds"], o["open"]) for o in report["throttling"]] == [(60.0, True)]
    (task,) = report["tasks"]
    assert task["running_seconds"] == 7 * 60 - 1
    assert task["ended"] == "still running at the end of the journal"


@given(st.lists(st.tuples(st.integers(0, 3600), st.sampled_from(["up", "down"])), max_size=30))
def test_running_time_never_exceeds_the_journal_and_runs_never_overlap(
    steps: list[tuple[int, str]],
) -> None:
    events = [
        Event(
            DAY + timedelta(seconds=second),
            TASK_APPEARED if what == "up" else TASK_ENDED,
            "asr-x",
        )
        for second, what in steps
    ]
    report = build_report(events)
    for task in report.tasks:
        assert report.start is not None
        assert report.end is not None
        assert 0 <= task.running_seconds <= (report.end - report.start).total_seconds()
        for before, after in zip(task.runs, task.runs[1:], strict=False):
            assert before.end <= after.start


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (7, "7s"), (59.6, "1m 00s"), (245, "4m 05s"), (3723, "1h 02m 03s")],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_markdown_cells_cannot_break_the_table() -> None:
    events = [
        Event(at("10:00:00"), TASK_APPEARED, "asr-a", {"tag": "a|b\nc\x1b[2J"}, "x|y\nz"),
    ]
    text = render_markdown(build_report(events), tz=UTC)
    row = next(line for line in text.splitlines() if line.startswith("| asr-a"))
    assert row.count(" | ") == 8
    assert "\x1b" not in text


def test_empty_journal() -> None:
    assert "no events" in render_markdown(build_report([]), tz=UTC)


def _store(events: list[Event], profile: str = "studio") -> None:
    journal = Journal(journal_path(profile))
    for event in events:
        journal.append(event)
    journal.close()


def test_report_command_markdown_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    _store(scripted())
    assert main(["report", "--profile", "studio", "--format", "json"]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert [t["running_seconds"] for t in data["tasks"]] == [5395, 1795, 1740]
    assert main(["report", "--profile", "studio"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# Broadcast report: profile studio")
    assert "## Throttling" in text
    assert "1h 29m 55s" in text


def test_report_since_keeps_the_later_part(capsys: pytest.CaptureFixture[str]) -> None:
    _store(scripted())
    assert main(["report", "--profile", "studio", "--since", "2026-12-06T20:44:00+00:00"]) == 0
    text = capsys.readouterr().out
    assert "asr-b" not in text.split("## Operator actions")[0]


# -- the README's example is generated from the scripted journal --------------------------------

README = Path(__file__).resolve().parent.parent / "README.md"
_BLOCK_RE = re.compile(
    r"(<!-- example-report: begin -->\n```markdown\n)(.*?)(```\n<!-- example-report: end -->)",
    re.DOTALL,
)


def test_readme_example_report_is_generated() -> None:
    """Run with ASRTUI_UPDATE_README=1 to write it after a change of the report's look."""
    expected = render_markdown(build_report(scripted(), profile="studio"), tz=UTC)
    text = README.read_text(encoding="utf-8")
    match = _BLOCK_RE.search(text)
    assert match, "README.md has no example-report block"
    if os.environ.get("ASRTUI_UPDATE_README") == "1":
        Path(README).write_text(
            text[: match.start(2)] + expected + text[match.end(2) :], encoding="utf-8"
        )
        return
    assert match.group(2) == expected
