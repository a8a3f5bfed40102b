"""Leaving the terminal as it was: the alternate screen is erased before the console leaves it.

The console draws on the alternate screen and leaves it on exit, and the terminal puts back the
screen from before. tmux (3.2 and later, seen with 3.3a) does not reflow the alternate screen while
the window is resized, so a line drawn when the window was wider keeps its cells past the right
edge, unseen. On leaving, tmux reflows that alternate screen to the width the saved screen had,
then the saved screen to today's width, history included: the unseen tails become lines of the
history, and one that wrapped joins the shell's first line. After 120x32, 200x50 and 100x30 the
shell's first line came back indented by 20 cells (120 - 100) whenever a frame for the old size
had scrolled the alternate screen by an odd number of lines; every such exit also left lines of
the console's table in the shell's scrollback.

Erasing the alternate screen (ED 2) just before leaving it empties those lines, tails included,
so there is nothing left to reflow. It costs nothing elsewhere: the alternate screen is thrown away
on leaving anyway, and with its history off in the alternate screen, tmux erases without scrolling
anything into the user's scrollback.
"""

from __future__ import annotations

from textual.driver import Driver
from textual.drivers.linux_driver import LinuxDriver

__all__ = ["ERASE_SCREEN", "ConsoleDriver", "console_driver"]

#: ED 2: erase the whole screen (the alternate one, while the console is on it).
ERASE_SCREEN = "\x1b[2J"


class ConsoleDriver(LinuxDriver):
    """Textual's driver for Unix terminals, erasing the alternate screen before it leaves it."""

    def stop_application_mode(self) -> None:
        """Erase the alternate screen, then restore the terminal as Textual does.

        Written through the driver's writer after the last frame and before Textual's stop
        sequence (``1049l`` among it), so no frame can land between the two.
        """
        self.write(ERASE_SCREEN)
        super().stop_application_mode()


def console_driver(chosen: type[Driver]) -> type[Driver]:
    """The driver to run with, given the one Textual chose for the platform.

    Only Textual's own Unix driver is replaced; a driver named in ``TEXTUAL_DRIVER`` and
    Windows' stay as they are.
    """
    return ConsoleDriver if chosen is LinuxDriver else chosen
