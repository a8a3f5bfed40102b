"""Every server value reaches every output without an exception: times, depth, endpoints.

The console and the CLI are driven with the same values in `tests/test_hostile_console.py`;
this file pins the pieces: each seen case as a regression, and the class as properties.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from asrtui.__main__ import main
from asrtui.cli.output import render_table
from asrtui.endpoints import resolve_endpoint
from asrtui.errors import ConfigError, MalformedResponseError
from asrtui.jsontext import MAX_DEPTH, RawJSON, copy_value, depth_of, tame, to_text
from asrtui.models import Task
from asrtui.output import render_csv, render_json
from asrtui.redact import redact_task, redact_task_dict, redact_value
from asrtui.ui.clipboard import clipboard_text, task_json
from asrtui.ui.durations import (
    AS_SENT,
    format_age,
    format_clock_time,
    format_local_time,
    format_uptime,
)
from asrtui.ui.taskbook import TaskBook
from asrtui.ui.widgets.detail import DetailModel, render_fields, render_history, render_raw
from asrtui.wire import parse_tasks, task_to_wire
from tests.support.hostile import (
    DATETIMES,
    DEEP_LEVELS,
    EDGE_TIMESTAMPS,
    JSON_VALUES,
    nested,
    parses,
)

NOW = datetime(2024, 5, 14, 4, 0, 0, tzinfo=UTC)
ZONES = [None, UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))]


def one_task(**fields: Any) -> Task:
    """The task of a wire answer holding one task object with ``fields``."""
    body = {"RetCode": 2000, "Tasks": {"t1": {"taskId": "t1", **fields}}}
    return parse_tasks(json.loads(json.dumps(body))).tasks[0]


def rendered(renderable: Any, width: int = 100) -> str:
    console = Console(width=width, color_system=None, record=True)
    with console.capture() as capture:
        console.print(renderable)
    return capture.get()


# -- times -------------------------------------------------------------------------------------


@pytest.mark.parametrize("stamp", EDGE_TIMESTAMPS)
@pytest.mark.parametrize("tz", ZONES)
def test_range_edge_timestamps_are_shown_not_raised(stamp: str, tz: Any) -> None:
    """Seen: ``0001-01-01T00:00:00+08:00`` ended the console from the detail pane."""
    moment = datetime.fromisoformat(stamp)
    shown = format_local_time(moment, tz)
    assert shown
    try:
        moment.astimezone(tz)
    except OverflowError:
        assert shown == f"{moment.isoformat()} {AS_SENT}"
    format_clock_time(moment, tz)
    format_age(moment, NOW)
    format_uptime(moment, NOW)


def test_the_seen_edge_timestamps_are_shown_as_sent_and_marked() -> None:
    early = datetime.fromisoformat("0001-01-01T00:00:00+08:00")
    late = datetime.fromisoformat("9999-12-31T23:59:59-08:00")
    assert format_local_time(early, UTC) == f"0001-01-01T00:00:00+08:00 {AS_SENT}"
    assert format_local_time(late, UTC) == f"9999-12-31T23:59:59-08:00 {AS_SENT}"
    assert format_local_time(datetime(5, 1, 2, 3, 4, 5, tzinfo=UTC), UTC) == (
        "0005-01-02 03:04:05 +0000"
    )


@settings(max_examples=300, deadline=None)
@given(moment=DATETIMES, now=DATETIMES, tz=st.sampled_from(ZONES))
def test_time_formatting_is_total_over_the_whole_range(
    moment: datetime, now: datetime, tz: Any
) -> None:
    for text in (
        format_local_time(moment, tz),
        format_clock_time(moment, tz),
        format_age(moment, now),
        format_uptime(moment, now),
    ):
        assert isinstance(text, str)
        assert text


def test_detail_pane_renders_range_edge_timestamps() -> None:
    task = one_task(createdAt=EDGE_TIMESTAMPS[0], updatedAt=EDGE_TIMESTAMPS[1])
    book = TaskBook()
    book.update([], NOW)
    book.update([task], NOW)
    moved = one_task(createdAt=EDGE_TIMESTAMPS[1], updatedAt=EDGE_TIMESTAMPS[0])
    events = book.update([moved], NOW + timedelta(seconds=5))
    assert EDGE_TIMESTAMPS[1] in events[0].detail  # as the server wrote it, not a repr
    text = rendered(render_fields(DetailModel(task, now=NOW), revealed=False, tz=None))
    assert EDGE_TIMESTAMPS[0] in text
    assert AS_SENT in text.replace("\n", "")
    rendered(render_history(events, None))


# -- depth -------------------------------------------------------------------------------------


@pytest.mark.parametrize("levels", DEEP_LEVELS)
def test_deep_values_reach_every_output(levels: int) -> None:
    """Seen: 450 levels ended ``tasks --format json``, ``J`` and the export (deepcopy)."""
    deep = nested(levels, "rtmp://h/a?auth_key=DEEPSECRET9")
    text = json.dumps({"RetCode": 2000, "Tasks": {"t1": {"taskId": "t1", "x": deep}}})
    if not parses(text):
        pytest.skip("past the parser's limit from this stack")
    task = parse_tasks(json.loads(text)).tasks[0]
    kept = task.extra["x"]
    assert isinstance(kept, RawJSON)
    assert kept.depth == levels
    # Written back as received (masked): every output is valid JSON holding the same value.
    assert task_to_wire(task)["x"] == kept
    exported = render_json([task])
    assert "DEEPSECRET9" not in exported
    assert json.loads(exported)[0]["x"] == nested(levels, "rtmp://h/a?auth_key=****")
    revealed = json.loads(render_json([task], reveal=True, compact=True))
    assert revealed[0]["x"] == deep
    assert json.loads(task_json(task, revealed=False))["x"] == json.loads(
        json.dumps(nested(levels, "rtmp://h/a?auth_key=****"))
    )
    raw_view = rendered(render_raw(task, revealed=False))
    assert "DEEPSECRET9" not in raw_view
    assert kept.note in raw_view.replace("\n", "")
    fields = rendered(render_fields(DetailModel(task, now=NOW), revealed=False, tz=UTC))
    assert "DEEPSECRET9" not in fields
    assert "nested" in fields
    render_csv([task])
    render_table([task])
    assert task == parse_tasks(json.loads(text)).tasks[0]


def test_a_deep_value_in_a_known_field_is_shown_as_its_text() -> None:
    task = one_task(tag=nested(600, 1), targetLanguages=[nested(600, "en")], status=nested(600))
    assert task.tag == "[" * 600 + "1" + "]" * 600
    assert json.loads(render_json([task]))[0]["tag"] == nested(600, 1)
    # The raw view shows it on one marked line, not as a pyramid of 1,200 lines.
    raw_view = rendered(render_raw(task, revealed=False))
    assert len(raw_view.splitlines()) < 60
    assert "tag: nested 600 levels deep" in raw_view


@settings(max_examples=200, deadline=None)
@given(value=JSON_VALUES, indent=st.sampled_from([None, 2]), spaced=st.booleans())
def test_to_text_is_json_dumps(value: Any, indent: int | None, spaced: bool) -> None:
    if indent is not None:
        expected = json.dumps(value, ensure_ascii=False, indent=indent)
    else:
        separators = (", ", ": ") if spaced else (",", ":")
        expected = json.dumps(value, ensure_ascii=False, separators=separators)
    assert to_text(value, indent=indent, spaced=spaced) == expected
    # The iterative writer, forced (by a RawJSON), agrees with the standard one.
    forced = to_text([RawJSON("0", 0), value], indent=indent, spaced=spaced)
    assert forced == to_text([0, value], indent=indent, spaced=spaced)
    assert copy_value(value) == value


@settings(max_examples=60, deadline=None)
@given(
    levels=st.integers(min_value=0, max_value=3000),
    leaf=JSON_VALUES,
    kind=st.sampled_from(["list", "dict"]),
    indent=st.sampled_from([None, 2]),
)
def test_any_depth_is_written_copied_and_measured(
    levels: int, leaf: Any, kind: str, indent: int | None
) -> None:
    value = nested(levels, leaf, kind=kind)
    text = to_text(value, indent=indent)
    assert depth_of(value) == levels + depth_of(leaf)
    kept = tame(value)
    if depth_of(value) > MAX_DEPTH:
        assert isinstance(kept, RawJSON)
        assert to_text(kept) == to_text(value)
    else:
        assert kept is value
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20000))  # only to check the result with the parser
    try:
        assert json.loads(text) == value
        assert copy_value(value) == value
        # Kept as text, it is written back verbatim (on one line) inside any document.
        assert json.loads(to_text({"a": kept}, indent=indent)) == {"a": value}
    finally:
        sys.setrecursionlimit(limit)


# -- every output, every field, any JSON -------------------------------------------------------


FIELD_NAMES = (
    "taskId", "status", "mode", "language", "targetLanguages", "translateEnabled", "tag",
    "streamUrl", "callbackUrl", "createdAt", "updatedAt", "reportInterval",
    "autoTerminateDelay", "aliUid", "somethingNew",
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=st.dictionaries(st.sampled_from(FIELD_NAMES), JSON_VALUES, max_size=8))
def test_any_json_in_any_field_reaches_every_output(fields: dict[str, Any]) -> None:
    body = json.dumps({"RetCode": 2000, "Tasks": {"t1": fields}})
    try:
        tasks = parse_tasks(json.loads(body)).tasks
    except MalformedResponseError:  # a task id that is not one is refused, by name
        return
    for reveal in (False, True):
        json.loads(render_json(tasks, reveal=reveal))
        json.loads(render_json(tasks, reveal=reveal, compact=True))
        rows = list(csv.reader(io.StringIO(render_csv(tasks, reveal=reveal))))
        assert len(rows) == 1 + len(tasks)
        render_table(tasks, reveal=reveal)
    for task in tasks:
        redact_task_dict(task_to_wire(task))
        task_json(task, revealed=False).encode("utf-8", "surrogatepass")
        rendered(render_raw(task, revealed=False))
        rendered(render_fields(DetailModel(task, now=NOW), revealed=True, tz=None))


# -- endpoints ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://xn--zz:1",
        "https://xn--zz",
        "https://a.xn--zz",
        "http://xn--a.com",
        "https://1.2.3.999",
    ],
)
def test_an_endpoint_the_http_stack_would_refuse_is_a_usage_error(endpoint: str) -> None:
    """Seen: ``--endpoint http://xn--zz:1`` passed validation, then raised ``IDNAError``."""
    with pytest.raises(ConfigError) as info:
        resolve_endpoint(None, endpoint)
    assert info.value.exit_code == 2
    assert "--endpoint" in info.value.hint


def test_a_bare_idna_host_is_first_told_its_missing_scheme() -> None:
    with pytest.raises(ConfigError, match="no scheme") as info:
        resolve_endpoint(None, "xn--zz")
    assert info.value.exit_code == 2


def test_cli_refuses_an_idna_endpoint_in_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "example-secret-value")
    assert main(["tasks", "--endpoint", "http://xn--zz:1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "IDNA" in err
    assert "Traceback" not in err


def _store_profile_with_endpoint(endpoint: str) -> Path:
    import platformdirs

    directory = platformdirs.user_config_path("asrtui")
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    config = directory / "config.toml"
    config.write_text(
        f'default = "bad"\n[profiles.bad]\nregion = "cn-shanghai"\nendpoint = "{endpoint}"\n'
    )
    config.chmod(0o600)
    credentials = directory / "credentials.toml"
    credentials.write_text('[bad]\naccess_key_id = "AKID"\naccess_key_secret = "SECRETVALUE9"\n')
    credentials.chmod(0o600)
    return config


@pytest.mark.parametrize("argv", [[], ["tasks"], ["tasks", "--format", "json"]])
def test_a_stored_profile_with_such_an_endpoint_is_a_configuration_error(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Seen: a profile saved with ``http://xn--zz:1`` made ``asrtui`` exit with a crash."""
    config = _store_profile_with_endpoint("http://xn--zz:1")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert str(config) in err
    assert "endpoint" in err
    assert "unexpected error" not in err
    assert "SECRETVALUE9" not in err


_HOST_CHARS = st.text(
    alphabet=st.sampled_from(list('abcxyz019-._~!$&()*+,;=%[]:@<>"{}|\\^`äß٣\u200d')),
    min_size=1,
    max_size=10,
)


@settings(max_examples=400, deadline=None)
@given(host=_HOST_CHARS, idna_form=st.booleans(), port=st.sampled_from(["", ":1", ":8080"]))
def test_an_accepted_endpoint_is_one_httpx_accepts(host: str, idna_form: bool, port: str) -> None:
    candidate = ("xn--" if idna_form else "") + host
    for endpoint in (candidate, f"http://{candidate}{port}"):
        try:
            resolved = resolve_endpoint(None, endpoint)
        except ConfigError:
            continue
        url = httpx.URL(resolved)
        assert url.host
        url.raw_host  # noqa: B018 - each of these encodes or decodes the host
        url.port  # noqa: B018
        httpx.URL(resolved + "/?Action=QueryRtcAsrTasks")


# -- copies and URL passwords ------------------------------------------------------------------


def test_a_lone_surrogate_reaches_the_clipboard_escaped() -> None:
    """A JSON string may hold ``"\\ud800"``; the clipboard takes UTF-8 only."""
    task = one_task(taskId="asr-\ud800", tag="\udfff")
    assert clipboard_text(task.task_id) == "asr-\\ud800"
    task_json(task, revealed=True).encode("utf-8")
    task_json(task, revealed=False).encode("utf-8")


@pytest.mark.parametrize(
    "url",
    [
        "rtmp://user:PASSWORD9@pull.example.com/live/s",
        "rtmp://:PASSWORD9@pull.example.com/live/s?auth_key=PASSWORD9",
        "rtmp://user:PASS@WORD9@pull.example.com/live/s",
    ],
)
def test_a_url_password_is_masked_in_every_output(url: str) -> None:
    task = one_task(streamUrl=url, callbackUrl=url, backup=[url])
    outputs = [
        render_json([task]),
        render_csv([task]),
        render_table([task]),
        task_json(task, revealed=False),
        rendered(render_raw(task, revealed=False)),
        rendered(render_fields(DetailModel(task, now=NOW), revealed=False, tz=UTC)),
    ]
    for text in outputs:
        assert "WORD9" not in text
    assert "WORD9" in render_json([task], reveal=True)


# -- values that cannot be read are shown as sent, never dropped -------------------------------


@pytest.mark.parametrize(
    ("wire_name", "field", "value", "column"),
    [
        ("createdAt", "created", "yesterday", "created_at"),
        ("updatedAt", "updated", {"at": 1}, "updated_at"),
        ("createdAt", "created", "2024-05-14T04:00:00", "created_at"),  # no offset: not guessed
        ("reportInterval", "report", "every second", "report_interval"),
        ("autoTerminateDelay", "auto stop", [10], "auto_terminate_delay"),
        ("translateEnabled", "translate", "maybe", "translate_enabled"),
    ],
)
def test_a_value_that_cannot_be_read_is_shown_as_sent_and_marked(
    wire_name: str, field: str, value: Any, column: str
) -> None:
    task = one_task(**{wire_name: value})
    sent = value if isinstance(value, str) else to_text(value)
    fields = rendered(render_fields(DetailModel(task, now=NOW), revealed=False, tz=UTC))
    line = next(line for line in fields.splitlines() if line.startswith(field))
    assert sent in line
    assert "(as sent: not" in line
    row = next(csv.DictReader(io.StringIO(render_csv([task]))))
    assert row[column] == sent


def test_masking_a_deep_task_far_down_the_stack_does_not_recurse() -> None:
    """The views mask inside Textual's render calls, hundreds of frames down."""
    deep = "[" * 600 + "]" * 600
    body = '{"RetCode": 2000, "Tasks": {"t1": {"taskId": "t1", "status": 1, "tag": ' + deep + "}}}"
    task = parse_tasks(json.loads(body)).tasks[0]

    def down(frames: int) -> Task:
        return redact_task(task) if frames == 0 else down(frames - 1)

    assert down(700).task_id == "t1"


def test_a_value_kept_as_text_for_its_depth_is_masked_like_any_other() -> None:
    kept = RawJSON.of({"u": "rtmp://h/a?auth_key=SECRETX"})
    assert "SECRETX" not in str(redact_value(kept))
    assert "SECRETX" not in str(redact_value([kept]))
