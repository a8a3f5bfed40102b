"""Property: whatever its arguments, the CLI ends with 0, 1 or 2 and a readable line, no traceback.

`tests/test_cli.py` throws loose tokens at the parser with every backend replaced by a stub.
This goes further: argument lists follow the real grammar (global options, a subcommand, its
options) with values drawn from awkward and arbitrary text, and the commands really run: the
demo emulator answers, environment credentials reach an in-process emulator, and the profile
commands read and write the (per-test) config directory, so one example can add a profile that
a later one shows, tests or removes. Only what would block or leave the machine is replaced:
the console, the emulator's server, the secret prompt, the watch loop's sleep, and the network
(any request that is not to the in-process emulator fails as a refused connection).
"""

from __future__ import annotations

import asyncio
import functools
import io
import itertools
import sys
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import asrtui.cli
import asrtui.cli.tasks
import asrtui.client
import asrtui.connect
import asrtui.tasksource
from asrtui.__main__ import main
from asrtui.client import LiveClient
from asrtui.emulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, build_emulator
from asrtui.printable import is_unsafe, printable_line
from asrtui.ratelimit import WindowLimiter

#: The environment's secret: it must never be printed.
ENV_KEY_ID = "env-key-id"
ENV_SECRET = "env-secret-Zq9vX2pL"
#: What the patched secret prompt "types", and what stdin pipes in.
TYPED_SECRET = "typed-secret-Wm4k"
PASTED_SECRET = "pasted-secret-Jh7c"

_AWKWARD = [
    "", " ", "x", "-", "--", "-h", "--help", "0", "-1", "1e999", "nan", "inf", "21", "3600.5",
    "cn-shanghai", "ap-southeast-1", "cn_shanghai", "..", "a/b", "../../etc/passwd", "~",
    "http://", "https://127.0.0.1:1", "http://127.0.0.1:9/x?y=1", "ftp://h", "http://[::1",
    "live.aliyuncs.com", "v3", "rpc", "v4", "json", "csv", "table", "xml", "prod", "prod.eu-1",
    "名前", "é", "a\x00b", "a\nb", "\x1b[31m", "x" * 300, "asr-nope", "demo", "ENV",
    "%s%n", "{}", "'", '"', "\\", "$(echo hi)",
]  # fmt: skip
#: Arbitrary text, and values that sit on the edges of what each option accepts.
VALUES = st.one_of(st.sampled_from(_AWKWARD), st.text(max_size=16))
#: Credential commands are run by ``profile test``: only harmless programs, or none at all.
COMMANDS = st.sampled_from(["true", "false", "printf '{}'", "/nonexistent/program", "", "'"])


def _mostly(*valid: str) -> st.SearchStrategy[str]:
    """Usually one of the ``valid`` values (so the command gets to run), sometimes anything."""
    good = st.sampled_from(valid)
    return st.one_of(good, good, good, VALUES)


def _option(flag: str, values: st.SearchStrategy[str] = VALUES) -> st.SearchStrategy[list[str]]:
    return values.map(lambda value: [flag, value])


def _flags(*parts: st.SearchStrategy[list[str]], size: int = 4) -> st.SearchStrategy[list[str]]:
    return st.lists(st.one_of(*parts), max_size=size).map(
        lambda groups: list(itertools.chain.from_iterable(groups))
    )


_CONNECTION = [
    _option("--profile", _mostly("prod", "staging.eu-1", "demo")),
    _option("--endpoint", _mostly("http://127.0.0.1:8080", "https://live.aliyuncs.com")),
    _option("--region", _mostly("cn-shanghai", "ap-southeast-1", "eu-central-1")),
    _option("--signature", _mostly("v3", "rpc")),
]
_GLOBAL = _flags(st.just(["--demo"]), st.just(["--demo"]), *_CONNECTION, size=3)

_TASKS = st.tuples(
    st.just(["tasks"]),
    _flags(
        st.just(["--reveal-secrets"]),
        st.just(["--demo"]),
        _option("--format", _mostly("json", "csv", "table")),
        _option("--task-id", _mostly("asr-nope", "asr-00000000-0000-4000-8000-000000000000")),
        _option("--watch", _mostly("0", "1", "2.5")),
        st.just(["--changes"]),
        *_CONNECTION,
    ),
).map(lambda parts: parts[0] + parts[1])

_ACT = st.tuples(
    st.sampled_from([["stop"], ["delete"]]),
    st.lists(_mostly("asr-nope"), min_size=0, max_size=2),
    _flags(st.just(["--yes"]), st.just(["-y"]), st.just(["--demo"]), *_CONNECTION),
).map(lambda parts: parts[0] + parts[1] + parts[2])

_PROFILE_ADD = st.tuples(
    st.just(["profile", "add"]),
    st.lists(_mostly("prod", "staging.eu-1", "Prod_2"), min_size=0, max_size=2),
    _flags(
        _option("--access-key-id", _mostly(ENV_KEY_ID, "FAKE5tExample")),
        st.just(["--access-key-id", ENV_KEY_ID]),
        st.just(["--secret-stdin"]),
        st.just(["--sts-token-stdin"]),
        _option("--credential-command", COMMANDS),
        _option("--region", _mostly("cn-shanghai", "eu-central-1")),
        _option("--endpoint", _mostly("http://127.0.0.1:8080")),
        _option("--signature", _mostly("v3", "rpc")),
        _option("--rate-limit", _mostly("1", "20", "0", "21")),
        _option("--refresh", _mostly("1", "5.5", "3600", "0.5")),
        st.just(["--read-only"]),
        st.just(["--default"]),
        st.just(["--replace"]),
        size=5,
    ),
).map(lambda parts: parts[0] + parts[1] + parts[2])

_PROFILE_OTHER = st.tuples(
    st.sampled_from(
        [
            ["profile"],
            ["profile", "list"],
            ["profile", "show"],
            ["profile", "remove"],
            ["profile", "use"],
            ["profile", "test"],
            ["profile", "import-aliyun"],
        ]
    ),
    st.lists(_mostly("prod", "staging.eu-1", "Prod_2"), max_size=2),
    _flags(_option("--file"), _option("--only"), st.just(["--replace"]), size=2),
).map(lambda parts: parts[0] + parts[1] + parts[2])

_EMULATOR = st.tuples(
    st.just(["emulator"]),
    _flags(
        *(_option(flag) for flag in ("--host", "--port", "--tasks", "--seed", "--fault")),
        _option("--access-key-id"),
        _option("--access-key-secret"),
        st.just(["--lively"]),
    ),
).map(lambda parts: parts[0] + parts[1])

_CREATE = st.tuples(
    st.just(["create"]),
    _flags(
        _option("--like", _mostly("asr-nope")),
        _option("--mode", _mostly("live", "rtc")),
        _option("--language", _mostly("cn", "en", "fspk")),
        _option("--callback-url", _mostly("default", "https://cb.example.com/x")),
        _option("--stream-url", _mostly("http://h.example.com/s.flv?auth_key=1-0-0-x")),
        _option("--target-languages", _mostly("en", "ja,cn")),
        _option("--report-interval", _mostly("-1", "500", "501")),
        _option("--auto-terminate-delay", _mostly("1", "10", "0")),
        st.just(["--translate"]),
        st.just(["--auth-key-stdin"]),
        st.just(["--yes"]),
        st.just(["--demo"]),
        *_CONNECTION,
        size=6,
    ),
).map(lambda parts: parts[0] + parts[1])

_RECORD = st.tuples(
    st.sampled_from([["journal"], ["report"]]),
    _flags(
        _option("--since", _mostly("2h", "90s", "2026-12-06T20:00")),
        _option("--task", _mostly("asr-nope")),
        _option("--format", _mostly("text", "json", "md")),
        *_CONNECTION,
    ),
).map(lambda parts: parts[0] + parts[1])

_LOOSE = st.lists(VALUES, max_size=5)
_COMMAND_NAMES = {"tasks", "stop", "delete", "profile", "emulator", "create", "journal", "report"}

ARGV = st.tuples(
    _GLOBAL,
    st.one_of(
        st.just([]), _TASKS, _ACT, _PROFILE_ADD, _PROFILE_OTHER, _EMULATOR, _CREATE, _RECORD, _LOOSE
    ),
).map(lambda parts: parts[0] + parts[1])


async def _no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


def _emulator_client(real: type[LiveClient]) -> Callable[..., LiveClient]:
    """``LiveClient`` whose requests all go to one in-process emulator, whatever the endpoint."""
    app = build_emulator(
        seed=2,
        tasks=3,
        credentials={ENV_KEY_ID: ENV_SECRET, DEMO_ACCESS_KEY_ID: DEMO_ACCESS_KEY_SECRET},
    )

    def make(*args: Any, **kwargs: Any) -> LiveClient:
        kwargs.update(
            transport=httpx.ASGITransport(app=app),
            limiter=WindowLimiter(1000),
            sleep=_no_sleep,
        )
        return real(*args, **kwargs)

    return make


async def _refused(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("the network is off in this test", request=request)


async def _no_console(*args: object, **kwargs: object) -> int:
    return 0


async def _interrupt(seconds: float) -> None:
    raise KeyboardInterrupt


def _no_serve(*args: object, **kwargs: object) -> None:
    return None


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    """Environment credentials, an in-process emulator for them, nothing that blocks."""
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", ENV_KEY_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ENV_SECRET)
    client = _emulator_client(LiveClient)
    monkeypatch.setattr(asrtui.connect, "LiveClient", client)
    monkeypatch.setattr(asrtui.client, "LiveClient", client)
    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", _refused)
    demo = functools.partial(asrtui.connect.open_demo_client, fault_spec="", lively=False)
    monkeypatch.setattr(asrtui.connect, "open_demo_client", demo)
    monkeypatch.setattr("asrtui.ui.app.run_console_async", _no_console, raising=False)
    monkeypatch.setattr("asrtui.emulator.server.serve", _no_serve)
    monkeypatch.setattr(asrtui.cli.tasks, "watch_sleep", _interrupt)
    monkeypatch.setattr("getpass.getpass", lambda prompt="", stream=None: TYPED_SECRET)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(argv=ARGV, stdin=st.sampled_from(["", "\n", "y\n", f"{PASTED_SECRET}\nsts-token\n"]))
def test_any_arguments_end_in_0_1_or_2_with_a_readable_message(
    sandbox: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    stdin: str,
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(argv)
    captured = capsys.readouterr()
    event(f"{next((a for a in argv if a in _COMMAND_NAMES), 'console')} -> {code}")
    text = captured.out + captured.err
    # 130: a watch ended by Ctrl-C (the sandbox's sleep raises it), as a watch ends.
    assert code in {0, 1, 2} or (code == 130 and "--watch" in argv), (argv, code, captured.err)
    assert "Traceback" not in text
    assert "unexpected error" not in captured.err, captured.err  # a bug, not a user error
    # (The demo key is public and ``asrtui emulator`` prints it on purpose.)
    for secret in (ENV_SECRET, TYPED_SECRET, PASTED_SECRET):
        assert secret not in text, (argv, text)
    # Whatever an error quotes (an argument as typed, a server's message), it is escaped: no
    # character but the line ends can break a line, reorder it or make the terminal act.
    assert not [char for char in captured.err if char != "\n" and is_unsafe(char)], captured.err
    assert not captured.err or captured.err.endswith("\n"), captured.err
    lines = captured.err.splitlines()
    if code == 1:
        assert len(lines) == 1, (argv, captured.err)
        assert lines[0].startswith("asrtui: "), captured.err
    if code == 2:
        assert lines, argv
        if lines[0].startswith("usage:"):
            # argparse: the usage (wrapped over lines), then one line saying what is wrong.
            assert ": error: " in lines[-1], captured.err
        else:
            assert len(lines) == 1, (argv, captured.err)
            assert lines[0].startswith("asrtui: "), captured.err


@pytest.mark.parametrize(
    ("endpoint", "says"),
    [("\x08", "a control or invisible character"), ("http://127.0.0.1:8080\n", "whitespace")],
)
def test_an_endpoint_with_a_control_character_is_a_usage_error(
    sandbox: None, capsys: pytest.CaptureFixture[str], endpoint: str, says: str
) -> None:
    """Found by the property above: httpx refused the URL and the CLI called it a bug."""
    assert main(["tasks", "--endpoint", endpoint]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f"asrtui: Invalid endpoint {endpoint!r}: it contains {says}: give --endpoint"
    )
    assert "unexpected error" not in err
    assert len(err.strip().splitlines()) == 1


@given(text=st.text())
def test_a_printable_line_is_one_inert_line_and_changes_only_what_it_must(text: str) -> None:
    line = printable_line(text)
    assert not [char for char in line if is_unsafe(char)]
    assert len(line.splitlines()) <= 1
    assert printable_line(line) == line
    unsafe = sum(1 for char in text if is_unsafe(char))
    if not unsafe:
        assert line == text
    # Each unsafe character became one backslash escape: nothing is dropped, nothing added.
    assert line.count("\\") == text.count("\\") + unsafe
