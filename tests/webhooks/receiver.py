"""A real webhook receiver on 127.0.0.1 for the tests: it records every request it is sent and
answers as the test tells it (a status, headers, a pause), in a thread of its own so that it
answers whatever the test's event loop is doing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass(frozen=True)
class Reply:
    status: int = 204
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    # Seconds to wait before answering (a slow or hanging receiver).
    pause: float = 0.0


Answer = Callable[[Received], Reply]


class Receiver:
    def __init__(self, server: ThreadingHTTPServer) -> None:
        self._server = server
        self._lock = threading.Condition()
        self.received: list[Received] = []
        self.answer: Answer = lambda _request: Reply()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hooks"

    def take(self, request: Received) -> Reply:
        with self._lock:
            self.received.append(request)
            self._lock.notify_all()
        return self.answer(request)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """The first `count` requests, once they have come (the test fails after `timeout`)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"the receiver got {len(self.received)} requests, not {count}, "
                        f"within {timeout} s"
                    )
                self._lock.wait(left)
            return list(self.received[:count])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(length)
        request = Received(
            self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time()
        )
        reply = self.server.receiver.take(request)
        if reply.pause:
            time.sleep(reply.pause)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: object) -> None:
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    receiver: Receiver

    def handle_error(self, request: object, client_address: object) -> None:
        # A sender that drops a kept-alive connection (a worker stopping, a cut at the
        # timeout) is what the tests make happen, not the receiver's fault.
        return None


@contextmanager
def running_receiver(port: int = 0) -> Iterator[Receiver]:
    """A receiver on `port` (any free one by default) until the block ends."""
    server = _Server(("127.0.0.1", port), _Handler)
    receiver = Receiver(server)
    server.receiver = receiver
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
