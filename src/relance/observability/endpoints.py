"""GET /metrics: no token and no rate limit, like the probes; scrapers are trusted by network."""

from __future__ import annotations

from litestar import Response

from relance.observability.exposition import CONTENT_TYPE, exposition
from relance.operations import Answer, Operation, text_content


@Operation(
    method="GET",
    path="/metrics",
    summary="Metrics",
    tag="Service",
    answers=(Answer(200, text_content("text/plain")),),
)
def metrics() -> Response[bytes]:
    """Prometheus metrics of every worker."""
    return Response(exposition(), media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})
