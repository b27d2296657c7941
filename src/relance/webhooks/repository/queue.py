"""The delivery queue as the workers see it: claim what is due, load what to send, record what
came of it.

A claim holds a delivery until its lease ends (`claimed_until_us`, which its `next_attempt_us`
also takes, so that it is not due meanwhile): a worker that dies with it loses it to the next
claim once the lease is over, and the event is sent again with the same ID (at least once). An
endpoint never has more than `per_endpoint` deliveries claimed at once, by all workers
together: on PostgreSQL each claim locks the endpoints it takes from (`FOR UPDATE SKIP
LOCKED`, so that concurrent workers take other endpoints instead of waiting), and counts their
claims under that lock; on SQLite the one writer at a time does the same."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from relance.db import Connection
from relance.db.statements import placeholders, rows_changed
from relance.events.records import StoredEvent

_DUE = "d.status = 'pending' AND d.next_attempt_us <= $1"
_IN_FLIGHT = (
    "(SELECT count(*) FROM webhook_deliveries AS c WHERE c.endpoint_id = w.id"
    " AND c.claimed_until_us > $1)"
)
# The enabled endpoints with a delivery due, the longest waiting first.
_ENDPOINTS = (
    "SELECT w.id FROM webhook_endpoints AS w WHERE w.status = 'enabled' AND EXISTS"
    f" (SELECT 1 FROM webhook_deliveries AS d WHERE d.endpoint_id = w.id AND {_DUE})"
    " ORDER BY (SELECT min(d.next_attempt_us) FROM webhook_deliveries AS d"
    f" WHERE d.endpoint_id = w.id AND {_DUE}) LIMIT $3"
)
_CLAIMED = "RETURNING webhook_deliveries.id, event_id, endpoint_id, attempts, claimed_until_us"
_PG_CLAIM = (
    f"WITH w AS ({_ENDPOINTS} FOR UPDATE OF w SKIP LOCKED),"
    " picked AS (SELECT p.id FROM w CROSS JOIN LATERAL (SELECT d.id FROM webhook_deliveries"
    f" AS d WHERE d.endpoint_id = w.id AND {_DUE} ORDER BY d.next_attempt_us"
    f" LIMIT greatest(0, $4 - {_IN_FLIGHT})) AS p LIMIT $3)"
    " UPDATE webhook_deliveries SET claimed_until_us = $2, next_attempt_us = $2"
    f" FROM picked WHERE webhook_deliveries.id = picked.id {_CLAIMED}"
)


@dataclass(frozen=True, slots=True)
class Claimed:
    delivery_id: int
    event_id: int
    endpoint_id: int
    # Made before this one.
    attempts: int
    # The claim's lease, which only its holder's result may close.
    lease_us: int


async def claim(
    conn: Connection, now_us: int, lease_until_us: int, limit: int, per_endpoint: int
) -> list[Claimed]:
    """Up to `limit` due deliveries, at most `per_endpoint` in flight for each endpoint."""
    if conn.dialect == "postgresql":
        rows = await conn.fetch(_PG_CLAIM, now_us, lease_until_us, limit, per_endpoint)
        return [Claimed(*row) for row in rows]
    picked: list[int] = []
    for (endpoint_id,) in await conn.fetch(_ENDPOINTS, now_us, None, limit):
        in_flight = await conn.fetchval(
            "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1"
            " AND claimed_until_us > $2",
            endpoint_id,
            now_us,
        )
        free = min(per_endpoint - int(in_flight), limit - len(picked))
        if free > 0:
            rows = await conn.fetch(
                f"SELECT d.id FROM webhook_deliveries AS d WHERE d.endpoint_id = $2 AND {_DUE}"
                " ORDER BY d.next_attempt_us LIMIT $3",
                now_us,
                endpoint_id,
                free,
            )
            picked.extend(row[0] for row in rows)
    if not picked:
        return []
    rows = await conn.fetch(
        "UPDATE webhook_deliveries SET claimed_until_us = $1, next_attempt_us = $1"
        f" WHERE id IN ({placeholders(2, len(picked))}) {_CLAIMED}",
        lease_until_us,
        *picked,
    )
    return [Claimed(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class Target:
    """Where, and with which sealed secrets, an endpoint's deliveries are sent."""

    id: int
    company_id: int
    url: str
    status: str
    secret: str
    previous_secret: str | None
    previous_secret_expires_us: int | None


async def targets(conn: Connection, endpoint_ids: Sequence[int]) -> dict[int, Target]:
    ids = sorted(set(endpoint_ids))
    rows = await conn.fetch(
        "SELECT id, company_id, url, status, secret, previous_secret, previous_secret_expires_us"
        f" FROM webhook_endpoints WHERE id IN ({placeholders(1, len(ids))})",
        *ids,
    )
    return {row[0]: Target(*row) for row in rows}


async def events(conn: Connection, event_ids: Sequence[int]) -> dict[int, StoredEvent]:
    ids = sorted(set(event_ids))
    rows = await conn.fetch(
        "SELECT id, company_id, type, created_us, data, changes FROM events"
        f" WHERE id IN ({placeholders(1, len(ids))})",
        *ids,
    )
    return {row[0]: StoredEvent(*row) for row in rows}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What came of one attempt, and what the delivery becomes."""

    claim: Claimed
    attempted_us: int
    status_code: int | None
    duration_ms: int
    response: str
    error: str | None
    # succeeded, pending (a retry at next_attempt_us) or failed.
    status: str
    next_attempt_us: int | None


async def record(conn: Connection, outcomes: Sequence[Outcome]) -> None:
    """Each attempt logged, and its delivery moved on, if its claim is still the one that
    holds it: a claim whose lease ran out belongs to the worker that took it over. A delivery
    made to fail meanwhile (its endpoint was disabled) stays failed unless this one succeeded."""
    await conn.executemany(
        "INSERT INTO webhook_attempts"
        " (delivery_id, attempted_us, status_code, duration_ms, response, error)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        [
            (o.claim.delivery_id, o.attempted_us, o.status_code, o.duration_ms, o.response, o.error)
            for o in outcomes
        ],
    )
    await conn.executemany(
        "UPDATE webhook_deliveries SET attempts = attempts + 1, claimed_until_us = NULL,"
        " last_attempt_us = $3, last_status_code = $4,"
        " status = CASE WHEN status = 'pending' OR CAST($5 AS TEXT) = 'succeeded'"
        " THEN CAST($5 AS TEXT) ELSE status END,"
        " next_attempt_us = CASE WHEN status = 'pending' THEN CAST($6 AS BIGINT) END"
        " WHERE id = $1 AND claimed_until_us = $2",
        [
            (
                o.claim.delivery_id,
                o.claim.lease_us,
                o.attempted_us,
                o.status_code,
                o.status,
                o.next_attempt_us if o.status == "pending" else None,
            )
            for o in outcomes
        ],
    )


async def mark_endpoints(
    conn: Connection, succeeded: Sequence[int], failed: Sequence[int], failed_at_us: int
) -> None:
    """A success ends an endpoint's failing spell; a failure starts one if none is running."""
    if succeeded:
        ids = sorted(set(succeeded))
        await conn.execute(
            "UPDATE webhook_endpoints SET failing_since_us = NULL"
            f" WHERE failing_since_us IS NOT NULL AND id IN ({placeholders(1, len(ids))})",
            *ids,
        )
    if failed:
        ids = sorted(set(failed) - set(succeeded))
        if ids:
            await conn.execute(
                "UPDATE webhook_endpoints SET failing_since_us = $1"
                f" WHERE failing_since_us IS NULL AND id IN ({placeholders(2, len(ids))})",
                failed_at_us,
                *ids,
            )


async def failing_since_before(
    conn: Connection, endpoint_ids: Sequence[int], before_us: int
) -> list[int]:
    """Of these enabled endpoints, those that have failed without a success since before
    `before_us`."""
    ids = sorted(set(endpoint_ids))
    rows = await conn.fetch(
        "SELECT id FROM webhook_endpoints WHERE status = 'enabled' AND failing_since_us < $1"
        f" AND id IN ({placeholders(2, len(ids))})",
        before_us,
        *ids,
    )
    return [row[0] for row in rows]


async def disable(conn: Connection, endpoint_id: int, reason: str, now_us: int) -> bool:
    """Disable an endpoint that is enabled; whether it was."""
    changed = await conn.execute(
        "UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = $2, updated_us = $3"
        " WHERE id = $1 AND status = 'enabled'",
        endpoint_id,
        reason,
        now_us,
    )
    return rows_changed(changed) > 0


async def queue_state(conn: Connection) -> tuple[int, int | None, int]:
    """For the metrics: the pending deliveries, when the oldest of them was made, and the
    disabled endpoints."""
    row = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'),"
        " (SELECT min(created_us) FROM webhook_deliveries WHERE status = 'pending'),"
        " (SELECT count(*) FROM webhook_endpoints WHERE status = 'disabled')"
    )
    assert row is not None
    return int(row[0]), None if row[1] is None else int(row[1]), int(row[2])
