"""Task ids typed by a person are checked before use: real ids pass, impossible ones are refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asrtui.__main__ import main
from asrtui.emulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET
from asrtui.errors import InvalidTaskIdError
from asrtui.printable import is_unsafe
from asrtui.taskid import MAX_TASK_ID, normalize_task_id

REAL = [
    "asr-a7bdde0a-0939-4288-973e-170082aa1234",
    "asr-a7bdde0a-0939-4288-973e-170082aa****",  # as the reference masks them
    "7f3c2d1e9b8a",
    "a" * MAX_TASK_ID,
    "task_01.v2:x/y",
    "任务-1",
]


@pytest.mark.parametrize("task_id", REAL)
def test_real_looking_ids_pass_unchanged(task_id: str) -> None:
    assert normalize_task_id(task_id) == task_id
    assert normalize_task_id(f"  {task_id}\n") == task_id  # pasted with a line end


@pytest.mark.parametrize(
    ("task_id", "says"),
    [
        ("", "Empty task id"),
        ("   ", "Empty task id"),
        ("a" * (MAX_TASK_ID + 1), f"{MAX_TASK_ID + 1} characters long"),
        ("a" * 100_000, "100000 characters long"),
        ("asr-1 asr-2", "whitespace"),
        ("asr\t1", "whitespace"),
        ("asr-1\nrm", "whitespace"),
        ("asr-\x1b[2J", "control or invisible"),
        ("asr-\u202e1", "control or invisible"),
        ("asr-\u200b1", "control or invisible"),
        ("asr-\x00", "control or invisible"),
    ],
)
def test_impossible_ids_are_refused_saying_why(task_id: str, says: str) -> None:
    with pytest.raises(InvalidTaskIdError) as info:
        normalize_task_id(task_id)
    error = info.value
    assert says in error.message
    assert error.exit_code == 2
    assert str(error).isprintable()
    assert len(error.message) < 200  # never the whole id


@given(st.text(max_size=400))
def test_any_text_is_either_an_id_or_a_task_id_error(text: str) -> None:
    refused: InvalidTaskIdError | None = None
    try:
        result = normalize_task_id(text)
    except InvalidTaskIdError as error:
        refused = error
    if refused is not None:
        # Whatever was typed, the message cannot drive the terminal.
        assert not any(is_unsafe(char) for char in str(refused))
        return
    assert result
    assert len(result) <= MAX_TASK_ID
    assert result.isprintable()
    assert not any(char.isspace() for char in result)


@pytest.mark.parametrize("command", ["stop", "delete", "tasks"])
def test_a_100000_character_id_is_a_task_id_error_not_an_endpoint_error(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Regression: ``stop`` with a 100,000-character id said "Invalid endpoint"."""
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", DEMO_ACCESS_KEY_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", DEMO_ACCESS_KEY_SECRET)
    task_id = "a" * 100_000
    # Port 9 (discard) on loopback: were a request sent, the error would be a connection one.
    endpoint = ["--endpoint", "http://127.0.0.1:9"]
    argv = (
        ["tasks", "--task-id", task_id, *endpoint]
        if command == "tasks"
        else [command, task_id, "--yes", *endpoint]
    )
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Invalid task id" in err
    assert "endpoint" not in err.lower()
    assert len(err) < 400


async def test_a_value_too_long_for_a_url_is_named_not_blamed_on_the_endpoint() -> None:
    """Past the task-id check (the console passes server ids through): the client says which."""
    import httpx

    from asrtui.client import LiveClient
    from asrtui.credentials import Credentials
    from asrtui.errors import ConfigError

    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"RetCode": 2000})

    from asrtui.ratelimit import WindowLimiter

    limiter = WindowLimiter(20)
    client = LiveClient(
        lambda: Credentials("FAKEx", "s3cret"),
        "http://emulator.test",
        transport=httpx.MockTransport(handler),
        limiter=limiter,
    )
    async with client:
        with pytest.raises(ConfigError) as info:
            await client.stop_task("a" * 100_000)
    assert sent == []
    assert limiter.stats().granted_total == 0  # refused before it took a slot of the quota
    assert "TaskId is 100000 characters long" in info.value.message
    assert "endpoint" not in str(info.value).lower()
