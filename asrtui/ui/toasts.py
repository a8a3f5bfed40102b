"""Toast upkeep: the empty toast holders Textual leaves behind are removed.

Textual (8.x) shows each notification as a toast wrapped in a holder, in a toast rack on the
current screen. A toast removes itself and its holder when its timer fires, but that timer is
armed when the toast mounts, a moment after the notification was raised, so it fires a moment
after the notification has expired. When another notification arrives in that moment, the rack
forgets expired notifications and removes their toasts itself, and it removes the toast only:
the empty holder stays in the rack for good, with its styles, caches and message queue, and the
rack lays every one of them out on each refresh. `App.clear_notifications` leaves empty holders
the same way.

A console that notifies on every refresh that sees tasks end (every refresh, in a busy
broadcast) hit that moment about every other notification under load: a console at 1 s
refreshes kept some 20 empty holders more each minute (over 1,000 an hour), each with its
styles, caches and message queue, and its CPU use rose as the rack to lay out grew.
`ToastSweeper` removes holders that have been empty for two sweeps in a row, so the rack holds
no more holders than live toasts plus those that emptied since the last sweep.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable

from textual.dom import DOMNode
from textual.widget import Widget

__all__ = ["SWEEP_SECONDS", "ToastSweeper", "remove_toasts"]

#: Seconds between two sweeps of the toast racks.
SWEEP_SECONDS = 5.0

#: Selects every toast holder in a screen's toast rack (by type name: Textual keeps both
#: classes in a private module).
_HOLDERS = "ToastRack > ToastHolder"
#: Selects every toast in a screen's toast rack.
_TOASTS = "ToastRack Toast"


def remove_toasts(screen: DOMNode) -> None:
    """Take every toast off ``screen`` now, as a dialog opens over it.

    `App.clear_notifications` redraws the toasts of the screen on top only, which is the dialog
    by the time the screen under it hears of it: the screen's own toasts stayed drawn under the
    dialog, beside it where it does not cover the screen (below the profile form at 100x30),
    long after they expired. Their holders go with the next sweep.
    """
    for toast in screen.query(_TOASTS):
        toast.remove()


class ToastSweeper:
    """Removes toast holders left empty (see the module docstring).

    A holder is removed when it was already empty at the previous sweep: a holder mounted a
    moment ago may not have mounted its toast yet, and must not be taken for a leftover.
    """

    def __init__(self) -> None:
        # Weak, so a holder removed by other means is not kept alive here (and a new one can
        # never be taken for it, as an id could).
        self._empty: weakref.WeakSet[Widget] = weakref.WeakSet()

    def sweep(self, screens: Iterable[DOMNode]) -> int:
        """Remove holders found empty at this sweep and the previous one, in ``screens``.

        Returns:
            How many holders were removed.
        """
        empty_now: weakref.WeakSet[Widget] = weakref.WeakSet()
        doomed: list[Widget] = []
        for screen in screens:
            for holder in screen.query(_HOLDERS):
                if holder.children:
                    continue
                if holder in self._empty:
                    doomed.append(holder)
                else:
                    empty_now.add(holder)
        # Holders seen empty once; removed ones leave the set with this assignment, so it never
        # holds more than the holders of the racks.
        self._empty = empty_now
        for holder in doomed:
            holder.remove()
        return len(doomed)
