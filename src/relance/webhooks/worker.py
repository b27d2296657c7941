"""The delivery worker: claims the deliveries that are due, sends each signed, records what
came of it, and retries on the schedule; until stopped.

Each turn is one transaction: the outcomes of the attempts that finished since the last turn
are recorded, then as many due deliveries are claimed as there are free slots
(RELANCE_WEBHOOKS_CONCURRENCY, at most four per endpoint), with their events and endpoints.
A turn follows at once while work is waiting, and otherwise when a commit notifies one
(PostgreSQL), an attempt finishes, or the poll's interval passes. While the database is down
the worker keeps its outcomes and tries again, backing off; what it had claimed comes back to
any worker once the claims' leases run out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from relance.db import Connection, is_unavailable
from relance.events import repository as event_log
from relance.events.records import StoredEvent, now_us
from relance.events.views import event_body, event_ids
from relance.media.links import MediaLinks
from relance.observability import metrics
from relance.runtime import Deployment
from relance.units import unit_of_work
from relance.webhooks.records import DeliveryStatus, DisabledReason, EndpointSecrets
from relance.webhooks.repository import deliveries, queue
from relance.webhooks.repository.queue import Claimed, Outcome, Target
from relance.webhooks.schedule import after_attempt
from relance.webhooks.sender import Attempt, Sender
from relance.webhooks.service import Secrets
from relance.webhooks.signing import signed_headers
from relance.webhooks.wakeup import Wakeup, listen

log = logging.getLogger("relance.webhooks")
_Action = Callable[[], Awaitable[None]]

PER_ENDPOINT = 4
# A claim outlives the request it covers by this much before another worker may take it over.
LEASE_MARGIN_SECONDS = 5.0
POLL_SECONDS = {"postgresql": 1.0, "sqlite": 0.2}
MAX_BACKOFF_SECONDS = 5.0
PURGE_EVERY_SECONDS = 3600.0
PURGE_BATCH = 5_000
GAUGES_EVERY_SECONDS = 5.0
_US = 1_000_000


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    delays: tuple[float, ...]
    timeout: float
    concurrency: int
    disable_after_seconds: int
    retention_days: int
    # Where the media links in events point: RELANCE_PUBLIC_URL, or the API's address.
    public_url: str


@dataclass(frozen=True, slots=True)
class Job:
    claim: Claimed
    event: StoredEvent
    target: Target


class DeliveryWorker:
    def __init__(self, deployment: Deployment, sender: Sender, options: WorkerOptions) -> None:
        self._deployment = deployment
        self._sender = sender
        self._options = options
        self._secrets = Secrets.of(deployment.keys)
        self._wakeup = Wakeup()
        # Jitter only spreads retries out: no secret depends on it.
        self._rng = random.Random()  # noqa: S311
        self._outcomes: list[Outcome] = []
        self._in_flight: set[asyncio.Task[None]] = set()
        self._failures = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set, then finish (or give back) what is in flight."""
        helpers = [
            asyncio.create_task(self._every(PURGE_EVERY_SECONDS, self._purge, stop)),
            asyncio.create_task(self._every(GAUGES_EVERY_SECONDS, self._gauges, stop)),
        ]
        target = self._deployment.settings.database
        if target.dialect == "postgresql":
            helpers.append(asyncio.create_task(listen(target.driver_dsn, self._wakeup, stop)))
        poll = POLL_SECONDS[target.dialect]
        try:
            while not stop.is_set():
                pause = await self._turn(poll)
                if pause:
                    await self._wait(stop, pause)
        finally:
            await self._drain()
            for helper in helpers:
                helper.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)

    async def _wait(self, stop: asyncio.Event, seconds: float) -> None:
        stopping = asyncio.ensure_future(stop.wait())
        woken = asyncio.ensure_future(self._wakeup.wait(seconds))
        await asyncio.wait([stopping, woken], return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        woken.cancel()

    async def _turn(self, poll: float) -> float:
        """Record, claim, start; how long to wait before the next turn."""
        free = self._options.concurrency - len(self._in_flight)
        outcomes, self._outcomes = self._outcomes, []
        try:
            async with unit_of_work(self._deployment.db) as unit:
                await self._record(unit.conn, outcomes)
                jobs = await self._claim(unit.conn, free) if free > 0 else []
        except Exception as exc:
            # Kept for the next turn: an outcome is only lost with the process.
            self._outcomes[:0] = outcomes
            self._failures += 1
            pause = min(MAX_BACKOFF_SECONDS, 0.1 * 2.0 ** min(self._failures, 10))
            if is_unavailable(exc):
                log.warning("webhook worker cannot reach the database (%s); retrying in %.1f s",
                            type(exc).__name__, pause)  # fmt: skip
            else:
                log.exception("webhook worker turn failed; retrying in %.1f s", pause)
            return pause
        self._failures = 0
        for job in jobs:
            task = asyncio.create_task(self._deliver(job))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        return 0.0 if free > 0 and len(jobs) == free else poll

    async def _claim(self, conn: Connection, free: int) -> list[Job]:
        now = now_us()
        lease = now + int((self._options.timeout + LEASE_MARGIN_SECONDS) * _US)
        claims = await queue.claim(conn, now, lease, free, PER_ENDPOINT)
        if not claims:
            return []
        found = await queue.events(conn, [c.event_id for c in claims])
        targets = await queue.targets(conn, [c.endpoint_id for c in claims])
        return [Job(c, found[c.event_id], targets[c.endpoint_id]) for c in claims]

    async def _deliver(self, job: Job) -> None:
        attempted = now_us()
        attempt = await self._attempt(job)
        step = after_attempt(
            succeeded=attempt.succeeded,
            gone=attempt.gone,
            retry_after=attempt.retry_after,
            attempts=job.claim.attempts + 1,
            delays=self._options.delays,
            now_us=now_us(),
            rng=self._rng,
        )
        self._outcomes.append(
            Outcome(
                job.claim,
                attempted,
                attempt.status_code,
                attempt.duration_ms,
                attempt.response,
                attempt.error,
                step.status.value,
                step.next_attempt_us,
            )
        )
        _count(job, attempt, step.status)
        self._wakeup.set()

    async def _attempt(self, job: Job) -> Attempt:
        deployment = self._deployment
        links = MediaLinks(
            deployment.media,
            self._options.public_url,
            deployment.settings.media_url_ttl_seconds,
            time.time(),
        )
        body = event_body(job.event, deployment.ids, links)
        target = job.target
        stored = EndpointSecrets(
            target.secret, target.previous_secret, target.previous_secret_expires_us
        )
        try:
            signing = self._secrets.signing(target.id, stored, now_us())
        except ValueError:
            # The endpoint's secret does not open (the deployment's secret key changed).
            log.error("webhook endpoint %s: its signing secret cannot be opened", target.id)
            return Attempt(None, 0, "", "secret", None)
        event_id = event_ids(deployment.ids).show(job.event.id)
        headers = signed_headers(signing, event_id, int(time.time()), body)
        return await self._sender.send(target.url, headers, body)

    async def _record(self, conn: Connection, outcomes: list[Outcome]) -> None:
        if not outcomes:
            return
        await queue.record(conn, outcomes)
        now = now_us()
        succeeded = [o.claim.endpoint_id for o in outcomes if o.status == DeliveryStatus.SUCCEEDED]
        failed = [o.claim.endpoint_id for o in outcomes if o.status != DeliveryStatus.SUCCEEDED]
        await queue.mark_endpoints(conn, succeeded, failed, now)
        for endpoint_id in {o.claim.endpoint_id for o in outcomes if o.status_code == 410}:
            await self._disable(conn, endpoint_id, DisabledReason.GONE, now)
        if failed:
            limit = now - self._options.disable_after_seconds * _US
            for endpoint_id in await queue.failing_since_before(conn, failed, limit):
                await self._disable(conn, endpoint_id, DisabledReason.FAILING, now)

    async def _disable(
        self, conn: Connection, endpoint_id: int, reason: DisabledReason, now: int
    ) -> None:
        if await queue.disable(conn, endpoint_id, reason.value, now):
            await deliveries.fail_pending(conn, endpoint_id)
            log.warning("webhook endpoint %s disabled: %s", endpoint_id, reason.value)

    async def _drain(self) -> None:
        """Let what is in flight finish within the timeout, and record it; what does not
        finish goes back to the queue when its lease runs out."""
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=self._options.timeout + 1)
            for task in set(self._in_flight):
                task.cancel()
        if self._outcomes:
            with contextlib.suppress(Exception):
                async with unit_of_work(self._deployment.db) as unit:
                    await self._record(unit.conn, self._outcomes)
                self._outcomes = []

    async def _every(self, seconds: float, action: _Action, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await action()
            except Exception as exc:
                log.warning("webhook worker: %s failed (%s)", action.__name__, type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), seconds)

    async def _purge(self) -> None:
        """Delete the events older than the retention period, a batch per transaction."""
        before = now_us() - self._options.retention_days * 86_400 * _US
        while True:
            async with unit_of_work(self._deployment.db) as unit:
                purged = await event_log.purge(unit.conn, before, PURGE_BATCH)
            if purged < PURGE_BATCH:
                return

    async def _gauges(self) -> None:
        pending, oldest_us, disabled = await queue.queue_state(self._deployment.db)
        metrics.WEBHOOK_PENDING.set(pending)
        age = 0.0 if oldest_us is None else max(0.0, (now_us() - oldest_us) / _US)
        metrics.WEBHOOK_OLDEST_PENDING.set(age)
        metrics.WEBHOOK_ENDPOINTS_DISABLED.set(disabled)


def _count(job: Job, attempt: Attempt, status: DeliveryStatus) -> None:
    outcome = "retrying" if status is DeliveryStatus.PENDING else status.value
    metrics.WEBHOOK_DELIVERIES.labels(outcome).inc()
    metrics.WEBHOOK_ATTEMPT_SECONDS.observe(attempt.duration_ms / 1000)
    log.info(
        "webhook delivery %s (event %s, endpoint %s, attempt %d): %s in %d ms -> %s",
        job.claim.delivery_id,
        job.event.type,
        job.target.id,
        job.claim.attempts + 1,
        attempt.status_code if attempt.error is None else attempt.error,
        attempt.duration_ms,
        outcome,
    )
