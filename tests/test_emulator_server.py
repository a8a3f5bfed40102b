"""The emulator on a real loopback socket: lifecycle, and faults that need a real connection."""

from __future__ import annotations

import socket

import httpx
import pytest

from asrtui.credentials import Credentials
from asrtui.emulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, build_emulator
from asrtui.emulator.server import _bind, running_server
from asrtui.signing import SignerAuth

HEADERS = {"x-acs-action": "QueryRtcAsrTasks", "x-acs-version": "2016-11-01"}


def _auth() -> SignerAuth:
    return SignerAuth(lambda: Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET))


def test_running_server_binds_loopback_and_shuts_down() -> None:
    app = build_emulator(tasks=2)
    with running_server(app) as url:
        assert url.startswith("http://127.0.0.1:")
        port = int(url.rsplit(":", 1)[1])
        assert port > 0
        with httpx.Client(auth=_auth(), timeout=5) as client:
            response = client.post(f"{url}/", headers=HEADERS)
        assert response.status_code == 200
        assert len(response.json()["Tasks"]) == 2
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", port), timeout=1),
    ):
        pass


@pytest.mark.parametrize(
    ("kind", "fragment"),
    [("drop", "without sending"), ("truncated", "incomplete")],
)
def test_connection_faults_on_a_socket(kind: str, fragment: str) -> None:
    app = build_emulator(tasks=2)
    with running_server(app) as url, httpx.Client(auth=_auth(), timeout=5) as client:
        app.faults.set(kind, 1.0)
        with pytest.raises(httpx.RemoteProtocolError) as caught:
            client.post(f"{url}/", headers=HEADERS)
        app.faults.clear()
        # The server survives the dropped connection and answers the next request.
        assert client.post(f"{url}/", headers=HEADERS).status_code == 200
    assert fragment in str(caught.value) or "peer closed" in str(caught.value)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_the_listening_socket_turns_nagle_off_for_what_it_accepts(host: str) -> None:
    # An answer's head and body are written apart: with Nagle on, the body waited for the
    # client's delayed ACK (40 ms on most answers), a spread no real gateway has.
    if host == "::1" and not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        listening = _bind(host, 0)
    except OSError:
        pytest.skip(f"{host} cannot be bound here")
    with listening:
        assert listening.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        with socket.create_connection(listening.getsockname()[:2]):
            accepted, _ = listening.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
