"""Running asrtui as a separate process, as a user or a cron job does (``python -m asrtui``).

For the tests that need what an in-process `asrtui.__main__.main` call cannot show: the real
entry point, a real exit code, real stdout and stderr, credentials from the environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from asrtui.emulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET

__all__ = ["ROOT", "asrtui_command", "demo_env", "run_cli"]

#: The tests folder (this file's grandparent): the working directory of every run. ``-m asrtui``
#: finds the asrtui installed in this environment, whatever the directory.
ROOT = Path(__file__).resolve().parent.parent
#: Prefixes of the credential variables a run must not inherit from the developer's shell.
_CREDENTIAL_PREFIXES = ("ALIBABA_CLOUD_", "ALICLOUD_", "ALIBABACLOUD_")


def asrtui_command(*args: str) -> list[str]:
    """``python -m asrtui ARGS`` with the interpreter running the tests."""
    return [sys.executable, "-m", "asrtui", *args]


def demo_env() -> dict[str, str]:
    """This process's environment with the demo key pair as the only Alibaba Cloud credentials."""
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(_CREDENTIAL_PREFIXES)
    }
    env["ALIBABA_CLOUD_ACCESS_KEY_ID"] = DEMO_ACCESS_KEY_ID
    env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = DEMO_ACCESS_KEY_SECRET
    return env


def run_cli(
    command: Sequence[str], *, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` (usually `asrtui_command`) in `ROOT` to the end; output as text.

    The exit code is not checked: that is the test's to assert, next to the output.
    """
    return subprocess.run(
        list(command),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
