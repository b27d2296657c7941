"""GET /metrics: no token and no rate limit, like the probes; scrapers are trusted by network."""

from __future__ import annotations

from litestar import Response, get

from relance.observability.exposition import CONTENT_TYPE, exposition


@get("/metrics", summary="Prometheus metrics", sync_to_thread=False)
def metrics() -> Response[bytes]:
    return Response(exposition(), media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})
