"""The Prometheus metrics a worker counts.

Under `relance serve --workers N` (N > 1) every worker writes its counts to files in a directory
shared with its siblings (prometheus-client's multiprocess mode, PROMETHEUS_MULTIPROC_DIR, set by
`serve` before the workers start), and a scrape sums them: whichever worker answers, every
worker's requests are counted. With one worker the counts stay in the process.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

from prometheus_client import Counter, Gauge, Histogram, multiprocess

from relance.db import PoolUsage
from relance.observability import MULTIPROC_DIR

REQUESTS = Counter(
    "relance_http_requests",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "relance_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by route template and method.",
    ["route", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
RATE_LIMITED = Counter(
    "relance_rate_limit_rejections",
    "Requests refused with 429 because a budget was spent, by route template.",
    ["route"],
)
EDGE_REFUSALS = Counter(
    "relance_http_edge_refusals",
    "Requests and connections refused by the HTTP edge before reaching the app, by status.",
    ["status"],
)
TOKENS_ISSUED = Counter("relance_tokens_issued", "Access tokens issued at /token.")
TOKENS_REFUSED = Counter(
    "relance_tokens_refused", "Token requests refused at /token, by OAuth error.", ["error"]
)
# Live gauges: summed over the workers alive at scrape time.
POOL_SIZE = Gauge(
    "relance_db_pool_connections",
    "Database connections open in the pools.",
    multiprocess_mode="livesum",
)
POOL_IN_USE = Gauge(
    "relance_db_pool_connections_in_use",
    "Database connections lent out to a request or a transaction.",
    multiprocess_mode="livesum",
)
POOL_MAX = Gauge(
    "relance_db_pool_connections_max",
    "The most connections the pools may open.",
    multiprocess_mode="livesum",
)

WEBHOOK_DELIVERIES = Counter(
    "relance_webhook_attempts",
    "Webhook delivery attempts, by what the delivery became: succeeded, retrying or failed.",
    ["outcome"],
)
WEBHOOK_ATTEMPT_SECONDS = Histogram(
    "relance_webhook_attempt_duration_seconds",
    "Time a webhook attempt took, from the request to the receiver's answer or the cut.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
# What every worker reads from the database alike: the largest of the living workers'.
WEBHOOK_PENDING = Gauge(
    "relance_webhook_deliveries_pending",
    "Webhook deliveries not yet succeeded or failed.",
    multiprocess_mode="livemax",
)
WEBHOOK_OLDEST_PENDING = Gauge(
    "relance_webhook_oldest_pending_seconds",
    "Age of the oldest webhook delivery still pending.",
    multiprocess_mode="livemax",
)
WEBHOOK_ENDPOINTS_DISABLED = Gauge(
    "relance_webhook_endpoints_disabled",
    "Webhook endpoints disabled (by hand, 410 Gone, or failing for days).",
    multiprocess_mode="livemax",
)

_Observe = Callable[[float], None]


class RequestMetrics:
    """The metric children of each (route, method, status) seen, kept: looking a child up by its
    labels costs more than counting."""

    def __init__(self) -> None:
        self._counted: dict[tuple[str, str, int], tuple[Callable[[], None], _Observe]] = {}

    def record(self, route: str, method: str, status: int, seconds: float) -> None:
        children = self._counted.get((route, method, status))
        if children is None:
            children = self._children(route, method, status)
        count, observe = children
        count()
        observe(seconds)

    def _children(
        self, route: str, method: str, status: int
    ) -> tuple[Callable[[], None], _Observe]:
        if len(self._counted) >= 10_000:  # routes are templates, so only a flood of odd methods
            self._counted.clear()
        request = REQUESTS.labels(route, method, str(status))
        refusal = RATE_LIMITED.labels(route) if status == 429 else None

        def count() -> None:
            request.inc()
            if refusal is not None:
                refusal.inc()

        children = (count, LATENCY.labels(route, method).observe)
        self._counted[(route, method, status)] = children
        return children


async def sample_pool(usage: Callable[[], PoolUsage], every: float = 1.0) -> None:
    """Keep the pool gauges current, off the request path; runs until cancelled."""
    while True:
        now = usage()
        POOL_SIZE.set(now.open)
        POOL_IN_USE.set(now.in_use)
        POOL_MAX.set(now.most)
        await asyncio.sleep(every)


def process_ended() -> None:
    """Drop this worker's live gauges, so that a scrape no longer adds them."""
    if os.environ.get(MULTIPROC_DIR):
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
