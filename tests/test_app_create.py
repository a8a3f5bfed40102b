"""The console's create form against the emulator on a real socket: rules beside each field,
nothing sent while one is wrong, the service's refusal beside the field it names."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Input, Static

from asrtui.client import LiveClient
from asrtui.credentials import Credentials
from asrtui.emulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, EmulatorApp, build_emulator
from asrtui.emulator.backend import EmulatorBackend, InvalidTaskRequest
from asrtui.emulator.server import running_server
from asrtui.protocols import TaskCreator
from asrtui.ratelimit import reset_registry
from asrtui.tasksource import ClientTaskSource
from asrtui.taskspec import FIELDS, MAINTENANCE_NOTE, values_of_task
from asrtui.ui.create_form import CreateTaskForm
from tests.support.fakes import settle, settle_workers

STREAM = "http://pull.example.com/live/news.flv?auth_key=1700000000-0-0-STREAMSECRET"


@pytest.fixture(autouse=True)
def _fresh_limiters() -> None:
    reset_registry()


class _Rejecting(EmulatorBackend):
    def create(self, params: Mapping[str, str]) -> str:
        if "unreachable" in params.get("StreamURL", ""):
            raise InvalidTaskRequest("invalid parameter StreamURL: the stream cannot be pulled")
        return super().create(params)


@pytest.fixture
def served() -> Iterator[tuple[EmulatorApp, str]]:
    pytest.importorskip("uvicorn")
    app = build_emulator(seed=4, tasks=2)
    app.backend.__class__ = _Rejecting
    with running_server(app) as url:
        yield app, url


@asynccontextmanager
async def client_of(url: str) -> AsyncIterator[ClientTaskSource]:
    credentials = Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
    async with LiveClient(lambda: credentials, url, region="cn-shanghai") as client:
        yield ClientTaskSource(client, profile_name="test", region="cn-shanghai")


class FormApp(App[None]):
    def __init__(self, form: CreateTaskForm) -> None:
        super().__init__()
        self.form = form
        self.result: list[str | None] = []

    def compose(self) -> ComposeResult:
        yield Static("under")

    def on_mount(self) -> None:
        self.push_screen(self.form, self.result.append)


def fill(form: CreateTaskForm, **values: str) -> None:
    for key, value in values.items():
        form.query_one(f"#field-{key}", Input).value = value


def rule_text(form: CreateTaskForm, key: str) -> str:
    return str(form.query_one(f"#rule-{key}", Static).render())


async def test_a_new_task_from_the_form_is_created(served: tuple[EmulatorApp, str]) -> None:
    emulator, url = served
    async with client_of(url) as source:
        assert isinstance(source, TaskCreator)
        form = CreateTaskForm(source.create_task)
        app = FormApp(form)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            # Every rule is beside its field, and the maintenance note is said.
            for rule in FIELDS:
                assert rule_text(form, rule.key) == rule.rule
            assert MAINTENANCE_NOTE in str(form.query_one("#create-note", Static).render())
            fill(form, mode="live", language="cn", callback_url="default", stream_url=STREAM)
            await pilot.press("ctrl+s")
            await settle_workers(pilot)
    (task_id,) = app.result
    assert task_id is not None
    assert (emulator.backend.query(task_id) or {})[task_id]["streamUrl"] == STREAM


async def test_every_wrong_field_is_marked_and_nothing_is_sent(
    served: tuple[EmulatorApp, str],
) -> None:
    emulator, url = served
    async with client_of(url) as source:
        form = CreateTaskForm(source.create_task)
        app = FormApp(form)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            requests = emulator.stats.requests
            fill(form, mode="live", language="de", report_interval="900")
            await pilot.press("ctrl+s")
            await settle_workers(pilot)
            assert set(form.errors) == {
                "language",
                "callback_url",
                "stream_url",
                "report_interval",
            }
            assert "must be from -1 to 500" in rule_text(form, "report_interval")
            assert form.query_one("#rule-language").has_class("-error")
            assert emulator.stats.requests == requests
            assert app.result == []


async def test_the_services_refusal_is_shown_beside_its_field(
    served: tuple[EmulatorApp, str],
) -> None:
    _, url = served
    async with client_of(url) as source:
        form = CreateTaskForm(source.create_task)
        app = FormApp(form)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            fill(
                form,
                mode="live",
                language="cn",
                callback_url="default",
                stream_url="http://unreachable.example.com/s.flv",
            )
            await pilot.press("ctrl+s")
            await settle_workers(pilot)
            assert list(form.errors) == ["stream_url"]
            assert "the stream cannot be pulled" in rule_text(form, "stream_url")
            assert app.result == []  # still open, to correct the field
            fill(form, stream_url=STREAM)
            await pilot.press("ctrl+s")
            await settle_workers(pilot)
    assert len(app.result) == 1
    assert app.result[0] is not None


async def test_a_restart_is_prefilled_and_keeps_the_stream_secret_off_screen(
    served: tuple[EmulatorApp, str],
) -> None:
    emulator, url = served
    async with client_of(url) as source:
        old_id = sorted(emulator.backend.query(None) or {})[0]
        old = await source.get_task(old_id)
        assert old is not None
        form = CreateTaskForm(source.create_task, values_of_task(old), like=old_id)
        app = FormApp(form)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            shown = form.query_one("#field-stream_url", Input).value
            assert "auth_key=****" in shown
            assert old.stream_url != shown
            await pilot.press("ctrl+s")
            await settle_workers(pilot)
    (new_id,) = app.result
    assert new_id is not None
    new: Any = (emulator.backend.query(new_id) or {})[new_id]
    # The real stream URL was sent, token and all.
    assert new["streamUrl"] == old.stream_url
    assert new["language"] == old.language
