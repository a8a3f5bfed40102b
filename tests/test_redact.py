"""Masking of stream tokens, account ids and other secrets."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from asrtui.redact import (
    mask_account_id,
    mask_stream_url,
    redact_task_dict,
    redact_text,
    stream_host_path,
)

TOKEN = "1715745062-0-0-fbc68f2ccebb4d46b5ab6d4801ed9f3c"
URL = f"http://pull-lveditor.alivecdn.com/caster/9c6c.flv?auth_key={TOKEN}"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (URL, "http://pull-lveditor.alivecdn.com/caster/9c6c.flv?auth_key=****"),
        (f"rtmp://h/app/s?a=1&auth_key={TOKEN}&b=2", "rtmp://h/app/s?a=1&auth_key=****&b=2"),
        (f"http://h/s?AUTH_KEY={TOKEN}", "http://h/s?AUTH_KEY=****"),
        (f"http://h/s?Auth_Key={TOKEN}#frag", "http://h/s?Auth_Key=****#frag"),
        (
            f"http://h/s?auth_key={TOKEN}&auth_key=second",
            "http://h/s?auth_key=****&auth_key=****",
        ),
        (f"http://h/s#auth_key={TOKEN}", "http://h/s#auth_key=****"),
        (f"http://h/s?x=1#a=b&auth_key={TOKEN}", "http://h/s?x=1#a=b&auth_key=****"),
        (f"http://h/s?auth%5Fkey={TOKEN}", "http://h/s?auth%5Fkey=****"),
        (f"http://h/s?authkey={TOKEN}", "http://h/s?authkey=****"),
        (
            f"http://cb/?next=http%3A%2F%2Fh%2Fs%3Fauth_key%3D{TOKEN}%26x%3D1",
            "http://cb/?next=http%3A%2F%2Fh%2Fs%3Fauth_key%3D****%26x%3D1",
        ),
        (f"http://h/s;auth_key={TOKEN}?x=1", "http://h/s;auth_key=****?x=1"),
        ("http://h/s?auth_key=", "http://h/s?auth_key="),
        ("http://h/s?a=1&b=2", "http://h/s?a=1&b=2"),
        ("", ""),
        ("not a url at all", "not a url at all"),
        ("http://[::1/?auth_key=abc", "http://[::1/?auth_key=****"),
    ],
)
def test_mask_stream_url(url: str, expected: str) -> None:
    assert mask_stream_url(url) == expected


def test_mask_stream_url_tolerates_junk() -> None:
    assert mask_stream_url(None) == "****"  # type: ignore[arg-type]
    assert mask_stream_url("\x00\ud800?auth_key=\udfff") == "\x00\ud800?auth_key=****"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (URL, "pull-lveditor.alivecdn.com/caster/9c6c.flv"),
        ("rtmp://user:pw@h:1935/app/s?auth_key=x#f", "h:1935/app/s"),
        ("http://h", "h"),
        ("h/path?auth_key=1", "h/path"),
        ("http://[::1/x?y", "[::1/x"),
        ("", ""),
    ],
)
def test_stream_host_path(url: str, expected: str) -> None:
    assert stream_host_path(url) == expected


@pytest.mark.parametrize(
    ("uid", "expected"),
    [
        ("1119309225474343", "************4343"),
        (" 1119309225474343 ", "************4343"),
        ("12345", "*2345"),
        ("1234", "****"),
        ("12", "**"),
        ("", ""),
    ],
)
def test_mask_account_id(uid: str, expected: str) -> None:
    assert mask_account_id(uid) == expected


def test_mask_account_id_accepts_a_number() -> None:
    assert mask_account_id(1119309225474343) == "************4343"  # type: ignore[arg-type]


def test_redact_task_dict_masks_and_copies() -> None:
    raw: dict[str, Any] = {
        "taskId": "asr-1",
        "streamUrl": URL,
        "aliUid": "1119309225474343",
        "nested": {"urls": [f"http://x/?auth_key={TOKEN}", 5, None], "aliUid": 1119309225474343},
        "tag": "keep me",
    }
    before = copy.deepcopy(raw)

    out = redact_task_dict(raw)

    assert raw == before
    assert out["streamUrl"].endswith("auth_key=****")
    assert out["aliUid"] == "************4343"
    assert out["nested"]["urls"] == ["http://x/?auth_key=****", 5, None]
    assert out["nested"]["aliUid"] == "************4343"
    assert out["tag"] == "keep me"
    assert out["taskId"] == "asr-1"
    assert TOKEN not in repr(out)
    out["nested"]["urls"].append(1)
    assert len(raw["nested"]["urls"]) == 3


def test_redact_task_dict_survives_deep_nesting() -> None:
    deep: Any = f"http://x/?auth_key={TOKEN}"
    for _ in range(5000):
        deep = [deep]
    out = redact_task_dict({"x": deep})
    inner = out["x"]
    for _ in range(5000):
        inner = inner[0]
    assert inner == "http://x/?auth_key=****"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"GET {URL} failed",
            "GET http://pull-lveditor.alivecdn.com/caster/9c6c.flv?auth_key=**** failed",
        ),
        (
            f'{{"streamUrl": "{URL}"}}',
            '{"streamUrl": "http://pull-lveditor.alivecdn.com/caster/9c6c.flv?auth_key=****"}',
        ),
        (f"auth_key: {TOKEN}", "auth_key: ****"),
        (f'"auth_key": "{TOKEN}"', '"auth_key": "****"'),
        (f"AuthKey={TOKEN}&Mode=live", "AuthKey=****&Mode=live"),
        ("SecurityToken=CAIS%2Babc%3D&x=1", "SecurityToken=****&x=1"),
        (
            "...%26SecurityToken%3DCAIS%252Babc%26Timestamp...",
            "...%26SecurityToken%3D****%26Timestamp...",
        ),
        ("x-acs-security-token: CAISabc", "x-acs-security-token: ****"),
        ('"aliUid": "1119309225474343"', '"aliUid": "************4343"'),
        ("aliUid=1119309225474343&x", "aliUid=************4343&x"),
        ("nothing secret here", "nothing secret here"),
    ],
)
def test_redact_text_patterns(text: str, expected: str) -> None:
    assert redact_text(text, ()) == expected


def test_redact_text_replaces_given_secrets_also_percent_encoded() -> None:
    secret = "s3cr+t/Value="
    text = f"secret {secret} in query Signature=x&Key=s3cr%2Bt%2FValue%3D end"
    out = redact_text(text, [secret, ""])
    assert secret not in out
    assert "s3cr%2Bt%2FValue%3D" not in out
    assert out == "secret **** in query Signature=****&Key=**** end"


def test_redact_text_longest_secret_first() -> None:
    assert redact_text("abcdef", ["abc", "abcdef"]) == "****"


def test_redact_text_tolerates_junk() -> None:
    assert redact_text(None, ["x"]) == "****"  # type: ignore[arg-type]
    assert redact_text("a.b", [None, 5, ".*"]) == "a.b"  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("text", "secrets", "hidden"),
    [
        # A secret inside a parameter name must not hide the value that follows it.
        ("auth_key=TOKEN0", ["t"], ["TOKEN0"]),
        ("AuthKey=TOKEN0", ["AuthKey="], ["TOKEN0"]),
        ("see https://h/a?auth_key=TOKEN1 now", ["/"], ["TOKEN1"]),
        # A token that holds a name and a separator is masked whole, not cut at its ``=``.
        ("token: CAIS+sts/Token==x", ["CAIS+sts/Token==x"], ["CAIS", "sts/Token"]),
        # What looks like the value of one pair is the name of the next.
        ('KEY= "auth_key": "TOKEN2 ', [], ["TOKEN2"]),
        ("key=auth_key=TOKEN3", [], ["TOKEN3"]),
    ],
)
def test_secrets_and_names_that_overlap_hide_nothing(
    text: str, secrets: list[str], hidden: list[str]
) -> None:
    out = redact_text(text, secrets)
    for piece in [*hidden, *secrets]:
        assert piece not in out


def test_each_set_of_secrets_masks_its_own() -> None:
    # The pattern of a set of secrets is kept: another set (a renewal) must not reuse it.
    text = "first-secret-aaaa then second-secret-bbbb"
    for _ in range(3):
        assert redact_text(text, ("first-secret-aaaa",)) == "**** then second-secret-bbbb"
        assert redact_text(text, ("second-secret-bbbb",)) == "first-secret-aaaa then ****"
        assert redact_text(text, ["first-secret-aaaa", "second-secret-bbbb"]) == "**** then ****"
        assert redact_text(text, ()) == text
