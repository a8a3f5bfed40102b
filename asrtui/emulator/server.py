"""Serving the emulator on a real loopback socket with uvicorn (the optional ``emulator`` extra).

`serve` runs in the foreground for ``asrtui emulator``; `running_server` runs a server in a
thread for tests that need a real socket (e.g. the official SDK, which cannot use an in-process
transport). Both bind 127.0.0.1 unless told otherwise, never 0.0.0.0 by default, and bind the
socket themselves so that port 0 yields a known free port before the server starts.

Dropping a connection without an answer (the ``drop`` and ``truncated`` faults) has no ASGI
message: the app raises `ConnectionDropped` and `_DropAware` closes the connection's transport,
which uvicorn's h11 protocol exposes on the object that ``send`` is bound to. Without that
attribute the exception propagates and uvicorn answers 500, still a failure a client must handle.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

from asrtui.emulator.app import ASGIReceive, ASGISend
from asrtui.emulator.faults import ConnectionDropped

if TYPE_CHECKING:
    import uvicorn

__all__ = ["ASGIApp", "running_server", "serve"]

#: Any ASGI 3 application with the emulator's message types.
ASGIApp = Callable[[Mapping[str, object], ASGIReceive, ASGISend], Awaitable[None]]

_STARTUP_TIMEOUT = 10.0
_SHUTDOWN_TIMEOUT = 10.0


class _DropAware:
    """Wraps an ASGI app so that `ConnectionDropped` closes the socket instead of a 500."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(
        self, scope: Mapping[str, object], receive: ASGIReceive, send: ASGISend
    ) -> None:
        try:
            await self._app(scope, receive, send)
        except ConnectionDropped:
            transport = getattr(getattr(send, "__self__", None), "transport", None)
            if not isinstance(transport, asyncio.BaseTransport):
                raise
            transport.close()
            # Wait until uvicorn has seen the disconnect, so it does not try to answer 500.
            while (await receive()).get("type") != "http.disconnect":
                continue


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, with Nagle's algorithm off for every connection it accepts.

    asyncio turns Nagle off only on sockets whose ``proto`` is ``IPPROTO_TCP``, and
    `socket.create_server` makes them with ``proto`` 0; uvicorn writes an answer's head and
    body separately, so the body waited for the client's delayed ACK: 40 ms more on most
    answers of a busy client, a round-trip spread no real gateway shows. Accepted sockets
    inherit the option from the listening one (Linux, macOS).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family)
    with suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _server(app: ASGIApp, on_started: Callable[[], None], log_level: str) -> uvicorn.Server:
    import uvicorn

    class _Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                on_started()

    config = uvicorn.Config(
        _DropAware(app),
        http="h11",
        lifespan="auto",
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=1,
    )
    return _Server(config)


def serve(
    app: ASGIApp,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    on_ready: Callable[[str], None] | None = None,
    log_level: str = "warning",
) -> None:
    """Serve ``app`` in the foreground until interrupted (Ctrl-C / SIGTERM).

    Args:
        app: the ASGI app, usually from `asrtui.emulator.build_emulator`.
        host: the address to bind; loopback unless the user explicitly asks otherwise.
        port: the port; 0 picks a free one.
        on_ready: called with the base URL (``http://127.0.0.1:PORT``) once accepting.
        log_level: uvicorn's log level.

    Raises:
        ModuleNotFoundError: uvicorn is not installed (``pip install 'asrtui[emulator]'``).
        OSError: the address cannot be bound.
    """
    sock = _bind(host, port)
    url = _url(sock)
    try:
        server = _server(app, lambda: on_ready(url) if on_ready else None, log_level)
        server.run(sockets=[sock])
    finally:
        sock.close()


@contextmanager
def running_server(app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run ``app`` on a real socket in a background thread; yield its base URL.

    The server stops (and the thread is joined) when the block exits.

    Raises:
        RuntimeError: the server did not start within ten seconds.
    """
    sock = _bind(host, port)
    ready = threading.Event()
    server = _server(app, ready.set, "warning")
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="asrtui-emulator", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + _STARTUP_TIMEOUT
        while not ready.wait(0.05):
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the emulator server did not start")
        yield _url(sock)
    finally:
        server.should_exit = True
        thread.join(_SHUTDOWN_TIMEOUT)
        sock.close()
