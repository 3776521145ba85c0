"""Connecting to a fleet's manager over real local sockets: an endpoint that accepts TCP and
never answers is one line within the manager's answer time, not a minute's wait; a manager
that answers slowly later is still waited for."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from launcher.errors import UserError
from launcher.fleet.connect import MANAGER_ANSWER_S, manager


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A TCP listener that accepts every connection and never sends a byte."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    stop = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            held.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in held:
            connection.close()
        server.close()


class SlowInfoManager(BaseHTTPRequestHandler):
    """Answers the Docker API's version and ping at once, and ``info`` (a Swarm manager's)
    only after INFO_DELAY_S."""

    INFO_DELAY_S = 1.0

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if self.path.endswith("/version"):
            self._answer({"ApiVersion": "1.41", "Version": "20.10.24"})
        elif self.path.endswith("/_ping"):
            self._answer("OK")
        elif self.path.endswith("/info"):
            time.sleep(self.INFO_DELAY_S)
            self._answer({"Swarm": {"ControlAvailable": True, "LocalNodeState": "active"}})
        else:
            self.send_error(404)

    def _answer(self, body: object) -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain" if isinstance(body, str)
                         else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def test_the_managers_answer_time_is_seconds_not_a_minute() -> None:
    assert 5 <= MANAGER_ANSWER_S <= 10


def test_an_endpoint_that_never_answers_is_one_line_naming_it(silent_endpoint: str) -> None:
    started = time.monotonic()
    with pytest.raises(UserError) as refused:
        manager(silent_endpoint, answer_s=1.0)
    # Bounded by the answer time, not the client's 60 s per request (generous, for a loaded
    # machine: the point is that it is not a minute).
    assert time.monotonic() - started < 30
    line = str(refused.value)
    assert "\n" not in line
    assert silent_endpoint in line and "did not answer within 1 s" in line
    assert "tcp://HOST:2375" in line


def test_calls_after_the_first_answers_have_the_long_timeout() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowInfoManager)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        # manager() asks info, which takes longer than the answer time, whether the engine
        # is a Swarm manager: it is, with no timeout.
        assert manager(f"tcp://127.0.0.1:{server.server_address[1]}", answer_s=0.3)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
