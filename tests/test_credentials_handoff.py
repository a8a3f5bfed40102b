"""Credentials about to expire are not handed out while a refresh can replace them.

A refresh starts at the first request after the refresh time, and requests may come minutes
apart: the request that starts it could otherwise be signed with credentials that expire before
it lands (``InvalidSecurityToken.Expired``, a failed console refresh). Whatever the lifetime and
whenever the request comes, what `RefreshingProvider.get` answers has at least a quarter of its
lifetime (at most `LAST_USE_MARGIN`) left, or is the replacement.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from asrtui.credentials import Credentials
from asrtui.credentials.refresh import LAST_USE_MARGIN, Fetched, RefreshingProvider
from asrtui.errors import CredentialsServiceError
from tests.support.clock import FakeClock


class Source:
    """Credentials ``STS.1``, ``STS.2``... each living ``lifetime`` from when it is fetched."""

    def __init__(self, clock: FakeClock, lifetime: timedelta) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.fetches = 0
        self.failing = False

    async def fetch(self) -> Fetched:
        if self.failing:
            raise CredentialsServiceError("the role's STS answered 503")
        self.fetches += 1
        credentials = Credentials(f"STS.{self.fetches}", "secret", "token")
        return credentials, self.clock.now() + self.lifetime


def _left(provider: RefreshingProvider, clock: FakeClock) -> timedelta:
    assert provider.expiration is not None
    return provider.expiration - clock.now()


def _guard(lifetime: timedelta) -> timedelta:
    return min(LAST_USE_MARGIN, lifetime / 4)


@settings(max_examples=200, deadline=None)
@given(
    lifetime=st.integers(min_value=2, max_value=43_200),
    at=st.floats(min_value=0.5, max_value=1.0, exclude_max=True),
)
def test_what_a_request_gets_never_expires_within_the_guard(lifetime: int, at: float) -> None:
    clock = FakeClock()
    source = Source(clock, timedelta(seconds=lifetime))
    provider = RefreshingProvider(source.fetch, mode="RamRoleArn", source="test", clock=clock)

    async def scenario() -> None:
        first = await provider.get()
        first_expiry = provider.expiration
        assert first_expiry is not None
        # The next request comes late in the first credentials' life, after the refresh time.
        clock.advance(lifetime * at)
        got = await provider.get()
        if got == first:
            assert first_expiry - clock.now() >= _guard(source.lifetime), (lifetime, at)
        else:
            assert got.access_key_id == "STS.2"
            assert _left(provider, clock) == source.lifetime

    asyncio.run(scenario())


def test_a_request_one_second_before_expiry_waits_for_the_replacement() -> None:
    """The seen case: 900 s credentials, the console's next refresh 1 s before they expire."""
    clock = FakeClock()
    source = Source(clock, timedelta(seconds=900))
    provider = RefreshingProvider(source.fetch, mode="RamRoleArn", source="test", clock=clock)

    async def scenario() -> None:
        assert (await provider.get()).access_key_id == "STS.1"
        clock.advance(899)
        assert (await provider.get()).access_key_id == "STS.2"
        assert _left(provider, clock) == timedelta(seconds=900)

    asyncio.run(scenario())


def test_before_the_guard_a_request_does_not_wait() -> None:
    clock = FakeClock()
    source = Source(clock, timedelta(seconds=900))
    provider = RefreshingProvider(source.fetch, mode="RamRoleArn", source="test", clock=clock)

    async def scenario() -> None:
        first = await provider.get()
        clock.advance(700)  # past the refresh time (600 s), more than a minute left
        assert await provider.get() == first
        await provider.settled()
        assert source.fetches == 2

    asyncio.run(scenario())


def test_a_failing_refresh_near_expiry_still_hands_out_the_valid_ones() -> None:
    clock = FakeClock()
    source = Source(clock, timedelta(seconds=900))
    provider = RefreshingProvider(source.fetch, mode="RamRoleArn", source="test", clock=clock)

    async def scenario() -> None:
        first = await provider.get()
        source.failing = True
        clock.advance(870)
        assert await provider.get() == first
        assert "503" in provider.info().refresh_error

    asyncio.run(scenario())
