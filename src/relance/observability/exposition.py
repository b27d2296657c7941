"""The metrics in the Prometheus text format, for GET /metrics or a port of their own.

Kept apart from the metrics themselves: the process that supervises the workers serves
RELANCE_METRICS_PORT by reading the workers' files, and must not count anything of its own.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
    start_http_server,
)

from relance.observability import MULTIPROC_DIR

CONTENT_TYPE = CONTENT_TYPE_LATEST


def registry() -> CollectorRegistry:
    """In multiprocess mode, a registry that sums every worker's files at each scrape."""
    path = os.environ.get(MULTIPROC_DIR)
    if not path:
        return REGISTRY
    summed = CollectorRegistry()
    multiprocess.MultiProcessCollector(summed, path=path)  # type: ignore[no-untyped-call]
    return summed


def exposition() -> bytes:
    return generate_latest(registry())


def serve_metrics_port(host: str, port: int) -> None:
    """GET /metrics on a port of its own, from a thread of this process."""
    start_http_server(port, addr=host, registry=registry())
