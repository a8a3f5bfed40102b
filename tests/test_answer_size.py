"""The answer size limit: a setting (option, environment, profile) sized for 200,000 tasks, and
a refusal that says how big the answer was and what raises the limit."""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from asrtui.__main__ import main
from asrtui.answersize import (
    DEFAULT_MAX_ANSWER_MB,
    ENV_VAR,
    MAX_MAX_ANSWER_MB,
    MIB,
    MIN_MAX_ANSWER_MB,
    max_answer_mb_of,
    parse_max_answer_mb,
    size_text,
    too_big_hint,
)
from asrtui.cli.connection import resolve_connection
from asrtui.cli.tasks import _tasks
from asrtui.client import LiveClient
from asrtui.credentials import Credentials
from asrtui.emulator import (
    DEMO_ACCESS_KEY_ID,
    DEMO_ACCESS_KEY_SECRET,
    EmulatorApp,
    build_emulator,
)
from asrtui.emulator.server import running_server
from asrtui.errors import ConfigError, MalformedResponseError
from asrtui.profiles import Profile, ProfileStore

#: Tasks whose answer (some 1.5 MiB) is above a 1 MiB limit and far under the default.
MANY = 3000


@pytest.fixture(autouse=True)
def _no_real_backoff(no_real_backoff: None) -> None:
    """Retries back off on a fake sleep (commands build their own clients)."""


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[EmulatorApp, str]]:
    pytest.importorskip("uvicorn")
    app = build_emulator(seed=3, tasks=MANY, limit=1000)
    with running_server(app) as url:
        yield app, url


@pytest.fixture
def env_creds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", DEMO_ACCESS_KEY_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", DEMO_ACCESS_KEY_SECRET)
    monkeypatch.delenv(ENV_VAR, raising=False)


# -- the setting --------------------------------------------------------------------------------


@given(st.integers(min_value=-(10**6), max_value=10**6), st.sampled_from(["", " ", "\t"]))
def test_parse_accepts_exactly_whole_mib_in_range(value: int, pad: str) -> None:
    text = f"{pad}{value}{pad}"
    if MIN_MAX_ANSWER_MB <= value <= MAX_MAX_ANSWER_MB:
        assert parse_max_answer_mb(text, "--x") == value
    else:
        with pytest.raises(ConfigError, match=r"Invalid --x value") as info:
            parse_max_answer_mb(text, "--x")
        assert str(MAX_MAX_ANSWER_MB) in info.value.hint


@given(st.text(max_size=60).filter(lambda t: not t.strip().lstrip("+-").isdecimal()))
def test_parse_refuses_any_other_text_naming_its_source(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_max_answer_mb(text, ENV_VAR)
    assert ENV_VAR in info.value.message
    assert "\n" not in info.value.message


@pytest.mark.parametrize(
    ("option", "env", "profile", "expected"),
    [
        (None, {}, None, DEFAULT_MAX_ANSWER_MB),
        (None, {}, 64, 64),
        (None, {ENV_VAR: "128"}, 64, 128),
        (None, {ENV_VAR: "  "}, 64, 64),  # empty means unset
        (512, {ENV_VAR: "128"}, 64, 512),
        (512, {}, None, 512),
    ],
)
def test_option_then_environment_then_profile_then_default(
    option: int | None, env: dict[str, str], profile: int | None, expected: int
) -> None:
    assert max_answer_mb_of(option=option, env=env, profile=profile) == expected


def test_a_bad_environment_value_is_a_usage_error() -> None:
    with pytest.raises(ConfigError, match=ENV_VAR):
        max_answer_mb_of(option=None, env={ENV_VAR: "lots"})


def test_the_default_holds_200k_tasks_in_either_shape() -> None:
    # The emulator's tasks in the documented shape and as a map of JSON strings.
    tasks = build_emulator(seed=1, tasks=200).backend.query()
    items = list(tasks.values()) if isinstance(tasks, dict) else tasks
    one = max(len(json.dumps(item).encode()) for item in items)
    as_string = max(len(json.dumps(json.dumps(item)).encode()) for item in items)
    assert 200_000 * max(one, as_string) * 1.2 < DEFAULT_MAX_ANSWER_MB * MIB


@given(st.integers(min_value=1, max_value=MAX_MAX_ANSWER_MB * MIB // 2))
def test_the_hint_suggests_a_limit_the_answer_fits(size: int) -> None:
    limit = max(1, size - 1)
    hint = too_big_hint(size, limit)
    suggested = int(hint.split("--max-answer-mb ")[1].split()[0])
    assert suggested * MIB >= size
    assert MIN_MAX_ANSWER_MB <= suggested <= MAX_MAX_ANSWER_MB
    assert ENV_VAR in hint


@pytest.mark.parametrize(
    ("size", "text"), [(1000, "1000 bytes"), (10_000, "9.8 KiB"), (37 * MIB, "37.0 MiB")]
)
def test_size_text(size: int, text: str) -> None:
    assert size_text(size) == text


# -- the profile --------------------------------------------------------------------------------


def test_profile_keeps_its_limit_and_writes_it_only_when_set(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path / "cfg")
    creds = Credentials("FAKEid0001", "s" * 30)
    store.add(Profile("big", credentials=creds, max_answer_mb=1024))
    store.add(Profile("plain", credentials=creds))
    loaded = store.load()
    assert loaded.get("big").max_answer_mb == 1024
    assert loaded.get("plain").max_answer_mb == DEFAULT_MAX_ANSWER_MB
    text = store.config_path.read_text()
    assert text.count("max_answer_mb") == 1


@pytest.mark.parametrize("value", ["0", "9000", "1.5", '"64"', "true"])
def test_profile_refuses_a_bad_limit(tmp_path: Path, value: str) -> None:
    store = ProfileStore(tmp_path / "cfg")
    store.add(Profile("p", credentials=Credentials("FAKEid0001", "s" * 30)))
    path = store.config_path
    path.write_text(path.read_text() + f"max_answer_mb = {value}\n")
    with pytest.raises(ConfigError, match=r"max_answer_mb|answer size limit"):
        store.load()


# -- the client ---------------------------------------------------------------------------------


def _client(url: str, limit: int) -> LiveClient:
    return LiveClient(
        lambda: Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET),
        url,
        max_body_bytes=limit,
        timeout=httpx.Timeout(60.0),
        request_timeout=60.0,
    )


async def test_an_answer_over_the_limit_says_its_size_and_the_option(
    served: tuple[EmulatorApp, str],
) -> None:
    _, url = served
    async with _client(url, MIB) as client:
        with pytest.raises(MalformedResponseError) as info:
            await client.list_tasks()
    error = info.value
    assert "above the limit of 1.0 MiB" in error.message
    size = float(error.message.split(" is ")[1].split(" MiB")[0])
    assert 1.0 < size < 4.0
    assert "--max-answer-mb 2" in error.hint
    assert not error.retryable
    async with _client(url, 8 * MIB) as client:
        assert len((await client.list_tasks()).tasks) == MANY


async def test_an_answer_that_never_ends_is_cut_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("asrtui.transport._COUNT_PAST_LIMIT", 10_000)
    sent = 0

    async def endless() -> object:
        nonlocal sent
        while True:
            sent += 1000
            yield b" " * 1000

    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=endless()))  # type: ignore[arg-type]
    client = LiveClient(
        lambda: Credentials("id", "secret"),
        "http://x.invalid",
        transport=transport,
        max_body_bytes=5000,
    )
    async with client:
        with pytest.raises(MalformedResponseError, match=r"is more than 15\.6 KiB, above"):
            await client.list_tasks()
    assert sent <= 20_000


# -- the command line ---------------------------------------------------------------------------


@pytest.mark.usefixtures("env_creds")
@pytest.mark.parametrize("how", ["option", "env"])
def test_tasks_obeys_the_limit_and_says_how_to_raise_it(
    served: tuple[EmulatorApp, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    how: str,
) -> None:
    _, url = served
    small = ["--max-answer-mb", "1"] if how == "option" else []
    if how == "env":
        monkeypatch.setenv(ENV_VAR, "1")
    code = main(["tasks", "--format", "json", "--endpoint", url, *small])
    err = capsys.readouterr().err
    assert gc.isenabled()  # kept out of the listing only, also when it fails
    assert code != 0
    assert "above the limit of 1.0 MiB" in err
    assert "--max-answer-mb 2" in err
    assert "Traceback" not in err
    big = ["--max-answer-mb", "16"] if how == "option" else []
    if how == "env":
        monkeypatch.setenv(ENV_VAR, "16")
    assert main(["tasks", "--format", "json", "--endpoint", url, *big]) == 0
    assert gc.isenabled()
    assert len(json.loads(capsys.readouterr().out)) == MANY


@pytest.mark.usefixtures("env_creds")
@pytest.mark.parametrize("value", ["0", "lots", "99999"])
def test_a_bad_option_is_a_usage_error(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "--max-answer-mb", value]) == 2
    assert "--max-answer-mb" in capsys.readouterr().err


class _GcRecorder(io.StringIO):
    """Output that notes whether the cyclic collector ran while each piece was written."""

    def __init__(self) -> None:
        super().__init__()
        self.collecting: list[bool] = []

    def write(self, text: str) -> int:
        self.collecting.append(gc.isenabled())
        return super().write(text)


@pytest.mark.usefixtures("env_creds")
def test_a_listing_is_read_and_written_without_the_cycle_collector(
    served: tuple[EmulatorApp, str],
) -> None:
    _, url = served
    args = argparse.Namespace(
        watch=None, task_id=None, format="json", reveal_secrets=False, endpoint=url
    )
    out = _GcRecorder()
    assert gc.isenabled()
    assert asyncio.run(_tasks(args, resolve_connection(args, os.environ), out)) == 0
    assert out.collecting
    assert not any(out.collecting)
    assert gc.isenabled()  # and back afterwards
    assert len(json.loads(out.getvalue())) == MANY
