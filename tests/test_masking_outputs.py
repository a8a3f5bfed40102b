"""Every output that shows a task masks it by the one rule: table and property tests.

A task arrives through the wire parser with a secret (`tests.support.secret_cases`) in one of its
URL-bearing fields, known or unknown, nested or not, and every rendering is checked: the
command line's JSON, CSV and table (what ``--watch`` and the console's export print too), the
clipboard texts, the detail pane's fields and raw JSON, the event log's change lines and the
table's cells. The seen cases have their own regression tests.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from asrtui import wire
from asrtui.cli.output import render_table
from asrtui.models import Task
from asrtui.output import render_csv, render_json
from asrtui.ui import clipboard
from asrtui.ui.taskbook import TaskBook
from asrtui.ui.widgets.detail import DetailModel, render_fields, render_raw
from tests.support.secret_cases import markers, placements, secret_urls

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MARKER = "Zq9OutputMarker3"
NOW = datetime(2024, 5, 14, 4, 0, tzinfo=UTC)
FIELDS = ("streamUrl", "callbackUrl", "tag", "pushUrl", "nested", "meta", "mode")


def wire_task(field: str, value: str, task_id: str = "asr-1") -> dict[str, Any]:
    obj: dict[str, Any] = {
        "taskId": task_id,
        "status": 1,
        "streamUrl": "rtmp://h.example/app/s?auth_key=plain",
        "callbackUrl": "default",
        "aliUid": "1119309225474343",
    }
    if field == "nested":
        obj["nested"] = {"a": [{"url": value}], "b": value}
    elif field == "meta":
        obj["meta"] = json.dumps({"url": value})
    else:
        obj[field] = value
    return obj


def parse(*objects: dict[str, Any]) -> list[Task]:
    return list(wire.parse_tasks({"Tasks": {o["taskId"]: o for o in objects}}).tasks)


def rich_text(renderable: Any) -> str:
    console = Console(width=400, color_system=None, record=True, file=None)
    with console.capture() as capture:
        console.print(renderable)
    return capture.get()


def every_output(task: Task, changed: Task) -> dict[str, str]:
    """Each rendering of ``task`` with secrets masked, by name."""
    book = TaskBook()
    book.update([task], NOW)
    events = book.update([changed], NOW)
    return {
        "json": render_json([task]),
        "json compact (watch)": render_json([task], compact=True),
        "csv": render_csv([task]),
        "table": render_table([task]),
        "copy JSON": clipboard.task_json(task, revealed=False),
        "copy URL": clipboard.stream_url(task, revealed=False),
        "copy id": clipboard.task_id(task, revealed=False),
        "detail": rich_text(render_fields(DetailModel(task, now=NOW), revealed=False, tz=UTC)),
        "raw JSON": rich_text(render_raw(task, revealed=False)),
        "events": "\n".join(event.detail for event in events),
    }


def assert_gone(marker: str, outputs: dict[str, str]) -> None:
    for name, text in outputs.items():
        for form in (text, unquote(text), unquote(unquote(text))):
            assert marker not in form, f"{marker!r} in the {name} output: {text[:400]!r}"


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize(("where", "value"), sorted(placements(MARKER).items()))
def test_every_placement_in_every_field_is_masked_in_every_output(
    field: str, where: str, value: str
) -> None:
    (task,) = parse(wire_task(field, value))
    (changed,) = parse(wire_task(field, value.replace(MARKER, MARKER + "2")))
    assert_gone(MARKER, every_output(task, changed))


@PROPERTY
@given(st.data(), markers, st.sampled_from(FIELDS))
def test_a_secret_in_any_url_in_any_field_is_masked_in_every_output(
    data: st.DataObject, marker: str, field: str
) -> None:
    url = data.draw(secret_urls(marker))
    (task,) = parse(wire_task(field, url))
    (changed,) = parse(wire_task(field, data.draw(secret_urls(marker))))
    assert_gone(marker, every_output(task, changed))


def test_revealed_copies_and_formats_show_the_secret() -> None:
    """The masking is on the output side only: revealing shows what the server sent."""
    value = f"rtmp://user:{MARKER}@h.example/a?auth_key={MARKER}"
    (task,) = parse(wire_task("callbackUrl", value))
    assert MARKER in render_csv([task], reveal=True)
    assert MARKER in render_json([task], reveal=True)
    assert MARKER in clipboard.task_json(task, revealed=True)


# --- the seen cases ----------------------------------------------------------------------------


def test_seen_an_auth_key_in_the_callback_url_of_the_csv() -> None:
    (task,) = parse(wire_task("callbackUrl", f"https://cb.example/asr?auth_key={MARKER}&x=1"))
    csv_text = render_csv([task])
    assert "https://cb.example/asr?auth_key=****&x=1" in csv_text
    assert MARKER not in csv_text
    assert MARKER not in render_json([task])


def test_seen_a_password_in_the_userinfo_of_a_url() -> None:
    (task,) = parse(wire_task("streamUrl", f"rtmp://user:{MARKER}@host.example/app/stream"))
    outputs = every_output(task, task)
    assert_gone(MARKER, outputs)
    assert "rtmp://user:****@host.example/app/stream" in outputs["csv"]
    assert "rtmp://user:****@host.example/app/stream" in outputs["copy URL"]


def test_an_error_line_of_the_command_line_is_masked_too(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever an error quotes (a URL a user typed, a server's text) goes through the rule."""
    from asrtui.__main__ import main

    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "FAKEkeyid")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "goodsecret")
    code = main(["--endpoint", f"http://h.example/x?token={MARKER}", "tasks"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("asrtui: ")
    assert MARKER not in err


async def test_a_refresh_error_quoting_a_url_is_masked_on_screen_in_the_log_and_toast() -> None:
    from asrtui.errors import ConnectError
    from tests.support.fakes import FakeTaskSource, running_console

    source = FakeTaskSource.with_tasks(2)
    async with running_console(source) as console:
        source.fail(3, ConnectError(f"Cannot connect to rtmp://u:{MARKER}@h.example/?token=x"))
        await console.advance(10)
        screen = console.screen
        assert "Cannot connect" in screen.schedule.error
        texts = {
            "status": screen.schedule.error,
            "event log": "\n".join(line.plain for line in screen.event_log.entries),
            "toasts": console.app.notes.texts(),
        }
        assert "Cannot connect" in texts["toasts"]
        assert_gone(MARKER, texts)
