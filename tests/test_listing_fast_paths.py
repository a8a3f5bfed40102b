"""The fast ways of a large JSON listing give the full ways' answers, for any input.

``asrtui tasks --format json`` writes the usual answer (a map of flat task objects) without
parsing its tasks (`asrtui.wire.flat_task_objects`, `asrtui.output.iter_wire_json`), masks a
flat task object and a plain URL in one pass (`asrtui.redact._redact_flat`,
`asrtui.redact._mask_plain_url`) and encodes flat objects with msgspec (`asrtui.output.
_flat_text`). Each shortcut either declines (``None``) or says exactly what the general code
says: checked here against that code on values built to reach every branch, odd ones included.
"""

from __future__ import annotations

import io
import json
import os
import ssl
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asrtui import client as client_module
from asrtui import output, redact
from asrtui.__main__ import main
from asrtui.emulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, build_emulator
from asrtui.emulator.server import running_server
from asrtui.output import iter_json, iter_wire_json
from asrtui.wire import envelope as envelope_module
from asrtui.wire import flat_task_objects, parse_tasks
from asrtui.wire.envelope import decode_json_object
from tests.support.listing_values import OBJECTS as _objects
from tests.support.listing_values import URLS as _urls
from tests.support.listing_values import same as _same

# -- plain URLs ---------------------------------------------------------------------------------


@settings(max_examples=600, deadline=None)
@given(_urls, st.sampled_from([0, 1, 5, 6, 7, 9]))
def test_a_plain_url_is_masked_as_the_full_walk_masks_it(url: str, depth: int) -> None:
    fast = redact._mask_plain_url(url)
    if fast is not None:
        assert fast == redact._mask_url_fully(url, depth)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://h/s.flv?auth_key=1-0-0-abc", "http://h/s.flv?auth_key=****"),
        ("http://h/s?a=1&token=t&aliUid=1119309225474343", "http://h/s?a=1&token=****&aliUid="),
        ("https://cb.example/live/notify", "https://cb.example/live/notify"),
        ("http://h/s?auth_key=&x", "http://h/s?auth_key=&x"),
    ],
)
def test_the_usual_urls_take_the_shortcut(url: str, expected: str) -> None:
    fast = redact._mask_plain_url(url)
    assert fast is not None
    assert fast.startswith(expected)
    assert fast == redact._mask_url_fully(url, 0)


@pytest.mark.parametrize(
    "url",
    [
        "rtmp://u:pw@h/app?x=1",  # a password before the query
        "http://h/s;auth_key=k?x=1",  # a path parameter
        "http://h/%2Fs?x=1",  # an escape before the query
        "http://h/s?next=http://u:pw@h2/?auth_key=k",  # a URL in a value
        "http://h/s?next=http%3A%2F%2Fh%3Fauth_key%3Dk",  # an encoded one
        "http://h/s#auth_key=k",  # a fragment
        "http://h/s?x:y",  # a bare parameter with a suspect character
    ],
)
def test_the_other_urls_take_the_full_walk(url: str) -> None:
    assert redact._mask_plain_url(url) is None


# -- flat task objects --------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(_objects)
def test_a_flat_task_object_is_masked_as_the_full_walk_masks_it(obj: dict[str, Any]) -> None:
    for _ in range(2):  # the second time from the memo of masked strings
        fast = redact._redact_flat(obj)
        if fast is not None:
            assert _same(fast, redact._redact_tree(obj, 0))
    if all(not isinstance(value, list) for value in obj.values()):
        assert redact._redact_flat(obj) is not None


def test_the_memo_of_masked_strings_stays_bounded() -> None:
    for index in range(redact._MASKED_SIZE * 2 + 5):
        masked = redact.redact_task_dict({"streamUrl": f"http://h/{index}?auth_key=k{index}"})
        assert masked == {"streamUrl": f"http://h/{index}?auth_key=****"}
    assert len(redact._MASKED) <= redact._MASKED_SIZE


# -- encoding -----------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.lists(_objects, min_size=1, max_size=4))
def test_flat_objects_are_encoded_as_the_standard_library_encodes_them(
    objects: list[dict[str, Any]],
) -> None:
    fast = output._flat_text(objects)
    if fast is not None:
        assert fast.decode() == json.dumps(objects, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize(
    "value", [1e16, 0.5, "\ud800", [1], {"a": 1}], ids=["float", "half", "surrogate", "list", "map"]
)
def test_what_msgspec_would_write_otherwise_is_left_to_the_standard_library(value: Any) -> None:
    assert output._flat_text([{"taskId": "asr-1", "x": value}]) is None
    assert output._flat_text([{"taskId": "asr-1", "x": "y", "n": 10**30, "b": None}]) is not None


# -- the listing as a whole ---------------------------------------------------------------------

_task_objects = st.tuples(_objects, st.text(max_size=4)).map(
    lambda pair: {**pair[0], "taskId": "asr-" + pair[1]}
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(_task_objects, max_size=6),
    st.sampled_from(["map", "list", "lower"]),
    st.integers(min_value=1, max_value=3),
    st.booleans(),
)
def test_a_listing_written_unparsed_is_the_parsed_listing_text(
    objects: list[dict[str, Any]], shape: str, batch: int, as_large: bool
) -> None:
    """Also for an answer read as a large one is (its ``Tasks`` kept as bytes by the client)."""
    tasks: Any = objects if shape == "list" else {str(i): o for i, o in enumerate(objects)}
    answer = {"RequestId": "r", ("tasks" if shape == "lower" else "Tasks"): tasks}
    if as_large:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(envelope_module, "RAW_TASKS_BYTES", 0)
            try:
                body = json.dumps(answer, allow_nan=False).encode()
            except ValueError:  # inf or nan: no server sends it, no answer holds it
                return
            answer = decode_json_object(body)
    unparsed = flat_task_objects(answer)
    if unparsed is None:
        return
    parsed = parse_tasks(answer).tasks
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(output, "_BATCH", batch)
        for reveal in (False, True):
            for compact in (False, True):
                expected = "".join(iter_json(parsed, reveal=reveal, compact=compact))
                got = "".join(iter_wire_json(unparsed, reveal=reveal, compact=compact))
                assert got == expected


@pytest.mark.parametrize(
    "tasks",
    [
        None,
        {},
        [],
        '{"asr-1": {"taskId": "asr-1"}}',  # a map in a string
        {"asr-1": '{"taskId": "asr-1"}'},  # a task in a string
        {"taskId": "asr-1", "status": 1},  # one task, not a map
        {"asr-1": {"status": 1}},  # the id from the key
        {"asr-1": {"taskId": 7}},  # a numeric id
        {"asr-1": {"taskId": "asr-1", "targetLanguages": ["en"]}},  # a nested member
    ],
    ids=["null", "empty", "empty list", "string", "task string", "single", "key", "number", "list"],
)
def test_other_shapes_are_left_to_the_parser(tasks: Any) -> None:
    assert flat_task_objects({"Tasks": tasks}) is None


def test_a_large_answer_is_written_unparsed() -> None:
    """The client keeps a large answer's tasks as bytes; the listing still skips parsing."""
    tasks = {f"asr-{i}": {"taskId": f"asr-{i}", "status": 1, "tag": "x" * 40} for i in range(4000)}
    body = json.dumps({"RequestId": "r", "Tasks": tasks}).encode()
    assert len(body) >= envelope_module.RAW_TASKS_BYTES
    answer = decode_json_object(body)
    assert not isinstance(answer["Tasks"], dict)  # kept as bytes
    assert flat_task_objects(answer) == list(tasks.values())


def test_the_usual_answer_is_written_unparsed() -> None:
    answer = {"Tasks": {"asr-1": {"taskId": "asr-1", "status": 1, "n": 1.5, "x": None}}}
    assert flat_task_objects(answer) == [answer["Tasks"]["asr-1"]]


def test_the_command_writes_what_the_parsed_tasks_make(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", DEMO_ACCESS_KEY_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", DEMO_ACCESS_KEY_SECRET)
    with running_server(build_emulator(seed=5, tasks=1200)) as url:
        argv = ["tasks", "--endpoint", url, "--format", "json"]
        assert main([*argv, "--reveal-secrets"]) == 0
        revealed = capsys.readouterr().out
        assert main(argv) == 0
        masked = capsys.readouterr().out
    received = json.loads(revealed)  # the answer's task objects, as the server sent them
    assert len(received) == 1200
    tasks = parse_tasks({"Tasks": received}).tasks
    for text, reveal in ((revealed, True), (masked, False)):
        expected = io.StringIO()
        for piece in iter_json(tasks, reveal=reveal):
            expected.write(piece)
        assert text == expected.getvalue() + "\n"
    assert "auth_key=****" in masked
    assert "auth_key=****" not in revealed


# -- no CA bundle for plain HTTP ----------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:8080", "HTTP://emulator.local"])
def test_a_plain_http_endpoint_gets_a_tls_context_that_trusts_nothing(
    endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.lower() in {"http_proxy", "https_proxy", "all_proxy"}:
            monkeypatch.delenv(name)
    context = client_module._tls_context_for(endpoint)
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED  # fails closed, never unverified
    assert context.check_hostname
    assert context.get_ca_certs() == []


@pytest.mark.parametrize(
    ("endpoint", "proxy"),
    [
        ("https://live.aliyuncs.com", None),
        ("http://127.0.0.1:8080", "HTTP_PROXY"),
        ("http://127.0.0.1:8080", "all_proxy"),
    ],
)
def test_tls_and_proxies_keep_the_default_verification(
    endpoint: str, proxy: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if proxy:
        monkeypatch.setenv(proxy, "https://proxy.example:3128")
    assert client_module._tls_context_for(endpoint) is True
