"""The emulator tests' rig: a wired app on the fake clock, and signed in-process clients."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import httpx

from asrtui.credentials import Credentials
from asrtui.emulator.app import EmulatorApp
from asrtui.emulator.backend import EmulatorBackend
from asrtui.emulator.faults import FaultPlan
from asrtui.signing import SignerAuth
from tests.support.clock import FakeClock

KEY_ID = "test-key"
SECRET = "test-secret"
STS_KEY_ID = "STS.test-key"
STS_SECRET = "sts-secret"
STS_TOKEN = "sts-token-value"
API_VERSION = "2016-11-01"
START = datetime(2024, 5, 14, 3, 52, 2, tzinfo=UTC)


def counting_nonce(prefix: str = "nonce") -> Callable[[], str]:
    """Nonces ``prefix-0``, ``prefix-1``...: unique, and predictable in assertions."""
    counter = itertools.count()
    return lambda: f"{prefix}-{next(counter)}"


@dataclass
class Rig:
    """An emulator app on fake clocks, and the means to call it in process."""

    app: EmulatorApp
    clock: FakeClock
    sleeps: list[float] = field(default_factory=list)

    @property
    def monotonic(self) -> Callable[[], float]:
        """The emulator's monotonic clock (the rig's clock moves it)."""
        return self.clock.monotonic

    @property
    def backend(self) -> EmulatorBackend:
        return self.app.backend

    @property
    def faults(self) -> FaultPlan:
        return self.app.faults

    def client(
        self,
        version: Literal["v3", "rpc"] = "v3",
        *,
        key_id: str = KEY_ID,
        secret: str = SECRET,
        token: str = "",
        clock: Callable[[], datetime] | None = None,
        nonce: Callable[[], str] | None = None,
    ) -> httpx.AsyncClient:
        auth = SignerAuth(
            lambda: Credentials(key_id, secret, token),
            version=version,
            clock=clock or self.clock,
            nonce=nonce or counting_nonce(),
        )
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(self.app),
            base_url="http://live.aliyuncs.com",
            auth=auth,
        )

    def raw_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(self.app), base_url="http://live.aliyuncs.com"
        )


def make_rig(
    *,
    tasks: int = 4,
    seed: int = 1,
    limit: int = 20,
    faults: FaultPlan | None = None,
) -> Rig:
    clock = FakeClock(START)
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    backend = EmulatorBackend(seed=seed, tasks=tasks, clock=clock)
    app = EmulatorApp(
        backend,
        credentials={KEY_ID: SECRET, STS_KEY_ID: (STS_SECRET, STS_TOKEN), "other-key": "other"},
        faults=faults,
        clock=clock,
        monotonic=clock.monotonic,
        limit=limit,
        sleep=fake_sleep,
        rng=random.Random(seed),
    )
    return Rig(app=app, clock=clock, sleeps=sleeps)


async def call(
    client: httpx.AsyncClient,
    action: str,
    *,
    method: str = "POST",
    version: str = API_VERSION,
    **params: str,
) -> httpx.Response:
    """Send one action the way the project's client does: headers plus query parameters."""
    return await client.request(
        method,
        "/",
        params=params,
        headers={"x-acs-action": action, "x-acs-version": version},
    )


def error_code(response: httpx.Response) -> str:
    """The gateway envelope's ``Code`` (asserting the envelope is complete)."""
    body = response.json()
    assert set(body) >= {"RequestId", "HostId", "Code", "Message", "Recommend"}, body
    return str(body["Code"])
