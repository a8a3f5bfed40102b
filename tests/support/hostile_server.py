"""A loopback HTTP server that answers every request with a body the test chose.

Stands in for a misbehaving Live API (or a proxy in front of one) on a real socket: the client,
its signing, its retries and its parser all run as in production, and only the answer is the
test's. It listens on 127.0.0.1 only, on a port the system picks, and stops with its context.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Answer:
    """What the server answers with; a test may change it between requests."""

    body: bytes = b'{"RetCode": 2000, "Tasks": {}}'
    status: int = 200
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(answer: Answer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            with answer.lock:
                answer.requests += 1
                body, status = answer.body, answer.status
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-acs-request-id", f"REQ-{answer.requests}")
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _reply

        def log_message(self, format: str, *args: object) -> None:
            return None

    return Handler


@contextmanager
def hostile_server(answer: Answer) -> Iterator[str]:
    """Serve ``answer`` on 127.0.0.1; yields the endpoint URL (``http://127.0.0.1:PORT``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(answer))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="hostile-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
