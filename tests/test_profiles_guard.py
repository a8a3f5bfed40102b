"""The isolation guard of tests/conftest.py: private user dirs, no credentials, real dir watched."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs
import pytest

from asrtui.profiles import config_dir

CONFTEST = Path(__file__).with_name("conftest.py")


def test_user_dirs_are_private_to_the_test(tmp_path: Path) -> None:
    assert config_dir().is_relative_to(Path(os.environ["XDG_CONFIG_HOME"]))
    assert Path(os.environ["XDG_CONFIG_HOME"]) != Path.home() / ".config"
    for var in ("XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_RUNTIME_DIR"):
        assert Path(os.environ[var]).is_dir()
    assert platformdirs.user_cache_path("asrtui").is_relative_to(os.environ["XDG_CACHE_HOME"])
    assert not tmp_path.is_relative_to(Path(os.environ["XDG_CONFIG_HOME"]))
    # Credentials from the developer's shell are hidden; the one variable set keeps every
    # test away from the real ECS metadata address.
    assert {
        name: value
        for name, value in os.environ.items()
        if name.startswith(("ALIBABA_CLOUD_", "ALICLOUD_", "ALIBABACLOUD_"))
    } == {"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"}


def test_guard_fails_a_test_that_touches_the_real_config_dir(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if exported in the developer's shell: the guard must hide it from the inner tests.
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "leaked-from-the-shell")
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makepyfile(
        test_inner="""
        import os
        import platformdirs

        # Resolved at import, before the guard runs: stands for the developer's real directory.
        REAL = platformdirs.user_config_path("asrtui")

        def test_writes_real_dir():
            REAL.mkdir(parents=True, exist_ok=True)
            (REAL / "config.toml").write_text("x = 1")

        def test_writes_private_dir():
            assert "ALIBABA_CLOUD_ACCESS_KEY_ID" not in os.environ
            path = platformdirs.user_config_path("asrtui")
            assert path != REAL
            path.mkdir(parents=True)
            (path / "config.toml").write_text("x = 1")
        """
    )
    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "-p", "no:textual-snapshot", "-p", "no:asyncio"
    )
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*test_writes_real_dir*", "*changed the real config directory*"])
