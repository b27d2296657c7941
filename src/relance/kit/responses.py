"""JSON responses, encoded once: the one way every handler answers."""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import msgspec
from litestar.types import Receive, Scope, Send

# msgspec rather than orjson: it encodes the structs the API shows (FollowupView) from their
# precomputed keys, and plain dicts as fast.
encode_json = msgspec.json.Encoder().encode
_JSON = (b"content-type", b"application/json")
log = logging.getLogger(__name__)


class JsonAnswer:
    """A handler's JSON answer as a bare ASGI app, which Litestar sends as it is: building its
    Response and converting it to an ASGI response cost more than encoding a page of 50."""

    __slots__ = ("_body", "_headers", "_status")

    def __init__(
        self, content: Any, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> None:
        self._set(encode_json(content), status, headers)

    @classmethod
    def encoded(
        cls, body: bytes, status: int, headers: Mapping[str, str] | None = None
    ) -> JsonAnswer:
        """An answer already encoded, such as a replayed one."""
        answer = cls.__new__(cls)
        answer._set(body, status, headers)
        return answer

    def _set(self, body: bytes, status: int, headers: Mapping[str, str] | None) -> None:
        self._body = body
        self._status = status
        self._headers = [_JSON, (b"content-length", str(len(body)).encode())]
        if headers:
            self._headers += [(k.lower().encode(), v.encode()) for k, v in headers.items()]

    def to_asgi_response(self, *_: Any, **__: Any) -> JsonAnswer:
        """What Litestar asks of an exception handler's answer: its ASGI app, which this is."""
        return self

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = {"type": "http.response.start", "status": self._status, "headers": self._headers}
        await send(start)  # type: ignore[arg-type]
        await send({"type": "http.response.body", "body": self._body, "more_body": False})


class StreamAnswer:
    """A handler's answer streamed as its chunks come, as a bare ASGI app (see JsonAnswer).

    The stream stops, and `closing` runs, when the chunks end, when the client goes away, or
    when the client has read nothing of a chunk for `stall_seconds`: a peer that stops reading
    holds the stream's resources (a database snapshot) for no longer than that. With `gzip`,
    each chunk is compressed and flushed as it goes."""

    __slots__ = ("_chunks", "_closing", "_gzip", "_headers", "_stall")

    def __init__(
        self,
        chunks: AsyncIterator[bytes],
        content_type: str,
        closing: Callable[[], Awaitable[object]],
        *,
        gzip: bool,
        stall_seconds: float,
    ) -> None:
        self._chunks = chunks
        self._closing = closing
        self._gzip = gzip
        self._stall = stall_seconds
        self._headers = [
            (b"content-type", content_type.encode()),
            (b"cache-control", b"no-store"),
            (b"vary", b"Accept-Encoding"),
        ]
        if gzip:
            self._headers.append((b"content-encoding", b"gzip"))

    def to_asgi_response(self, *_: Any, **__: Any) -> StreamAnswer:
        return self

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            start = {"type": "http.response.start", "status": 200, "headers": self._headers}
            await send(start)  # type: ignore[arg-type]
            sending = asyncio.ensure_future(self._send_all(send))
            leaving = asyncio.ensure_future(_disconnect(receive))
            await asyncio.wait((sending, leaving), return_when=asyncio.FIRST_COMPLETED)
            for task in (sending, leaving):
                task.cancel()
            await asyncio.wait((sending, leaving))
            if not sending.cancelled() and sending.exception() is not None:
                # The answer has begun: it cannot become an error any more. Cut short, it
                # lacks its last line, which tells the client it is incomplete.
                log.warning("a streamed answer failed", exc_info=sending.exception())
        finally:
            await self._closing()

    async def _send_all(self, send: Send) -> None:
        compressor = zlib.compressobj(1, zlib.DEFLATED, 31) if self._gzip else None
        async for chunk in self._chunks:
            data = chunk
            if compressor is not None:
                data = compressor.compress(chunk) + compressor.flush(zlib.Z_SYNC_FLUSH)
            body = {"type": "http.response.body", "body": data, "more_body": True}
            await asyncio.wait_for(send(body), self._stall)  # type: ignore[arg-type]
        tail = b"" if compressor is None else compressor.flush()
        end = {"type": "http.response.body", "body": tail, "more_body": False}
        await asyncio.wait_for(send(end), self._stall)  # type: ignore[arg-type]


async def _disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an Accept-Encoding header takes gzip: named, or by `*`, with a weight above 0
    (RFC 9110 §12.5.3)."""
    weights: dict[str, float] = {}
    for item in (accept_encoding or "").lower().split(","):
        coding, _, params = item.partition(";")
        weights[coding.strip()] = _weight(params.strip())
    for coding in ("gzip", "x-gzip", "*"):
        if coding in weights:
            return weights[coding] > 0
    return False


def _weight(params: str) -> float:
    if not params.startswith("q="):
        return 1.0
    try:
        return float(params[2:])
    except ValueError:
        return 0.0
