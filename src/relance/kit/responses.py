"""JSON responses, encoded once: the one way every handler answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from litestar.types import Receive, Scope, Send

# msgspec rather than orjson: it encodes the structs the API shows (FollowupView) from their
# precomputed keys, and plain dicts as fast.
encode_json = msgspec.json.Encoder().encode
_JSON = (b"content-type", b"application/json")


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
