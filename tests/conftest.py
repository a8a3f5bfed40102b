"""Test isolation: every test gets its own user directories and a clean credential environment.

The guard below points the XDG directories and ``HOME`` at a per-test temporary directory and
clears the Alibaba Cloud credential variables, so no test can read the developer's profiles or
keys, and it fails any test that still changed the real asrtui config directory.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import platformdirs
import pytest

from tests.support.redis_server import RedisServer, redis_server


def pytest_configure(config: pytest.Config) -> None:
    """Give Ctrl-C back its usual meaning to the processes the tests start.

    A run started as a background job of a non-interactive shell (``bash .ci/run &``) has
    SIGINT ignored, every child inherits that, and Python installs no KeyboardInterrupt
    handler in a process started so: the tests of "Ctrl-C exits 130" then waited out their
    deadline. Caught here, SIGINT is back to the default in every child, as in a terminal.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


# For the test of the guard itself (tests/test_profiles_guard.py); it only adds fixtures.
pytest_plugins = ("pytester",)

# Computed once, at import, from the real environment: the directory no test may touch.
_REAL_CONFIG_DIR = platformdirs.user_config_path("asrtui")
_XDG_VARS = (
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
    "XDG_STATE_HOME",
    "XDG_DATA_HOME",
    "XDG_RUNTIME_DIR",
)
_CREDENTIAL_PREFIXES = ("ALIBABA_CLOUD_", "ALICLOUD_", "ALIBABACLOUD_")


def _fingerprint(directory: Path) -> tuple[tuple[str, int, int], ...] | None:
    """Names, sizes and modification times under ``directory`` (``None`` if it is absent)."""
    if not directory.exists():
        return None
    entries = [(".", 0, directory.stat().st_mtime_ns)]
    for path in sorted(directory.rglob("*")):
        info = path.lstat()
        entries.append((str(path.relative_to(directory)), info.st_size, info.st_mtime_ns))
    return tuple(entries)


@pytest.fixture(autouse=True)
def _isolated_user_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Give the test private XDG dirs and HOME; fail it if it touched the real config dir."""
    before = _fingerprint(_REAL_CONFIG_DIR)
    root = tmp_path_factory.mktemp("user")
    for var in _XDG_VARS:
        path = root / var.lower()
        path.mkdir(mode=0o700)
        monkeypatch.setenv(var, str(path))
    home = root / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in list(os.environ):
        if name.startswith(_CREDENTIAL_PREFIXES):
            monkeypatch.delenv(name)
    # No test asks the real ECS metadata address: commands started as processes see this,
    # and in-process resolution gets a probe that finds nothing (tests that probe pass one).
    monkeypatch.setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
    import asrtui.credentials.chain

    monkeypatch.setattr(asrtui.credentials.chain, "probe_instance_role", lambda env: None)
    yield
    if _fingerprint(_REAL_CONFIG_DIR) != before:
        pytest.fail(f"the test changed the real config directory {_REAL_CONFIG_DIR}")


@pytest.fixture(autouse=True)
def _no_registered_secrets() -> Iterator[None]:
    """Secrets registered for log masking are process-wide: each test starts with none."""
    from asrtui.logs import forget_secrets

    forget_secrets()
    yield
    forget_secrets()


@pytest.fixture
def no_real_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every client the composition root opens backs off on a sleep that returns at once."""
    import functools

    import asrtui.connect
    from asrtui.client import LiveClient
    from tests.support.fakes import no_sleep

    monkeypatch.setattr(asrtui.connect, "LiveClient", functools.partial(LiveClient, sleep=no_sleep))


@pytest.fixture
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server of this test alone (skipped, saying why, where the binary is absent)."""
    yield from redis_server(tmp_path_factory.mktemp("redis"))
