"""Export rendering, clipboard texts and the remembered theme, without a running app."""

from __future__ import annotations

import csv
import json
import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from asrtui.cli import output as cli_output
from asrtui.models import Task
from asrtui.ui import clipboard
from asrtui.ui.export import (
    ExportFormat,
    default_export_path,
    export_tasks,
    format_for,
    render_csv,
    render_json,
)
from asrtui.ui.settings import load_theme, save_theme
from tests.support.fakes import make_task


def test_json_export_masks_every_secret_even_nested() -> None:
    task = make_task(1, extra={"nested": {"aliUid": "999988887777", "url": "x?auth_key=abc"}})
    text = render_json([task])
    assert "secret1" not in text
    assert "1119309225474343" not in text
    assert "999988887777" not in text
    assert "auth_key=abc" not in text
    assert json.loads(text)[0]["nested"]["aliUid"] == "********7777"


def test_csv_export_has_a_header_masks_secrets_and_defuses_formulas() -> None:
    task = make_task(1, tag='=HYPERLINK("http://evil")')
    rows = list(csv.reader(render_csv([task]).splitlines()))
    header, row = rows
    values = dict(zip(header, row, strict=True))
    assert values["task_id"] == task.task_id
    assert values["tag"].startswith("'=")
    assert values["stream_url"].endswith("auth_key=****")
    assert values["ali_uid"] == "************4343"
    assert values["status"] == "running"
    assert values["created_at"] == "2024-05-14T00:47:00+00:00"


def test_a_task_without_its_raw_answer_still_exports() -> None:
    task = Task(task_id="asr-1", stream_url="rtmp://h/a?auth_key=zz", ali_uid="12345678")
    data = json.loads(render_json([task]))
    assert data[0]["taskId"] == "asr-1"
    assert data[0]["streamUrl"] == "rtmp://h/a?auth_key=****"
    assert data[0]["aliUid"] == "****5678"


def test_export_writes_atomically_and_reports_failures(tmp_path: Path) -> None:
    target = tmp_path / "tasks.csv"
    written = export_tasks([make_task(1)], target, ExportFormat.CSV)
    assert written == target
    assert target.read_text().startswith("task_id,status")
    assert [p.name for p in tmp_path.iterdir()] == ["tasks.csv"]
    with pytest.raises(OSError, match="No such file"):
        export_tasks([make_task(1)], tmp_path / "nope" / "x.json", ExportFormat.JSON)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_export_into_a_read_only_directory_fails_cleanly(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(PermissionError):
            export_tasks([make_task(1)], locked / "x.json", ExportFormat.JSON)
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


def test_default_export_path_and_format_by_suffix() -> None:
    now = datetime(2024, 5, 14, 4, 0, 0, tzinfo=UTC)
    path = default_export_path(now, ExportFormat.CSV, UTC)
    assert path.name == "asrtui-tasks-20240514-040000.csv"
    assert default_export_path(now, tz=timezone(timedelta(hours=8))).name == (
        "asrtui-tasks-20240514-120000.json"
    )
    assert format_for(Path("a.CSV"), ExportFormat.JSON) is ExportFormat.CSV
    assert format_for(Path("a.txt"), ExportFormat.JSON) is ExportFormat.JSON


def test_clipboard_texts_mask_unless_revealed() -> None:
    task = make_task(3)
    assert clipboard.stream_url(task, revealed=False).endswith("auth_key=****")
    assert clipboard.stream_url(task, revealed=True).endswith("secret3")
    assert "secret3" not in clipboard.task_json(task, revealed=False)
    assert json.loads(clipboard.task_json(task, revealed=True))["aliUid"] == "1119309225474343"


def test_theme_is_remembered_and_bad_state_is_ignored(tmp_path: Path) -> None:
    state = tmp_path / "dir" / "console.json"
    assert load_theme(state) is None
    save_theme(state, "gruvbox")
    assert load_theme(state) == "gruvbox"
    state.write_text("{not json")
    assert load_theme(state) is None
    state.write_text('["a list"]')
    assert load_theme(state) is None
    save_theme(None, "nord")
    assert load_theme(None) is None


def test_the_export_file_holds_what_asrtui_tasks_prints(tmp_path: Path) -> None:
    """One format for people and scripts: the console's export and the CLI agree byte for byte."""
    tasks = [make_task(1, tag="=SUM(A1)"), make_task(2, extra={"note": "x\x1by"})]
    csv_file = export_tasks(tasks, tmp_path / "t.csv", ExportFormat.CSV)
    json_file = export_tasks(tasks, tmp_path / "t.json", ExportFormat.JSON)
    assert csv_file.read_text() == cli_output.render_csv(tasks)
    assert json_file.read_text() == cli_output.render_json(tasks) + "\n"
    header = cli_output.render_csv(tasks).splitlines()[0].split(",")
    assert header[-4:] == [
        "translate_enabled",
        "report_interval",
        "auto_terminate_delay",
        "ali_uid",
    ]
