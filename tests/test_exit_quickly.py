"""`asrtui.__main__.exit_quickly`: the process ends without its teardown, and loses nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from asrtui.emulator import build_emulator
from tests.support.cli import ROOT, asrtui_command, demo_env, run_cli

#: A script ending through `exit_quickly`, with what the usual exit would have finished for it:
#: text still in stdout's and stderr's buffers, atexit functions, a thread still running.
SCRIPT = r"""
import atexit, sys, threading, time
from pathlib import Path
from asrtui.__main__ import exit_quickly

marks = Path(sys.argv[1])
atexit.register(lambda: marks.write_text(marks.read_text() + "atexit\n"))
sys.stdout = open(sys.stdout.fileno(), "w", buffering=1 << 20, closefd=False)
sys.stdout.write("buffered out")
sys.stderr.write("buffered err")
if sys.argv[2] == "thread":
    def late():
        time.sleep(0.3)
        marks.write_text(marks.read_text() + "thread\n")
    threading.Thread(target=late).start()
exit_quickly(int(sys.argv[3]))
"""


@pytest.mark.parametrize("thread", ["none", "thread"])
@pytest.mark.parametrize("code", [0, 1, 130])
def test_the_code_the_buffered_output_atexit_and_threads_all_survive(
    tmp_path: Path, thread: str, code: int
) -> None:
    marks = tmp_path / "marks"
    marks.write_text("")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(marks), thread, str(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == code
    assert done.stdout == "buffered out"
    assert done.stderr == "buffered err"
    # The thread (when there is one) finishes before the atexit functions run, as usual.
    assert marks.read_text() == ("thread\natexit\n" if thread == "thread" else "atexit\n")


def test_a_reader_gone_away_takes_the_usual_exit() -> None:
    """Flushing into a closed pipe fails: the usual exit reports it (code 120), never hangs."""
    script = SCRIPT.replace('sys.stdout.write("buffered out")', 'sys.stdout.write("x" * 100)')
    child = subprocess.Popen(
        [sys.executable, "-c", script, "/dev/null", "none", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert child.stdout is not None
    child.stdout.close()
    assert child.wait(timeout=60) == 120


def test_a_listing_and_its_log_are_whole_when_the_command_ends(tmp_path: Path) -> None:
    """``python -m asrtui`` ends this way: the whole JSON on stdout, the log file flushed."""
    pytest.importorskip("uvicorn")
    from asrtui.emulator.server import running_server

    env = demo_env()
    env.update(
        HOME=str(tmp_path),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
    )
    with running_server(build_emulator(seed=5, tasks=1500, limit=1000)) as url:
        done = run_cli(
            asrtui_command("--log-level", "debug", "tasks", "--format", "json", "--endpoint", url),
            env=env,
        )
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)) == 1500
    logs = [path for path in tmp_path.rglob("*.log") if path.is_file()]
    assert logs, "no log file written"
    assert any("QueryRtcAsrTasks" in path.read_text() for path in logs)
