"""JSON and CSV output written in pieces: the same text as the whole-list way, for any task.

The whole-list way (`_reference_json`) is what `asrtui.output.render_json` did before it
streamed: copy each wire object, mask the copy, encode the whole array with the standard
library (indented in pure Python). The streamed text must not differ by a byte, whatever the
tasks hold (odd types, NaN, huge integers, values nested too deep to walk, secrets anywhere)
and wherever the pieces are cut.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asrtui import output
from asrtui.cli.tasks import _render
from asrtui.jsontext import to_text
from asrtui.models import Task
from asrtui.output import iter_csv, iter_json, render_csv, render_json
from asrtui.printable import printable_json
from asrtui.redact import _mask_text, mask_url, redact_task_dict
from asrtui.wire import parse_tasks, task_to_wire


def _reference_json(tasks: Sequence[Task], *, reveal: bool, compact: bool) -> str:
    objects = [task_to_wire(t) if reveal else redact_task_dict(task_to_wire(t)) for t in tasks]
    return printable_json(to_text(objects, indent=None if compact else 2))


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(
        [
            "http://h/p.flv?auth_key=1-0-0-abc&x=1",
            "rtmp://u:pw@host/app",
            "2026-05-15T10:00:00+08:00",
            "\x1b[2J\u202e\x9b",
            "1119309225474343",
            "",
        ]
    ),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(max_size=8), inner, max_size=3),
    ),
    max_leaves=8,
)
_names = st.sampled_from(
    ["taskId", "status", "streamUrl", "aliUid", "tag", "createdAt", "token", "x", "nested"]
)
_task_objects = st.tuples(st.dictionaries(_names, _values, max_size=6), st.text(max_size=5)).map(
    lambda pair: {**pair[0], "taskId": "asr-" + pair[1]}
)


def _deep(levels: int) -> Any:
    value: Any = {"auth_key": "s3cret", "url": "http://h/?token=t0k"}
    for _ in range(levels):
        value = [value]
    return value


def _tasks(objects: list[dict[str, Any]]) -> list[Task]:
    return list(parse_tasks({"RequestId": "r", "Tasks": objects}).tasks)


@settings(max_examples=150, deadline=None)
@given(st.lists(_task_objects, max_size=9), st.integers(min_value=1, max_value=4))
def test_streamed_json_is_the_whole_list_text(objects: list[dict[str, Any]], batch: int) -> None:
    tasks = _tasks(objects)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(output, "_BATCH", batch)  # pieces cut everywhere
        for reveal in (False, True):
            for compact in (False, True):
                expected = _reference_json(tasks, reveal=reveal, compact=compact)
                assert "".join(iter_json(tasks, reveal=reveal, compact=compact)) == expected
                assert render_json(tasks, reveal=reveal, compact=compact) == expected


@pytest.mark.parametrize("levels", [10, 70, 900])
@pytest.mark.parametrize("where", ["tag", "unknownMember"])
def test_deep_values_stay_as_they_were_written(levels: int, where: str) -> None:
    tasks = _tasks([{"taskId": "asr-1", where: _deep(levels)}, {"taskId": "asr-2", "x": 1}])
    for reveal in (False, True):
        for compact in (False, True):
            text = render_json(tasks, reveal=reveal, compact=compact)
            assert text == _reference_json(tasks, reveal=reveal, compact=compact)
            assert ("s3cret" in text) == reveal
            assert ("t0k" in text) == reveal


def test_numbers_the_formatter_refuses_are_written_as_the_standard_library_does() -> None:
    tasks = _tasks([{"taskId": "asr-1", "a": math.nan, "b": -math.inf, "c": 10**400}])
    text = render_json(tasks)
    assert text == _reference_json(tasks, reveal=False, compact=False)
    assert '"a": NaN' in text
    assert '"b": -Infinity' in text


def test_the_empty_list() -> None:
    assert render_json([]) == "[]"
    assert render_json([], compact=True) == "[]"


@settings(max_examples=60, deadline=None)
@given(st.lists(_task_objects, max_size=7), st.integers(min_value=1, max_value=3))
def test_streamed_csv_is_the_whole_list_text(objects: list[dict[str, Any]], batch: int) -> None:
    tasks = _tasks(objects)
    whole = render_csv(tasks)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(output, "_BATCH", batch)
        assert "".join(iter_csv(tasks)) == whole
    assert whole.startswith("task_id,")


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_the_command_writes_one_newline_at_the_end(fmt: str) -> None:
    tasks = _tasks([{"taskId": f"asr-{i}", "tag": "t"} for i in range(1100)])
    out = io.StringIO()
    for piece in _render(tasks, fmt, reveal=False):
        out.write(piece)
    text = out.getvalue()
    assert text.endswith("\n")
    assert not text.endswith("\n\n")
    if fmt == "json":
        assert len(json.loads(text)) == 1100


#: A string of digits, ``T``/``Z`` and time punctuation takes masking's shortcut.
_time_like = st.text(alphabet="0123456789:TZ+-. ", max_size=30)


@given(_time_like)
def test_the_time_shortcut_skips_only_what_the_text_pass_leaves_alone(text: str) -> None:
    assert mask_url(text) == text
    assert _mask_text(text, 0) == text


@given(
    st.sampled_from(["password", "passwd", "authKey", "securityToken", "AccessKeySecret"]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12),
    st.sampled_from([": ", ":", " : "]),
)
def test_a_secret_after_a_colon_in_plain_words_is_still_masked(
    name: str, secret: str, colon: str
) -> None:
    # What the time shortcut must never take: letters, a colon, a secret.
    assert mask_url(f"{name}{colon}{secret}") == f"{name}{colon}****"


@given(st.text(alphabet=st.characters(max_codepoint=0xA0), max_size=40))
def test_json_text_of_any_near_ascii_string_reaches_the_terminal_escaped(text: str) -> None:
    # The plain-ASCII pass must leave to the slow one every DEL, C0 and C1 control.
    shown = printable_json(json.dumps([text], ensure_ascii=False, indent=2))
    assert json.loads(shown) == [text]
    assert all(char == "\n" or 0x20 <= ord(char) < 0x7F or ord(char) == 0xA0 for char in shown)
