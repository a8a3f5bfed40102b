"""The export writes the tasks the dialog counted, even when a refresh lands while it is open."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import Input, Label

from asrtui.ui.dialogs import ExportDialog
from tests.support.fakes import FakeTaskSource, make_task, running_console


@pytest.mark.parametrize(("added", "removed"), [(2, 0), (0, 2), (1, 1)])
async def test_the_count_in_the_dialog_is_the_count_written(
    tmp_path: Path, added: int, removed: int
) -> None:
    source = FakeTaskSource.with_tasks(5)
    async with running_console(source) as c:
        await c.press("E")
        dialog = c.app.screen
        assert isinstance(dialog, ExportDialog)
        title = str(dialog.query_one("#title", Label).render())
        assert "Export 5 task(s)" in title
        source.put(make_task(100 + n) for n in range(added))
        for task_id in list(source.tasks)[:removed]:
            source.remove(task_id)
        await c.advance(5)
        target = tmp_path / "out.json"
        dialog.query_one("#path", Input).value = str(target)
        dialog.query_one("#path", Input).focus()
        await c.press("enter")
        assert len(json.loads(target.read_text())) == 5
        assert "Exported 5 task(s)" in c.app.notes.texts()
