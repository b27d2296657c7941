"""Sending one signed event to an integrator's URL, for the delivery workers: one POST, no
redirect followed, the whole exchange within one deadline, the first KiB of the answer kept and
the rest never read, and each connection opened to the very addresses that
`addresses.resolve_public` checked (the Host header, SNI and the certificate check use the
name). It depends on the standard library, httpx's URL model and httpcore only.

httpcore rather than httpx.AsyncClient or aiohttp, and one small pool per endpoint rather than
one shared pool: bench/webhook_clients.py measured them (bench/RESULTS.md, "Webhook sender:
HTTP client"). httpx takes no network backend, which the pinning needs, and httpcore's pool
scans every connection it holds for each request it assigns, which a pool per endpoint (the
workers send at most 4 at a time to one) keeps small."""

from __future__ import annotations

import asyncio
import email.utils
import functools
import ssl
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from relance.webhooks.addresses import (
    ForbiddenAddress,
    HostNotFound,
    is_public,
    literal_address,
    resolve_public,
    url_problem,
)

# What went wrong, when no complete answer came (Attempt.error).
TIMEOUT = "timeout"
CONNECTION = "connection"
TLS = "tls"
PROTOCOL = "protocol"
HOST_NOT_FOUND = "host_not_found"
FORBIDDEN_ADDRESS = "forbidden_address"
INVALID_URL = "invalid_url"

RESPONSE_BYTES = 1024
# Receivers close idle connections after 5 s (Node) to 75 s (nginx); one that has is noticed
# before reuse (httpcore checks the socket), so this only bounds how long idle sockets stay.
KEEPALIVE_SECONDS = 30.0
# Headers the sender writes itself: a caller's would break the request's framing or target.
_FRAMING = frozenset({"host", "content-length", "transfer-encoding", "connection"})


@dataclass(frozen=True, slots=True)
class Attempt:
    """One request's outcome, as a delivery attempt records it."""

    status_code: int | None
    duration_ms: int
    response: str
    error: str | None
    retry_after: float | None

    @property
    def succeeded(self) -> bool:
        return self.error is None and self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        """The receiver answered 410 Gone: the endpoint is to be disabled."""
        return self.error is None and self.status_code == 410


class TlsFailed(Exception):
    """The TLS handshake failed: certificate, protocol, or the receiver hung up during it."""


@dataclass(slots=True)
class _Progress:
    """What has come of the answer so far, kept when the deadline cuts it short."""

    status_code: int | None = None
    retry_after: float | None = None
    body: bytearray = field(default_factory=bytearray)


@dataclass(slots=True)
class _Endpoint:
    pool: httpcore.AsyncConnectionPool
    last_used: float
    in_flight: int = 0


class Sender:
    """POSTs webhook requests, keeping connections alive per endpoint (scheme, host, port)."""

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        allow_private: bool = False,
        user_agent: str = "Relance-Webhooks/1",
        ssl_context: ssl.SSLContext | None = None,
        connections_per_endpoint: int = 8,
        idle_endpoints: int = 256,
    ) -> None:
        self._timeout = timeout
        self._allow_private = allow_private
        self._user_agent = user_agent.encode("ascii")
        # Made once: loading the CA bundle for every endpoint's pool would cost ~20 ms each.
        self._ssl_context = ssl_context or httpcore.default_ssl_context()
        self._per_endpoint = connections_per_endpoint
        self._idle_endpoints = idle_endpoints
        self._backend = _PinnedBackend(allow_private=allow_private)
        self._endpoints: OrderedDict[tuple[bytes, bytes, int | None], _Endpoint] = OrderedDict()

    async def send(self, url: str, headers: Mapping[str, str], body: bytes) -> Attempt:
        """POST `body` to `url`; whatever the URL or the receiver does becomes the Attempt."""
        started = time.monotonic()
        parsed = _parse(url, allow_private=self._allow_private)
        if isinstance(parsed, str):
            return _attempt(started, _Progress(), parsed)
        await self._close_idle_endpoints()
        progress = _Progress()
        try:
            async with asyncio.timeout(self._timeout):
                await self._post(parsed, headers, body, progress)
        except Exception as exc:
            error = _error_kind(exc)
            if error is None:
                raise
            return _attempt(started, progress, error)
        return _attempt(started, progress, None)

    async def __aenter__(self) -> Sender:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        endpoints = list(self._endpoints.values())
        self._endpoints.clear()
        for endpoint in endpoints:
            await endpoint.pool.aclose()

    async def _post(
        self, url: httpx.URL, headers: Mapping[str, str], body: bytes, progress: _Progress
    ) -> None:
        endpoint = self._endpoint((url.raw_scheme, url.raw_host, url.port))
        target = httpcore.URL(
            scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
        )
        endpoint.in_flight += 1
        try:
            async with endpoint.pool.stream(
                "POST", target, headers=self._headers(url, headers, body), content=body
            ) as response:
                progress.status_code = response.status
                progress.retry_after = _retry_after(response.status, response.headers)
                await _read_start(response, progress.body)
        finally:
            endpoint.in_flight -= 1
            endpoint.last_used = time.monotonic()

    def _headers(
        self, url: httpx.URL, headers: Mapping[str, str], body: bytes
    ) -> list[tuple[bytes, bytes]]:
        given = [
            (name.encode("ascii"), value.encode("ascii"))
            for name, value in headers.items()
            if name.lower() not in _FRAMING
        ]
        agent = [] if any(name.lower() == "user-agent" for name in headers) else [self._user_agent]
        return [
            (b"Host", url.netloc),
            *((b"User-Agent", value) for value in agent),
            *given,
            (b"Content-Length", str(len(body)).encode("ascii")),
        ]

    def _endpoint(self, origin: tuple[bytes, bytes, int | None]) -> _Endpoint:
        endpoint = self._endpoints.get(origin)
        if endpoint is None:
            endpoint = _Endpoint(self._new_pool(), time.monotonic())
            self._endpoints[origin] = endpoint
        self._endpoints.move_to_end(origin)
        return endpoint

    def _new_pool(self) -> httpcore.AsyncConnectionPool:
        return httpcore.AsyncConnectionPool(
            ssl_context=self._ssl_context,
            max_connections=self._per_endpoint,
            max_keepalive_connections=self._per_endpoint,
            keepalive_expiry=KEEPALIVE_SECONDS,
            http1=True,
            http2=False,
            network_backend=self._backend,
        )

    async def _close_idle_endpoints(self) -> None:
        """Close the least recently used endpoints' pools that are idle and either unused for
        the keep-alive time or beyond the number of endpoints kept."""
        now = time.monotonic()
        while self._endpoints:
            origin, oldest = next(iter(self._endpoints.items()))
            expired = now - oldest.last_used > KEEPALIVE_SECONDS
            if oldest.in_flight or not (expired or len(self._endpoints) > self._idle_endpoints):
                return
            del self._endpoints[origin]
            await oldest.pool.aclose()


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Opens each connection to the addresses resolve_public checked, never resolving again."""

    def __init__(self, *, allow_private: bool) -> None:
        self._allow_private = allow_private
        self._network = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await resolve_public(host, port, allow_private=self._allow_private)
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                stream = await self._network.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                failure = exc
                continue
            return _HandshakeStream(stream)
        raise failure or httpcore.ConnectError(f"{host} has no address to connect to")

    async def sleep(self, seconds: float) -> None:
        await self._network.sleep(seconds)


class _HandshakeStream(httpcore.AsyncNetworkStream):
    """A TCP stream whose TLS handshake failures raise TlsFailed, which httpcore passes on
    as it is (its own ConnectError would say "connection"). The timeouts are httpcore's
    interface; the sender passes none (its deadline covers the whole exchange)."""

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> httpcore.AsyncNetworkStream:
        try:
            # The TLS stream replaces this one: reads after the handshake go to it directly.
            return await self._inner.start_tls(ssl_context, server_hostname, timeout)
        except httpcore.ConnectError as exc:
            raise TlsFailed(str(exc)) from exc

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


# Parsing and checking a URL costs about 60 µs, a sixth of a request to a fast receiver; the
# workers send to the same few URLs again and again.
@functools.lru_cache(maxsize=1024)
def _parse(url: str, *, allow_private: bool) -> httpx.URL | str:
    """The URL to request, or the error kind of a URL refused as written."""
    refusal = _url_refusal(url, allow_private=allow_private)
    if refusal is not None:
        return refusal
    try:
        return httpx.URL(url)
    except httpx.InvalidURL:
        return INVALID_URL


def _url_refusal(url: str, *, allow_private: bool) -> str | None:
    """The error kind of a URL refused as written, before anything is resolved."""
    if url_problem(url, allow_private=True) is not None:
        return INVALID_URL
    if allow_private or url_problem(url, allow_private=False) is None:
        return None
    # What only the public rule refuses: http, or a non-public address written literally.
    literal = literal_address(urlsplit(url).hostname or "")
    return FORBIDDEN_ADDRESS if literal is not None and not is_public(literal) else INVALID_URL


async def _read_start(response: httpcore.Response, kept: bytearray) -> None:
    """Keep the body's first KiB; a longer body is not read on (its connection is closed
    instead of drained), so a receiver that sends gigabytes costs one chunk of memory."""
    seen = 0
    async for chunk in response.aiter_stream():
        kept += chunk[: RESPONSE_BYTES - len(kept)]
        seen += len(chunk)
        if seen > RESPONSE_BYTES:
            return


def _retry_after(status: int, headers: list[tuple[bytes, bytes]]) -> float | None:
    if status != 429 and not 500 <= status < 600:
        return None
    for name, value in headers:
        if name.lower() == b"retry-after":
            return retry_after_seconds(value.decode("latin-1"), time.time())
    return None


def retry_after_seconds(value: str, now: float) -> float | None:
    """Seconds to wait from a Retry-After value (delta-seconds or an HTTP-date, RFC 9110
    §10.2.3) at time `now`, never negative; None when it is neither."""
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    # An HTTP-date is always GMT; parsedate_to_datetime leaves "-0000" dates naive.
    seconds = when.timestamp() if when.tzinfo else when.replace(tzinfo=UTC).timestamp()
    return max(0.0, seconds - now)


def _error_kind(exc: Exception) -> str | None:
    """The Attempt.error of what the URL or the receiver caused; None for anything else (a
    defect here, which is raised)."""
    kinds: tuple[tuple[type[Exception] | tuple[type[Exception], ...], str], ...] = (
        ((TimeoutError, httpcore.TimeoutException), TIMEOUT),
        (ForbiddenAddress, FORBIDDEN_ADDRESS),
        (HostNotFound, HOST_NOT_FOUND),
        (TlsFailed, TLS),
        (httpcore.RemoteProtocolError, PROTOCOL),
        (httpcore.NetworkError, CONNECTION),
        (httpcore.UnsupportedProtocol, INVALID_URL),
    )
    for types, kind in kinds:
        if isinstance(exc, types):
            return kind
    return None


def _attempt(started: float, progress: _Progress, error: str | None) -> Attempt:
    return Attempt(
        status_code=progress.status_code,
        duration_ms=int((time.monotonic() - started) * 1000),
        response=bytes(progress.body).decode("utf-8", errors="replace"),
        error=error,
        retry_after=progress.retry_after,
    )
