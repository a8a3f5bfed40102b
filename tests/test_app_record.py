"""The console keeps the broadcast record: a restarted console shows the history it had; its
actions, errors and task events reach the journal; ``n`` restarts a task and ``N`` creates one,
end to end against the emulator on a socket."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from asrtui.client import LiveClient
from asrtui.credentials import Credentials
from asrtui.emulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, EmulatorApp, build_emulator
from asrtui.emulator.server import running_server
from asrtui.errors import ServerError
from asrtui.events import Event
from asrtui.journal import Journal, read_journal
from asrtui.ratelimit import reset_registry
from asrtui.readonly import ReadOnly
from asrtui.record import Recorder
from asrtui.tasksource import ClientTaskSource
from asrtui.ui.broadcast import RESTARTED_HERE
from asrtui.ui.create_form import CreateTaskForm
from tests.support.clock import FakeClock
from tests.support.fakes import (
    FakeTaskSource,
    RecordingApp,
    console_settings,
    running_console,
    settle,
    settle_workers,
)


@pytest.fixture(autouse=True)
def _fresh_limiters() -> None:
    reset_registry()


def _log_text(console: object) -> str:
    screen = console.screen  # type: ignore[attr-defined]
    return "\n".join(line.plain for line in screen.event_log.entries)


async def test_a_restarted_console_shows_the_history_it_had(tmp_path: Path) -> None:
    path = tmp_path / "studio.jsonl"
    clock = FakeClock()
    source = FakeTaskSource.with_tasks(3)
    ids = sorted(task.task_id for task in source.tasks.values())
    gone, kept = ids[0], ids[1]
    recorder = Recorder(Journal(path), clock=clock.now)
    async with running_console(source, clock=clock, recorder=recorder) as console:
        source.remove(gone)
        await console.advance(10)
        source.fail(1, ServerError("ServiceUnavailable", "The service is unavailable"))
        await console.advance(10)
        await console.advance(10)
    recorder.close()  # the console is killed: the journal is all there is

    clock.advance(120)
    again = Recorder(Journal(path), clock=clock.now)
    async with running_console(source, clock=clock, recorder=again) as console:
        log = _log_text(console)
        # The old session's lines, then the mark, then this session's.
        assert gone in log
        assert "API" in log or "unavailable" in log
        assert RESTARTED_HERE in log
        assert log.index(gone) < log.index(RESTARTED_HERE)
        history = console.screen.book.history(kept)
        assert [e.detail for e in history][-1] != ""
        assert any(e.detail == RESTARTED_HERE for e in history)
        assert history[0].kind == "started"
    again.close()
    kinds = [e.kind for e in read_journal(path).events]
    assert kinds.count("session_started") == 2
    assert "task_ended" in kinds
    assert "api_error_began" in kinds
    assert "api_error_ended" in kinds
    # The kept tasks were not reported as appeared again after the restart.
    assert [e.task_id for e in read_journal(path).events if e.kind == "task_appeared"] == ids


async def test_stop_is_journaled(tmp_path: Path) -> None:
    path = tmp_path / "studio.jsonl"
    clock = FakeClock()
    recorder = Recorder(Journal(path), clock=clock.now)
    async with running_console(clock=clock, recorder=recorder) as console:
        target = console.screen.shown_task()
        assert target is not None
        await console.press("x")
        await console.press("y")
        await settle_workers(console.pilot)
    recorder.close()
    actions = [e for e in read_journal(path).events if e.kind == "action"]
    assert [(a.detail["action"], a.task_id, a.detail["ok"]) for a in actions] == [
        ("stop", target.task_id, True)
    ]


async def test_read_only_refuses_create_and_restart() -> None:
    async with running_console(read_only=ReadOnly(flag=True)) as console:
        await console.press("n")
        await console.press("N")
        assert not any(isinstance(s, CreateTaskForm) for s in console.app.screen_stack)
        texts = console.app.notes.texts()
        assert "Cannot restart tasks: read-only because the --read-only option" in texts
        assert "Cannot create tasks: read-only because the --read-only option" in texts


@pytest.fixture
def served() -> Iterator[tuple[EmulatorApp, str]]:
    pytest.importorskip("uvicorn")
    app = build_emulator(seed=12, tasks=3)
    with running_server(app) as url:
        yield app, url


@dataclass
class Studio:
    """The console on a real client to the emulator on a socket, its journal at ``path``."""

    emulator: EmulatorApp
    source: ClientTaskSource
    app: RecordingApp
    pilot: Pilot[Any]
    path: Path

    def actions(self) -> list[Event]:
        """The actions in the journal (read once the console has ended)."""
        return [event for event in read_journal(self.path).events if event.kind == "action"]


Studios = Callable[[], AbstractAsyncContextManager[Studio]]


@pytest.fixture
def studio(served: tuple[EmulatorApp, str], tmp_path: Path) -> Studios:
    """Opens the console on the served emulator; its journal is closed when it ends."""

    @asynccontextmanager
    async def opened() -> AsyncIterator[Studio]:
        emulator, url = served
        path = tmp_path / "studio.jsonl"
        clock = FakeClock()
        recorder = Recorder(Journal(path), clock=clock.now)
        credentials = Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
        try:
            async with LiveClient(lambda: credentials, url, region="cn-shanghai") as client:
                source = ClientTaskSource(client, profile_name="studio", region="cn-shanghai")
                settings = console_settings(clock, recorder=recorder)
                app = RecordingApp(source, settings)  # type: ignore[arg-type]
                async with app.run_test(size=(130, 40)) as pilot:
                    await settle(pilot)
                    yield Studio(emulator, source, app, pilot, path)
        finally:
            recorder.close()

    return opened


async def test_n_restarts_the_highlighted_task_over_a_socket(studio: Studios) -> None:
    async with studio() as s:
        emulator, app, pilot = s.emulator, s.app, s.pilot
        before = set(emulator.backend.query(None) or {})
        screen = app.screen
        old = screen.shown_task()  # type: ignore[attr-defined]
        assert old is not None
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, CreateTaskForm)
        assert form.query_one("#field-language", Input).value == old.language
        await pilot.press("ctrl+s")
        await settle_workers(pilot)
        await settle(pilot)
        after = set(emulator.backend.query(None) or {})
        (new_id,) = after - before
        # At once in the console: the refresh that follows shows it.
        assert any(row.task_id == new_id for row in screen.book.rows())  # type: ignore[attr-defined]
        assert f"{new_id}" in app.notes.texts()
        # And ``N``: a blank form.
        await pilot.press("N")
        await settle(pilot)
        assert isinstance(app.screen, CreateTaskForm)
        assert app.screen.query_one("#field-mode", Input).value == ""
        await pilot.press("escape")
        await settle(pilot)
    assert [(a.detail["action"], a.task_id, a.detail.get("like")) for a in s.actions()] == [
        ("restart", new_id, old.task_id)
    ]
    new = (emulator.backend.query(new_id) or {})[new_id]
    assert new["streamUrl"] == old.stream_url


async def test_a_profile_switch_is_journaled_and_the_new_profile_keeps_its_own(
    tmp_path: Path,
) -> None:
    from asrtui.protocols import ProfileSession
    from asrtui.ui.app import AsrtuiApp

    class Connector:
        """Opens the fake sources by name (enough for a switch)."""

        def __init__(self, sources: dict[str, FakeTaskSource]) -> None:
            self.sources = sources
            self.active_key: str | None = "prod"

        def profiles(self) -> list[Any]:
            return []

        def store(self) -> None:
            return None

        async def open(self, key: str) -> ProfileSession:
            return ProfileSession(key, self.sources[key])

        async def activate(self, session: ProfileSession) -> None:
            self.active_key = session.key

        async def aclose(self) -> None:
            return None

    clock = FakeClock()
    sources = {
        "prod": FakeTaskSource.with_tasks(2, profile="prod"),
        "staging": FakeTaskSource.with_tasks(3, profile="staging"),
    }
    made: dict[str, Recorder] = {}

    def new_recorder(session: ProfileSession) -> Recorder:
        name = session.source.profile_name
        made[name] = Recorder(Journal(tmp_path / f"{name}.jsonl"), clock=clock.now)
        return made[name]

    first = new_recorder(ProfileSession("prod", sources["prod"]))
    settings = console_settings(clock, recorder=first, new_recorder=new_recorder)
    app = AsrtuiApp(sources["prod"], settings, connector=Connector(sources))  # type: ignore[arg-type]
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot)
        app.switch_profile("staging")
        await settle(pilot)
        await settle_workers(pilot)
    for recorder in made.values():
        recorder.close()
    prod = read_journal(tmp_path / "prod.jsonl").events
    staging = read_journal(tmp_path / "staging.jsonl").events
    assert [(e.kind, e.detail.get("action")) for e in prod][-1] == ("action", "profile_switch")
    assert "to staging" in prod[-1].message
    assert staging[0].kind == "session_started"
    assert sorted(e.task_id for e in staging if e.kind == "task_appeared") == sorted(
        sources["staging"].tasks
    )


async def test_a_batch_stop_goes_through_the_limiter_and_journals_each_task_over_a_socket(
    studio: Studios,
) -> None:
    async with studio() as s:
        running = sorted(s.emulator.backend.query(None) or {})
        assert len(running) == 3
        granted = s.source.quota().granted_total
        for key in ("a", "x", "y"):
            await s.pilot.press(key)
            await settle(s.pilot)
        await settle_workers(s.pilot)
        await settle(s.pilot)
        assert s.emulator.backend.query(None) == {}
        # One limiter grant per stop (and the refresh that follows), none bypassed.
        assert s.source.quota().granted_total >= granted + 3
        assert "Stopped 3 tasks." in s.app.notes.texts()
    assert sorted((a.detail["action"], a.task_id, a.detail["ok"]) for a in s.actions()) == [
        ("stop", task_id, True) for task_id in running
    ]
