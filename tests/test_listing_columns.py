"""Masking a batch of task objects column by column gives `redact_task_dict`'s answer.

``asrtui tasks --format json`` masks the tasks of a listing a batch at a time
(`asrtui.redact.redact_task_dicts_in_place`): a column whose text holds nothing to mask is
passed over in one search, a column of repeated values is masked once per value, a column of
plain URLs in a few passes over its joined text. Each way must give, member for member, what
`redact_task_dict` gives each object alone: checked here on batches built to reach every
branch (shared member names, columns of URLs, odd values, objects that are not flat), with
the values' types taken one by one or (``exact_scalars``, the stream's decoded objects) a
column of text known by its joining.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asrtui import redact
from asrtui.redact import redact_task_dict, redact_task_dicts_in_place
from tests.support.listing_values import OBJECTS as _objects
from tests.support.listing_values import SCALARS as _scalars
from tests.support.listing_values import URLS as _urls
from tests.support.listing_values import same as _same

#: Column names that reach each kind: plain, URL-ish, the account id, secrets.
_COLUMNS = ("taskId", "streamUrl", "callbackUrl", "aliUid", "authKey", "tag", "createdAt")


def _check(objects: list[Any]) -> None:
    """Masked in place, as the stream's objects are too (their values of exact types)."""
    expected = [redact_task_dict(obj) for obj in copy.deepcopy(objects)]
    for exact_scalars in (False, True):
        batch = copy.deepcopy(objects)
        redact_task_dicts_in_place(batch, exact_scalars=exact_scalars)
        assert len(batch) == len(expected)
        for got, want in zip(batch, expected, strict=True):
            assert _same(got, want), (got, want, exact_scalars)


def _rows(values: st.SearchStrategy[Any]) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Objects sharing one shape (the usual listing), each column drawn from ``values``."""
    return st.lists(st.sampled_from(_COLUMNS), min_size=1, max_size=4, unique=True).flatmap(
        lambda names: st.lists(
            st.tuples(*[values for _ in names]).map(lambda row: dict(zip(names, row, strict=True))),
            min_size=1,
            max_size=8,
        )
    )


@settings(max_examples=400, deadline=None)
@given(_rows(st.one_of(_urls, _scalars)))
def test_a_batch_of_one_shape_is_masked_as_each_object_alone(objects: list[Any]) -> None:
    _check(objects)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_objects, st.just([1]), st.just("x")), max_size=8))
def test_a_batch_of_any_shapes_is_masked_as_each_object_alone(objects: list[Any]) -> None:
    _check(objects)


@settings(max_examples=300, deadline=None)
@given(st.lists(_urls, min_size=1, max_size=6))
def test_a_column_of_urls_is_masked_as_each_url_alone(urls: list[str]) -> None:
    _check([{"streamUrl": url} for url in urls])
    _check([{"streamUrl": url} for url in urls * 3])  # repeated: masked once per value


def test_the_characters_looked_for_are_the_suspect_ones() -> None:
    looked_for = {chr(code) for code in range(0x3000) if redact._SUSPECT_RE.search(chr(code))}
    assert looked_for == set(redact._SUSPECT_CHARS)


def test_the_usual_listing_is_masked_in_place() -> None:
    objects: list[Any] = [
        {
            "taskId": f"asr-{index}",
            "createdAt": "2026-05-15T10:00:00+08:00",
            "streamUrl": f"http://pull.example.com/live/{index}.flv?auth_key=1-0-0-{index:032x}",
            "callbackUrl": "https://cb.example.com/notify?token=t",
            "aliUid": "1119309225474343",
            "status": 1,
            "tag": "",
        }
        for index in range(600)
    ]
    same = list(objects)
    redact_task_dicts_in_place(objects)
    assert all(a is b for a, b in zip(objects, same, strict=True))  # changed, not copied
    assert objects[5] == {
        "taskId": "asr-5",
        "createdAt": "2026-05-15T10:00:00+08:00",
        "streamUrl": "http://pull.example.com/live/5.flv?auth_key=****",
        "callbackUrl": "https://cb.example.com/notify?token=****",
        "aliUid": "************4343",
        "status": 1,
        "tag": "",
    }


#: Pieces of a usual stream URL's parts, with the characters that make another shape of it.
_URL_PIECE = st.one_of(
    st.text(alphabet="abc019-._~", min_size=1, max_size=5),
    st.sampled_from(["/", "#", "@", "u:pw@", ":", "=", "%", "?", "&", "\n", "\r", " ", "é"]),
)
_url_part = st.lists(_URL_PIECE, max_size=4).map("".join)
_usual_urls = st.tuples(
    st.sampled_from(["http://", "https://", "HTTP://", "rtmp://", " http://"]),
    _url_part,
    st.sampled_from(["?", "?", "", "#?"]),
    st.sampled_from(["auth_key", "token", "Signature", "x", "aliUid", "", "auth_key "]),
    st.sampled_from(["=", "=", ""]),
    _url_part,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.lists(_usual_urls, min_size=1, max_size=8), st.integers(min_value=0, max_value=7))
def test_a_column_of_stream_urls_found_at_once_is_masked_as_each_url_alone(
    odd: list[str], at: int
) -> None:
    # A column of distinct usual stream URLs (each its own token), one search for all of
    # them, with a drawn URL of any shape among them: masked as each alone.
    usual = [f"http://pull.example.com/live/{index}.flv?auth_key=1-0-{index}" for index in range(8)]
    urls = usual[:at] + odd + usual[at:]
    _check([{"streamUrl": url} for url in urls])
    _check([{"streamUrl": url} for url in odd])


def test_the_usual_stream_urls_are_masked_in_one_search() -> None:
    urls = [f"https://h.example.com/a/{i}.flv?auth_key=1-0-{i:x}=?z" for i in range(50)]
    found = redact._one_secret_param_urls(urls, "".join(urls))
    assert found == [redact.redact_task_dict({"u": url})["u"] for url in urls]
    assert found[3] == "https://h.example.com/a/3.flv?auth_key=****"
    for odd in ("https://h/a?x=1", "https://h/a?auth_key=1&b=2", "https://h/a?auth_key=1\nb"):
        assert redact._one_secret_param_urls([*urls, odd], "".join([*urls, odd])) is None


@pytest.mark.parametrize(
    "odd",
    [
        "http://u:pw@h/a?auth_key=1",  # a password before the query
        "http://h/a=b?auth_key=1",
        "http://h/%41?auth_key=1",
        "http://h/a?auth_key=1#token=2",
        "http://h/a?auth_key=1&aliUid=1119309225474343",
        "http://h/a?aliUid=1119309225474343",
        "http://h/a?x=1",
        "http://h/a?auth_key=",
        "http://h/a?auth_key=1\nhttp://h/b?auth_key=2",
        "rtmp://h/a?auth_key=1",
        "http://a?x?auth_key=1",
    ],
)
def test_a_stream_url_of_another_shape_in_a_column_is_masked_as_alone(odd: str) -> None:
    usual = [f"http://pull.example.com/live/{index}.flv?auth_key=1-0-{index}" for index in range(8)]
    _check([{"streamUrl": url} for url in [*usual, odd]])
