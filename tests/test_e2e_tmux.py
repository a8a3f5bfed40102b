"""End-to-end tests: the installed ``asrtui --demo`` driven by keys in a real terminal (tmux).

The console runs as a user would start it: the ``asrtui`` console script next to the running
interpreter, in a tmux pane with a real ``TERM``, on a private tmux server (its own socket and
configuration, killed afterwards; the user's tmux is never touched; see `tests.support.tmux`).
The tests read the screen with ``capture-pane`` and wait by polling with bounded deadlines,
never with fixed sleeps.

Operators keep the console open in tmux for hours, detaching and re-attaching from terminals of
other sizes, so besides the keys the tests detach and attach real tmux clients and resize the
window, and check that the console draws itself again for the new size and keeps refreshing.

Every capture is also checked for secrets: no ``auth_key=`` value other than ``****``, and none
of the demo tasks' stream keys or the demo account id, which the test knows because the demo's
emulator is seeded (the same seeded backend is rebuilt here).

Without tmux the tests are skipped locally and fail in CI (``CI`` set), where they must run.
"""

from __future__ import annotations

import inspect
import os
import re
import shlex
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import pytest
from rich.cells import cell_len

from asrtui.connect import open_demo_client
from asrtui.emulator.backend import EmulatorBackend
from asrtui.ui.screens.main import WIDE_AT
from tests.support.tmux import (
    TMUX_CONF,
    USER_DIR_VARS,
    TmuxServer,
    console_env,
    data_age,
    detail_pane,
    installed_asrtui,
    key_bar,
    private_server,
    status_line,
    table_rows,
    task_counts,
)

pytestmark = pytest.mark.e2e

#: How long the console may take to draw its first table (a cold start on a busy machine).
START_TIMEOUT = 20.0
#: How long a key may take to show its effect on screen.
KEY_TIMEOUT = 5.0
#: How soon Escape must bring the whole list back.
ESCAPE_TIMEOUT = 1.5
#: How long the console may take to draw itself again for a new size.
LAYOUT_TIMEOUT = 10.0
#: How long to wait for an automatic refresh: the demo refreshes every 5 s.
REFRESH_TIMEOUT = 12.0

#: The private server's configuration: no status bar (the pane gets the whole window), and the
#: pane stays after its process exits, so that a failure's last screen can still be read.
# The status line's last part, ``12/12 tasks`` (``12/12`` in its compact form).
_STATUS_END = re.compile(r"│ \d+/\d+(?: tasks)?(?:  bell off)?$")
_TABLE_HEADER = re.compile(r"^ +ID\S* +STATUS ")
_AUTH_KEY = re.compile(r"auth_key=([^\s│▏]*)")


def _demo_secrets() -> tuple[list[str], list[str]]:
    """The seeded demo tasks' ids and the secret parts of their stream URLs' ``auth_key``."""
    defaults = inspect.signature(open_demo_client).parameters
    backend = EmulatorBackend(
        seed=defaults["seed"].default,
        tasks=defaults["tasks"].default,
        lively=True,
        clock=lambda: datetime(2024, 1, 1, tzinfo=UTC),
    )
    tasks = backend.query() or {}
    ids = sorted(tasks)
    keys = [str(task["streamUrl"]).rsplit("-", 1)[1] for task in tasks.values()]
    return ids, keys


DEMO_IDS, DEMO_KEYS = _demo_secrets()
DEMO_ACCOUNT_UID = "1119309225474343"


def assert_no_secret(screen: str) -> None:
    """Fail if the screen shows a stream key, an unmasked ``auth_key`` or the account id."""
    for value in _AUTH_KEY.findall(screen):
        assert set(value) <= {"*", "…"}, f"auth_key={value} on screen:\n{screen}"
    for key in DEMO_KEYS:
        # Any 8 consecutive characters of a key would be a leak (a wrapped or cut URL).
        for start in range(len(key) - 7):
            assert key[start : start + 8] not in screen, f"stream key {key} on screen:\n{screen}"
    assert DEMO_ACCOUNT_UID not in screen, f"account id on screen:\n{screen}"


#: Where the detail pane is: beside the table (wide), below it (narrow) or hidden (``d``).
DetailPlace = Literal["beside", "below", "hidden"]


def detail_place_for(width: int) -> DetailPlace:
    """Where the main screen puts the detail pane at ``width`` columns."""
    return "beside" if width >= WIDE_AT else "below"


def layout_problems(screen: str, width: int, height: int, detail: DetailPlace) -> list[str]:
    """What is wrong with the screen for a console drawn at ``width`` x ``height``.

    A console that missed the resize shows its old frame, which tmux cuts (smaller window) or
    leaves short (larger one): the key bar then does not end at the right edge. The detail pane
    sits beside the table behind a vertical rule, or below it under a horizontal one.
    Notifications stack up in the bottom right corner, so rules are looked for where they
    cannot cover them.
    """
    lines = screen.split("\n")
    if lines and not lines[-1]:
        lines.pop()  # capture-pane ends the last line too
    if len(lines) < 3:
        return [f"{len(lines)} lines on a screen of {height}"]
    problems = []
    if len(lines) != height:
        problems.append(f"{len(lines)} lines, not {height}")
    too_long = [n for n, line in enumerate(lines) if cell_len(line) > width]
    if too_long:
        problems.append(f"lines {too_long} longer than {width} cells")
    if not (lines[0].startswith(" demo · ") and _STATUS_END.search(lines[0])):
        problems.append("no status line on the top row")
    key_bar = lines[-1].rstrip()
    if not (key_bar.startswith(" ? Help ") and key_bar.endswith("^p Commands")):
        problems.append("no key bar on the last row")
    elif not width - 2 <= cell_len(key_bar) <= width:
        problems.append(f"the key bar ends at column {cell_len(key_bar)}, not at {width}")
    header = next((n for n, line in enumerate(lines[1:4], 1) if _TABLE_HEADER.match(line)), None)
    if header is None:
        return [*problems, "no table header on rows 1 to 3"]
    body = lines[header : len(lines) - 1]
    # Beside: a vertical rule down the body, right of the table's header, the task id after it.
    column = lines[header].find("│")
    rule_rows = sum(1 for line in body if column > 0 and line[column : column + 1] == "│")
    beside = column > width // 3 and rule_rows >= len(body) * 3 // 5
    beside = beside and "asr-" in lines[header][column:]
    # Below: a horizontal rule across the body's width (its left part: notifications cover the
    # right), the task id on the line after it.
    rule = "─" * (width * 2 // 5)
    below = any(
        line.startswith(rule) and "asr-" in after
        for line, after in zip(body, [*body[1:], ""], strict=True)
    )
    found: DetailPlace = "beside" if beside else "below" if below else "hidden"
    if beside and below:
        problems.append("the detail pane both beside and below the table")
    elif found != detail:
        problems.append(f"the detail pane {found}, not {detail}")
    return problems


def wait_for_layout(
    tmux: TmuxServer, target: str, width: int, height: int, detail: DetailPlace
) -> str:
    """Wait until the console is drawn for ``width`` x ``height`` with the detail ``detail``."""
    return tmux.wait_for(
        target,
        lambda s: not layout_problems(s, width, height, detail),
        f"the console drawn at {width}x{height} with the detail pane {detail}",
        LAYOUT_TIMEOUT,
        why=lambda s: "; ".join(layout_problems(s, width, height, detail)),
    )


def wait_for_refresh(tmux: TmuxServer, target: str) -> None:
    """Wait for an automatic refresh: the data age on the status line goes back down."""
    ages: list[int] = []

    def refreshed(screen: str) -> bool:
        age = data_age(screen)
        if age is None:
            return False
        done = bool(ages) and age < max(ages)
        ages.append(age)
        return done

    tmux.wait_for(
        target,
        refreshed,
        "an automatic refresh (the data age on the status line going back down)",
        REFRESH_TIMEOUT,
        why=lambda s: f"ages seen: {sorted(set(ages))}",
    )


@pytest.fixture(scope="module")
def tmux(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TmuxServer]:
    """A private tmux server for the module; every screen it captures is checked for secrets."""
    with private_server(
        "asrtui-e2e", tmp_path_factory.mktemp("tmux"), TMUX_CONF, assert_no_secret
    ) as server:
        yield server


@pytest.fixture
def asrtui_script() -> Path:
    """The installed console script; the tests cannot run without it."""
    return installed_asrtui()


def console_command(script: Path, term: str) -> str:
    """The pane's shell command: print TERM, run the console, print its exit status.

    The shell then waits for a line, so that the terminal's modes can be read while it runs.
    """
    env = [f"{name}={value}" for name, value in console_env().items()]
    shell = 'echo "TERM=$TERM"; "$0" --demo; status=$?; echo "EXIT=$status"; read _; exit $status'
    return shlex.join(["env", f"TERM={term}", *env, "sh", "-c", shell, str(script)])


def wait_for_first_table(tmux: TmuxServer, target: str) -> str:
    """Wait for the first table: running rows and the status line of the demo profile."""
    return tmux.wait_for(
        target,
        lambda s: "demo" in status_line(s) and any(st == "running" for _, st in table_rows(s)),
        "the first table",
        START_TIMEOUT,
    )


def filter_to_one_task(tmux: TmuxServer, target: str, shown: str | None = None) -> str:
    """Type "/" and part of a running task's id: the table narrows to that task.

    Args:
        target: the pane the keys are typed into.
        shown: the pane the screen is read from (``target`` if ``None``).

    Returns:
        The task id as the table shows it.
    """
    shown = shown or target
    rows = table_rows(tmux.capture(shown))
    chosen = next(task_id for task_id, status in rows if status == "running")
    fragment = chosen[4:10]
    tmux.keys(target, "/")
    tmux.keys(target, fragment, literal=True)
    tmux.wait_for(
        shown,
        lambda s: (
            # The id column widens once the one row left needs no scrollbar: same id, cut later.
            [i[: len(chosen)] for i, _ in table_rows(s)] == [chosen]
            and (task_counts(s) or (0, 0))[0] == 1
            and f"Filter: {fragment}" in s
        ),
        f"the table to narrow to {chosen} after typing /{fragment}",
        KEY_TIMEOUT,
    )
    return chosen


def clear_filter(tmux: TmuxServer, target: str, shown: str | None = None) -> None:
    """Escape: the filter bar goes and every task is back."""
    tmux.keys(target, "Escape")
    tmux.wait_for(
        shown or target,
        lambda s: (
            "Filter:" not in s
            and (counts := task_counts(s)) is not None
            and counts[0] == counts[1] > 1
            and len(table_rows(s)) > 1
        ),
        "Escape to clear the filter",
        KEY_TIMEOUT,
    )


def quit_and_check_terminal(
    tmux: TmuxServer, target: str, term: str, keys_to: str | None = None
) -> None:
    """Press "q": the console exits with 0 and gives the terminal back as it was.

    The screen from before the console is back (it used the alternate screen and left it),
    exactly, even after the window changed size: the console erases the alternate screen
    before leaving it, so tmux has none of its lines to reflow into the shell's screen (see
    `asrtui.ui.terminal_exit`). The cursor is shown and mouse reporting is off.

    Args:
        target: the console's pane.
        term: the ``TERM`` the console ran with.
        keys_to: the pane "q" is typed into (``target`` if ``None``).
    """
    tmux.keys(keys_to or target, "q")
    screen = tmux.wait_for(target, lambda s: "EXIT=" in s, "the console to exit", KEY_TIMEOUT)
    lines = [line for line in screen.splitlines() if line.strip()]
    expected = [f"TERM={term}", "EXIT=0"]
    assert lines == expected, screen
    # Read while the shell still runs (it waits for a line): tmux hides a dead pane's cursor.
    modes = "#{pane_dead} #{alternate_on} #{cursor_flag} #{mouse_any_flag} #{mouse_button_flag}"
    assert tmux.display(target, modes) == "0 0 1 0 0"


@pytest.mark.parametrize(
    ("term", "width", "height"),
    [
        ("screen-256color", 80, 24),
        ("screen-256color", 120, 32),
        ("tmux-256color", 80, 24),
        ("tmux-256color", 120, 32),
    ],
)
def test_demo_console_in_tmux(
    tmux: TmuxServer, asrtui_script: Path, term: str, width: int, height: int
) -> None:
    target = f"{term}-{width}x{height}"
    tmux.new_session(target, console_command(asrtui_script, term), width=width, height=height)
    try:
        assert tmux.display(target, "#{pane_width}x#{pane_height}") == f"{width}x{height}"

        screen = wait_for_first_table(tmux, target)
        shown_ids = [task_id for task_id, _ in table_rows(screen)]
        assert any(known.startswith(i) for i in shown_ids for known in DEMO_IDS), (
            "the demo shows none of its seeded tasks, so the secret check would prove nothing"
        )

        # "/" and a few characters of a task id: the table narrows to that task.
        filter_to_one_task(tmux, target)

        # Escape clears the filter at once: every task is back.
        started = time.monotonic()
        clear_filter(tmux, target)
        assert time.monotonic() - started <= ESCAPE_TIMEOUT

        # "?" opens the help with the keys; Escape closes it.
        tmux.keys(target, "?")
        tmux.wait_for(
            target,
            lambda s: "asrtui keys" in s and "Clear filter" in s,
            "the help screen",
            KEY_TIMEOUT,
        )
        tmux.keys(target, "Escape")
        tmux.wait_for(
            target,
            lambda s: "asrtui keys" not in s and len(table_rows(s)) > 1,
            "the help screen to close",
            KEY_TIMEOUT,
        )

        # "p" pauses the auto-refresh (the status line says so); "p" again resumes it.
        tmux.keys(target, "p")
        tmux.wait_for(
            target, lambda s: "PAUSED" in status_line(s), "the paused status", KEY_TIMEOUT
        )
        tmux.keys(target, "p")
        tmux.wait_for(
            target,
            lambda s: "PAUSED" not in status_line(s) and "next" in status_line(s),
            "the refresh to resume",
            KEY_TIMEOUT,
        )

        quit_and_check_terminal(tmux, target, term)
        # The demo needs no account and leaves nothing behind: no config, state, log or cache.
        assert files_in_user_dirs() == []
    finally:
        tmux.kill_session(target)


def files_in_user_dirs() -> list[Path]:
    """Every file under the (per-test) home and XDG directories the console was given."""
    found: list[Path] = []
    for name in USER_DIR_VARS:
        if name in os.environ:
            found += [p for p in Path(os.environ[name]).rglob("*") if not p.is_dir()]
    return sorted(set(found))


#: The TERM of the console and of the tmux clients in the detach and resize tests.
TERM = "tmux-256color"


def start_client(tmux: TmuxServer, name: str, target: str, width: int, height: int) -> None:
    """Attach a real tmux client to ``target`` from a terminal of ``width`` x ``height``.

    The client runs in a pane of a session ``name`` on the same private server. A client needs
    a terminal; a tmux pane is one that tmux sizes, drains and lets the test read and type
    into, so the test sees exactly what the operator's terminal shows and detaches with the
    operator's own keys. (``script`` or a pty of the test's own would need the test to set the
    size and keep reading the output itself, or the client blocks.) The pane prints how the
    client ended and then waits, so that the last screen stays readable.
    """
    shell = '"$@"; echo "CLIENT-EXIT=$?"; read _'
    command = shlex.join(["sh", "-c", shell, "sh", *tmux.client_argv(target, TERM)])
    tmux.new_session(name, command, width=width, height=height)


def wait_for_client_view(
    tmux: TmuxServer, client: str, target: str, width: int, height: int
) -> str:
    """Wait until the client shows the console drawn for its size, as the console's pane has it.

    The client's screen is what tmux drew on the operator's terminal from the pane's screen;
    equal, the redraw after attaching is whole.
    """
    detail = detail_place_for(width)

    def intact(screen: str) -> bool:
        return not layout_problems(screen, width, height, detail) and screen == tmux.capture(target)

    return tmux.wait_for(
        client,
        intact,
        f"the client's view of the console at {width}x{height}, as in the console's pane",
        LAYOUT_TIMEOUT,
        why=lambda s: "; ".join(layout_problems(s, width, height, detail)) or "not as the pane",
    )


def test_detach_and_attach_keep_the_console_working(tmux: TmuxServer, asrtui_script: Path) -> None:
    app, first, second = "detach-console", "detach-client-1", "detach-client-2"
    tmux.new_session(app, console_command(asrtui_script, TERM), width=100, height=30)
    try:
        wait_for_first_table(tmux, app)

        # An operator attaches from a terminal of the window's size: the client shows the
        # console as it is, and keys typed on that terminal reach it.
        start_client(tmux, first, app, 100, 30)
        wait_for_client_view(tmux, first, app, 100, 30)
        assert tmux.display(app, "#{session_attached}") == "1"
        filter_to_one_task(tmux, first)
        clear_filter(tmux, first)

        # ... and detaches with the prefix key and d (C-b: the private server reads no
        # user configuration).
        tmux.keys(first, "C-b", "d")
        tmux.wait_for(
            first,
            lambda s: f"[detached (from session {app})]" in s and "CLIENT-EXIT=0" in s,
            "the client to detach",
            KEY_TIMEOUT,
        )
        assert tmux.display(app, "#{session_attached}") == "0"
        tmux.kill_session(first)

        # Nobody is watching: the console keeps refreshing, its screen as it was.
        wait_for_refresh(tmux, app)
        wait_for_layout(tmux, app, 100, 30, "below")

        # The operator attaches again from a larger terminal: the window takes its size, the
        # console draws itself for it (the detail pane moves beside the table), the client
        # shows it whole, and it keeps refreshing and taking keys.
        start_client(tmux, second, app, 130, 35)
        wait_for_client_view(tmux, second, app, 130, 35)
        assert tmux.display(app, "#{session_attached} #{window_width}x#{window_height}") == (
            "1 130x35"
        )
        wait_for_refresh(tmux, second)
        filter_to_one_task(tmux, second)
        clear_filter(tmux, second)

        quit_and_check_terminal(tmux, app, TERM, keys_to=second)
    finally:
        for session in (second, first, app):
            tmux.kill_session(session)


#: The window sizes the resize test goes through after starting at 120x32: narrow, wide,
#: narrow again (a terminal window dragged smaller, maximised, restored).
RESIZES = [(80, 24), (200, 50), (100, 30)]


def test_resizes_lay_the_console_out_again(tmux: TmuxServer, asrtui_script: Path) -> None:
    # Both layouts are visited, so a console that ignored resizes cannot pass.
    sizes = [(120, 32), *RESIZES]
    assert {detail_place_for(width) for width, _ in sizes} == {"beside", "below"}
    target = "resize"
    tmux.new_session(target, console_command(asrtui_script, TERM), width=120, height=32)
    try:
        wait_for_first_table(tmux, target)
        wait_for_layout(tmux, target, 120, 32, detail_place_for(120))
        for width, height in RESIZES:
            tmux.resize(target, width, height)
            size = tmux.display(target, "#{pane_width}x#{pane_height}")
            assert size == f"{width}x{height}"
            detail = detail_place_for(width)
            wait_for_layout(tmux, target, width, height, detail)
            # Keys still work at the new size: d hides the detail pane, d shows it again.
            tmux.keys(target, "d")
            wait_for_layout(tmux, target, width, height, "hidden")
            tmux.keys(target, "d")
            wait_for_layout(tmux, target, width, height, detail)
        filter_to_one_task(tmux, target)
        clear_filter(tmux, target)
        quit_and_check_terminal(tmux, target, TERM)
    finally:
        tmux.kill_session(target)


#: Windows the console starts in, is widened to and narrowed to (its drawing then has cells past
#: the right edge of the alternate screen, which tmux keeps without reflowing them), and how many
#: lines a frame drawn for the wide window scrolls the narrow one by: odd and even counts.
NARROWED = [
    ((120, 32), (200, 50), (100, 30), 1),
    ((120, 32), (200, 50), (100, 30), 2),
    ((80, 24), (160, 40), (90, 28), 3),
]
Size = tuple[int, int]


@pytest.mark.parametrize("case", NARROWED, ids=lambda case: f"{case[2][0]}x{case[2][1]}-{case[3]}")
def test_quitting_after_a_resize_gives_the_shell_its_screen_back(
    tmux: TmuxServer, asrtui_script: Path, case: tuple[Size, Size, Size, int]
) -> None:
    """After a wide window narrowed and a frame drawn for the old size that scrolled the
    alternate screen, "q" still gives the shell its screen back as it was: its lines where they
    were (not indented by the width the window lost) and none of the console's in its history.

    The late frame is written to the pane's terminal as the console would have written it: its
    rows past the new bottom end there in a line feed. An odd number of them used to shift the
    shell's first line (seen with 120x32, 200x50, 100x30: indented by 20 cells).
    """
    start, wide, narrow, scrolls = case
    target = f"narrowed-{narrow[0]}-{scrolls}"
    tmux.new_session(target, console_command(asrtui_script, TERM), width=start[0], height=start[1])
    try:
        wait_for_first_table(tmux, target)
        for width, height in (start, wide, narrow):
            tmux.resize(target, width, height)
            wait_for_layout(tmux, target, width, height, detail_place_for(width))
        tty = tmux.display(target, "#{pane_tty}")
        with open(tty, "wb", buffering=0) as pane:
            pane.write(f"\x1b[{narrow[1]};1H".encode() + b"\n" * scrolls)
        quit_and_check_terminal(tmux, target, TERM)
        history = [line for line in tmux.capture(target, history=True).splitlines() if line.strip()]
        assert history == [f"TERM={TERM}", "EXIT=0"], "\n".join(history)
    finally:
        tmux.kill_session(target)


#: The key bar while the detail pane has the focus: its own keys first.
DETAIL_KEYS = " Esc Back to table  j/k Scroll "
#: The key bar while the table has it.
TABLE_KEYS = " ? Help  / Filter "
_TASK_ID = re.compile(r"^ ?(asr-[0-9a-f-]{36})$")


def _pane(screen: str) -> tuple[bool, str]:
    """Whether the detail pane has the focus, and its first line (``(False, "")``: none)."""
    pane = detail_pane(screen)
    return (pane.focused, pane.first.strip()) if pane is not None else (False, "")


@pytest.mark.parametrize(("width", "height"), [(80, 24), (120, 32)])
def test_focus_walks_into_the_detail_pane_and_back(
    tmux: TmuxServer, asrtui_script: Path, width: int, height: int
) -> None:
    """Enter gives the detail pane the keys (its edge and the key bar say so), j/k scroll it,
    Esc gives them back to the table, whose cursor j then moves (the pane follows it)."""
    target = f"detail-focus-{width}x{height}"
    tmux.new_session(target, console_command(asrtui_script, TERM), width=width, height=height)
    try:
        wait_for_first_table(tmux, target)
        screen = tmux.wait_for(
            target,
            lambda s: _TASK_ID.match(_pane(s)[1]) is not None,
            "the detail pane to show the highlighted task",
            KEY_TIMEOUT,
        )
        first_task = _pane(screen)[1]
        assert not _pane(screen)[0], "the detail pane marked as focused before Enter"
        assert key_bar(screen).startswith(TABLE_KEYS)

        tmux.keys(target, "Enter")
        tmux.wait_for(
            target,
            lambda s: _pane(s) == (True, first_task) and key_bar(s).startswith(DETAIL_KEYS),
            "Enter to move the focus into the detail pane (heavy edge, its keys in the bar)",
            KEY_TIMEOUT,
        )
        if width < WIDE_AT:
            # Below the table the pane is short: j scrolls its text up a line, k back down.
            tmux.keys(target, "j")
            tmux.wait_for(
                target,
                lambda s: _pane(s)[0] and _pane(s)[1].startswith("status "),
                "j to scroll the detail pane by a line",
                KEY_TIMEOUT,
            )
            tmux.keys(target, "k")
            tmux.wait_for(
                target,
                lambda s: _pane(s) == (True, first_task),
                "k to scroll the detail pane back up",
                KEY_TIMEOUT,
            )

        tmux.keys(target, "Escape")
        screen = tmux.wait_for(
            target,
            lambda s: _pane(s) == (False, first_task) and key_bar(s).startswith(TABLE_KEYS),
            "Esc to give the keys back to the table (light edge, the table's keys)",
            KEY_TIMEOUT,
        )

        # j moves the table's cursor again: the pane follows it to another task of the table.
        tmux.keys(target, "j")
        screen = tmux.wait_for(
            target,
            lambda s: (match := _TASK_ID.match(_pane(s)[1])) is not None and match[1] != first_task,
            "j to move the table's cursor to the next task",
            KEY_TIMEOUT,
        )
        now = _pane(screen)[1].strip()
        shown = [task_id.rstrip("…") for task_id, _ in table_rows(screen)]
        assert any(now.startswith(prefix) for prefix in shown), (now, shown)
        quit_and_check_terminal(tmux, target, TERM)
    finally:
        tmux.kill_session(target)
