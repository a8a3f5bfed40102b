"""Every checkbox and radio button says its state without colour, in every form and dialog."""

from __future__ import annotations

import ast
from pathlib import Path

from textual.widgets import RadioButton

from asrtui.ui.dialogs import ExportDialog
from tests.support.fakes import FakeTaskSource, running_console

UI = Path(__file__).resolve().parent.parent / "asrtui" / "ui"
STOCK = {"Checkbox", "RadioButton"}


def test_no_screen_makes_a_stock_checkbox_or_radio_button() -> None:
    """Textual's own draw their mark on or off alike: only `asrtui.ui.widgets.toggles` may."""
    made: list[str] = []
    for path in UI.rglob("*.py"):
        if path.name == "toggles.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in STOCK:
                made.append(f"{path.relative_to(UI)}:{node.lineno}")
    assert made == []


def mark(button: RadioButton) -> str:
    return str(button.render())[:3]


async def test_the_export_formats_show_which_one_is_chosen() -> None:
    async with running_console(FakeTaskSource.with_tasks(3)) as c:
        await c.press("E")
        dialog = c.app.screen
        assert isinstance(dialog, ExportDialog)
        json_button = dialog.query_one("#json", RadioButton)
        csv_button = dialog.query_one("#csv", RadioButton)
        assert (mark(json_button), mark(csv_button)) == ("▐●▌", "▐ ▌")
        await c.press("tab", "2")
        assert (mark(json_button), mark(csv_button)) == ("▐ ▌", "▐●▌")
