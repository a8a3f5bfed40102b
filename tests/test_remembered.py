"""The remembered views file: round trips, and damage that never costs anything else."""

from __future__ import annotations

import json
import math
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asrtui.ui.notices import LEVELS
from asrtui.ui.remembered import FILE_NAME, Remembered, RememberedStore
from asrtui.ui.settings import MAX_INTERVAL, MIN_INTERVAL
from asrtui.ui.widgets.task_table import SORT_COLUMNS

WHEN = datetime(2026, 12, 7, 1, 2, 3, tzinfo=UTC)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)

intervals = st.floats(MIN_INTERVAL, MAX_INTERVAL)
records = st.builds(
    Remembered,
    interval=st.none() | intervals,
    interval_base=st.none() | intervals,
    notices=st.none() | st.sampled_from(LEVELS),
    bell=st.none() | st.booleans(),
    sort=st.none() | st.sampled_from(SORT_COLUMNS),
    sort_reverse=st.none() | st.booleans(),
    columns=json_values,
    detail=st.none() | st.booleans(),
    events=st.none() | st.booleans(),
    maximized=st.none() | st.booleans(),
    hide_ended=st.none() | st.booleans(),
)
profile_names = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12
)


def store_in(directory: Path) -> RememberedStore:
    return RememberedStore(directory / FILE_NAME, lambda: WHEN)


def fresh(tmp_path: Path) -> Path:
    """A new empty directory for one hypothesis example (the fixture's is shared by all)."""
    return Path(tempfile.mkdtemp(dir=tmp_path))


def document(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def damaged_copies(directory: Path) -> list[Path]:
    return sorted(directory.glob(f"{FILE_NAME}.damaged-*"))


# ---------------------------------------------------------------- round trips


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records, records, profile_names, profile_names)
def test_every_record_comes_back_as_saved_and_profiles_keep_their_own(
    tmp_path: Path, first: Remembered, second: Remembered, a: str, b: str
) -> None:
    directory = fresh(tmp_path)
    store = store_in(directory)
    assert store.save(a, first) == []
    assert store.save(b, second) == []
    assert store.load(b).value == second
    assert store.load(a).value == (second if a == b else first)
    assert store.load(b).problems == ()
    assert oct(os.stat(directory / FILE_NAME).st_mode & 0o777) == "0o600"


def test_no_file_is_the_defaults_and_says_nothing(tmp_path: Path) -> None:
    loaded = store_in(tmp_path).load("prod")
    assert loaded.value == Remembered()
    assert loaded.problems == ()


def test_without_a_path_nothing_is_read_or_written(tmp_path: Path) -> None:
    """The demo's store: no path."""
    store = RememberedStore.beside(None)
    assert store.save("demo", Remembered(bell=False)) == []
    assert store.load("demo").value == Remembered()
    assert list(tmp_path.iterdir()) == []


def test_the_file_sits_beside_the_theme(tmp_path: Path) -> None:
    store = RememberedStore.beside(tmp_path / "state" / "console.json")
    store.save("prod", Remembered(bell=False))
    assert document(tmp_path / "state" / FILE_NAME) == {
        "version": 1,
        "profiles": {"prod": {"bell": False}},
    }


# ---------------------------------------------------------------- damaged fields

GOOD = {"interval": 10, "interval_base": 5, "notices": "quiet", "bell": False, "sort": "status"}


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("interval", "fast"),
        ("interval", 0),
        ("interval", 0.5),
        ("interval", 301),
        ("interval", 1e308),
        ("interval", True),
        ("interval", [10]),
        ("interval_base", -5),
        ("notices", "loud"),
        ("notices", 1),
        ("bell", "yes"),
        ("bell", 1),
        ("sort", "colour"),
        ("sort", ["status"]),
        ("sort_reverse", "true"),
        ("detail", 0),
        ("events", {}),
        ("maximized", "no"),
        ("hide_ended", "yes"),
    ],
)
def test_a_wrong_field_is_dropped_alone_and_named(tmp_path: Path, field: str, bad: object) -> None:
    entry = {**GOOD, field: bad}
    path = tmp_path / FILE_NAME
    path.write_text(json.dumps({"version": 1, "profiles": {"prod": entry}}))
    loaded = store_in(tmp_path).load("prod")
    expected = {name: value for name, value in GOOD.items() if name != field}
    assert loaded.value.to_json() == {
        name: float(value) if name.startswith("interval") else value
        for name, value in expected.items()
    }
    (problem,) = loaded.problems
    assert field in problem
    assert "prod" in problem
    assert str(path) in problem


def test_json_nan_and_infinity_are_not_intervals(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    path.write_text(
        '{"profiles": {"p": {"interval": NaN, "interval_base": Infinity, "bell": true}}}'
    )
    loaded = store_in(tmp_path).load("p")
    assert loaded.value == Remembered(bell=True)
    assert "interval, interval_base" in loaded.problems[0]


def test_unknown_fields_are_ignored_quietly(tmp_path: Path) -> None:
    """A newer version may write fields this one does not know."""
    (tmp_path / FILE_NAME).write_text('{"profiles": {"p": {"bell": true, "glow": 3}}}')
    assert store_in(tmp_path).load("p") == store_in(tmp_path).load("p")
    assert store_in(tmp_path).load("p").problems == ()


def test_an_entry_that_is_not_an_object_is_dropped_alone(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    path.write_text(json.dumps({"profiles": {"prod": "oops", "staging": {"bell": False}}}))
    store = store_in(tmp_path)
    loaded = store.load("prod")
    assert loaded.value == Remembered()
    assert "prod" in loaded.problems[0]
    assert "not an object" in loaded.problems[0]
    store.save("prod", Remembered(sort="tag"))
    assert document(path)["profiles"] == {"prod": {"sort": "tag"}, "staging": {"bell": False}}
    assert damaged_copies(tmp_path) == []


# ---------------------------------------------------------------- damaged files


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"", "is not JSON"),
        (b"{", "is not JSON"),
        (b'{"profiles": {"prod": {"bell": tru', "is not JSON"),
        (b"\xff\xfe\x00garbage", "is not JSON"),
        (b"[1, 2]", "is not a JSON object"),
        (b'"prod"', "is not a JSON object"),
        (b"null", "is not a JSON object"),
        (b'{"profiles": ["prod"]}', "holds no object of profiles"),
        (b'{"profiles": "prod"}', "holds no object of profiles"),
    ],
)
def test_a_damaged_file_is_set_aside_byte_for_byte_and_said(
    tmp_path: Path, content: bytes, said: str
) -> None:
    path = tmp_path / FILE_NAME
    path.write_bytes(content)
    theme = tmp_path / "console.json"
    theme.write_text('{"theme": "nord"}')
    store = store_in(tmp_path)
    loaded = store.load("prod")
    assert loaded.value == Remembered()
    (problem,) = loaded.problems
    assert said in problem
    (aside,) = damaged_copies(tmp_path)
    assert aside.name == f"{FILE_NAME}.damaged-20261207T010203Z"
    assert aside.name in problem
    assert aside.read_bytes() == content
    # Nothing is said twice: the damage is out of the way.
    assert store.save("prod", Remembered(bell=False)) == []
    assert store.load("prod").problems == ()
    assert document(path)["profiles"] == {"prod": {"bell": False}}
    assert theme.read_text() == '{"theme": "nord"}'


def test_a_file_that_cannot_be_read_is_said_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    path.mkdir()
    loaded = store_in(tmp_path).load("prod")
    assert loaded.value == Remembered()
    assert "Could not read" in loaded.problems[0]
    assert path.is_dir()
    with pytest.raises(IsADirectoryError):
        store_in(tmp_path).save("prod", Remembered())


@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(json_values, records, profile_names)
def test_whatever_json_the_file_holds_nothing_is_lost(
    tmp_path: Path, content: Any, mine: Remembered, profile: str
) -> None:
    """Any JSON in the file: loading never raises, and saving one profile keeps the others
    exactly as they were, or the whole file, set aside, when it is not a file of profiles."""
    directory = fresh(tmp_path)
    path = directory / FILE_NAME
    raw = json.dumps(content).encode()
    path.write_bytes(raw)
    store = store_in(directory)
    store.load(profile)
    store.save(profile, mine)
    profiles = document(path)["profiles"]
    assert Remembered.from_json(profiles[profile]) == (mine, [])
    others = {name: entry for name, entry in profiles.items() if name != profile}
    aside = damaged_copies(directory)
    if isinstance(content, dict) and isinstance(content.get("profiles", {}), dict):
        assert aside == []
        kept = {k: v for k, v in content.get("profiles", {}).items() if k != profile}
        assert others == kept
    else:
        assert [copy.read_bytes() for copy in aside] == [raw]
        assert others == {}


@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=64), profile_names)
def test_whatever_bytes_the_file_holds_loading_never_raises(
    tmp_path: Path, content: bytes, profile: str
) -> None:
    directory = fresh(tmp_path)
    (directory / FILE_NAME).write_bytes(content)
    loaded = store_in(directory).load(profile)
    assert isinstance(loaded.value, Remembered)
    for copy in damaged_copies(directory):
        assert copy.read_bytes() == content


def test_intervals_are_finite_and_within_the_keys_bounds() -> None:
    for value in (MIN_INTERVAL, 7, MAX_INTERVAL):
        assert Remembered.from_json({"interval": value}) == (Remembered(interval=value), [])
    for value in (math.inf, -1, MIN_INTERVAL / 2, MAX_INTERVAL * 2):
        assert Remembered.from_json({"interval": value})[1] == ["interval"]
