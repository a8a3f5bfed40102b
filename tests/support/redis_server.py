"""A real ``redis-server`` on a free loopback port, for the tests of the cross-host quota.

No persistence (``--save ""``, no AOF), a password (so the URL carries a secret, as a real
one does) and a private directory; stopped (and restartable on the same port, for the outage
tests) by `RedisServer`. Where the binary is missing the tests that need it are skipped with
the reason; CI installs it (``.ci/run``), so there they run.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

#: Seconds a server may take to start answering on a busy machine.
START_TIMEOUT = 20.0


def free_port() -> int:
    """A TCP port nobody listens on right now, on the loopback interface."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RedisServer:
    """One ``redis-server`` process that can be stopped and started again on its port."""

    def __init__(self, binary: str, directory: Path) -> None:
        self._binary = binary
        self._directory = directory
        self.port = free_port()
        self.password = secrets.token_hex(12)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The URL to give ``shared_quota`` (it holds the password)."""
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server and wait until it answers."""
        self._process = subprocess.Popen(
            [
                self._binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--requirepass", self.password,
                "--dir", str(self._directory),
                "--loglevel", "warning",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT
        while not self.answers():
            if self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self._process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not answer")
            time.sleep(0.02)

    def answers(self) -> bool:
        """Whether the server answers an authenticated PING now."""
        import redis

        client = redis.Redis(
            host="127.0.0.1", port=self.port, password=self.password, socket_timeout=1.0
        )
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def stop(self) -> None:
        """Stop the server (the data goes with it: nothing persists)."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def redis_server(directory: Path) -> Iterator[RedisServer]:
    """A started server, stopped afterwards; skips the test when ``redis-server`` is absent."""
    pytest.importorskip("redis")
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (CI installs the Debian package)")
    server = RedisServer(binary, directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()
