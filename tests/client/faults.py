"""A small real HTTP server in front of `relance serve`: it passes every request on, except
those its plan answers itself with the faults the real server cannot be made to produce on
demand (a 503, a Retry-After, a refused token, an answer lost on its way back), and it keeps
what it saw so that a test can count requests and tokens."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

API = "/external-api/v1"
TOKEN = "/token"  # the token endpoint's path
# Hop-by-hop headers, and those that describe the body as the server sent it (httpx has
# decoded it, the proxy sends it again with its own length).
_NOT_PASSED_ON = frozenset(
    {"connection", "content-length", "transfer-encoding", "content-encoding", "date", "server"}
)


@dataclass(frozen=True)
class Fault:
    """An answer the proxy gives instead of the server's. `forwarded`: the request reaches the
    server first, and this answer replaces the server's on the way back."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    forwarded: bool = False

    def body(self) -> bytes:
        envelope = {"error": True, "message": f"injected {self.status}", "code": self.status}
        return json.dumps(envelope).encode()


@dataclass
class Seen:
    """One request as it reached the proxy, and the server's answer if it was passed on."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    upstream: httpx.Response | None = None


Plan = Callable[[Seen], Fault | None]


def passing(seen: Seen) -> Fault | None:
    return None


def answering(fault: Fault, *, path: str = API, times: int | None = None) -> Plan:
    """`fault` for the requests whose path starts with `path`: the first `times` of them, or
    every one."""
    left = [times]

    def plan(seen: Seen) -> Fault | None:
        if not seen.path.startswith(path) or left[0] == 0:
            return None
        if left[0] is not None:
            left[0] -= 1
        return fault

    return plan


class FaultyProxy:
    def __init__(self, base: str, upstream: str) -> None:
        self.base = base
        self._upstream = httpx.Client(base_url=upstream, timeout=30)
        self._lock = threading.Lock()
        self.plan: Plan = passing
        self.seen: list[Seen] = []

    def reset(self) -> None:
        with self._lock:
            self.plan, self.seen = passing, []

    def api_requests(self) -> list[Seen]:
        return [seen for seen in self.seen if seen.path.startswith(API)]

    def tokens_asked(self) -> int:
        return sum(seen.path == TOKEN for seen in self.seen)

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        headers = {name.lower(): value for name, value in handler.headers.items()}
        seen = Seen(handler.command, handler.path, headers, handler.rfile.read(length))
        with self._lock:
            self.seen.append(seen)
            fault = self.plan(seen)
        if fault is None or fault.forwarded:
            seen.upstream = self._forward(seen)
        if fault is None:
            assert seen.upstream is not None
            kept = seen.upstream.headers.multi_items()
            passed = [(name, value) for name, value in kept if name not in _NOT_PASSED_ON]
            _reply(handler, seen.upstream.status_code, passed, seen.upstream.content)
        else:
            _reply(handler, fault.status, list(fault.headers.items()), fault.body())

    def _forward(self, seen: Seen) -> httpx.Response:
        # Without accept-encoding the server answers uncompressed, as the proxy passes it on.
        dropped = {"host", "content-length", "connection", "accept-encoding"}
        headers = {name: value for name, value in seen.headers.items() if name not in dropped}
        return self._upstream.request(seen.method, seen.path, headers=headers, content=seen.body)

    def close(self) -> None:
        self._upstream.close()


def _reply(
    handler: BaseHTTPRequestHandler, status: int, headers: list[tuple[str, str]], body: bytes
) -> None:
    handler.send_response(status)
    for name, value in headers:
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class _Handler(BaseHTTPRequestHandler):
    proxy: FaultyProxy

    def do_GET(self) -> None:
        self.proxy.handle(self)

    do_POST = do_PUT = do_GET  # noqa: N815 - the names http.server looks up

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: pytest shows the test's own output, not one line per request."""


@contextmanager
def proxying(upstream: str) -> Iterator[FaultyProxy]:
    """A FaultyProxy on a free port of 127.0.0.1 until the block ends."""

    class Handler(_Handler):
        """This proxy's own, so that two proxies never share a plan."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    proxy = FaultyProxy(f"http://127.0.0.1:{server.server_address[1]}", upstream)
    Handler.proxy = proxy
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        proxy.close()
