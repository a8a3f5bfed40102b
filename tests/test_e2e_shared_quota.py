"""End-to-end: two consoles and a ``tasks --watch 0`` of one AccessKey share one quota.

The scenario as an operator has it: two consoles in two tmux panes and ``asrtui tasks --watch
0`` in a third process, all the installed console script, all with the same AccessKey (from
the environment) and the same user directories, so that they meet in one state file of
`asrtui.sharedquota` under ``XDG_RUNTIME_DIR``. The watcher asks as fast as the shared budget
allows, so together they keep the account at its limit while the consoles refresh every
second.

The judge is the emulator, served on a loopback socket in this process and counting what it
accepts independently of the clients: no more than its limit in any 1-second window, no
throttling answer, and a total that shows the budget was used, not merely respected. Each
console must keep refreshing meanwhile (the data age on its status line stays small and its
table shows the tasks): a fair share, not starved by the watcher.

The run fails without the sharing: given a runtime directory each (`run_together`'s
``runtime_dirs``), every process keeps a budget of its own, together they ask for more than
the limit, and the emulator throttles them.

The tests read the panes with ``capture-pane`` and wait by polling with bounded deadlines;
the only fixed wait is the run itself. Without tmux they are skipped locally and fail in CI.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from asrtui.emulator import EmulatorApp, build_emulator
from asrtui.sharedquota import ledger_path
from tests.support.tmux import (
    TMUX_CONF,
    TmuxServer,
    console_env,
    data_age,
    installed_asrtui,
    private_server,
    table_rows,
)

pytest.importorskip("uvicorn")
pytestmark = pytest.mark.e2e

#: An obviously fake AccessKey, known only to the emulator below.
KEY_ID = "AKIDEXAMPLESHAREDQUOTA"
KEY_SECRET = "shared-quota-secret-not-real"
#: The emulator's (and the account's) limit: accepted requests per key in any 1-second window.
LIMIT = 20
#: Running tasks the emulator holds (few enough that every row fits on the screen).
TASKS = 5
#: How long the three processes run together, in seconds (the test's only fixed wait).
RUN_SECONDS = 8.0
#: Share of the limit the three must reach together after the first second: the budget is
#: used, not only respected (the ledger's pacing hands out ~96 %; a busy machine costs some).
SATURATION = 0.8
#: The largest data age a console may show while the watcher saturates the budget (its
#: refresh interval is 1 s).
MAX_AGE = 5
#: How long a console may take to draw its first table (two cold starts on a busy machine).
START_TIMEOUT = 30.0
#: How long the watcher may take to print its first answer.
WATCHER_TIMEOUT = 20.0
#: How long a process may take to exit once told to.
EXIT_TIMEOUT = 10.0
CONSOLES = ("console-1", "console-2")
POLL = 0.05


@pytest.fixture
def served() -> Iterator[tuple[EmulatorApp, str]]:
    """The emulator with one fake AccessKey on a loopback socket, for one test."""
    from asrtui.emulator.server import running_server

    app = build_emulator(seed=11, tasks=TASKS, credentials={KEY_ID: KEY_SECRET}, limit=LIMIT)
    with running_server(app) as url:
        yield app, url


def assert_no_secret(screen: str) -> None:
    """Fail if a pane shows the AccessKey secret (or a recognisable part of it)."""
    for start in range(len(KEY_SECRET) - 7):
        assert KEY_SECRET[start : start + 8] not in screen, f"the secret on screen:\n{screen}"


@pytest.fixture
def tmux(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TmuxServer]:
    """A private tmux server for one test; every screen it captures is checked for the secret."""
    with private_server(
        "asrtui-quota", tmp_path_factory.mktemp("tmux"), TMUX_CONF, assert_no_secret
    ) as server:
        yield server


@contextlib.contextmanager
def _sigint_not_ignored() -> Iterator[None]:
    """SIGINT handled, not ignored, while the watcher is started.

    Run from a background job, pytest inherits SIGINT ignored, and a child keeps an ignored
    signal across ``exec`` (as ``nohup`` relies on): the watcher would then never see the
    Ctrl-C this test sends. A handled signal is reset to its default in the child instead.
    """
    previous = signal.getsignal(signal.SIGINT)
    ignored = previous == signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        if ignored:
            signal.signal(signal.SIGINT, previous)


def child_env(runtime_dir: str | None = None) -> dict[str, str]:
    """The environment of all three processes: the isolated user dirs and the fake key.

    Args:
        runtime_dir: another ``XDG_RUNTIME_DIR`` (a process that shares no ledger).
    """
    env = console_env()
    if runtime_dir is not None:
        env["XDG_RUNTIME_DIR"] = runtime_dir
    env.update(ALIBABA_CLOUD_ACCESS_KEY_ID=KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET=KEY_SECRET)
    return env


def watcher_command(script: Path, url: str) -> list[str]:
    """The watcher: every running task as one JSON line, as fast as the shared budget allows."""
    return [str(script), "tasks", "--watch", "0", "--endpoint", url, "--format", "json"]


def console_command(script: Path, url: str, env: dict[str, str]) -> str:
    """The pane's command: the console on ``url``, refreshing every second, then its status.

    The shell then waits for a line, so that a failure's last screen stays readable.
    """
    shell = '"$0" "$@"; echo "EXIT=$?"; read _'
    variables = [f"{name}={value}" for name, value in env.items()]
    argv = [str(script), "--endpoint", url, "--refresh", "1"]
    return shlex.join(["env", "TERM=tmux-256color", *variables, "sh", "-c", shell, *argv])


@dataclass
class Run:
    """What the test saw while the three processes ran together.

    Attributes:
        started: the monotonic time of the watcher's first answer (the emulator's clock).
        ended: the monotonic time the run ended.
        ages: per console, the data ages its status line showed, about once a second.
        watcher_in_run: the answers the watcher printed (one JSON line each) between
            ``started`` and ``ended``.
        watcher_exit: the watcher's exit code after SIGINT.
        watcher_stderr: what the watcher wrote on stderr.
    """

    started: float = 0.0
    ended: float = 0.0
    ages: dict[str, list[int | None]] = field(default_factory=dict)
    watcher_in_run: int = 0
    watcher_exit: int | None = None
    watcher_stderr: str = ""


def wait_for_table(tmux: TmuxServer, target: str, ids: set[str]) -> str:
    """Wait until the console's table shows every running task and its status line an age."""

    def shown(screen: str) -> bool:
        rows = {task_id.rstrip("…") for task_id, _ in table_rows(screen)}
        every = len(rows) == len(ids) and all(any(i.startswith(r) for i in ids) for r in rows)
        return every and data_age(screen) is not None

    return tmux.wait_for(target, shown, "the console's first table of every task", START_TIMEOUT)


def wait_for_lines(path: Path, count: int, timeout: float, proc: subprocess.Popen[bytes]) -> None:
    """Wait until the file at ``path`` holds ``count`` complete lines (the process alive)."""
    deadline = time.monotonic() + timeout
    while path.read_bytes().count(b"\n") < count:
        if proc.poll() is not None:
            pytest.fail(f"the watcher exited with {proc.returncode}: {path.read_text()!r}")
        if time.monotonic() >= deadline:
            pytest.fail(f"no answer from the watcher within {timeout:g} s")
        time.sleep(POLL)


def run_together(
    tmux: TmuxServer,
    script: Path,
    url: str,
    ids: set[str],
    work: Path,
    *,
    runtime_dirs: tuple[str | None, str | None, str | None] = (None, None, None),
) -> Run:
    """Start two consoles, then the watcher; let them run `RUN_SECONDS`; end them all.

    Args:
        runtime_dirs: ``XDG_RUNTIME_DIR`` of each console and of the watcher (``None``: the
            test's own, shared); different ones give each process a ledger of its own.
    """
    run = Run(ages={name: [] for name in CONSOLES})
    out, err = work / "watcher.out", work / "watcher.err"
    watcher: subprocess.Popen[bytes] | None = None
    try:
        for name, runtime in zip(CONSOLES, runtime_dirs, strict=False):
            command = console_command(script, url, child_env(runtime))
            tmux.new_session(name, command, width=120, height=30)
        for name in CONSOLES:
            wait_for_table(tmux, name, ids)

        with out.open("wb") as stdout, err.open("wb") as stderr, _sigint_not_ignored():
            watcher = subprocess.Popen(
                watcher_command(script, url),
                env=child_env(runtime_dirs[2]),
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
            )
        wait_for_lines(out, 1, WATCHER_TIMEOUT, watcher)
        run.started = time.monotonic()
        printed = out.read_bytes().count(b"\n")

        # The run: look at each console about once a second until it is over.
        deadline = run.started + RUN_SECONDS
        next_look = run.started + 1.0
        while (now := time.monotonic()) < deadline:
            if now >= next_look:
                for name in CONSOLES:
                    screen = tmux.capture(name)
                    run.ages[name].append(data_age(screen))
                    assert len(table_rows(screen)) == len(ids), screen
                next_look += 1.0
            assert watcher.poll() is None, f"the watcher exited with {watcher.returncode}"
            time.sleep(min(POLL, max(0.0, deadline - time.monotonic())))
        run.ended = time.monotonic()
        run.watcher_in_run = out.read_bytes().count(b"\n") - printed

        watcher.send_signal(signal.SIGINT)
        run.watcher_exit = watcher.wait(EXIT_TIMEOUT)
        for name in CONSOLES:
            tmux.keys(name, "q")
        for name in CONSOLES:
            screen = tmux.wait_for(
                name, lambda s: "EXIT=" in s, "the console to exit", EXIT_TIMEOUT
            )
            assert "EXIT=0" in screen, screen
            assert "Traceback" not in tmux.capture(name, history=True)
    finally:
        if watcher is not None and watcher.poll() is None:
            watcher.kill()
            watcher.wait()
        for name in CONSOLES:
            tmux.kill_session(name)
    run.watcher_stderr = err.read_text(encoding="utf-8", errors="replace")
    return run


def test_two_consoles_and_a_watcher_share_one_quota(
    tmux: TmuxServer, served: tuple[EmulatorApp, str], tmp_path: Path
) -> None:
    app, url = served
    ids = set(app.backend.query(None) or {})
    assert len(ids) == TASKS

    run = run_together(tmux, installed_asrtui(), url, ids, tmp_path)

    stats = app.stats
    accepted = list(stats.accepted_times.get(KEY_ID, ()))
    # Each console kept refreshing while the watcher used the budget: a fair share, not
    # starved (a data age growing by a second per look means no answer all along).
    for name, ages in run.ages.items():
        assert len(ages) >= RUN_SECONDS - 2, (name, ages)
        assert all(age is not None and age <= MAX_AGE for age in ages), (
            f"{name} stopped refreshing while the watcher ran: data ages {ages}"
        )
    # The emulator's own count: no throttling answer (the sharp test: without a shared ledger
    # the processes together overrun the limit and one is throttled), and never over the limit
    # in any window (the emulator refuses the rest, so this one holds by construction).
    assert stats.throttled == 0
    assert stats.max_in_any_window(KEY_ID) <= LIMIT
    # ... and the budget was used: the three together ran at the limit after the first second.
    busy = run.ended - run.started - 1.0
    in_run = sum(1 for t in accepted if run.started + 1.0 <= t < run.ended)
    assert in_run >= SATURATION * LIMIT * busy, f"{in_run} accepted in {busy:.1f} s"
    # Who had it: the watcher printed one line per answer, the consoles had the rest, about
    # one a second each (half of that allowed: an answer in flight at either end, a slow look).
    whole_run = sum(1 for t in accepted if run.started <= t < run.ended)
    consoles = whole_run - run.watcher_in_run
    assert run.watcher_in_run >= SATURATION * LIMIT * busy / 2, run.watcher_in_run
    assert consoles >= RUN_SECONDS, f"the consoles had {consoles} of {whole_run} requests"
    # The watcher ended on SIGINT as a watch ends on Ctrl-C: exit 130, nothing on stderr.
    assert run.watcher_exit == 130
    assert "Traceback" not in run.watcher_stderr
    assert run.watcher_stderr == ""
    # All three met in one state file, in the user runtime directory they share.
    runtime = Path(os.environ["XDG_RUNTIME_DIR"]) / "asrtui"
    assert sorted(runtime.iterdir()) == [ledger_path(KEY_ID, runtime)]
