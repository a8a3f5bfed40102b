"""``asrtui create`` and ``create --like`` end to end against the emulator on a real socket.

And the rules of `asrtui.taskspec`, as tables and as a property: what the checks accept, the
emulator (which applies the service's documented rules) accepts too.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asrtui.__main__ import main
from asrtui.emulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, EmulatorApp, build_emulator
from asrtui.emulator.backend import EmulatorBackend, InvalidTaskRequest
from asrtui.emulator.server import running_server
from asrtui.journal import journal_path, read_journal
from asrtui.models import Task
from asrtui.taskspec import FIELDS, field_of_error, validate, values_of_task
from tests.support.cli import asrtui_command, demo_env, run_cli

STREAM = "http://pull.example.com/live/news.flv?auth_key=1700000000-0-0-STREAMSECRET"
LIVE = [
    "--mode",
    "live",
    "--language",
    "cn",
    "--callback-url",
    "default",
    "--stream-url",
    STREAM,
]


@pytest.fixture(autouse=True)
def _no_real_backoff(no_real_backoff: None) -> None:
    """Retries back off on a fake sleep."""


@pytest.fixture
def env_creds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", DEMO_ACCESS_KEY_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", DEMO_ACCESS_KEY_SECRET)


@pytest.fixture
def served() -> Iterator[tuple[EmulatorApp, str]]:
    pytest.importorskip("uvicorn")
    app = build_emulator(seed=7, tasks=2)
    with running_server(app) as url:
        yield app, url


def _running(app: EmulatorApp) -> dict[str, Any]:
    return dict(app.backend.query(None) or {})


def _journal() -> list[dict[str, Any]]:
    return [e.to_json() for e in read_journal(journal_path("env")).events]


def test_create_over_a_socket_prints_the_id_and_journals_it(
    served: tuple[EmulatorApp, str], env_creds: None, capsys: pytest.CaptureFixture[str]
) -> None:
    app, url = served
    before = set(_running(app))
    assert main(["create", *LIVE, "--report-interval", "200", "--yes", "--endpoint", url]) == 0
    new_id = capsys.readouterr().out.strip()
    running = _running(app)
    assert set(running) == before | {new_id}
    assert running[new_id]["streamUrl"] == STREAM
    assert running[new_id]["reportInterval"] == "200"
    (entry,) = _journal()
    assert entry["kind"] == "action"
    assert entry["task"] == new_id
    assert entry["detail"]["action"] == "create"
    assert "STREAMSECRET" not in json.dumps(entry)


def test_restart_like_a_task_copies_its_settings(
    served: tuple[EmulatorApp, str], env_creds: None, capsys: pytest.CaptureFixture[str]
) -> None:
    app, url = served
    old_id = sorted(_running(app))[0]
    old = _running(app)[old_id]
    assert app.backend.stop(old_id)  # an ended task is restarted too
    assert main(["create", "--like", old_id, "--yes", "--endpoint", url]) == 0
    new_id = capsys.readouterr().out.strip()
    new = _running(app)[new_id]
    assert new_id != old_id
    for name in ("mode", "language", "streamUrl", "callbackUrl", "reportInterval"):
        assert new[name] == old[name], name
    (entry,) = _journal()
    assert entry["detail"]["action"] == "restart"
    assert entry["detail"]["like"] == old_id


def test_restart_can_change_a_setting(
    served: tuple[EmulatorApp, str], env_creds: None, capsys: pytest.CaptureFixture[str]
) -> None:
    app, url = served
    old_id = sorted(_running(app))[0]
    args = ["create", "--like", old_id, "--language", "ja", "-y", "--endpoint", url]
    assert main(args) == 0
    assert _running(app)[capsys.readouterr().out.strip()]["language"] == "ja"


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (["--language", "de"], "--language"),
        (["--report-interval", "501"], "--report-interval"),
        (["--report-interval", "-2"], "--report-interval"),
        (["--report-interval", "1.5"], "--report-interval"),
        (["--auto-terminate-delay", "0"], "--auto-terminate-delay"),
        (["--auto-terminate-delay", "11"], "--auto-terminate-delay"),
        (["--target-languages", "en"], "--target-languages"),
        (["--translate"], "--target-languages"),
        (["--translate", "--target-languages", "en,fr"], "--target-languages"),
        (["--callback-url", "ftp://x"], "--callback-url"),
        (["--stream-url", "not a url"], "--stream-url"),
        (["--sdk-app-id", "a"], "--sdk-app-id"),
    ],
)
def test_a_bad_value_is_named_by_its_option_and_nothing_is_sent(
    served: tuple[EmulatorApp, str],
    env_creds: None,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    named: str,
) -> None:
    app, url = served
    requests = app.stats.requests
    assert main(["create", *LIVE, *extra, "--yes", "--endpoint", url]) == 2
    err = capsys.readouterr().err
    assert named in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert app.stats.requests == requests
    assert "STREAMSECRET" not in err


def test_rtc_needs_its_three_ids(
    served: tuple[EmulatorApp, str], env_creds: None, capsys: pytest.CaptureFixture[str]
) -> None:
    _, url = served
    base = ["create", "--mode", "rtc", "--language", "en", "--callback-url", "default", "-y"]
    assert main([*base, "--endpoint", url]) == 2
    err = capsys.readouterr().err
    for option in ("--sdk-app-id", "--channel-id", "--rtc-user-id"):
        assert option in err
    ids = ["--sdk-app-id", "app", "--channel-id", "ch", "--rtc-user-id", "u1"]
    assert main([*base, *ids, "--endpoint", url]) == 0


class _RejectingBackend(EmulatorBackend):
    """The service refusing a stream the checks cannot know is wrong."""

    def create(self, params: Mapping[str, str]) -> str:
        if "unreachable" in params.get("StreamURL", ""):
            raise InvalidTaskRequest("invalid parameter StreamURL: the stream cannot be pulled")
        return super().create(params)


def test_a_value_the_service_rejects_is_shown_next_to_its_option(
    env_creds: None, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("uvicorn")
    app = build_emulator(seed=7, tasks=1)
    app.backend.__class__ = _RejectingBackend
    with running_server(app) as url:
        args = ["create", *LIVE[:-1], "http://unreachable.example.com/s.flv", "-y"]
        assert main([*args, "--endpoint", url]) == 1
    line = capsys.readouterr().err.strip()
    assert line.startswith("asrtui: --stream-url (StreamURL): rejected by the service")
    assert "the stream cannot be pulled" in line
    (entry,) = _journal()
    assert entry["detail"]["ok"] is False


def test_read_only_refuses_before_anything(
    served: tuple[EmulatorApp, str], env_creds: None, capsys: pytest.CaptureFixture[str]
) -> None:
    app, url = served
    requests = app.stats.requests
    assert main(["create", *LIVE, "-y", "--read-only", "--endpoint", url]) == 2
    assert "Refusing to create a task" in capsys.readouterr().err
    assert main(["create", "--like", "asr-x", "-y", "--read-only", "--endpoint", url]) == 2
    assert "Refusing to restart a task" in capsys.readouterr().err
    assert app.stats.requests == requests


def test_without_a_terminal_or_yes_nothing_is_sent(served: tuple[EmulatorApp, str]) -> None:
    app, url = served
    before = set(_running(app))
    done = run_cli(asrtui_command("create", *LIVE, "--endpoint", url), env=demo_env())
    assert done.returncode == 2
    assert "--yes" in done.stderr
    # The settings were shown, masked, before the question.
    assert "STREAMSECRET" not in done.stdout
    assert "Stream URL" in done.stdout
    assert set(_running(app)) == before


def test_the_auth_key_comes_from_stdin_and_is_never_shown(
    served: tuple[EmulatorApp, str],
    env_creds: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, url = served
    monkeypatch.setattr("sys.stdin", io.StringIO("AUTHKEY-SECRET-1\n"))
    assert main(["create", *LIVE, "--auth-key-stdin", "-y", "--endpoint", url]) == 0
    captured = capsys.readouterr()
    assert "AUTHKEY-SECRET-1" not in captured.out + captured.err
    text = journal_path("env").read_text(encoding="utf-8")
    assert "AUTHKEY-SECRET-1" not in text


def test_the_help_says_create_is_in_maintenance_mode(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["create", "--help"]) == 0
    out = capsys.readouterr().out
    assert "maintenance mode" in out
    for rule in FIELDS:
        assert rule.option in out


# -- the rules themselves ---------------------------------------------------------------------

_TEXT = st.one_of(
    st.sampled_from(["", "live", "rtc", "cn", "en", "ja", "yue", "fspk", "default", "true"]),
    st.sampled_from(["http://h/s.flv?auth_key=1", "https://h/cb", "rtmp://h/a/b", "x y", "-1"]),
    st.sampled_from(["0", "1", "10", "11", "500", "501", "en,ja", "cn,cn", "fr", "false"]),
    st.text(max_size=12),
)


@given(st.dictionaries(st.sampled_from([rule.key for rule in FIELDS]), _TEXT))
def test_what_the_checks_accept_the_emulator_accepts(values: dict[str, str]) -> None:
    spec, errors = validate(values)
    assert (spec is None) == bool(errors)
    if spec is None:
        assert set(errors) <= {rule.key for rule in FIELDS}
        assert all("\n" not in problem for problem in errors.values())
        return
    params: dict[str, str] = {}
    for rule in FIELDS:
        value = getattr(spec, rule.key)
        if value is not None:
            params[rule.api] = (
                ("true" if value else "false") if isinstance(value, bool) else str(value)
            )
    backend = EmulatorBackend(tasks=0)
    backend.create(params)


def test_a_restart_of_a_listed_task_validates() -> None:
    task = Task(
        task_id="asr-1",
        mode="live",
        language="en",
        callback_url="default",
        stream_url=STREAM,
        target_languages=("cn", "ja"),
        report_interval=200,
        auto_terminate_delay=5,
    )
    spec, errors = validate(values_of_task(task))
    assert errors == {}
    assert spec is not None
    assert spec.translate_enabled is True
    assert spec.target_languages == "cn,ja"
    assert "STREAMSECRET" not in repr(spec)


@pytest.mark.parametrize(
    ("message", "key"),
    [
        ("invalid parameter StreamURL: nope", "stream_url"),
        ("invalid parameter AutoTerminateDelay: 11 is not in 1..10", "auto_terminate_delay"),
        ('The input parameter "Language" that is mandatory', "language"),
        ("something else failed", None),
    ],
)
def test_field_of_error(message: str, key: str | None) -> None:
    assert field_of_error(message) == key
