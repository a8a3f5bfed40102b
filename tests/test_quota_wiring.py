"""Where the quota is shared: the setting, its precedence, its secret, the wiring and the badge.

The profile's ``shared_quota``, ``ASRTUI_SHARED_QUOTA`` and ``--shared-quota`` choose a Redis
URL; the composition root (`asrtui.connect`) hands the client a limiter sharing through Redis
(with the host ledger to fall back on) or through the host ledger alone; the status line says
which, and shows a badge while Redis is away. The URL's password never shows.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from asrtui.cli.connection import add_connection_options, resolve_connection
from asrtui.connect import SHARED_QUOTA_ENV, Connection, open_client, shared_quota_of
from asrtui.credentials import Credentials
from asrtui.credentials.provider import StaticProvider
from asrtui.errors import AsrtuiError, ConfigError
from asrtui.logs import redact_log_text
from asrtui.profiles import Profile, ProfileStore
from asrtui.protocols import QuotaStats
from asrtui.ratelimit import reset_registry
from asrtui.redisquota import RedisQuota
from asrtui.sessionsettings import Settings
from asrtui.sharedquota import SharedLedger
from asrtui.tasksource import ClientTaskSource, Overrides
from asrtui.ui.widgets.status_line import StatusSnapshot, render_status

PASSWORD = "pw-s3cr3t-quota"
URL = f"redis://:{PASSWORD}@redis.example:6379/0"
KEY_ID = "AKIDEXAMPLEWIRING"


@pytest.fixture(autouse=True)
def _fresh_registry() -> object:
    reset_registry()
    yield
    reset_registry()


@pytest.mark.parametrize(
    ("flag", "env", "profile", "expected"),
    [
        (None, None, None, None),
        (None, None, "redis://profile", "redis://profile"),
        (None, "redis://env", "redis://profile", "redis://env"),
        ("redis://flag", "redis://env", "redis://profile", "redis://flag"),
        ("  ", "", "redis://profile", "redis://profile"),
    ],
)
def test_the_option_beats_the_environment_which_beats_the_profile(
    flag: str | None, env: str | None, profile: str | None, expected: str | None
) -> None:
    environment = {} if env is None else {SHARED_QUOTA_ENV: env}
    assert shared_quota_of(flag=flag, env=environment, profile=profile) == expected


def test_the_password_is_registered_for_masking_and_never_in_a_repr() -> None:
    assert shared_quota_of(flag=URL, env={}, profile=None) == URL
    assert PASSWORD not in redact_log_text(f"connecting to {URL}")
    connection = Connection(profile_name="p", settings=Settings(shared_quota=URL))
    assert PASSWORD not in repr(connection)
    assert PASSWORD not in repr(Overrides(shared_quota=URL))
    assert PASSWORD not in repr(Profile("p", shared_quota=URL))


@pytest.mark.parametrize("bad", ["http://redis.example", f"redis://:{PASSWORD}@host:port"])
def test_a_bad_url_is_a_config_error_that_does_not_quote_it(bad: str) -> None:
    with pytest.raises(ConfigError) as caught:
        shared_quota_of(flag=None, env={SHARED_QUOTA_ENV: bad}, profile=None)
    assert PASSWORD not in str(caught.value)
    assert "redis" in str(caught.value).lower()


def test_the_profile_setting_is_stored_and_read_back(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path / "config")
    store.add(Profile("ops", credentials=Credentials(KEY_ID, "secret-not-real"), shared_quota=URL))
    assert store.load().get("ops").shared_quota == URL


def test_the_option_reaches_the_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    parser = argparse.ArgumentParser()
    add_connection_options(parser, suppress=False)
    env = {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "secret-not-real",
        SHARED_QUOTA_ENV: "redis://from-env",
    }
    args = parser.parse_args(["--shared-quota", URL])
    assert resolve_connection(args, env).settings.shared_quota == URL
    from_env = resolve_connection(parser.parse_args([]), env)
    assert from_env.settings.shared_quota == "redis://from-env"


def connection(shared_quota: str | None) -> Connection:
    credentials = Credentials(KEY_ID, "secret-not-real")
    return Connection(
        profile_name="p",
        settings=Settings(endpoint="http://127.0.0.1:9", shared_quota=shared_quota),
        # A stored key, as a profile gives: its id is known before the first request.
        credentials=StaticProvider(credentials),
    )


def test_the_composition_root_chooses_the_ledger_by_account() -> None:
    pytest.importorskip("redis")
    host = open_client(connection(None))
    assert isinstance(host.limiter.ledger, SharedLedger)
    reset_registry()
    shared = open_client(connection(URL))
    ledger = shared.limiter.ledger
    assert isinstance(ledger, RedisQuota)
    assert ledger.where == "redis"
    assert PASSWORD not in repr(ledger)
    assert PASSWORD not in ledger.url
    # Two clients of one account share one limiter.
    assert open_client(connection(URL)).limiter is shared.limiter


def test_a_redis_url_without_the_redis_package_is_refused_with_the_fix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "redis" else real(name, *a)
    )
    with pytest.raises(AsrtuiError) as caught:
        open_client(connection(URL))
    assert "asrtui[redis]" in (caught.value.hint or "")


def status(quota: QuotaStats) -> str:
    return render_status(StatusSnapshot(profile="p", region="cn-shanghai", quota=quota)).plain


@pytest.mark.parametrize(
    ("shared", "degraded", "shown", "hidden"),
    [
        ("", "", "", ("host", "redis", "QUOTA")),
        ("host", "", " host", ("QUOTA",)),
        ("redis", "", " redis", ("QUOTA",)),
        ("host", "Redis unreachable", "QUOTA HOST ONLY", ("redis",)),
        ("", "Redis unreachable", "QUOTA NOT SHARED", ("redis",)),
    ],
)
def test_the_status_line_says_where_the_quota_is_shared(
    shared: str, degraded: str, shown: str, hidden: tuple[str, ...]
) -> None:
    text = status(
        QuotaStats(
            limit=20,
            effective_limit=20.0,
            used_last_second=3,
            shared=shared,
            shared_degraded=degraded,
        )
    )
    assert shown in text
    assert not any(word in text for word in hidden)


async def test_the_source_reports_where_its_limiter_shares() -> None:
    client = open_client(connection(None))
    source = ClientTaskSource(client, profile_name="p", region="cn-shanghai")
    assert source.quota().shared == "host"
    assert source.quota().shared_degraded == ""


async def test_the_console_logs_when_sharing_across_hosts_stops_and_resumes() -> None:
    from dataclasses import replace

    from tests.support.fakes import FakeTaskSource, running_console

    source = FakeTaskSource.with_tasks(1)
    shared = QuotaStats(limit=20, effective_limit=20.0, used_last_second=1, shared="redis")
    source.quota_stats = shared
    async with running_console(source) as console:
        screen = console.screen

        def log() -> str:
            return "\n".join(line.plain for line in screen.event_log.entries)

        source.quota_stats = replace(shared, shared="host", shared_degraded="Redis unreachable")
        await console.advance(1)
        status = screen.status_line.snapshot
        assert status is not None
        assert "QUOTA HOST ONLY" in render_status(status).plain
        assert "Quota no longer shared across hosts (Redis unreachable)" in log()
        await console.advance(1)
        assert log().count("no longer shared") == 1  # once, not every second
        source.quota_stats = shared
        await console.advance(1)
        assert "Quota shared across hosts again" in log()
        status = screen.status_line.snapshot
        assert status is not None
        assert "QUOTA" not in render_status(status).plain


def test_profile_show_masks_the_shared_quota_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from asrtui.__main__ import main

    store = ProfileStore()
    store.add(Profile("ops", credentials=Credentials(KEY_ID, "secret-not-real"), shared_quota=URL))
    assert main(["profile", "show", "ops"]) == 0
    out = capsys.readouterr().out
    assert "redis://:****@redis.example:6379/0" in out
    assert PASSWORD not in out
