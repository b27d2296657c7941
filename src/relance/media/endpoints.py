"""The local store's media, served under the signed URLs the API hands out: GET and HEAD, one
byte range (206) so that a browser's audio player can seek, and a 403 in the envelope for a URL
that was tampered with, has expired or was signed by another deployment."""

from __future__ import annotations

import asyncio
import hmac
import re
import time
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import parse_qs, unquote

from litestar import Request, asgi
from litestar.types import (
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    HTTPScope,
    Receive,
    Scope,
    Send,
)

from relance.context import runtime_of
from relance.errors import Forbidden, MethodNotAllowed, NotFound, RangeNotSatisfiable
from relance.media.kinds import content_type_of
from relance.media.links import MediaLinks
from relance.media.stores import LocalStore
from relance.operations import Answer, Operation, Schema, mounted

MEDIA_PATH = "/media"
_CHUNK = 64 * 1024
# ASCII digits only: \d and int() take the digits of every script.
_RANGE = re.compile(r"bytes=([0-9]*)-([0-9]*)")
_EXPIRES = re.compile(r"[0-9]{1,12}")
# Larger than any file: a longer number is read as this, never handed to int().
_HUGE = 10**18
_NO_BYTES = "The Range asked for the last 0 bytes: ask for at least one"
_END: HTTPResponseBodyEvent = {"type": "http.response.body", "body": b"", "more_body": False}
# Opened directly, a recording is shown in the browser's own player page, which loads that same
# URL as its media: under every other answer's `default-src 'none'` the player stays dead. A
# `sandbox` would make the page's origin opaque and fail that load too (found in Chromium). A
# PDF needs nothing more: the browser's viewer draws it under the default policy.
PLAYER_POLICY = b"default-src 'none'; media-src 'self'; frame-ancestors 'none'"


def media_links(request: Request[Any, Any, Any]) -> MediaLinks:
    """The links of one response, rooted at the address the request came to unless
    RELANCE_PUBLIC_URL says otherwise."""
    runtime = runtime_of(request.scope)
    settings = runtime.settings
    base_url = settings.public_url or str(request.base_url)
    return MediaLinks(runtime.media, base_url, settings.media_url_ttl_seconds, time.time())


_PARAMETERS: tuple[Schema, ...] = (
    {"name": "key", "in": "path", "required": True, "schema": {"type": "string"},
     "description": "The media's key in the store, as the followup's URL names it"},
    {"name": "expires", "in": "query", "required": True,
     "schema": {"type": "integer", "minimum": 0}, "description": "Unix time"},
    {"name": "signature", "in": "query", "required": True, "schema": {"type": "string"}},
    {"name": "Range", "in": "header", "schema": {"type": "string"},
     "description": "One byte range, such as bytes=0-1023"},
)  # fmt: skip
_FILE = {"*/*": {"schema": {"type": "string", "contentMediaType": "*/*"}}}


def _served(method: Literal["GET", "HEAD"]) -> Operation:
    return Operation(
        method=method,
        path=f"{MEDIA_PATH}/{{key}}",
        summary=f"{method} a recording or document",
        operation_id=f"{method.lower()}Media",
        tag="Service",
        parameters=_PARAMETERS,
        answers=(
            Answer(200, _FILE, "The whole file"),
            Answer(206, _FILE, "The byte range asked for"),
        ),
        errors=(Forbidden, NotFound, RangeNotSatisfiable),
    )


@mounted(_served("GET"), _served("HEAD"))
@asgi(MEDIA_PATH, is_mount=True, copy_scope=True)
async def serve_media(scope: Scope, receive: Receive, send: Send) -> None:
    """Served from the local media store under the signed, expiring URL a followup's
    `audio_url` or `pdf_url` holds; a tampered, expired or unsigned URL is a 403. With a bucket
    store, the URLs point at the bucket instead."""
    method = cast("HTTPScope", scope)["method"]
    if method not in ("GET", "HEAD"):
        raise MethodNotAllowed(
            f"Method {method} is not allowed on media; allowed: GET, HEAD",
            headers={"Allow": "GET, HEAD"},
        )
    store = runtime_of(scope).media
    # The mount hands the path on with a "/" added at its end.
    key = unquote(scope["path"]).removeprefix(MEDIA_PATH).strip("/")
    if not isinstance(store, LocalStore):
        raise NotFound("Media are served by the bucket they are stored in")
    # latin-1 takes any bytes: a query that is not UTF-8 is a bad signature, not a crash.
    expires = _checked(store, key, parse_qs(scope["query_string"].decode("latin-1")))
    path = store.path_of(key)
    if path is None:
        raise NotFound("No such media")
    size = path.stat().st_size
    start, end = _range(_header(scope, b"range"), size)
    content_type = content_type_of(key)
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(end - start).encode()),
        (b"accept-ranges", b"bytes"),
        # A shared cache must not keep what a signature let one caller see.
        (b"cache-control", f"private, max-age={max(0, expires - int(time.time()))}".encode()),
    ]
    if content_type.startswith("audio/"):
        headers.append((b"content-security-policy", PLAYER_POLICY))
    status = 200
    if end - start < size:
        status = 206
        headers.append((b"content-range", f"bytes {start}-{end - 1}/{size}".encode()))
    start_event: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": status,
        "headers": headers,
    }
    await send(start_event)
    if method == "HEAD":
        await send(_END)
        return
    await _send_file(send, path, start, end)


def _checked(store: LocalStore, key: str, query: dict[str, list[str]]) -> int:
    """The URL's expiry, once its signature is the deployment's and it has not passed."""
    expires_text = query.get("expires", [""])[0]
    signature = query.get("signature", [""])[0]
    if _EXPIRES.fullmatch(expires_text) is None or not signature:
        raise Forbidden("This media URL is not signed: ask the API for the followup again")
    expires = int(expires_text)
    if not hmac.compare_digest(signature.encode(), store.signature(key, expires).encode()):
        raise Forbidden("This media URL is not valid: its signature does not match")
    if expires < time.time():
        raise Forbidden("This media URL has expired: ask the API for the followup again")
    return expires


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _range(header: str | None, size: int) -> tuple[int, int]:
    """The bytes [start, end) to send. One range is honoured; several, or a malformed header,
    get the whole file, as RFC 9110 allows. A range of no byte of the file (a suffix of 0, a
    start at or past its end) is a 416 (RFC 9110 §14.1.1)."""
    match = _RANGE.fullmatch(header.strip()) if header else None
    if match is None or match.group(1) == match.group(2) == "":
        return 0, size
    first, last = match.groups()
    if first == "":  # the last N bytes
        suffix = _bounded(last)
        if suffix == 0:
            raise RangeNotSatisfiable(size, _NO_BYTES)
        return max(0, size - suffix), size
    start = _bounded(first)
    if last != "" and _bounded(last) < start:  # not a range at all: ignored
        return 0, size
    if start >= size:
        raise RangeNotSatisfiable(size)
    end = size if last == "" else min(_bounded(last) + 1, size)
    return start, end


def _bounded(digits: str) -> int:
    return _HUGE if len(digits) > len(str(_HUGE)) else min(int(digits), _HUGE)


async def _send_file(send: Send, path: Path, start: int, end: int) -> None:
    with path.open("rb") as source:
        source.seek(start)
        left = end - start
        while left > 0:
            chunk = await asyncio.to_thread(source.read, min(_CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            body: HTTPResponseBodyEvent = {
                "type": "http.response.body",
                "body": chunk,
                "more_body": left > 0,
            }
            await send(body)
    if left > 0:  # the file shrank under us: end the response rather than hang
        await send(_END)
