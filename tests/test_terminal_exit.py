"""Which driver the console runs with: Textual's Unix driver gives way to `ConsoleDriver`.

What the driver writes on exit is checked in a real terminal by ``tests/test_e2e_tmux.py``
(``test_quitting_after_a_resize_gives_the_shell_its_screen_back``).
"""

from __future__ import annotations

from textual.drivers.headless_driver import HeadlessDriver
from textual.drivers.linux_driver import LinuxDriver

from asrtui.ui.terminal_exit import ERASE_SCREEN, ConsoleDriver, console_driver


class NamedDriver(LinuxDriver):
    """A driver a user names in ``TEXTUAL_DRIVER``."""


def test_the_unix_driver_is_replaced_by_one_erasing_the_alternate_screen() -> None:
    assert console_driver(LinuxDriver) is ConsoleDriver
    assert issubclass(ConsoleDriver, LinuxDriver)
    assert ERASE_SCREEN == "\x1b[2J"


def test_other_drivers_are_kept() -> None:
    assert console_driver(HeadlessDriver) is HeadlessDriver
    assert console_driver(NamedDriver) is NamedDriver
