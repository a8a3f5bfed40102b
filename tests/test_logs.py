"""Tests of the log file, its redaction, crash reports and the version lines."""

from __future__ import annotations

import functools
import logging
import stat
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import platformdirs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asrtui import logs
from asrtui.errors import ConfigError
from tests.support.fakes import no_sleep

SECRET = "Zk3rT0pS3cr3tV4lu3xx"
TOKEN = "CAIS+sts/Token==9f8e7d"
AUTH_KEY = "1715745062-0-0-fbc68f2ccebb4d46b5ab6d4801ed1234"
SIGNATURE = "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
RPC_SIGNATURE = "9NaGiOspFP5UPcwX8Iwt2YJXXuk="


@pytest.fixture(autouse=True)
def _clean_logging() -> Iterator[None]:
    """Each test starts without a log handler or registered secrets, and leaves none."""
    logs.shutdown_logging()
    logs.forget_secrets()
    yield
    logs.shutdown_logging()
    logs.forget_secrets()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def read_log(path: Path) -> str:
    for handler in logging.getLogger("asrtui").handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


# --- set-up ---------------------------------------------------------------------------------------


def test_the_log_goes_to_the_user_log_dir_with_private_modes() -> None:
    path = logs.setup_logging("info")
    assert path == platformdirs.user_log_path("asrtui") / "asrtui.log"
    assert logs.log_dir() == path.parent
    logging.getLogger("asrtui.client").info("hello %s", "world")
    assert "INFO" in read_log(path)
    assert "asrtui.client" in read_log(path)
    assert "hello world" in read_log(path)
    assert mode(path.parent) == 0o700
    assert mode(path) == 0o600


def test_an_existing_world_readable_log_becomes_private(tmp_path: Path) -> None:
    directory = tmp_path / "logs"
    directory.mkdir(mode=0o755)
    (directory / "asrtui.log").write_text("old\n")
    (directory / "asrtui.log").chmod(0o644)
    path = logs.setup_logging(log_dir=directory)
    assert mode(directory) == 0o700
    assert mode(path) == 0o600


def test_the_level_filters_records(tmp_path: Path) -> None:
    path = logs.setup_logging("WARNING", log_dir=tmp_path)
    log = logging.getLogger("asrtui.ui")
    log.info("quiet")
    log.warning("loud")
    text = read_log(path)
    assert "loud" in text
    assert "quiet" not in text


def test_a_second_setup_replaces_the_first_handler(tmp_path: Path) -> None:
    first = logs.setup_logging("debug", log_dir=tmp_path / "a")
    second = logs.setup_logging("debug", log_dir=tmp_path / "b")
    logging.getLogger("asrtui").debug("once")
    assert read_log(second).count("once") == 1
    assert "once" not in read_log(first)


def test_third_party_loggers_never_reach_the_file(tmp_path: Path) -> None:
    path = logs.setup_logging("debug", log_dir=tmp_path)
    logging.getLogger("httpx").warning("POST https://live.aliyuncs.com/?Signature=abc")
    assert "aliyuncs" not in read_log(path)


@pytest.mark.parametrize("level", ["verbose", "", "warn ing", "10"])
def test_an_invalid_level_names_the_valid_ones(tmp_path: Path, level: str) -> None:
    with pytest.raises(ConfigError) as caught:
        logs.setup_logging(level, log_dir=tmp_path)
    text = str(caught.value)
    assert repr(level) in text
    for name in ("debug", "info", "warning", "error", "critical"):
        assert name in text
    assert not (tmp_path / "asrtui.log").exists()


def test_the_log_rotates_and_keeps_three_private_old_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logs, "MAX_LOG_BYTES", 2_000)
    path = logs.setup_logging("info", log_dir=tmp_path)
    log = logging.getLogger("asrtui.rotation")
    for index in range(200):
        log.info("line %03d %s", index, "x" * 60)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["asrtui.log", "asrtui.log.1", "asrtui.log.2", "asrtui.log.3"]
    for name in names:
        assert mode(tmp_path / name) == 0o600
        assert (tmp_path / name).stat().st_size <= 2_000
    assert "line 199" in read_log(path)
    assert "line 000" not in "".join((tmp_path / n).read_text() for n in names)


def test_timestamps_carry_their_utc_offset(tmp_path: Path) -> None:
    path = logs.setup_logging("info", log_dir=tmp_path)
    logging.getLogger("asrtui").info("stamp")
    first = read_log(path).split(" ", 1)[0]
    moment = datetime.fromisoformat(first)
    assert moment.tzinfo is not None


# --- redaction ---------------------------------------------------------------------------------


def log_and_read(tmp_path: Path, *args: object, exc: bool = False) -> str:
    path = logs.setup_logging("debug", log_dir=tmp_path)
    log = logging.getLogger("asrtui.test")
    if exc:
        log.error(*args, exc_info=True)
    else:
        log.info(*args)
    return read_log(path)


def test_registered_secrets_are_masked_in_messages(tmp_path: Path) -> None:
    logs.register_secret(SECRET)
    logs.register_secret(TOKEN)
    text = log_and_read(tmp_path, f"secret {SECRET} token {TOKEN} encoded {quote(TOKEN, safe='')}")
    assert SECRET not in text
    assert TOKEN not in text
    assert "%2B" not in text.split("encoded", 1)[1]
    assert text.count("****") >= 3


def test_registered_secrets_are_masked_in_args(tmp_path: Path) -> None:
    logs.register_secret(SECRET)

    class Leaky:
        def __repr__(self) -> str:
            return f"Leaky(secret={SECRET})"

    text = log_and_read(tmp_path, "objects %r and %s", Leaky(), {"k": SECRET})
    assert SECRET not in text
    assert "Leaky(secret=****)" in text


def test_secrets_in_exceptions_are_masked(tmp_path: Path) -> None:
    logs.register_secret(SECRET)
    try:
        raise ValueError(f"bad key {SECRET} with auth_key={AUTH_KEY}")
    except ValueError:
        text = log_and_read(tmp_path, "failed", exc=True)
    assert "Traceback" in text
    assert "ValueError: bad key ****" in text
    assert SECRET not in text
    assert AUTH_KEY not in text


def test_a_record_leaves_the_filter_without_args_or_exception() -> None:
    logs.register_secret(SECRET)
    try:
        raise RuntimeError(SECRET)
    except RuntimeError:
        record = logging.LogRecord(
            "asrtui", logging.ERROR, __file__, 1, "x=%s", (SECRET,), sys.exc_info()
        )
    assert logs.RedactingFilter().filter(record) is True
    assert record.getMessage() == "x=****"
    assert record.args is None
    assert record.exc_info is None
    assert record.exc_text is not None
    assert SECRET not in record.exc_text


def test_a_record_that_cannot_be_formatted_is_still_masked() -> None:
    logs.register_secret(SECRET)
    record = logging.LogRecord("asrtui", logging.INFO, __file__, 1, f"{SECRET} %d", ("x",), None)
    assert logs.RedactingFilter().filter(record) is True
    assert SECRET not in record.getMessage()
    assert "unformattable" in record.getMessage()


@pytest.mark.parametrize(
    ("line", "leak"),
    [
        (f"pull http://cdn.example/s.flv?auth_key={AUTH_KEY}&x=1", AUTH_KEY),
        (f'{{"streamUrl": "rtmp://h/a?auth_key={AUTH_KEY}"}}', AUTH_KEY),
        (
            "Authorization: ACS3-HMAC-SHA256 Credential=AKIDEXAMPLE,"
            f"SignedHeaders=host;x-acs-date,Signature={SIGNATURE}",
            SIGNATURE,
        ),
        (f"headers {{'authorization': 'ACS3-HMAC-SHA256 Signature={SIGNATURE}'}}", SIGNATURE),
        (f"GET /?Action=X&Signature={RPC_SIGNATURE.replace('=', '%3D')}&Version=1", "9NaGiOsp"),
        (f'{{"Signature": "{RPC_SIGNATURE}"}}', RPC_SIGNATURE),
        (f"query SecurityToken={TOKEN}&Timestamp=1", TOKEN),
        (f"x-acs-security-token: {TOKEN}", TOKEN),
        (f"string to sign ...%26Signature%3D{SIGNATURE}", SIGNATURE),
        ('{"aliUid": "1119309225474343"}', "1119309225474343"),
    ],
)
def test_each_secret_kind_is_masked_in_the_log(tmp_path: Path, line: str, leak: str) -> None:
    text = log_and_read(tmp_path, "%s", line)
    assert leak not in text
    assert "****" in text


def test_prose_about_signatures_is_left_alone() -> None:
    line = "Signature rejected (SignatureDoesNotMatch): check the AccessKey secret"
    assert logs.redact_log_text(line) == line
    assert logs.redact_log_text("SignatureNonce=3156853299f313e23d1673dc12e1703d") == (
        "SignatureNonce=3156853299f313e23d1673dc12e1703d"
    )


def test_forgotten_secrets_are_no_longer_masked() -> None:
    logs.register_secret(SECRET)
    logs.register_secret("")
    assert logs.redact_log_text(SECRET) == "****"
    logs.forget_secrets()
    assert logs.redact_log_text(SECRET) == SECRET


# --- crash reports -------------------------------------------------------------------------------


def fixed_clock() -> datetime:
    return datetime(2024, 5, 14, 3, 52, 2, 123456, tzinfo=UTC)


def raise_nested() -> None:
    try:
        raise KeyError(f"auth_key={AUTH_KEY}")
    except KeyError as inner:
        raise RuntimeError(f"lost the connection with {SECRET}") from inner


def test_a_crash_report_holds_a_redacted_traceback_and_the_versions(tmp_path: Path) -> None:
    logs.register_secret(SECRET)
    try:
        raise_nested()
    except RuntimeError as error:
        path = logs.write_crash_report(error, directory=tmp_path, clock=fixed_clock)
    assert path == tmp_path / "crash-20240514T035202.123456Z.txt"
    assert mode(path) == 0o600
    text = path.read_text(encoding="utf-8")
    assert text.startswith("asrtui crash report\ntime: 2024-05-14T03:52:02+00:00\n")
    for name in ("asrtui ", "Textual ", "httpx ", "Python ", "Platform "):
        assert f"\n{name}" in text
    assert "raise_nested" in text
    assert "KeyError" in text  # the cause is kept
    assert "RuntimeError: lost the connection with ****" in text
    assert SECRET not in text
    assert AUTH_KEY not in text


def test_crash_reports_go_next_to_the_log_and_never_overwrite(tmp_path: Path) -> None:
    path = logs.setup_logging(log_dir=tmp_path / "logdir")
    first = logs.write_crash_report(ValueError("one"), clock=fixed_clock)
    second = logs.write_crash_report(ValueError("two"), clock=fixed_clock)
    assert first.parent == second.parent == path.parent
    assert first != second
    assert "ValueError: one" in first.read_text()
    assert "ValueError: two" in second.read_text()


def test_without_setup_crash_reports_go_to_the_user_log_dir() -> None:
    path = logs.write_crash_report(ValueError("boom"))
    assert path.parent == platformdirs.user_log_path("asrtui")
    assert path.name.startswith("crash-")
    assert path.name.endswith("Z.txt")
    assert mode(path.parent) == 0o700


# --- what asrtui registers on its own -----------------------------------------------------------

#: The key pair the commands below sign with (an STS key, so the token is registered too).
KEY_ID = "AKIDEXAMPLE"


@pytest.fixture
def sts_account(monkeypatch: pytest.MonkeyPatch) -> None:
    """STS credentials in the environment, accepted by an in-process emulator every client uses."""
    import httpx

    import asrtui.connect
    from asrtui.client import LiveClient
    from asrtui.emulator import build_emulator

    app = build_emulator(seed=3, tasks=2, credentials={KEY_ID: (SECRET, TOKEN)})
    client = functools.partial(LiveClient, transport=httpx.ASGITransport(app=app), sleep=no_sleep)
    monkeypatch.setattr(asrtui.connect, "LiveClient", client)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
    monkeypatch.setenv("ALIBABA_CLOUD_SECURITY_TOKEN", TOKEN)


@pytest.mark.parametrize("command", [["tasks", "--format", "json"], []], ids=["tasks", "console"])
def test_the_key_a_command_signs_with_is_masked_even_when_logged_by_mistake(
    sts_account: None, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    """The real path (options, environment, client) registers the secret and the token."""
    from asrtui.__main__ import main
    from asrtui.protocols import TaskSource

    async def console(source: TaskSource, settings: object, **kwargs: Any) -> int:
        await kwargs["first_answer"].wait()  # the console's first request, signed
        return 0

    monkeypatch.setattr("asrtui.ui.app.run_console_async", console)
    # Nothing masks the secret yet: it is in no form the patterns know (``SecurityToken=...``).
    assert logs.redact_log_text(SECRET) == SECRET
    assert main(["--log-level", "debug", *command]) == 0
    logging.getLogger("asrtui.anywhere").warning("by mistake: %s and %s", SECRET, TOKEN)
    text = read_log(logs.log_dir() / logs.LOG_FILE_NAME)
    assert "by mistake: **** and ****" in text
    assert SECRET not in text
    assert TOKEN not in text


def test_registering_masks_each_new_answer_once() -> None:
    """Every secret and token a provider hands out is masked in the log before it is used."""
    import asyncio

    from asrtui.credentials import Credentials
    from asrtui.credentials.provider import CredentialsProvider, registering_secrets

    answers = [Credentials(KEY_ID, SECRET, TOKEN)]
    wrapped = registering_secrets(lambda: answers[-1])
    assert isinstance(wrapped, CredentialsProvider)
    assert registering_secrets(wrapped) is wrapped
    assert asyncio.run(wrapped.get()) == Credentials(KEY_ID, SECRET, TOKEN)
    assert logs.redact_log_text(f"{SECRET}/{TOKEN}") == "****/****"
    answers.append(Credentials(KEY_ID, "second-secret-abcdef", "second-token-abcdef"))
    asyncio.run(wrapped.get())
    assert logs.redact_log_text("second-secret-abcdef second-token-abcdef") == "**** ****"


# --- versions ------------------------------------------------------------------------------------


def test_versions_text_names_each_component() -> None:
    from importlib import metadata

    lines = logs.versions_text().splitlines()
    assert [line.split(" ", 1)[0] for line in lines] == ["asrtui", "Textual", "httpx", "Python"]
    assert lines[1] == f"Textual {metadata.version('textual')}"
    assert lines[2] == f"httpx {metadata.version('httpx')}"
    assert lines[3].startswith(f"Python {sys.version.split()[0]}")
    import asrtui

    assert lines[0] in (f"asrtui {asrtui.__version__}", f"asrtui {metadata.version('asrtui')}")


# --- a log directory or file that cannot be used ---------------------------------------------


@pytest.mark.parametrize("where", ["directory is a file", "parent is a file"])
def test_a_log_directory_that_is_a_file_is_a_config_error(tmp_path: Path, where: str) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    directory = blocker if where == "directory is a file" else blocker / "log"
    with pytest.raises(ConfigError) as caught:
        logs.setup_logging("debug", log_dir=directory)
    assert caught.value.exit_code == 2
    assert "not a directory" in str(caught.value)
    assert "XDG_STATE_HOME" in caught.value.hint


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_a_log_file_that_is_not_a_file_is_refused_at_once(tmp_path: Path, kind: str) -> None:
    import os
    import signal

    path = tmp_path / logs.LOG_FILE_NAME
    if kind == "fifo":
        os.mkfifo(path, 0o600)
    else:
        path.mkdir()

    def blocked(signum: int, frame: object) -> None:
        raise AssertionError("the log file was opened in a blocking way")

    previous = signal.signal(signal.SIGALRM, blocked)
    signal.alarm(20)  # a guard against a blocking open, not a timing
    try:
        with pytest.raises(ConfigError, match="Cannot open the log file"):
            logs.setup_logging("debug", log_dir=tmp_path)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_a_write_that_fails_later_is_dropped_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The disk fills up during a broadcast: no "--- Logging error ---" over the console."""
    import errno
    import io

    logs.setup_logging("info", log_dir=tmp_path)
    handler = logging.getLogger("asrtui").handlers[-1]
    assert isinstance(handler, logging.handlers.RotatingFileHandler)

    class FullDisk(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    handler.setStream(FullDisk())
    logging.getLogger("asrtui.test").warning("during the broadcast")
    assert capsys.readouterr().err == ""
    assert getattr(handler, "dropped", 0) == 1


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(
        st.one_of(
            st.tuples(st.just("mask"), st.sampled_from(["tag", "sec-AAAA1111", "x=sec-BBBB2222"])),
            st.tuples(st.just("mask"), st.text(max_size=90)),
            st.tuples(st.just("register"), st.sampled_from(["sec-AAAA1111", "sec-BBBB2222"])),
            st.tuples(st.just("forget"), st.just("")),
        ),
        max_size=30,
    )
)
def test_remembered_maskings_follow_the_registered_secrets(steps: list[tuple[str, str]]) -> None:
    # A short text masked lately is answered from memory: never with other secrets than those
    # registered now (one registered later is masked, one forgotten no longer is).
    logs.forget_secrets()
    try:
        for action, value in steps:
            if action == "register":
                logs.register_secret(value)
            elif action == "forget":
                logs.forget_secrets()
            else:
                assert logs.redact_log_text(value) == logs._redact_log_text(value)
    finally:
        logs.forget_secrets()
