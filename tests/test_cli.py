"""The headless CLI: subcommands, exit codes, one-line errors, parity with the official SDK."""

from __future__ import annotations

import csv
import gc
import io
import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import asrtui.cli
import asrtui.cli.emulator
import asrtui.cli.tasks
import asrtui.connect
from asrtui.__main__ import main
from asrtui.cli.output import render_csv, render_json, render_table
from asrtui.emulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, EmulatorApp, build_emulator
from asrtui.emulator.server import running_server
from asrtui.errors import ConfigError
from asrtui.models import Task
from asrtui.printable import is_unsafe
from asrtui.protocols import TaskSource
from tests.support.cli import ROOT, asrtui_command, demo_env, run_cli


@pytest.fixture(autouse=True)
def _no_real_backoff(no_real_backoff: None) -> None:
    """Retries back off on a fake sleep (commands build their own clients)."""


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[EmulatorApp, str]]:
    pytest.importorskip("uvicorn")
    app = build_emulator(seed=11, tasks=6)
    with running_server(app) as url:
        yield app, url


@pytest.fixture
def env_creds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", DEMO_ACCESS_KEY_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", DEMO_ACCESS_KEY_SECRET)


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


# -- global options ----------------------------------------------------------------------------


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "asrtui 0.1.0"
    assert [line.split()[0] for line in lines] == ["asrtui", "Textual", "httpx", "Python"]


def test_usage_error_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "--format", "xml"]) == 2
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "usage", "named", "suggested"),
    [
        (["--profle", "x"], "usage: asrtui ", "--profle", "--profile"),
        (["--profle=x", "tasks"], "usage: asrtui ", "--profle", "--profile"),
        (["tasks", "--fromat", "json"], "usage: asrtui tasks", "--fromat", "--format"),
        (["stop", "asr-1", "--yse"], "usage: asrtui stop", "--yse", "--yes"),
        (
            ["profile", "add", "p", "--acess-key-id", "A"],
            "usage: asrtui profile add",
            "--acess-key-id",
            "--access-key-id",
        ),
        (["tasks", "--zzzzzz"], "usage: asrtui tasks", "--zzzzzz", None),
    ],
)
def test_a_misspelt_option_is_named_with_the_closest_one_and_its_command_usage(
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    usage: str,
    named: str,
    suggested: str | None,
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert usage in err
    assert f"unknown option {named}" in err
    assert "invalid choice" not in err
    if suggested:
        assert f"did you mean {suggested}?" in err
    else:
        assert "did you mean" not in err


def test_options_given_whole_abbreviated_or_after_the_command_still_work(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from asrtui.cli import build_parser, check_options

    parser = build_parser()
    for argv in (
        ["--read-only", "stop", "asr-1", "--yes"],
        ["stop", "asr-1", "--read-only"],
        ["tasks", "--form", "json"],
        ["tasks", "--format=csv", "--", "--not-an-option"],
        ["--refresh", "5"],
    ):
        check_options(parser, argv)


def test_no_credentials_is_exit_2_with_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks"]) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith("asrtui: ")
    assert "ALIBABA_CLOUD_ACCESS_KEY_ID" in line


def test_bad_endpoint_is_exit_2(env_creds: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "--endpoint", "ftp://example.com"]) == 2
    assert "endpoint" in one_line(capsys.readouterr().err).lower()


def test_the_console_reads_the_profile_files_once_at_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from asrtui.credentials import Credentials
    from asrtui.profiles import Profile, ProfileStore

    key = Credentials("AKIDEXAMPLE", "example-secret-value-123456")
    ProfileStore().add(Profile("only", credentials=key))
    loads: list[ProfileStore] = []
    real_load = ProfileStore.load

    def counting_load(self: ProfileStore) -> Any:
        loads.append(self)
        return real_load(self)

    async def fake_run(source: Any, settings: Any, *, connector: Any, first_answer: Any) -> int:
        # Not awaited: it would go to the network. Given up when the console ends.
        return 0

    monkeypatch.setattr(ProfileStore, "load", counting_load)
    monkeypatch.setattr("asrtui.ui.app.run_console_async", fake_run)
    monkeypatch.setattr("asrtui.__main__._interactive", lambda: True)
    assert main([]) == 0
    assert len(loads) == 1


def test_a_bad_option_is_reported_even_with_nothing_configured(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before the first-run screen, not after the operator has typed a profile into it.
    monkeypatch.setattr("asrtui.__main__._interactive", lambda: True)
    assert main(["--endpoint", "ftp://example.com"]) == 2
    assert "endpoint" in one_line(capsys.readouterr().err).lower()


# -- tasks ------------------------------------------------------------------------------------


def test_demo_tasks_json_keeps_wire_names_and_masks_secrets(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--demo", "tasks", "--format", "json"]) == 0
    tasks = json.loads(capsys.readouterr().out)
    assert len(tasks) == 12
    for task in tasks:
        assert {"taskId", "createdAt", "streamUrl", "aliUid", "status"} <= set(task)
        assert "auth_key=****" in task["streamUrl"]
        assert task["aliUid"].startswith("*")


def test_reveal_secrets_shows_the_auth_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "--demo", "--format", "json", "--reveal-secrets"]) == 0
    tasks = json.loads(capsys.readouterr().out)
    assert all("auth_key=****" not in task["streamUrl"] for task in tasks)
    assert all(task["aliUid"].isdigit() for task in tasks)


def test_demo_tasks_csv_and_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "--demo", "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0][:3] == ["task_id", "status", "mode"]
    assert len(rows) == 13
    assert all(row[1] == "running" for row in rows[1:])
    assert all("auth_key=****" in row[8] for row in rows[1:])

    assert main(["tasks", "--demo"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("TASK ID")
    assert out.strip().endswith("12 task(s)")
    assert "auth_key=****" in out


def test_tasks_over_a_socket_with_env_credentials(
    served: tuple[EmulatorApp, str], env_creds: None, capsys: pytest.CaptureFixture[str]
) -> None:
    app, url = served
    assert main(["tasks", "--endpoint", url, "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    ids = [task["taskId"] for task in listed]
    assert set(ids) == set(app.backend.query(None) or {})

    assert main(["tasks", "--endpoint", url, "--task-id", ids[0], "--format", "json"]) == 0
    assert [t["taskId"] for t in json.loads(capsys.readouterr().out)] == [ids[0]]

    assert main(["--endpoint", url, "tasks", "--task-id", "asr-nope"]) == 1
    line = one_line(capsys.readouterr().err)
    assert "asr-nope" in line
    assert "ConfigNotFound" in line


def test_rpc_signature_option(
    served: tuple[EmulatorApp, str], env_creds: None, capsys: pytest.CaptureFixture[str]
) -> None:
    _, url = served
    assert main(["tasks", "--endpoint", url, "--signature", "rpc", "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("task_id,")


def test_wrong_secret_is_one_line_exit_1(
    served: tuple[EmulatorApp, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, url = served
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", DEMO_ACCESS_KEY_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "not-the-secret")
    assert main(["tasks", "--endpoint", url]) == 1
    captured = capsys.readouterr()
    line = one_line(captured.err)
    assert "SignatureDoesNotMatch" in line
    assert "check the AccessKey secret" in line
    assert "not-the-secret" not in captured.err + captured.out


def test_unreachable_endpoint_is_one_line_exit_1(
    env_creds: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # A port nobody listens on (bound, then closed).
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert main(["tasks", "--endpoint", f"http://127.0.0.1:{port}"]) == 1
    line = one_line(capsys.readouterr().err)
    assert f"127.0.0.1:{port}" in line
    assert "Cannot connect" in line


def test_watch_repeats_until_ctrl_c_then_exits_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(asrtui.cli.tasks, "watch_sleep", fake_sleep)
    assert main(["tasks", "--demo", "--format", "json", "--watch", "2"]) == 130
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    rounds = [json.loads(line) for line in lines]
    assert [r["round"] for r in rounds] == [1, 2, 3]
    assert all(len(r["tasks"]) >= 1 for r in rounds)
    assert waits == [2.0, 2.0, 2.0]


def test_watch_rejects_negative(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "--demo", "--watch", "-1"]) == 2


# -- stop / delete -------------------------------------------------------------------------------


def test_stop_and_delete_with_yes(
    served: tuple[EmulatorApp, str], env_creds: None, capsys: pytest.CaptureFixture[str]
) -> None:
    app, url = served
    target = sorted(app.backend.query(None) or {})[0]
    assert main(["stop", target, "--yes", "--endpoint", url]) == 0
    assert capsys.readouterr().out.strip() == f"Stopped task {target}."
    assert target not in (app.backend.query(None) or {})
    assert main(["delete", target, "-y", "--endpoint", url]) == 0
    assert main(["delete", target, "-y", "--endpoint", url]) == 1
    assert "ConfigNotFound" in one_line(capsys.readouterr().err)


def test_stop_without_tty_or_yes_is_exit_2(
    served: tuple[EmulatorApp, str],
    env_creds: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    app, url = served
    target = sorted(app.backend.query(None) or {})[0]
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    assert main(["stop", target, "--endpoint", url]) == 2
    assert "--yes" in one_line(capsys.readouterr().err)
    assert target in (app.backend.query(None) or {})


@pytest.mark.usefixtures("env_creds")
@pytest.mark.parametrize(("answer", "code"), [("y\n", 0), ("n\n", 1), ("\n", 1)])
def test_stop_asks_on_a_tty(
    served: tuple[EmulatorApp, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    answer: str,
    code: int,
) -> None:
    app, url = served
    target = sorted(app.backend.query(None) or {})[-1]
    monkeypatch.setattr(sys, "stdin", FakeTty(answer))
    assert main(["stop", target, "--endpoint", url]) == code
    out = capsys.readouterr().out
    assert f"Stop task {target}? [y/N]" in out
    assert (target in (app.backend.query(None) or {})) == (code != 0)


# -- emulator -----------------------------------------------------------------------------------


def test_emulator_prints_url_and_credentials(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: dict[str, object] = {}

    def fake_serve(app: object, host: str, port: int, *, on_ready: object) -> None:
        seen.update(app=app, host=host, port=port)
        on_ready("http://127.0.0.1:54321")  # type: ignore[operator]

    monkeypatch.setattr("asrtui.emulator.server.serve", fake_serve)
    args = [
        "emulator",
        "--port",
        "0",
        "--tasks",
        "3",
        "--access-key-id",
        "k",
        "--access-key-secret",
        "s",
        "--jitter",
        "50",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "http://127.0.0.1:54321" in out
    assert "AccessKey id:     k" in out
    assert "AccessKey secret: s" in out
    assert seen["host"] == "127.0.0.1"
    assert isinstance(seen["app"], EmulatorApp)
    assert len(seen["app"].backend.query(None) or {}) == 3  # type: ignore[attr-defined]
    assert seen["app"].jitter == pytest.approx(0.05)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "args",
    [
        ["emulator", "--fault", "nonsense=1"],
        ["emulator", "--access-key-id", "only-id"],
        ["emulator", "--port", "70000"],
        ["emulator", "--jitter", "-1"],
        ["emulator", "--jitter", "10001"],
        ["emulator", "--jitter", "nan"],
        ["emulator", "--jitter", "fast"],
    ],
)
def test_emulator_bad_options_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2


def test_emulator_without_uvicorn_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = asrtui.cli.emulator.importlib.util.find_spec

    def find_spec(name: str, *a: object) -> object:
        return None if name == "uvicorn" else real(name, *a)  # type: ignore[arg-type]

    monkeypatch.setattr(asrtui.cli.emulator.importlib.util, "find_spec", find_spec)
    assert main(["emulator"]) == 2
    assert "pip install 'asrtui[emulator]'" in one_line(capsys.readouterr().err)


def test_emulator_serves_on_a_real_port_until_ctrl_c(tmp_path: Path) -> None:
    pytest.importorskip("uvicorn")
    proc = subprocess.Popen(
        asrtui_command("emulator", "--port", "0", "--tasks", "2"),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("Live API emulator listening on http://127.0.0.1:")
        url = first.rsplit(" ", 1)[1].strip()
        assert not url.endswith(":0")
        listed = run_cli(
            asrtui_command("tasks", "--endpoint", url, "--format", "json"), env=demo_env()
        )
        assert listed.returncode == 0, listed.stderr
        assert len(json.loads(listed.stdout)) == 2
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=30)
    assert code == 0
    assert "Traceback" not in (proc.stderr.read() if proc.stderr else "")


# -- console ------------------------------------------------------------------------------------


def test_console_gets_a_task_source(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: dict[str, object] = {}

    async def fake_console(source: TaskSource, settings: object, **kwargs: Any) -> int:
        seen["source"] = source
        seen["settings"] = settings
        first = kwargs["first_answer"]
        assert first.source is source
        seen["tasks"] = len((await first.wait()).tasks)
        seen["quota"] = source.quota()
        return 0

    monkeypatch.setattr("asrtui.ui.app.run_console_async", fake_console)
    assert main(["--demo"]) == 0
    source = seen["source"]
    assert isinstance(source, TaskSource)
    assert source.profile_name == "demo"
    assert seen["tasks"] == 12
    assert seen["quota"].granted_total >= 1  # type: ignore[attr-defined]
    assert seen["settings"].state_path is None  # type: ignore[attr-defined]


def test_the_collector_is_off_while_the_console_starts_and_on_again_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, bool] = {}

    async def fake_console(source: TaskSource, settings: object, **kwargs: Any) -> int:
        seen["collecting while starting"] = gc.isenabled()
        return 0

    monkeypatch.setattr("asrtui.ui.app.run_console_async", fake_console)
    assert gc.isenabled()
    assert main(["--demo"]) == 0
    assert seen == {"collecting while starting": False}
    assert gc.isenabled()
    assert not gc.get_freeze_count()


def test_a_subcommand_runs_with_the_collector_on(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, bool] = {}

    def fake_serve(app: object, host: str, port: int, *, on_ready: object) -> None:
        seen["collecting"] = gc.isenabled()

    monkeypatch.setattr("asrtui.emulator.server.serve", fake_serve)
    assert main(["emulator", "--port", "0"]) == 0
    assert seen == {"collecting": True}


def test_ctrl_c_is_130_quietly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*args: object, **kwargs: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr("asrtui.connect.open_demo_client", interrupted)
    assert main(["tasks", "--demo"]) == 130
    assert capsys.readouterr().err == ""


# -- never a traceback --------------------------------------------------------------------------

_TOKENS = [
    "tasks", "stop", "delete", "emulator", "profile", "--demo", "--profile", "--endpoint",
    "--region", "--signature", "--format", "json", "csv", "table", "--watch", "--task-id",
    "--yes", "--reveal-secrets", "--version", "-h", "v3", "rpc", "0", "-1", "http://", "x",
    "--port", "--fault", "--tasks", "--seed", "add", "list", "show", "use", "remove",
]  # fmt: skip


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(argv=st.lists(st.one_of(st.sampled_from(_TOKENS), st.text(max_size=12)), max_size=6))
def test_any_argv_gives_an_exit_code_never_a_traceback(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*args: object, **kwargs: object) -> object:
        raise KeyboardInterrupt

    async def no_console(source: object, settings: object) -> int:
        return 0

    def no_serve(*args: object, **kwargs: object) -> None:
        return None

    # Nothing may block or reach the network: the demo client, the console and the server
    # are replaced; without credentials every other path ends in a configuration error.
    monkeypatch.setattr("asrtui.connect.open_demo_client", interrupted)
    monkeypatch.setattr("asrtui.ui.app.run_console_async", no_console)
    monkeypatch.setattr("asrtui.emulator.server.serve", no_serve)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code = main(argv)
    captured = capsys.readouterr()
    assert code in {0, 1, 2, 130}
    assert "Traceback" not in captured.err + captured.out
    if code == 1:
        assert len(captured.err.strip().splitlines()) == 1


# -- what reaches the terminal ---------------------------------------------------------------

#: What a pasted or hostile value may carry: a line break, a sequence that clears the screen,
#: an 8-bit CSI, a bidi override (that mirrors the rest of the line), a zero-width space.
HOSTILE = "a\nb\x1b[2J\x9bc\u202ed\u200b"
#: The same, as every line of the CLI shows it.
ESCAPED = "a\\nb\\x1b[2J\\x9bc\\u202ed\\u200b"


def assert_inert(text: str) -> None:
    """No character of ``text`` but the line ends can make a terminal act or reorder the line."""
    assert all(char == "\n" or not is_unsafe(char) for char in text), repr(text)


def test_a_task_id_is_quoted_escaped_in_the_error_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["tasks", "--demo", "--task-id", HOSTILE]) == 2
    err = capsys.readouterr().err
    assert_inert(err)
    assert f"Invalid task id '{ESCAPED}'" in one_line(err)


def test_stop_refuses_a_hostile_task_id_before_asking(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", FakeTty("y\n"))
    assert main(["stop", "--demo", HOSTILE]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert_inert(captured.err)
    assert f"Invalid task id '{ESCAPED}'" in one_line(captured.err)


def test_an_unknown_argument_is_quoted_escaped_under_the_usage(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["tasks", "--demo", HOSTILE]) == 2
    err = capsys.readouterr().err
    assert_inert(err)
    assert err.startswith("usage: asrtui")
    assert err.endswith(f"asrtui: error: unrecognized arguments: {ESCAPED}\n")


def test_an_error_quoting_a_control_character_is_still_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Whatever an error quotes (a value from a file, a server), the line is escaped."""

    def refuse(*args: object) -> object:
        raise ConfigError(f"Bad value {HOSTILE}", f"hint {HOSTILE}")

    monkeypatch.setattr(asrtui.cli.tasks, "resolve_connection", refuse)
    assert main(["tasks"]) == 2
    err = capsys.readouterr().err
    assert_inert(err)
    assert one_line(err) == f"asrtui: Bad value {ESCAPED}: hint {ESCAPED}"


def test_an_unexpected_error_is_escaped_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def crash(*args: object) -> object:
        raise RuntimeError(HOSTILE)

    monkeypatch.setattr(asrtui.cli.tasks, "resolve_connection", crash)
    assert main(["tasks"]) == 1
    err = capsys.readouterr().err
    assert_inert(err)
    first, second = err.splitlines()
    # Line breaks are folded to spaces first; what is left is escaped.
    assert first == "asrtui: unexpected error: RuntimeError: a b\\x1b[2J\\x9bc\\u202ed\\u200b"
    assert second.startswith("asrtui: a crash report")


def test_the_emulator_quotes_the_host_escaped_when_it_cannot_listen(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def taken(*args: object, **kwargs: object) -> None:
        raise OSError(98, "Address already in use")

    monkeypatch.setattr("asrtui.emulator.server.serve", taken)
    assert main(["emulator", "--host", HOSTILE, "--port", "8080"]) == 1
    err = capsys.readouterr().err
    assert one_line(err) == f"asrtui: cannot listen on {ESCAPED}:8080: Address already in use"


def test_profile_names_skipped_from_the_aliyun_config_are_shown_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.json"
    profile = {"name": HOSTILE, "mode": "AK", "access_key_id": "a", "access_key_secret": "b"}
    config.write_text(json.dumps({"profiles": [profile]}))
    assert main(["profile", "import-aliyun", "--file", str(config)]) == 0
    out = capsys.readouterr().out
    assert_inert(out)
    assert out.startswith(f"skipped  {ESCAPED}: ")


def test_server_strings_are_escaped_in_the_table_and_csv_and_json() -> None:
    task = Task(task_id="asr-1", tag=HOSTILE, language="en\u2028x", callback_url="\x7f")
    table = render_table([task])
    assert_inert(table)
    assert "a\\nb\\x1b[2J\\x9b…" in table  # the tag column is cut at 16 cells
    assert "en\\u2028x" in table
    csv_text = render_csv([task])
    assert_inert(csv_text)
    row = dict(zip(*csv.reader(csv_text.splitlines()), strict=True))
    assert row["tag"] == ESCAPED
    assert row["language"] == "en\\u2028x"
    assert row["callback_url"] == "\\x7f"
    for compact in (False, True):
        text = render_json([task], compact=compact)
        assert_inert(text)
        assert "\\u009b" in text
        (decoded,) = json.loads(text)
        assert decoded["tag"] == HOSTILE  # the same JSON, only written with escapes


def test_letters_of_any_script_are_shown_as_they_are() -> None:
    task = Task(task_id="asr-1", tag="名前 é 😀", language="yue")
    assert "名前 é 😀" in render_table([task])
    assert "名前 é 😀" in render_csv([task])
    assert "名前 é 😀" in render_json([task])


# -- the official SDK and asrtui agree ------------------------------------------------------------


def test_sdk_and_cli_print_the_same_tasks(served: tuple[EmulatorApp, str]) -> None:
    """Done means: the official SDK and ``asrtui tasks --format json`` see the same tasks."""
    from alibabacloud_live20161101.client import Client
    from alibabacloud_live20161101.models import QueryRtcAsrTasksRequest
    from alibabacloud_tea_openapi.models import Config

    _, url = served
    host = url.removeprefix("http://")
    sdk = Client(
        Config(
            access_key_id=DEMO_ACCESS_KEY_ID,
            access_key_secret=DEMO_ACCESS_KEY_SECRET,
            endpoint=host,
            protocol="http",
            region_id="cn-shanghai",
        )
    )
    answer = sdk.query_rtc_asr_tasks(QueryRtcAsrTasksRequest(region_id="cn-shanghai"))
    assert answer.body.ret_code == 2000
    sdk_tasks = list(answer.body.tasks.values())
    assert sdk_tasks

    env = demo_env()

    def cli(*extra: str) -> list[dict[str, object]]:
        done = run_cli(
            asrtui_command("tasks", "--endpoint", url, "--format", "json", *extra), env=env
        )
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""
        parsed: list[dict[str, object]] = json.loads(done.stdout)
        return parsed

    revealed = cli("--reveal-secrets")
    assert [t["taskId"] for t in revealed] == [t["taskId"] for t in sdk_tasks]
    assert revealed == sdk_tasks

    masked = cli()
    assert [t["taskId"] for t in masked] == [t["taskId"] for t in sdk_tasks]
    for ours, theirs in zip(masked, sdk_tasks, strict=True):
        assert set(ours) == set(theirs)
        for name in theirs:
            if name in {"streamUrl", "aliUid"}:
                assert ours[name] != theirs[name]
                assert "*" in str(ours[name])
            else:
                assert ours[name] == theirs[name], name


def test_module_runs_as_a_script() -> None:
    done = run_cli(asrtui_command("--version"))
    assert done.returncode == 0
    assert done.stdout.splitlines()[0] == "asrtui 0.1.0"


@pytest.mark.parametrize(
    ("created", "zone", "shown"),
    [
        ("2024-05-15T11:51:02+08:00", UTC, "2024-05-15 03:51:02 +0000"),
        ("2024-05-15T03:51:02Z", timezone(timedelta(hours=9)), "2024-05-15 12:51:02 +0900"),
        ("2024-05-15T11:51:02+08:00", timezone(timedelta(hours=8)), "2024-05-15 11:51:02 +0800"),
    ],
)
def test_the_headless_table_shows_times_in_the_local_zone_like_the_console(
    created: str, zone: timezone, shown: str
) -> None:
    from asrtui.ui.durations import format_local_time

    task = Task(task_id="asr-1", created_at=datetime.fromisoformat(created))
    table = render_table([task], tz=zone)
    assert shown in table
    assert "+08:00" not in table or zone.utcoffset(None) == timedelta(hours=8)
    assert format_local_time(task.created_at, zone) == shown
