"""No secret leaks: a whole session with a known fake secret, then every output is scanned.

The flow adds profiles (``--secret-stdin``), lists, shows and tests them against the emulator on
a loopback socket, lists tasks in every format, hits the error paths (wrong secret, broken
files, a credential command that prints junk), and drives the console (switcher, edit form,
exports, a failing profile). Then everything produced is searched for the AccessKey secrets,
the STS token and the stream ``auth_key`` values: stdout, stderr, screenshots, screen text,
toasts, exports, exception texts and reprs, and every file under the test's private user
directories (config, cache, state, data, runtime, logs, home). The secrets may appear in one
place only: ``credentials.toml``, mode 0600.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import platformdirs
import pytest
from textual.widgets import Input

from asrtui import logs, wire
from asrtui.__main__ import main
from asrtui.client import LiveClient
from asrtui.credentials import Credentials
from asrtui.credentials.chain import resolve_connection_settings
from asrtui.credentials.external import ExternalCredentials
from asrtui.emulator import build_emulator
from asrtui.emulator.server import running_server
from asrtui.errors import AsrtuiError, SignatureError
from asrtui.profiles import Profile, ProfileStore
from asrtui.ratelimit import reset_registry
from asrtui.tasksource import ClientConnector
from asrtui.ui.app import AsrtuiApp
from asrtui.ui.dialogs import ExportDialog
from asrtui.ui.screens.main import MainScreen
from asrtui.ui.screens.profiles import ProfileForm, ProfileSwitcher
from asrtui.ui.settings import ConsoleSettings
from tests.support.fakes import FakeTaskSource, credentials_now, no_sleep, running_console, settle
from tests.support.secret_cases import placements

KEY_ID = "FAKE-scan-key-id-0001"
SECRET = "FAKE-SECRET-d0c7c0ffee"
TOKEN = "FAKE-STS-TOKEN-5ca1ab1e"
WRONG_SECRET = "FAKE-WRONG-SECRET-0badcafe"
SECRETS = (SECRET, TOKEN, WRONG_SECRET)


class Collected:
    """Everything the session produced that a person or a file could see."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    def add(self, where: str, text: str) -> None:
        self.texts.append((where, text))

    def error(self, where: str, error: BaseException) -> None:
        self.add(f"{where} str", str(error))
        self.add(f"{where} repr", repr(error))
        if isinstance(error, AsrtuiError):
            self.add(f"{where} hint", error.hint)


class Cli:
    """Runs ``main`` with a stdin, recording stdout and stderr."""

    def __init__(
        self,
        collected: Collected,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        self.collected = collected
        self.capsys = capsys
        self.monkeypatch = monkeypatch

    def __call__(self, *argv: str, stdin: str = "") -> tuple[int, str, str]:
        self.monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(list(argv))
        out, err = self.capsys.readouterr()
        self.collected.add(f"stdout of {argv}", out)
        self.collected.add(f"stderr of {argv}", err)
        return code, out, err


def auth_keys(stream_urls: list[str]) -> list[str]:
    """The ``auth_key`` values of stream URLs, whole and their signature part alone."""
    values: list[str] = []
    for url in stream_urls:
        for value in parse_qs(urlsplit(url).query).get("auth_key", []):
            values.append(value)
            values.append(value.rsplit("-", 1)[-1])
    return values


def files_under(*roots: Path) -> Iterator[Path]:
    seen: set[Path] = set()
    for root in roots:
        if not root.exists():
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file() and path not in seen:
                seen.add(path)
                yield path


@pytest.fixture(autouse=True)
def _no_real_backoff(no_real_backoff: None) -> None:
    """Retries back off on a fake sleep (commands build their own clients)."""
    reset_registry()


def screen_text(app: AsrtuiApp) -> str:
    """The characters on screen, row by row."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def drive_console(collected: Collected, out_dir: Path) -> None:
    """The console on the real client over the socket: switcher, edit form, exports, errors."""
    state_path = platformdirs.user_state_path("asrtui") / "console.json"
    connector = ClientConnector(env=os.environ)
    session = await connector.open("scan")
    await connector.activate(session)
    app = AsrtuiApp(session.source, ConsoleSettings(state_path=state_path), connector=connector)
    shots = 0

    def capture(label: str) -> str:
        nonlocal shots
        shots += 1
        text = screen_text(app)
        collected.add(f"screen text {label}", text)
        app.save_screenshot(f"{shots:02d}-{label}.svg", path=str(out_dir))
        return text

    async with connector, app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        main_screen = app.screen
        assert isinstance(main_screen, MainScreen)
        assert main_screen.table.total_count > 0
        await pilot.press("down", "e")
        await settle(pilot)
        capture("main")
        app.theme = "nord"  # remembered in the state directory, which is scanned too

        await pilot.press("P")
        await settle(pilot)
        assert isinstance(app.screen, ProfileSwitcher)
        assert "wrong" in capture("switcher")
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ProfileForm)
        assert form.values().secret == ""
        # Typed, the secret is masked on screen (and never pre-filled).
        form.query_one("#secret", Input).value = SECRET
        form.query_one("#token", Input).value = TOKEN
        await pilot.pause()
        shown = capture("edit-form")
        assert "Edit profile scan" in shown
        assert "•" * len(SECRET) + " " in shown
        form.query_one("#rate-limit", Input).value = "99"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Invalid rate limit" in form.error
        collected.add("form error", form.error)
        capture("form-error")
        await pilot.press("escape")
        await pilot.press("escape")
        await settle(pilot)

        for name in ("tasks.json", "tasks.csv"):
            await pilot.press("ctrl+s")
            await settle(pilot)
            dialog = app.screen
            assert isinstance(dialog, ExportDialog)
            dialog.query_one("#path", Input).value = str(out_dir / name)
            await pilot.press("enter")
            await settle(pilot)
            assert (out_dir / name).exists()

        # Switch to the profile with the wrong secret: the refresh fails on screen.
        await pilot.press("P", "down", "enter")
        await settle(pilot)
        await settle(pilot)
        assert app.source is not None
        assert app.source.profile_name == "wrong"
        wrong_screen = app.screen
        assert isinstance(wrong_screen, MainScreen)
        assert "SignatureDoesNotMatch" in wrong_screen.schedule.error
        collected.add("stale error", wrong_screen.schedule.error)
        assert "SignatureDoesNotMatch" in capture("wrong-secret")
        collected.add("repr of the session", repr(connector) + repr(app.source))
        for severity_note in app._notifications:
            collected.add("toast", f"{severity_note.title} {severity_note.message}")


def test_no_secret_leaks_anywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("uvicorn")
    collected = Collected()
    cli = Cli(collected, capsys, monkeypatch)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    emulator = build_emulator(seed=7, tasks=5, credentials={KEY_ID: (SECRET, TOKEN)})
    running = emulator.backend.query() or {}
    streams = [str(task["streamUrl"]) for task in running.values()]
    keys = auth_keys(streams)
    assert len(keys) == 10

    with running_server(emulator) as url:
        # -- the headless command line ------------------------------------------------------
        code, out, _ = cli(
            "profile", "add", "scan", "--access-key-id", KEY_ID, "--secret-stdin",
            "--sts-token-stdin", "--endpoint", url, stdin=f"{SECRET}\n{TOKEN}\n",
        )  # fmt: skip
        assert code == 0, out
        code, _, _ = cli(
            "profile", "add", "wrong", "--access-key-id", KEY_ID, "--secret-stdin",
            "--sts-token-stdin", "--endpoint", url, stdin=f"{WRONG_SECRET}\n{TOKEN}\n",
        )  # fmt: skip
        assert code == 0
        assert cli("profile", "list")[0] == 0
        code, out, _ = cli("profile", "show", "scan")
        assert code == 0
        assert "security token:" in out
        assert cli("profile", "show", "wrong")[0] == 0
        code, out, _ = cli("profile", "test", "scan")
        assert (code, "works: 5 running tasks" in out) == (0, True)
        code, _, err = cli("profile", "test", "wrong")
        assert code == 1
        assert "SignatureDoesNotMatch" in err
        for fmt in ("json", "csv", "table"):
            code, out, _ = cli("tasks", "--format", fmt)
            assert code == 0
            assert "auth_key" in out or fmt == "table"
        code, _, err = cli("--profile", "wrong", "tasks", "--format", "json")
        assert code == 1
        assert "SignatureDoesNotMatch" in err
        code, _, err = cli("--profile", "scan", "--signature", "rpc", "tasks")
        assert code == 0, err
        assert cli("profile", "use", "scan")[0] == 0

        # -- errors raised on the way, their texts and reprs ------------------------------
        settings = resolve_connection_settings(
            profile="wrong", endpoint=None, region=None, signature=None, env={}
        )
        client = LiveClient(settings.credentials, url, profile="wrong", sleep=no_sleep)
        collected.add("reprs", repr(settings) + repr(client) + repr(settings.credentials))

        async def list_with_the_wrong_secret() -> None:
            async with client:
                await client.list_tasks()

        # The CLI runs its own event loops (asyncio.run), so this test is synchronous too.
        with pytest.raises(SignatureError) as caught:
            asyncio.run(list_with_the_wrong_secret())
        collected.error("signature error", caught.value)
        store = ProfileStore()
        loaded = store.load()
        collected.add("repr of the profiles", repr(loaded) + repr(store))

        asyncio.run(drive_console(collected, out_dir))

    # A credential command whose output (and arguments) hold the secret, and is refused.
    program = (
        "import json; print(json.dumps({'mode': 'StsToken', 'access_key_id': 'k', "
        f"'access_key_secret': '{SECRET}', 'sts_token': '{TOKEN}', 'expiration': 'soon'}}))"
    )
    external = ExternalCredentials(f'{sys.executable} -c "{program}"', profile="ext")
    with pytest.raises(AsrtuiError) as caught_ext:
        credentials_now(external)
    collected.error("credential command error", caught_ext.value)
    collected.add("repr of the command", repr(external))
    # A credentials file that does not parse, or is readable by others, in a second store.
    other = ProfileStore(tmp_path / "other")
    other.add(Profile("p", credentials=Credentials(KEY_ID, SECRET, TOKEN)))
    broken = other.credentials_path.read_text().replace(f'"{SECRET}"', f'"{SECRET}')
    other.credentials_path.write_text(broken)
    with pytest.raises(AsrtuiError) as caught_toml:
        other.load()
    collected.error("unparsable credentials", caught_toml.value)
    other.credentials_path.chmod(0o644)
    with pytest.raises(AsrtuiError) as caught_mode:
        other.load()
    collected.error("unsafe credentials", caught_mode.value)
    other.credentials_path.unlink()
    collected.add(
        "repr of a profile", repr(Profile("p", credentials=Credentials("k", SECRET, TOKEN)))
    )

    # -- the scan -----------------------------------------------------------------------------
    needles = [*SECRETS, *keys]
    for where, text in collected.texts:
        for needle in needles:
            assert needle not in text, f"{needle!r} leaked in {where}"

    credentials_file = ProfileStore().credentials_path
    user_root = Path(os.environ["HOME"]).parent
    log_dir = platformdirs.user_log_path("asrtui")
    scanned = list(files_under(user_root, log_dir, out_dir))
    assert credentials_file in scanned
    assert any(path.suffix == ".svg" for path in scanned)
    assert (out_dir / "tasks.csv") in scanned
    exported = (out_dir / "tasks.csv").read_text() + (out_dir / "tasks.json").read_text()
    assert all(task_id in exported for task_id in running)
    assert "auth_key=****" in exported
    for path in scanned:
        data = path.read_bytes().decode("utf-8", errors="replace")
        if path == credentials_file:
            assert SECRET in data
            assert TOKEN in data
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            continue
        for needle in needles:
            assert needle not in data, f"{needle!r} leaked in {path}"


# =================================================================================================
# A server whose tasks carry a secret in every field that can hold a URL, and credentials whose
# values hold control characters: every output of every view is scanned for them.

MARKER = "Zq9ScanMarker7"
CRED_MARKER = "Zq9CredMarker8"
UID = "7319283746501234"
UID_NEEDLES = (UID, UID[:-4])  # the whole account id, and the part that is always masked


def hostile_wire_task(index: int, where: str, value: str) -> dict[str, object]:
    """A task whose every URL-bearing field, known and unknown, nested too, holds ``value``."""
    return {
        "taskId": f"asr-scan-{index:02d}",
        "status": 1,
        "mode": "live",
        "language": "cn",
        "tag": f"{where} {value}",
        "streamUrl": value,
        "callbackUrl": value,
        "aliUid": UID,
        "pushUrl": value,
        "nested": {"urls": [value, {"deep": value}], "aliUid": UID, "authKey": MARKER},
        "meta": json.dumps({"callback": value}),
        "createdAt": "2024-05-14T03:52:02Z",
    }


def hostile_wire_tasks() -> list[dict[str, object]]:
    return [
        hostile_wire_task(index, where, value)
        for index, (where, value) in enumerate(sorted(placements(MARKER).items()))
    ]


def assert_no_marker(collected: Collected, *paths: Path, allowed: Path | None = None) -> None:
    needles = (MARKER, CRED_MARKER, *UID_NEEDLES)
    for where, text in collected.texts:
        for needle in needles:
            for form in (text, unquote(text), unquote(unquote(text))):
                assert needle not in form, f"{needle!r} leaked in {where}: {text[:300]!r}"
    for path in files_under(*paths):
        if path == allowed:
            continue
        data = path.read_bytes().decode("utf-8", errors="replace")
        for needle in needles:
            assert needle not in unquote(data), f"{needle!r} leaked in {path}"


async def drive_hostile_console(collected: Collected, out_dir: Path) -> None:
    """Every view, copy, export, toast and the event log of the console, over hostile tasks."""
    tasks = wire.parse_tasks({"Tasks": {t["taskId"]: t for t in hostile_wire_tasks()}}).tasks
    source = FakeTaskSource()
    source.put(tasks)
    async with running_console(source, size=(160, 50)) as console:
        app, screen = console.app, console.screen
        await console.press("e")  # the event log, beside the table
        for index in range(len(tasks)):
            if index:
                await console.press("down")
            collected.add(f"screen {index}", screen_text(app))
            collected.add(f"detail {index}", screen.detail.as_text(200))
            await console.press("J")
            collected.add(f"raw JSON {index}", screen.detail.as_text(200))
            collected.add(f"raw JSON screen {index}", screen_text(app))
            await console.press("J", "c", "u", "y")
        for name in ("scan.json", "scan.csv"):
            await console.press("ctrl+s")
            dialog = app.screen
            assert isinstance(dialog, ExportDialog)
            dialog.query_one("#path", Input).value = str(out_dir / name)
            await console.press("enter")
            assert (out_dir / name).exists()
        # Fields change between two answers: the event log says how, masked.
        first, second = tasks[0].task_id, tasks[1].task_id
        source.change(first, callback_url=tasks[5].callback_url, tag=tasks[6].tag)
        source.change(second, stream_url=tasks[7].stream_url, extra=tasks[8].extra)
        await console.advance(10)
        log_lines = [line.plain for line in screen.event_log.entries]
        assert any("callback_url" in line for line in log_lines)
        collected.add("event log", "\n".join(log_lines))
        collected.add("screen at the end", screen_text(app))
        for index, text in enumerate(app.notes.copied):
            collected.add(f"clipboard {index}", text)
        collected.add("toasts", app.notes.texts())
        app.save_screenshot("hostile.svg", path=str(out_dir))


def test_a_secret_in_any_url_field_or_a_control_character_leaks_nowhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every CLI format (and watch), the console's views, copies and exports, logs, crashes."""
    pytest.importorskip("uvicorn")
    collected = Collected()
    cli = Cli(collected, capsys, monkeypatch)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    emulator = build_emulator(seed=7, tasks=0, credentials={KEY_ID: (SECRET, TOKEN)})
    hostile = hostile_wire_tasks()
    # The server's own task map, filled with hostile tasks (what a real server could send).
    running = emulator.backend._running  # the emulator has no hook for this
    for task in hostile:
        running[str(task["taskId"])] = task

    rounds = 0

    async def two_rounds(seconds: float) -> None:
        nonlocal rounds
        rounds += 1
        if rounds >= 2:
            raise KeyboardInterrupt

    monkeypatch.setattr("asrtui.cli.tasks.watch_sleep", two_rounds)
    with running_server(emulator) as url:
        code, out, _ = cli(
            "profile", "add", "scan", "--access-key-id", KEY_ID, "--secret-stdin",
            "--sts-token-stdin", "--endpoint", url, "--default", stdin=f"{SECRET}\n{TOKEN}\n",
        )  # fmt: skip
        assert code == 0, out
        for fmt in ("json", "csv", "table"):
            code, out, err = cli("--log-level", "debug", "tasks", "--format", fmt)
            assert code == 0, err
            assert "asr-scan-00" in out
            code, out, err = cli("tasks", "--format", fmt, "--task-id", "asr-scan-03")
            assert code == 0, err
            rounds = 0
            code, out, err = cli("tasks", "--format", fmt, "--watch", "0")
            assert (code, rounds) == (0, 2), err
        code, out, _ = cli("tasks", "--format", "csv")
        assert "auth_key=****" in out
        assert "user:****@host.example" in out

    asyncio.run(drive_hostile_console(collected, out_dir))

    # A crash whose message and locals hold a task and its URLs.
    parsed = wire.parse_tasks({"Tasks": {t["taskId"]: t for t in hostile}}).tasks
    try:
        raise RuntimeError(f"boom on {parsed[3]!r} from {parsed[4].stream_url}")
    except RuntimeError as error:
        report = logs.write_crash_report(error, directory=tmp_path / "crash")
    collected.add("crash report", report.read_text())

    # Credentials whose values hold control characters, from every source.
    store = ProfileStore()
    store.add(Profile("cr", credentials=Credentials(KEY_ID, "goodsecret", "goodtoken")))
    text = store.credentials_path.read_text().replace('"goodtoken"', f'"{CRED_MARKER}\\r\\n"')
    store.credentials_path.write_text(text)
    for argv in (("--profile", "cr", "tasks"), ("--log-level", "debug", "profile", "list")):
        code, _, err = cli(*argv)
        assert code == 2
        assert "security_token" in err
    store.credentials_path.write_text(text.replace(f'"{CRED_MARKER}\\r\\n"', '"goodtoken"'))
    program = (
        "import json; print(json.dumps({'mode': 'StsToken', 'access_key_id': 'k', "
        f"'access_key_secret': '{CRED_MARKER[:6]}' + '{CRED_MARKER[6:]}' + chr(0), "
        "'sts_token': 't'}))"
    )  # the marker is built by the command: the command line itself is stored in config.toml
    store.add(Profile("cmd", credential_command=f'{sys.executable} -c "{program}"'))
    code, _, err = cli("--log-level", "debug", "--profile", "cmd", "tasks")
    assert code == 2
    assert "access_key_secret" in err
    for name, bad in (("ACCESS_KEY_SECRET", "\x1b[2J"), ("SECURITY_TOKEN", "\u2028")):
        monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
        monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "goodsecret")
        monkeypatch.setenv(f"ALIBABA_CLOUD_{name}", CRED_MARKER + bad + "x")
        code, _, err = cli("--log-level", "debug", "tasks")
        assert code == 2
        assert f"ALIBABA_CLOUD_{name}" in err
    monkeypatch.delenv("ALIBABA_CLOUD_SECURITY_TOKEN")

    user_root = Path(os.environ["HOME"]).parent
    log_dir = platformdirs.user_log_path("asrtui")
    exported = (out_dir / "scan.csv").read_text() + (out_dir / "scan.json").read_text()
    assert "asr-scan-00" in exported
    assert (log_dir / logs.LOG_FILE_NAME).exists()
    assert_no_marker(
        collected, user_root, log_dir, out_dir, tmp_path / "crash", allowed=store.credentials_path
    )
