"""The application factory."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar

from relance.api import ROUTE_HANDLERS
from relance.auth.dependencies import RuntimeDep
from relance.config import Settings, get_settings
from relance.handler import EXCEPTION_HANDLERS
from relance.kit.bodies import MAX_BODY_BYTES
from relance.observability.endpoints import metrics
from relance.observability.metrics import process_ended, sample_pool
from relance.observability.requests import observed
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
    handlers = [*ROUTE_HANDLERS, *([metrics] if settings.metrics_port is None else [])]
    app = Litestar(
        route_handlers=handlers,
        dependencies={"runtime": RuntimeDep},
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=[lifespan],
        openapi_config=None,
        request_max_body_size=MAX_BODY_BYTES,
        # Logging is set up by whoever runs the app (`relance serve`: JSON lines on stdout).
        logging_config=None,
        debug=False,
    )
    # Around Litestar's whole handler, so that requests no route matches are observed too.
    app.asgi_handler = observed(app.asgi_handler, settings.access_log)
    return app
