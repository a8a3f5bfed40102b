"""One settings record from the stored profile to the opened session.

The class of defect: a setting copied from record to record by hand, so that one hop forgets
or misnames it (a new field stored but never reaching the client, an option applied to one
copy and not the other). The checks: every settings field of any valid profile arrives
unchanged in the connection and the console's session; options are a `replace` of it, checked
as the stored values are; and no record on the way declares a settings field of its own.
"""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asrtui.connect import Connection, Overrides, resolve_connection
from asrtui.credentials import Credentials
from asrtui.credentials.chain import ResolvedSettings
from asrtui.errors import ConfigError
from asrtui.profiles import Profile, ProfileStore
from asrtui.protocols import ProfileSession
from asrtui.readonly import ReadOnly
from asrtui.sessionsettings import Settings
from asrtui.tasksource import ClientConnector
from asrtui.ui.settings import ConsoleSettings

KEY = Credentials("FAKEsettings", "settings-secret-value-123456")

#: Any valid value of each settings field (the shared quota is left out: Redis is not here).
SETTINGS_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "region": st.sampled_from(["cn-shanghai", "cn-beijing", "ap-southeast-1", "eu-central-1"]),
    "endpoint": st.sampled_from([None, "http://127.0.0.1:9000", "https://live.example.com"]),
    "signature": st.sampled_from(["v3", "rpc"]),
    "rate_limit": st.integers(1, 20),
    "refresh": st.integers(1, 3600).map(float),
    "read_only": st.booleans(),
    "request_timeout": st.integers(1, 300).map(float),
    "max_answer_mb": st.integers(1, 8192),
    "on_event": st.sampled_from([None, "page-oncall --team live"]),
    "on_event_kinds": st.sampled_from([None, ("task_ended",), ("task_ended", "throttled")]),
}


def test_the_values_cover_every_settings_field_but_the_shared_quota() -> None:
    # A new setting must be added to the property below, or this fails.
    assert set(SETTINGS_VALUES) | {"shared_quota"} == {item.name for item in fields(Settings)}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.fixed_dictionaries(SETTINGS_VALUES))
async def test_every_stored_setting_reaches_the_session_unchanged(values: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = ProfileStore(Path(folder))
        store.add(Profile("studio", credentials=KEY, **values))
        expected = Settings(**values)
        connection = resolve_connection(Overrides(profile="studio"), {}, store=store)
        assert connection.settings == expected
        assert bool(connection.read_only) == values["read_only"]
        async with ClientConnector(env={}, store=store) as connector:
            session = await connector.open("studio")
            assert session.settings == expected
            assert session.read_only == connection.read_only


@pytest.mark.parametrize(
    ("options", "changed"),
    [
        (Overrides(region="cn-hangzhou"), {"region": "cn-hangzhou"}),
        (Overrides(endpoint="http://127.0.0.1:1/"), {"endpoint": "http://127.0.0.1:1"}),
        (Overrides(signature="rpc"), {"signature": "rpc"}),
        (Overrides(max_answer_mb=7), {"max_answer_mb": 7}),
        (
            Overrides(region="cn-hangzhou", signature="rpc"),
            {"region": "cn-hangzhou", "signature": "rpc"},
        ),
        (Overrides(), {}),
    ],
)
def test_options_are_a_replace_of_the_stored_settings(
    tmp_path: Path, options: Overrides, changed: dict[str, Any]
) -> None:
    store = ProfileStore(tmp_path)
    stored = Profile("studio", credentials=KEY, region="cn-beijing", refresh=9.0, rate_limit=3)
    store.add(stored)
    connection = resolve_connection(replace(options, profile="studio"), {}, store=store)
    assert connection.settings == replace(Settings.of(stored), **changed)


@pytest.mark.parametrize(
    "bad",
    [
        {"region": " "},
        {"region": "no spaces allowed"},
        {"endpoint": "ftp://host"},
        {"signature": "v2"},
        {"rate_limit": 0},
        {"rate_limit": 21},
        {"refresh": 0.5},
        {"request_timeout": 301.0},
        {"max_answer_mb": 0},
        {"shared_quota": "http://not-redis"},
    ],
)
def test_a_change_is_checked_as_a_stored_value_is(bad: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        Settings(**bad)
    with pytest.raises(ConfigError):
        replace(Settings(), **bad)
    with pytest.raises(ConfigError):
        Profile("studio", **bad)


@pytest.mark.parametrize("record", [ResolvedSettings, Connection, ProfileSession, ConsoleSettings])
def test_no_record_on_the_way_declares_a_setting_of_its_own(record: type[Any]) -> None:
    """Each holds the one `Settings` (or, for the console, only what the console adds)."""
    repeated = {item.name for item in fields(record)} & {item.name for item in fields(Settings)}
    # The console's own read-only value is the session's cause (`ReadOnly`), not the switch.
    assert repeated <= {"read_only"}
    if "read_only" in repeated:
        (field,) = [item for item in fields(record) if item.name == "read_only"]
        assert field.type in {"ReadOnly", ReadOnly}


def test_the_console_knows_read_only_by_its_cause_alone() -> None:
    names = {item.name for item in dataclasses.fields(ConsoleSettings)}
    assert "read_only_cause" not in names
    assert not ConsoleSettings().read_only
    assert ConsoleSettings(read_only=ReadOnly(profile="prod")).read_only.because
