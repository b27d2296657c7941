"""The application factory."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache, partial

from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from relance.api import ROUTE_HANDLERS
from relance.config import Settings, get_settings, proxy_list
from relance.handler import EXCEPTION_HANDLERS
from relance.kit.bodies import MAX_BODY_BYTES
from relance.observability.endpoints import metrics
from relance.observability.metrics import process_ended, sample_pool
from relance.observability.requests import observed
from relance.openapi.document import encoded_document
from relance.openapi.endpoints import ROUTES as OPENAPI_ROUTES
from relance.runtime import open_runtime
from relance.schema import ensure_current


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        runtime = await open_runtime(settings)
        try:
            await ensure_current(runtime.db, settings.database)
            app.state.runtime = runtime
            sampler = asyncio.create_task(sample_pool(runtime.db.usage))
            try:
                yield
            finally:
                sampler.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sampler
                process_ended()
        finally:
            await runtime.close()

    # With a port of their own (`relance serve`), the metrics are not on the API's.
    handlers = [
        *ROUTE_HANDLERS,
        *OPENAPI_ROUTES,
        *([metrics] if settings.metrics_port is None else []),
    ]
    app = Litestar(
        route_handlers=handlers,
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=[lifespan],
        openapi_config=None,
        request_max_body_size=MAX_BODY_BYTES,
        # Logging is set up by whoever runs the app (`relance serve`: JSON lines on stdout).
        logging_config=None,
        debug=False,
    )
    # Built on the first request for it, then kept: it takes some 20 ms, which neither a
    # worker's start nor a test's app should pay.
    app.state.openapi_document = cache(partial(encoded_document, settings))
    # Around Litestar's whole handler, so that requests no route matches are observed too.
    app.asgi_handler = observed(
        _behind_trusted_proxies(_allowing_every_method(app), settings), settings.access_log
    )
    return app


def _behind_trusted_proxies(app: ASGIApp, settings: Settings) -> ASGIApp:
    """The caller's address and scheme, from X-Forwarded-For and X-Forwarded-Proto only when
    the connection comes from a proxy the operator named: anyone else could claim any address
    in the audit log and step around the per-address throttle. Here rather than in the server,
    so that every way of serving the app believes the same peers."""
    proxies = proxy_list(settings.trusted_proxies)
    if not proxies:
        return app
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    return ProxyHeadersMiddleware(app, trusted_hosts=proxies)  # type: ignore[arg-type, return-value]


def _allowing_every_method(app: Litestar) -> ASGIApp:
    """Litestar's automatic answer to OPTIONS names only the methods of the first handler
    registered on a path (its `Allow` on /followups says GET, not POST): the answer gets the
    `Allow` of the whole route instead."""
    allowed = {
        route.path_format: ", ".join(sorted(route.methods)).encode()
        for route in app.routes
        if isinstance(route, HTTPRoute)
    }
    handler = app.asgi_handler

    async def answer(scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("method") != "OPTIONS":
            await handler(scope, receive, send)
            return

        async def send_allow(message: Message) -> None:
            methods = allowed.get(scope.get("path_template", ""))
            if message["type"] == "http.response.start" and methods is not None:
                headers = [h for h in message.get("headers", ()) if h[0].lower() != b"allow"]
                message["headers"] = [*headers, (b"allow", methods)]
            await send(message)

        await handler(scope, receive, send_allow)

    return answer
