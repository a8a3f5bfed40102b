"""Profile screens: the switcher (``P``), the add/edit form, and the first-run welcome.

They list profiles through the `asrtui.protocols.Connector` and write them through its
`asrtui.profiles.ProfileStore` (atomic, 0600), validated by the rules of
`asrtui.profiles.entry`, so the console and ``asrtui profile add`` accept exactly the same
profiles. Opening a profile is the app's job: the switcher dismisses with the key to open, the
first-run screen posts `SwitchRequested`.

`switcher`, `form` and `first_run` hold one screen each.
"""

from __future__ import annotations

from asrtui.ui.screens.profiles.first_run import FirstRunScreen, SwitchRequested
from asrtui.ui.screens.profiles.form import ProfileForm
from asrtui.ui.screens.profiles.switcher import DEMO_REFUSAL, ProfileSwitcher, choice_text

__all__ = [
    "DEMO_REFUSAL",
    "FirstRunScreen",
    "ProfileForm",
    "ProfileSwitcher",
    "SwitchRequested",
    "choice_text",
]
