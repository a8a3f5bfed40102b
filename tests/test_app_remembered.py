"""The console remembers each profile's view: restored at start and on a switch; not the demo."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from asrtui.profiles import ProfileStore
from asrtui.protocols import ProfileChoice, ProfileSession
from asrtui.sessionsettings import Settings
from asrtui.ui.notices import NoticeLevel
from asrtui.ui.remembered import FILE_NAME
from asrtui.ui.remembered_writer import WRITER
from asrtui.ui.screens.main import MainScreen
from asrtui.ui.widgets.task_table import DEFAULT_CHOICE
from tests.support.clock import FakeClock
from tests.support.fakes import (
    Console,
    FakeTaskSource,
    RecordingApp,
    console_settings,
    running_console,
    settle,
)


@dataclass
class Connector:
    """Opens fake sources by name; ``demo`` opens as the demo does (it writes no files)."""

    sources: dict[str, FakeTaskSource]
    active: str
    intervals: dict[str, float] = field(default_factory=dict)

    @property
    def active_key(self) -> str | None:
        return self.active

    def profiles(self) -> list[ProfileChoice]:
        return [
            ProfileChoice(key, key, "cn-shanghai", "https://live.aliyuncs.com", "access key")
            for key in self.sources
        ]

    def store(self) -> ProfileStore | None:
        return None

    async def open(self, key: str) -> ProfileSession:
        return ProfileSession(
            key,
            self.sources[key],
            settings=Settings(refresh=self.intervals.get(key, 5.0)),
            demo=key == "demo",
        )

    async def activate(self, session: ProfileSession) -> None:
        self.active = session.key

    async def aclose(self) -> None:
        return None


def sources(*names: str) -> dict[str, FakeTaskSource]:
    return {name: FakeTaskSource.with_tasks(4, profile=name) for name in names}


@asynccontextmanager
async def console_on(
    source: FakeTaskSource, state: Path | None, connector: Connector | None = None, **changes: Any
) -> AsyncIterator[Console]:
    clock = FakeClock()
    app = RecordingApp(source, console_settings(clock, state_path=state, **changes))
    app.connector = connector
    async with app.run_test(size=(130, 34)) as pilot:
        await settle(pilot)
        yield Console(pilot, app, source, clock)


def remembered(state: Path) -> dict[str, Any]:
    """What the file holds once the writes handed to the writer's thread are done."""
    assert WRITER.flush()
    profiles: dict[str, Any] = json.loads(state.with_name(FILE_NAME).read_text())["profiles"]
    return profiles


def files_in(directory: Path) -> list[Path]:
    return sorted(directory.iterdir())


def log_lines(screen: MainScreen) -> list[str]:
    return [line.plain for line in screen.event_log.entries]


def view(screen: MainScreen) -> dict[str, object]:
    table = screen.table
    return {
        "interval": screen.schedule.interval,
        "notices": screen.notice_level,
        "bell": screen.bell_enabled,
        "sort": (table.sort_column, table.sort_reverse),
        "hide_ended": table.hide_ended,
        "detail": not screen.has_class("-no-detail"),
        "events": screen.has_class("-events"),
        "maximized": screen.maximized is not None,
    }


DEFAULT_VIEW = {
    "interval": 5.0,
    "notices": NoticeLevel.NORMAL,
    "bell": True,
    "sort": ("id", False),
    "hide_ended": False,
    "detail": True,
    "events": False,
    "maximized": False,
}
CHANGED_VIEW = {
    "interval": 10.0,
    "notices": NoticeLevel.VERBOSE,
    "bell": False,
    "sort": ("status", True),
    "hide_ended": True,
    "detail": False,
    "events": True,
    "maximized": True,
}
CHANGING_KEYS = ("plus", "t", "b", "s", "S", "h", "d", "e", "m")


# ---------------------------------------------------------------- restart


async def test_every_remembered_setting_comes_back_after_quitting_with_q(tmp_path: Path) -> None:
    state = tmp_path / "console.json"
    source = FakeTaskSource.with_tasks(4, profile="prod")
    async with console_on(source, state) as c:
        assert view(c.screen) == DEFAULT_VIEW
        await c.press(*CHANGING_KEYS)
        assert view(c.screen) == CHANGED_VIEW
        # No tick since the keys: quitting saves what changed.
        await c.pilot.press("q")
    assert remembered(state)["prod"]["sort"] == "status"
    async with console_on(source, state) as c:
        assert view(c.screen) == CHANGED_VIEW
        said = [line for line in log_lines(c.screen) if "Remembered view" in line]
        assert len(said) == 1
        assert "refresh every 10 s" in said[0]
        assert "sorted by status (descending)" in said[0]


@pytest.mark.parametrize(
    ("keys", "changed"),
    [
        (("plus",), {"interval": 10.0}),
        (("minus",), {"interval": 3.0}),
        (("t",), {"notices": NoticeLevel.VERBOSE}),
        (("t", "t"), {"notices": NoticeLevel.QUIET}),
        (("b",), {"bell": False}),
        (("s",), {"sort": ("status", False)}),
        (("S",), {"sort": ("id", True)}),
        (("h",), {"hide_ended": True}),
        (("d",), {"detail": False}),
        (("e",), {"events": True}),
        (("m",), {"maximized": True}),
    ],
)
async def test_each_setting_is_remembered_on_its_own(
    tmp_path: Path, keys: tuple[str, ...], changed: dict[str, object]
) -> None:
    state = tmp_path / "console.json"
    source = FakeTaskSource.with_tasks(4, profile="prod")
    async with console_on(source, state) as c:
        await c.press(*keys)
        c.screen.tick()
    async with console_on(source, state) as c:
        assert view(c.screen) == {**DEFAULT_VIEW, **changed}


async def test_a_change_is_written_by_the_next_tick_and_only_once(tmp_path: Path) -> None:
    state = tmp_path / "console.json"
    async with console_on(FakeTaskSource.with_tasks(4, profile="prod"), state) as c:
        file = state.with_name(FILE_NAME)
        c.screen.tick()
        assert not file.exists() or remembered(state)["prod"]["interval"] == 5.0
        await c.press("plus", "plus", "plus")
        await c.advance(1)
        assert remembered(state)["prod"]["interval"] == 20.0
        written = file.stat().st_mtime_ns
        file.write_text(file.read_text())  # a write would replace the file (a new inode)
        inode = file.stat().st_ino
        await c.advance(1)
        await c.advance(1)
        assert WRITER.flush()
        assert file.stat().st_ino == inode
        assert written <= file.stat().st_mtime_ns


async def test_opening_a_dialog_saves_the_view(tmp_path: Path) -> None:
    """A profile switch starts with the switcher: the view is saved before it opens."""
    state = tmp_path / "console.json"
    connector = Connector(sources("prod", "staging"), "prod")
    async with console_on(connector.sources["prod"], state, connector) as c:
        await c.press("h", "P")
        assert remembered(state)["prod"]["hide_ended"] is True


# ---------------------------------------------------------------- per profile, on a switch


async def test_each_profile_has_its_own_view_restored_on_a_switch(tmp_path: Path) -> None:
    state = tmp_path / "console.json"
    connector = Connector(sources("prod", "staging"), "prod")
    async with console_on(connector.sources["prod"], state, connector) as c:
        await c.press("h", "s", "b")
        prod_view = view(c.screen)
        await c.app.switch_profile("staging").wait()
        await c.press()
        assert c.screen._source is connector.sources["staging"]
        assert view(c.screen) == DEFAULT_VIEW
        await c.press("t", "d")
        staging_view = view(c.screen)
        await c.app.switch_profile("prod").wait()
        await c.press()
        assert view(c.screen) == prod_view
        await c.app.switch_profile("staging").wait()
        await c.press()
        assert view(c.screen) == staging_view
    saved = remembered(state)
    assert saved["prod"]["hide_ended"] is True
    assert saved["staging"]["notices"] == "verbose"
    assert saved["staging"]["hide_ended"] is False


async def test_the_demo_reads_and_writes_nothing(tmp_path: Path) -> None:
    state = tmp_path / "console.json"
    file = state.with_name(FILE_NAME)
    file.write_text(json.dumps({"profiles": {"demo": {"sort": "status", "bell": True}}}))
    connector = Connector(sources("prod", "demo"), "prod")
    async with console_on(connector.sources["prod"], state, connector) as c:
        await c.app.switch_profile("demo").wait()
        await c.press()
        before = file.read_bytes()  # with what the prod screen wrote as it left
        assert remembered(state)["demo"] == {"sort": "status", "bell": True}
        assert c.app.settings.state_path is None
        assert view(c.screen) == {**DEFAULT_VIEW, "bell": False}
        await c.press(*CHANGING_KEYS)
        await c.advance(1)
        await c.pilot.press("q")
    assert file.read_bytes() == before


async def test_a_console_started_in_the_demo_writes_nothing(tmp_path: Path) -> None:
    async with console_on(FakeTaskSource.with_tasks(3), None) as c:
        await c.press(*CHANGING_KEYS)
        await c.advance(1)
        await c.pilot.press("q")
    assert files_in(tmp_path) == []


# ---------------------------------------------------------------- the profile's own interval


async def test_the_remembered_interval_holds_until_the_profile_interval_is_edited(
    tmp_path: Path,
) -> None:
    state = tmp_path / "console.json"
    source = FakeTaskSource.with_tasks(4, profile="prod")
    async with console_on(source, state) as c:
        await c.press("plus")
        await c.pilot.press("q")
    async with console_on(source, state) as c:
        assert c.screen.schedule.interval == 10.0
    # The profile's own interval was edited to 7 s: that newer choice wins.
    async with console_on(source, state, refresh_interval=7.0) as c:
        assert c.screen.schedule.interval == 7.0
        c.screen.tick()
    assert remembered(state)["prod"]["interval"] == 7.0
    async with console_on(source, state, refresh_interval=7.0) as c:
        assert c.screen.schedule.interval == 7.0


async def test_a_remembered_interval_does_not_delay_the_first_refresh(tmp_path: Path) -> None:
    state = tmp_path / "console.json"
    state.with_name(FILE_NAME).write_text(
        json.dumps({"profiles": {"prod": {"interval": 120, "interval_base": 5}}})
    )
    source = FakeTaskSource.with_tasks(4, profile="prod")
    async with console_on(source, state) as c:
        assert c.screen.schedule.interval == 120.0
        assert source.calls["list_tasks"] == 1
        assert c.screen.table.row_count == 4
        await c.advance(119)
        assert source.calls["list_tasks"] == 1
        await c.advance(1)
        assert source.calls["list_tasks"] == 2


# ---------------------------------------------------------------- damage


async def test_a_damaged_file_is_said_once_in_the_event_log_and_set_aside(tmp_path: Path) -> None:
    state = tmp_path / "console.json"
    file = state.with_name(FILE_NAME)
    file.write_bytes(b'{"profiles": {"prod": {"sort": "status"')
    connector = Connector(sources("prod", "staging"), "prod")
    async with console_on(connector.sources["prod"], state, connector) as c:
        errors = [line for line in log_lines(c.screen) if " error " in f" {line} "]
        assert len(errors) == 1, errors
        assert "is not JSON; set aside as remembered.json.damaged-" in errors[0]
        assert view(c.screen) == DEFAULT_VIEW
        for key in ("staging", "prod"):
            c.app.switch_profile(key)
            await c.press()
        assert not [line for line in log_lines(c.screen) if "not JSON" in line]
    (aside,) = [path for path in files_in(tmp_path) if ".damaged-" in path.name]
    assert aside.read_bytes() == b'{"profiles": {"prod": {"sort": "status"'


async def test_a_wrong_field_is_said_once_and_the_rest_applies(tmp_path: Path) -> None:
    state = tmp_path / "console.json"
    file = state.with_name(FILE_NAME)
    entry = {"sort": "colour", "hide_ended": True, "bell": "loud"}
    file.write_text(json.dumps({"profiles": {"prod": entry, "other": {"sort": 3}}}))
    source = FakeTaskSource.with_tasks(4, profile="prod")
    async with console_on(source, state) as c:
        said = [line for line in log_lines(c.screen) if "not understood" in line]
        assert len(said) == 1
        assert "bell, sort of profile prod" in said[0]
        assert view(c.screen) == {**DEFAULT_VIEW, "hide_ended": True}
    # Written back cleaned at once (said once), the other profile's entry as it was.
    saved = remembered(state)
    assert saved["prod"]["sort"] == "id"
    assert saved["other"] == {"sort": 3}
    async with console_on(source, state) as c:
        assert not [line for line in log_lines(c.screen) if "not understood" in line]


async def test_a_state_file_that_cannot_be_written_is_said_once(tmp_path: Path) -> None:
    state = tmp_path / "console.json"
    state.with_name(FILE_NAME).mkdir()
    async with running_console(state_path=state, size=(100, 30)) as c:
        for key in ("plus", "h", "b"):
            await c.press(key)
            await c.advance(1)
        assert WRITER.flush()
        await c.press()  # what the writes found comes back on the loop
        said = [line for line in log_lines(c.screen) if "Could not remember" in line]
        assert len(said) == 1
        assert "check the state directory" in said[0]
        # The console goes on.
        assert c.screen.table.hide_ended


# ---------------------------------------------------------------- columns


async def test_the_column_choice_is_kept_and_restored(tmp_path: Path) -> None:
    """Columns chosen with ``o`` are written as the choice's JSON and shown again next time."""
    state = tmp_path / "console.json"
    source = FakeTaskSource.with_tasks(4, profile="prod")
    async with console_on(source, state) as c:
        await c.press("o", "j", "space", "K", "enter")
        chosen = c.screen.table.column_choice
        assert chosen != DEFAULT_CHOICE
        c.screen.tick()
    assert remembered(state)["prod"]["columns"] == chosen.to_json()
    async with console_on(source, state) as c:
        assert c.screen.table.column_choice == chosen
        assert any("columns" in line for line in log_lines(c.screen))


@pytest.mark.parametrize("damaged", [[1, 2], "tag", {"order": "id"}, {"order": [1]}, 7])
async def test_a_damaged_column_choice_is_set_aside_and_the_rest_applied(
    tmp_path: Path, damaged: object
) -> None:
    state = tmp_path / "console.json"
    kept = {"columns": damaged, "hide_ended": True}
    state.with_name(FILE_NAME).write_text(json.dumps({"profiles": {"prod": kept}}))
    async with console_on(FakeTaskSource.with_tasks(4, profile="prod"), state) as c:
        assert c.screen.table.column_choice == DEFAULT_CHOICE
        assert c.screen.table.hide_ended
        assert any("columns" in line and "set aside" in line for line in log_lines(c.screen))


async def test_a_save_after_the_screen_is_taken_down_is_no_error(tmp_path: Path) -> None:
    """A late tick or dialog as the app ends finds no widgets: nothing to save, no crash."""
    state = tmp_path / "console.json"
    async with console_on(FakeTaskSource.with_tasks(4, profile="prod"), state) as c:
        screen = c.screen
        await c.press("h")
        await c.pilot.press("q")
    assert remembered(state)["prod"]["hide_ended"] is True
    assert screen.memory.save(screen) is False
