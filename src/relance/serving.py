"""How uvicorn speaks HTTP for Relance: its httptools protocol, with the limits a server on the
open internet needs and uvicorn lacks, every refusal in the error envelope of docs/contract.md §3.

- The request line and the header block are bounded as they arrive (414, 431): httptools grows a
  header by concatenation, so an unbounded one costs memory and time beyond its size.
- The head must arrive within a deadline, and a body at a minimum rate (408): otherwise a few
  hundred clients sending a byte now and then hold every file descriptor.
- A worker holds so many connections; the next are refused at once (503).
- A body announced larger than any the API takes is refused before the app sees it (413).
- A connection closed while its client is still sending is closed as nginx does (lingering close):
  the server stops writing, reads and discards what still comes for a bounded time and amount,
  then closes. Closing at once would make the kernel answer the unread data with a reset, which
  destroys the answer before clients that send their whole body first (Python's urllib,
  `requests` with `Connection: close`) can read it.
- Several workers each listen on a socket of their own on the same port (`SO_REUSEPORT`), so the
  kernel spreads new connections between them. On one shared listening socket, the first worker to
  wake accepts every connection waiting: a burst (a flood of slow clients) lands whole on one
  worker, which reaches its cap and refuses everyone while its siblings sit idle.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import resource
import socket
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httptools
import uvicorn
import uvloop
from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState
from uvicorn.supervisors import Multiprocess

from relance.errors import (
    AppError,
    HeadTooLarge,
    MalformedRequest,
    PayloadTooLarge,
    RequestLineTooLong,
    RequestTimeout,
    ServiceUnavailable,
)
from relance.kit.bodies import MAX_BODY_BYTES
from relance.kit.responses import encode_json
from relance.observability.metrics import EDGE_REFUSALS
from relance.observability.requests import SECURITY_HEADERS

if TYPE_CHECKING:
    from relance.config import Settings

# A lingering close gives up after this long or this much discarded, whichever comes first.
LINGER_SECONDS = 5.0
LINGER_BYTES = 64 * 1024 * 1024
# A refused connection over the cap lingers only briefly: it is what a flood would hold.
LINGER_REFUSED_SECONDS = 1.0
# File descriptors a worker keeps for itself beyond its connections and its database pool.
FILES_KEPT_FREE = 64
# The headers of every refusal: those of every answer of the app, and the end of the connection.
_HEADERS = b"".join(
    name + b": " + value + b"\r\n"
    for name, value in (
        (b"content-type", b"application/json"),
        *SECURITY_HEADERS,
        (b"connection", b"close"),
    )
)


@dataclass(frozen=True, slots=True)
class EdgeLimits:
    max_head_bytes: int
    max_headers: int
    head_timeout: float
    body_min_rate: int
    max_connections: int


@functools.cache
def edge_limits() -> EdgeLimits:
    """The limits of this process, from the settings `relance serve` has already checked."""
    from relance.config import get_settings

    settings = get_settings()
    return EdgeLimits(
        max_head_bytes=settings.max_header_bytes,
        max_headers=settings.max_headers,
        head_timeout=settings.header_timeout_seconds,
        body_min_rate=settings.body_min_bytes_per_second,
        max_connections=min(
            settings.max_connections_per_worker, connections_within_file_limit(settings)
        ),
    )


def connections_within_file_limit(settings: Settings) -> int:
    """Connections a worker can hold and still open its database, logs and metrics files: a
    cap above the process's file descriptor limit would let a flood reach the limit first, and
    then every accept fails, for every caller, until the flood stops."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return settings.max_connections_per_worker
    return max(1, soft - settings.db_pool_size - FILES_KEPT_FREE)


class _Refused(Exception):
    """Raised in a parser callback to stop parsing; the refusal to send is on the protocol."""


class EdgeProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._limits = edge_limits()
        self._refusal: AppError | None = None
        # The head: whether bytes now arriving belong to one, and how many have come.
        self._in_head = True
        self._head_bytes = 0
        self._requests_ended = 0
        self._url_bytes = 0
        self._header_lines = 0
        self._header_bytes = 0
        # The body: announced by a complete head, until the parser sees its end.
        self._in_body = False
        self._body_clock = (0.0, 0)
        self._body_bytes = 0
        self._deadline: asyncio.TimerHandle | None = None
        # Once closing, what still arrives is read and dropped, up to LINGER_BYTES.
        self._lingering = False
        self._discarded = 0

    # Connection

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self._limits.max_connections:
            busy = ServiceUnavailable(
                retry_after=1, message="The server holds too many connections; retry shortly"
            )
            self._refuse(busy, linger_seconds=LINGER_REFUSED_SECONDS)
            return
        # Until the first byte, and then until the end of the head.
        self._arm(self._limits.head_timeout, self._head_overdue)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            self._discard(len(data))
            return
        self._unset_keepalive_if_required()
        began_in_head, ended = self._in_head, self._requests_ended
        try:
            self.parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade):
            # Relance serves no upgrades (no WebSocket): an upgrade is refused as malformed.
            self._refuse(self._refusal or MalformedRequest())
            return
        if self.transport.is_closing():
            return
        if self._in_head and (began_in_head or self._head_bytes):
            if self._requests_ended == ended:
                self._head_bytes += len(data)
            else:
                # A request ended in this read: the rest of the read, not the whole of it,
                # belongs to the next head; the callbacks counted what they have seen of it.
                self._head_bytes = self._url_bytes + self._header_bytes
            if self._head_bytes > self._limits.max_head_bytes:
                self._refuse(self._head_too_large())
            elif self._deadline is None and not self._answering():
                self._arm(self._limits.head_timeout, self._head_overdue)
        elif self._in_body:
            if self.cycle is not None and self.cycle.response_complete:
                # Answered, and the client still sends: its body is discarded, within bounds.
                self._discard(len(data))
            elif self._deadline is None:
                self._arm(self._limits.head_timeout, self._body_overdue)

    # Parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._url_bytes = self._header_lines = self._header_bytes = 0

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        self._url_bytes += len(url)
        if self._url_bytes > self._limits.max_head_bytes:
            self._stop(RequestLineTooLong(self._limits.max_head_bytes))

    def on_header(self, name: bytes, value: bytes) -> None:
        super().on_header(name, value)
        self._header_lines += 1
        self._header_bytes += len(name) + len(value) + 4
        too_many = self._header_lines > self._limits.max_headers
        if too_many or self._url_bytes + self._header_bytes > self._limits.max_head_bytes:
            self._stop(HeadTooLarge(self._limits.max_head_bytes, self._limits.max_headers))

    def on_headers_complete(self) -> None:
        self._disarm()
        self._in_head = False
        if _announced_length(self.headers) > MAX_BODY_BYTES:
            self._stop(PayloadTooLarge(f"Request body too large: at most {MAX_BODY_BYTES} bytes"))
        super().on_headers_complete()
        self.cycle.transport = _LingeringTransport(self)  # type: ignore[assignment]
        # The body's clock starts now; its deadline is armed only if the body does not come
        # with its head, so that most requests cost no timer.
        self._in_body = True
        self._body_clock = (self.loop.time(), 0)
        self._body_bytes = 0

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        super().on_body(body)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # The next head's clock starts once this answer is sent, not when its request was
        # read: an answer may take longer than a head may (a long poll, a streamed export).
        if self._in_head and self._deadline is None and not self.transport.is_closing():
            self._arm(self._limits.head_timeout, self._head_overdue)

    def _answering(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()
        self._in_body = False
        self._in_head = True
        self._head_bytes = self._url_bytes = self._header_lines = self._header_bytes = 0
        self._requests_ended += 1

    # Deadlines

    def _head_overdue(self) -> None:
        self._deadline = None
        if self._answering():
            return  # armed again when the answer is complete
        if self._head_bytes:
            timeout = self._limits.head_timeout
            self._refuse(RequestTimeout(f"The request head did not arrive within {timeout:g} s"))
        else:  # nothing asked: nothing to answer
            self.transport.close()

    def _body_overdue(self) -> None:
        self._deadline = None
        if not self._in_body:
            return
        now = self.loop.time()
        if self.flow.read_paused:
            # The app is not reading yet: the client's allowance starts again when it does.
            self._body_clock = (now, self._body_bytes)
            self._arm(self._limits.head_timeout, self._body_overdue)
            return
        since, bytes_then = self._body_clock
        rate = self._limits.body_min_rate
        due = since + self._limits.head_timeout + (self._body_bytes - bytes_then) / rate
        if now < due:
            self._arm(due - now, self._body_overdue)
            return
        self._refuse(
            RequestTimeout(f"The request body arrived too slowly: send at least {rate} bytes/s")
        )

    def _arm(self, seconds: float, then: Callable[[], object]) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, then)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    # Refusing and closing

    def _head_too_large(self) -> AppError:
        # Before the first header line, the head is mostly its request line.
        if self._header_lines == 0 and self._url_bytes * 2 > self._head_bytes:
            return RequestLineTooLong(self._limits.max_head_bytes)
        return HeadTooLarge(self._limits.max_head_bytes, self._limits.max_headers)

    def _stop(self, refusal: AppError) -> None:
        self._refusal = refusal
        raise _Refused

    def _refuse(self, error: AppError, linger_seconds: float = LINGER_SECONDS) -> None:
        """Answer `error` in place of the app, unless the app has begun its answer, and close."""
        self._disarm()
        EDGE_REFUSALS.labels(str(error.status)).inc()
        cycle = self.cycle
        answered = False
        if cycle is not None and not cycle.response_complete:
            answered = cycle.response_started
            # The app's request ends here: its reads see a disconnect, its writes go nowhere.
            cycle.disconnected = True
            cycle.message_event.set()
        elif cycle is not None and self._in_body:
            answered = True
        if not answered and not self.transport.is_closing():
            self.transport.write(self._answer(error))
        self._linger(linger_seconds)

    def _answer(self, error: AppError) -> bytes:
        body = encode_json(error.body())
        head = [STATUS_LINE[error.status]]
        head.extend(
            name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers
        )
        head.append(_HEADERS)
        head.extend(
            f"{name.lower()}: {value}\r\n".encode("latin-1")
            for name, value in error.headers.items()
        )
        head.append(b"content-length: " + str(len(body)).encode() + b"\r\n\r\n")
        return b"".join(head) + body

    def close_gently(self) -> None:
        """Close, lingering if the client may still be sending (see the module's text)."""
        if self._in_body or self._head_bytes:
            self._linger(LINGER_SECONDS)
        else:
            self.transport.close()

    def _linger(self, seconds: float) -> None:
        if self._lingering or self.transport.is_closing():
            return
        self._lingering = True
        self._in_body = False
        self.flow.resume_reading()
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._arm(seconds, self.transport.close)

    def _discard(self, size: int) -> None:
        self._discarded += size
        if self._discarded > LINGER_BYTES:
            self._disarm()
            self.transport.close()


class _LingeringTransport:
    """The transport as a request's cycle sees it: the same, except that closing lingers."""

    def __init__(self, protocol: EdgeProtocol) -> None:
        transport = protocol.transport
        self.write = transport.write
        self.is_closing = transport.is_closing
        self.get_extra_info = transport.get_extra_info
        self.close = protocol.close_gently


def _announced_length(headers: list[tuple[bytes, bytes]]) -> int:
    """The body length a head announces, 0 when none (the parser has refused bad values)."""
    for name, value in headers:
        if name == b"content-length" and value.strip().isdigit():
            return int(value) if len(value) < 20 else MAX_BODY_BYTES + 1
    return 0


# Serving


def serve_workers(host: str, port: int, workers: int, **options: Any) -> None:
    """Serve the app with `workers` processes, the edge's protocol and the `options` of
    uvicorn.Config; until stopped."""
    config = Config(
        "relance.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="relance.serving:EdgeLoop",
        http="relance.serving:EdgeProtocol",
        ws="none",
        access_log=False,
        server_header=False,
        # The app reads forwarded headers itself, from RELANCE_TRUSTED_PROXIES only.
        proxy_headers=False,
        **options,
    )
    if workers > 1:
        Multiprocess(config, sockets=[_port_for_workers(host, port)]).run()
        return
    server = uvicorn.Server(config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def _port_for_workers(host: str, port: int) -> socket.socket:
    """The port the supervisor holds for its workers: bound, never listening itself; each worker
    listens on a socket of its own beside it (see EdgeLoop)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


class EdgeLoop(uvloop.Loop):
    """uvloop, where a worker handed the supervisor's port listens on a socket of its own."""

    async def create_server(  # type: ignore[override]
        self,
        protocol_factory: Callable[[], asyncio.Protocol],
        host: str | None = None,
        port: int | None = None,
        *,
        sock: socket.socket | None = None,
        **kwargs: Any,
    ) -> asyncio.AbstractServer:
        if sock is not None and sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT):
            host, port = sock.getsockname()[:2]
            sock = None
            kwargs["reuse_port"] = True
        create: Callable[..., Awaitable[asyncio.AbstractServer]] = super().create_server
        return await create(protocol_factory, host, port, sock=sock, **kwargs)
