"""Around every HTTP request: its ID (the caller's X-Request-ID when well-formed, else a new
one) on the answer and on every log line written meanwhile, the headers every answer carries,
then one count in the metrics and one line in the log.

An ASGI wrapper around the whole app rather than a Litestar middleware: Litestar runs its
middleware only for requests that match a route, and 404s and 405s must be seen too."""

from __future__ import annotations

import logging
import os
import re
from time import perf_counter
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Send

from relance.context import runtime_of, state_of
from relance.errors import AppError
from relance.handler import error_answer
from relance.observability.logs import request_id
from relance.observability.metrics import RequestMetrics
from relance.resources import Resource

HEADER = b"x-request-id"
# Far more than any list query needs; answered before any parsing.
MAX_QUERY_BYTES = 8192
# No answer is a page to frame, sniff or refer from, and answers hold debtors' personal data:
# no cache may keep one, nor a browser run anything in it, unless its handler says otherwise.
_ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
_DEFAULTS = (
    (b"cache-control", b"no-store"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
)
# What an answer made outside the app (the HTTP edge's refusals) carries of the above.
SECURITY_HEADERS = (*_ALWAYS, *_DEFAULTS)
_WELL_FORMED = re.compile(rb"[A-Za-z0-9][A-Za-z0-9._:/+=-]{0,127}")

log = logging.getLogger("relance.requests")


class QueryTooLong(AppError):
    status = 414
    message = f"The query string is too long: at most {MAX_QUERY_BYTES} bytes"
    title = "UriTooLong"
    description = f"The query string is longer than {MAX_QUERY_BYTES} bytes"


def observed(app: ASGIApp, access_log: bool) -> ASGIApp:
    metrics = RequestMetrics()

    async def observe(scope: Any, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = perf_counter()
        rid = _given_id(scope["headers"]) or os.urandom(16).hex().encode()
        stamped = [(HEADER, rid), *_ALWAYS]
        rid_text = rid.decode()
        shown = request_id.set(rid_text)
        status = 0  # stays 0 when the client left before any answer

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), *stamped]
                given = {name.lower() for name, _ in headers}
                headers += [default for default in _DEFAULTS if default[0] not in given]
                message["headers"] = headers
            await send(message)

        try:
            if len(scope["query_string"]) > MAX_QUERY_BYTES:
                await error_answer(QueryTooLong())(scope, receive, send_with_id)
            else:
                await app(scope, receive, send_with_id)
        finally:
            seconds = perf_counter() - started
            route = _route_of(scope)
            method = scope["method"]
            metrics.record(route, method, status, seconds)
            if access_log:
                fields = _request_fields(scope, route, method, status, seconds)
                fields["request_id"] = rid_text
                log.info("request", extra={"fields": fields})
            request_id.reset(shown)

    return observe


def _route_of(scope: Any) -> str:
    template: str | None = scope.get("path_template")
    if template:
        return template
    handler = scope.get("route_handler")
    if handler is not None:  # a mount (/media) reports no template of its own
        return min(handler.paths)  # type: ignore[no-any-return]
    return "unmatched"


def _given_id(headers: Any) -> bytes | None:
    for name, value in headers:
        if name == HEADER:
            return value if _WELL_FORMED.fullmatch(value) else None
    return None


def _request_fields(
    scope: Any, route: str, method: str, status: int, seconds: float
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": round(seconds * 1000, 3),
    }
    principal = state_of(scope).principal
    if principal is not None:
        fields["client_id"] = principal.client_id
        ids = runtime_of(scope).ids
        fields["company_id"] = ids.encode(Resource.COMPANY, principal.company_id)
    return fields
