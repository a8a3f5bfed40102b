"""Checkboxes and radio buttons whose state reads without colour.

Textual draws ``▐X▌`` for a checkbox and ``▐●▌`` for a radio button whether they are on or
off, and tells the two apart by colour only: on a monochrome terminal, through a screen reader
or in ``tmux capture-pane`` an unchecked read-only box looked checked and both export formats
looked chosen. These draw the mark only when on. Every form and dialog uses them (a test holds
the product to it).
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Checkbox, RadioButton

__all__ = ["PlainCheckbox", "PlainRadioButton"]


class PlainCheckbox(Checkbox):
    """A checkbox marked ``X`` when checked, blank when not."""

    @property
    def _button(self) -> Content:
        self.BUTTON_INNER = "X" if self.value else " "
        return super()._button


class PlainRadioButton(RadioButton):
    """A radio button marked ``●`` when chosen, blank when not."""

    @property
    def _button(self) -> Content:
        self.BUTTON_INNER = "\u25cf" if self.value else " "
        return super()._button
