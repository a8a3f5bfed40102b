"""Read-only means read-only everywhere: the option, ``ASRTUI_READ_ONLY`` and the profile setting.

Every changing command, under every source of read-only mode, exits 2 with a message naming the
cause, and no request reaches the emulator (its request counter does not move).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from asrtui.__main__ import main
from asrtui.client import READ_ACTIONS, LiveClient
from asrtui.credentials import Credentials
from asrtui.emulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, EmulatorApp, build_emulator
from asrtui.errors import ConfigError, ReadOnlyError
from asrtui.profiles import Profile, ProfileStore
from asrtui.readonly import ENV_VAR, ReadOnly, env_read_only, read_only_of
from asrtui.tasksource import ClientConnector, Overrides
from asrtui.ui.screens.main import MainScreen
from tests.support.fakes import FakeTaskSource, running_console


@pytest.fixture(autouse=True)
def _no_real_backoff(no_real_backoff: None) -> None:
    """Retries back off on a fake sleep (commands build their own clients)."""


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[EmulatorApp, str]]:
    pytest.importorskip("uvicorn")
    from asrtui.emulator.server import running_server

    app = build_emulator(seed=21, tasks=4)
    with running_server(app) as url:
        yield app, url


def demo_credentials() -> Credentials:
    return Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)


def store_profile(url: str, *, read_only: bool) -> None:
    ProfileStore().add(
        Profile("ro", endpoint=url, read_only=read_only, credentials=demo_credentials()),
        replace=True,
    )


class Source:
    """One source of read-only mode: how a test switches it on, and how the message names it."""

    def __init__(self, name: str, names: tuple[str, ...]) -> None:
        self.name = name
        self.names = names

    def __repr__(self) -> str:
        return self.name


SOURCES = [
    Source("flag-before", ("the --read-only option is given", "without --read-only")),
    Source("flag-after", ("the --read-only option is given", "without --read-only")),
    Source("env", (f"{ENV_VAR}=1 is set", f"unset {ENV_VAR}")),
    Source("profile", ("profile 'ro' is read-only", "use another profile")),
]

#: Every changing subcommand of the command line, with its arguments after the task id.
MUTATING_COMMANDS = ["stop", "delete"]


def command_line(
    source: Source, command: str, task_id: str, url: str, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    """The argv for ``command`` with ``source`` on (setting the environment on the way)."""
    before: list[str] = []
    after: list[str] = []
    if source.name == "profile":
        store_profile(url, read_only=True)
        after += ["--profile", "ro"]
    else:
        monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", DEMO_ACCESS_KEY_ID)
        monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", DEMO_ACCESS_KEY_SECRET)
        after += ["--endpoint", url]
    if source.name == "flag-before":
        before.append("--read-only")
    elif source.name == "flag-after":
        after.append("--read-only")
    elif source.name == "env":
        monkeypatch.setenv(ENV_VAR, "1")
    return [*before, command, task_id, "--yes", *after]


@pytest.mark.parametrize("command", MUTATING_COMMANDS)
@pytest.mark.parametrize("source", SOURCES, ids=repr)
def test_every_changing_command_under_every_source_exits_2_before_any_request(
    served: tuple[EmulatorApp, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
    source: Source,
) -> None:
    app, url = served
    target = sorted(app.backend.query(None) or {})[0]
    argv = command_line(source, command, target, url, monkeypatch)
    before = app.stats.requests
    assert main(argv) == 2
    assert app.stats.requests == before
    assert target in (app.backend.query(None) or {})
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert f"Refusing to {command} task {target}" in lines[0]
    for text in source.names:
        assert text in lines[0]


def test_the_same_commands_act_when_nothing_says_read_only(
    served: tuple[EmulatorApp, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control row: the table's refusals come from read-only mode, not from the set-up."""
    app, url = served
    store_profile(url, read_only=False)
    monkeypatch.setenv(ENV_VAR, "off")
    target = sorted(app.backend.query(None) or {})[-1]
    assert main(["stop", target, "--yes", "--profile", "ro"]) == 0
    assert target not in (app.backend.query(None) or {})


def test_no_question_is_asked_before_a_refusal(
    served: tuple[EmulatorApp, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, url = served
    store_profile(url, read_only=True)

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Tty("y\n"))
    assert main(["delete", "some-task", "--profile", "ro"]) == 2
    assert capsys.readouterr().out == ""


# -- the client: the one path every request takes --------------------------------------------------

READ_ONLY_SOURCES = {
    "flag": ReadOnly(flag=True),
    "env": ReadOnly(env_value="true"),
    "profile": ReadOnly(profile="ro"),
    "all": ReadOnly(flag=True, env_value="1", profile="ro"),
}

#: Every changing operation of the client (a new one must be added here and is refused anyway,
#: see the test below, because only `READ_ACTIONS` pass).
CHANGES: dict[str, Any] = {
    "stop": lambda client: client.stop_task("asr-1"),
    "delete": lambda client: client.delete_task("asr-1"),
    "create": lambda client: client.create_task(
        mode="live", language="cn", callback_url="http://cb.example/", stream_url="rtmp://s/a"
    ),
    "a future action": lambda client: client._call("ChangeRtcAsrTask", {}, priority=True),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
@pytest.mark.parametrize("cause", sorted(READ_ONLY_SOURCES))
async def test_a_read_only_client_refuses_every_change_before_sending(
    served: tuple[EmulatorApp, str], change: str, cause: str
) -> None:
    app, url = served
    before = app.stats.requests
    client = LiveClient(demo_credentials, url, read_only=READ_ONLY_SOURCES[cause])
    async with client:
        with pytest.raises(ReadOnlyError) as info:
            await CHANGES[change](client)
        assert app.stats.requests == before
        assert client.counters.attempts_total == 0
        # Queries still work.
        await client.list_tasks()
    assert app.stats.requests == before + 1
    assert info.value.exit_code == 2
    assert "read-only because" in info.value.message
    assert info.value.hint.startswith("to act, ")


def test_only_queries_are_read_actions() -> None:
    assert frozenset({"QueryRtcAsrTasks"}) == READ_ACTIONS


# -- the environment variable --------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "Yes", " on ", "yes\n"])
def test_env_words_that_mean_read_only(value: str) -> None:
    assert env_read_only({ENV_VAR: value})


@pytest.mark.parametrize("value", ["", "0", "false", "No", " off ", "   "])
def test_env_words_that_mean_normal(value: str) -> None:
    assert not env_read_only({ENV_VAR: value})
    assert not read_only_of(flag=False, env={ENV_VAR: value})


@pytest.mark.parametrize("value", ["2", "y", "enable", "tru", "readonly", "1 1", "\x1b[2J"])
def test_an_invalid_env_value_is_a_usage_error(value: str) -> None:
    with pytest.raises(ConfigError) as info:
        env_read_only({ENV_VAR: value})
    assert ENV_VAR in info.value.message
    assert "\x1b" not in str(info.value)


def test_an_invalid_env_value_stops_any_command_with_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(ENV_VAR, "maybe")
    assert main(["tasks", "--demo"]) == 2
    err = capsys.readouterr().err
    assert f"Invalid {ENV_VAR} value 'maybe'" in err


# -- the console -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cause", "says"),
    [
        (ReadOnly(flag=True), "the --read-only option is given"),
        (ReadOnly(env_value="1"), f"{ENV_VAR}=1 is set"),
        (ReadOnly(profile="prod"), "profile 'prod' is read-only"),
    ],
)
async def test_the_console_refusal_names_the_actual_cause(cause: ReadOnly, says: str) -> None:
    source = FakeTaskSource.with_tasks(2)
    async with running_console(source, read_only=cause) as console:
        for key, kind in (("x", "stop"), ("X", "delete")):
            await console.press(key)
            assert isinstance(console.app.screen, MainScreen)
            texts = console.app.notes.texts()
            assert f"Cannot {kind} tasks: read-only because {says}" in texts
        assert source.calls["stop_task"] == source.calls["delete_task"] == 0
        if cause.profile:
            # The old refusal blamed the option whatever the cause.
            assert "--read-only" not in texts


async def test_switching_profiles_keeps_the_option_and_the_environment(
    served: tuple[EmulatorApp, str],
) -> None:
    """``--read-only`` and ``ASRTUI_READ_ONLY`` hold for every profile opened in the console."""
    _, url = served
    store = ProfileStore()
    store.add(Profile("rw", endpoint=url, credentials=demo_credentials()))
    for overrides, env, expected in (
        (Overrides(read_only=True), {}, ReadOnly(flag=True)),
        (Overrides(), {ENV_VAR: "yes"}, ReadOnly(env_value="yes")),
        (Overrides(), {}, ReadOnly()),
    ):
        async with ClientConnector(env=env, store=store, overrides=overrides) as connector:
            session = await connector.open("rw")
            assert session.read_only == expected
