"""What a start does not load: packages the development tools bring, and panels not yet shown.

With the ``dev`` extra, click (httpx's command line), attrs (which ``rich.pretty`` imports
whenever it is installed) and pygments are installed beside asrtui; none of them is needed for
the first frame of the console or for ``asrtui tasks``, and each costs tens of milliseconds
of every start. Neither does the event log widget load before its panel opens. A name imported
for its type only (``NoteKind``) once pulled all of it in; these checks run the real entry
point in a fresh interpreter, as a user starts it, and name what was loaded.

The console's first frame also goes without what only a later key, a subcommand or a
non-demo session uses (`LATER`): each was loaded by every start once, a few milliseconds
apiece, through an import at the top of a module that needed it in one function. Nor does it
start a process: finding the C library once ran ``ldconfig -p`` on every start.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Loaded by neither start (``None`` entries, which mark a module absent, do not count).
NOT_AT_START = ("click", "attr", "rich.pretty", "pygments", "httpx._main")

#: Not loaded for the console's first frame (the demo's): loaded when first used.
LATER = (
    # the subcommands' modules and what they load (the console takes the global options only)
    "asrtui.cli.tasks",
    "asrtui.cli.create",
    "asrtui.cli.journal",
    "asrtui.cli.emulator",
    "asrtui.cli.whoami",
    "asrtui.cli.profile",
    "asrtui.wire.stream",  # a listing read while it arrives: ``tasks --format json`` only
    "asrtui.profiles",  # the profile store: not read by the demo
    # the journal (not kept by the demo) and the rotating log file (only with --log-level)
    "asrtui.journal",
    "asrtui.logs",
    "logging.handlers",
    # the alert hooks (only with --on-event or a profile's on_event, which the demo has not)
    "asrtui.hooks",
    # the exports and copies of marked tasks (their key), the create form (its key)
    "asrtui.output",
    "asrtui.ui.export",
    "asrtui.taskspec",
    "asrtui.ui.create_form",
    # the stop or delete of marked tasks (its key)
    "asrtui.ui.batch",
    # the command palette's provider (its key), the quota shared across processes (not demo)
    "asrtui.ui.commands",
    "asrtui.sharedquota",
    # the screens and dialogs a key opens
    "asrtui.ui.screens.help",
    "asrtui.ui.screens.columns",
    "asrtui.ui.screens.profiles",
    "asrtui.ui.dialogs",
    "asrtui.report",
    # the copies' texts (their keys); the atomic file writes (a saved theme or view: a key)
    "asrtui.ui.clipboard",
    "asrtui.files",
    # shell-like splitting (a credential command, an alert hook)
    "shlex",
    # the event loop's default thread pool: the demo has no journal to read in a thread
    "concurrent.futures.thread",
    # the first request's timestamp check in the demo's emulator (strptime builds its locale
    # tables on first use); it reads the usual layout directly
    "_strptime",
)

_CONSOLE = r"""
import asyncio, os, sys

# Started as the ``asrtui`` command starts: `main` imports the console when it opens it.
import asrtui.__main__ as entry

spawned = []

def audit(event, args):
    if event in ("subprocess.Popen", "os.posix_spawn", "os.fork", "os.exec", "os.system"):
        spawned.append(event)

sys.addaudithook(audit)

async def auto_pilot(pilot):
    app = pilot.app
    while True:
        tables = app.screen.query("#tasks")
        if tables and tables.first().row_count > 0:
            break
        await asyncio.sleep(0.01)
    await pilot.pause()
    loaded = [name for name in sys.argv[1:] if sys.modules.get(name) is not None]
    os.write(1, ("LOADED " + " ".join(loaded + spawned) + "\n").encode())
    app.exit()

launch_console = entry.launch_console

def launch_headless(args):
    import asrtui.ui.app as ui_app

    async def headless(*args, **kwargs):
        app = ui_app.AsrtuiApp(*args, **kwargs)
        await app.run_async(headless=True, size=(120, 32), auto_pilot=auto_pilot)
        return 0

    ui_app.run_console_async = headless
    return launch_console(args)

entry.launch_console = launch_headless
sys.exit(entry.main(["--demo"]))
"""

_TASKS = r"""
import os, sys
from asrtui.__main__ import main

names = sys.argv[1:]
code = main(["--demo", "tasks", "--format", "json"])
loaded = [name for name in names if sys.modules.get(name) is not None]
os.write(2, ("LOADED " + " ".join(loaded) + "\n").encode())
sys.exit(code)
"""


def _loaded(code: str, names: tuple[str, ...], tmp_path: Path) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALIBABA", "ASRTUI_"))}
    env.update(
        HOME=str(tmp_path),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *names],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )
    for line in (done.stdout + done.stderr).splitlines():
        if line.startswith("LOADED"):
            return line.split()[1:]
    pytest.fail(f"no report (exit {done.returncode}): {done.stderr[-2000:]}")


def test_the_console_draws_its_first_frame_without_them(tmp_path: Path) -> None:
    names = (*NOT_AT_START, "asrtui.ui.widgets.event_log", "textual.widgets._rich_log")
    assert _loaded(_CONSOLE, names, tmp_path) == []


def test_the_console_draws_its_first_frame_without_what_later_keys_use(tmp_path: Path) -> None:
    # Also reported: any process started (an audit event), which none of the names can be.
    assert _loaded(_CONSOLE, LATER, tmp_path) == []


def test_the_console_check_sees_a_loaded_module(tmp_path: Path) -> None:
    # The report must be able to name something: the task table is on the first frame.
    names = ("asrtui.ui.widgets.task_table", "asrtui.output")
    assert _loaded(_CONSOLE, names, tmp_path) == ["asrtui.ui.widgets.task_table"]


def test_a_listing_loads_neither_them_nor_the_console(tmp_path: Path) -> None:
    names = (*NOT_AT_START, "textual", "asrtui.ui", "asrtui.report")
    assert _loaded(_TASKS, names, tmp_path) == []


def test_the_check_sees_a_loaded_module(tmp_path: Path) -> None:
    # The report must be able to name something: ``json`` is loaded by every listing.
    assert _loaded(_TASKS, ("json", "attr"), tmp_path) == ["json"]


_PROFILES = r"""
import os, sys

# What a start with a profile or the environment's credentials loads to find them.
import asrtui.credentials.chain, asrtui.profiles.ini, asrtui.profiles.store

loaded = [name for name in sys.argv[1:] if sys.modules.get(name) is not None]
os.write(1, ("LOADED " + " ".join(loaded) + "\n").encode())
"""


def test_finding_credentials_loads_neither_the_ini_parser_nor_the_toml_writer(
    tmp_path: Path,
) -> None:
    # Loaded when an ini credentials file is read, or a profile saved (~0.2 MB of every start
    # otherwise); ``tomllib``, which reads the store, shows the check can see a module.
    names = ("configparser", "tomli_w", "tomllib")
    assert _loaded(_PROFILES, names, tmp_path) == ["tomllib"]
