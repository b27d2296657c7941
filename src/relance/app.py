"""The application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar

from relance.api import ROUTE_HANDLERS
from relance.auth.dependencies import RuntimeDep
from relance.config import Settings, get_settings
from relance.handler import EXCEPTION_HANDLERS
from relance.kit.bodies import MAX_BODY_BYTES
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
            yield
        finally:
            await runtime.close()

    return Litestar(
        route_handlers=ROUTE_HANDLERS,
        dependencies={"runtime": RuntimeDep},
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=[lifespan],
        openapi_config=None,
        request_max_body_size=MAX_BODY_BYTES,
        debug=False,
    )
