"""An answer's body is read whole, the same bytes whatever the chunks, and a large successful
one is gathered as it arrives (no 50 MB join on the event loop at the end)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asrtui.errors import MalformedResponseError
from asrtui.transport import GATHER_BYTES, HttpExchange


class _Chunks(httpx.AsyncByteStream):
    """A body that arrives in exactly these chunks."""

    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk


def _send(
    status: int, chunks: list[bytes], limit: int
) -> tuple[int, bytes | bytearray, list[bytes]]:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, stream=_Chunks(chunks))

    fed: list[bytes] = []
    exchange = HttpExchange("http://api.test", "p", limit, 30.0)

    async def go() -> tuple[int, dict[str, str], bytes | bytearray]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
            request = http.build_request("POST", "http://api.test/")
            return await exchange.send(http, request, fed.append)

    got_status, _, body = asyncio.run(go())
    return got_status, body, fed


#: Chunk sizes around the gathering threshold: one chunk crossing it, many small ones, none.
_SIZES = st.lists(
    st.sampled_from([0, 1, 7, 4096, 65536, GATHER_BYTES - 1, GATHER_BYTES, GATHER_BYTES + 1]),
    max_size=8,
)


@settings(max_examples=60, deadline=None)
@given(sizes=_SIZES, status=st.sampled_from([200, 204, 299, 400, 404, 500, 503]), seed=st.binary())
def test_the_body_is_the_bytes_sent_whatever_the_chunks(
    sizes: list[int], status: int, seed: bytes
) -> None:
    fill = (seed or b"x") * (1 + max(sizes, default=0) // max(1, len(seed)))
    chunks = [fill[:size] for size in sizes]
    sent = b"".join(chunks)
    got_status, body, fed = _send(status, chunks, limit=1 << 30)
    assert got_status == status
    assert body == sent
    success = 200 <= status < 300
    # Gathered (a bytearray) exactly when a successful answer reached the threshold.
    assert isinstance(body, bytearray) == (success and len(sent) >= GATHER_BYTES)
    if not isinstance(body, bytearray):
        assert type(body) is bytes
    # What reads the body as it arrives is given every byte of a successful answer, in order.
    assert b"".join(fed) == (sent if success else b"")


@pytest.mark.parametrize("over", [1, GATHER_BYTES])
def test_an_answer_over_the_limit_is_still_refused_when_gathered(over: int) -> None:
    limit = 2 * GATHER_BYTES
    chunks = [b"a" * GATHER_BYTES, b"b" * GATHER_BYTES, b"c" * over]
    with pytest.raises(MalformedResponseError, match="above the limit"):
        _send(200, chunks, limit)
    # At the limit exactly it is read, gathered.
    _, body, _ = _send(200, chunks[:2], limit)
    assert isinstance(body, bytearray)
    assert body == b"a" * GATHER_BYTES + b"b" * GATHER_BYTES
