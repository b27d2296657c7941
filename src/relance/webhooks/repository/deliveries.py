"""Deliveries and their attempts as the API shows them, and the changes a caller asks of them:
a retry, a recovery, the failure of what a disabled endpoint was owed."""

from __future__ import annotations

from dataclasses import dataclass

from relance.db import Connection
from relance.db.statements import placeholders, rows_changed
from relance.webhooks.records import StoredAttempt, StoredDelivery

_COLUMNS = (
    "d.id, d.company_id, d.event_id, e.type, d.endpoint_id, d.status, d.attempts,"
    " d.next_attempt_us, d.last_attempt_us, d.last_status_code, d.created_us"
)
_FROM = "FROM webhook_deliveries AS d JOIN events AS e ON e.id = d.event_id"


@dataclass(frozen=True, slots=True)
class DeliveryQuery:
    company_id: int
    endpoint_id: int
    status: str | None = None
    types: tuple[str, ...] = ()
    before_id: int | None = None


async def deliveries_page(
    conn: Connection, query: DeliveryQuery, limit: int
) -> list[StoredDelivery]:
    """Up to `limit` + 1 of an endpoint's deliveries, newest first."""
    where = ["d.endpoint_id = $1", "d.company_id = $2"]
    args: list[object] = [query.endpoint_id, query.company_id]
    if query.status is not None:
        args.append(query.status)
        where.append(f"d.status = ${len(args)}")
    if query.types:
        where.append(f"e.type IN ({placeholders(len(args) + 1, len(query.types))})")
        args.extend(query.types)
    if query.before_id is not None:
        args.append(query.before_id)
        where.append(f"d.id < ${len(args)}")
    args.append(limit + 1)
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} {_FROM} WHERE {' AND '.join(where)}"
        f" ORDER BY d.id DESC LIMIT ${len(args)}",
        *args,
    )
    return [StoredDelivery(*row) for row in rows]


async def stored_delivery(
    conn: Connection, company_id: int, delivery_id: int
) -> StoredDelivery | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} {_FROM} WHERE d.id = $1 AND d.company_id = $2", delivery_id, company_id
    )
    return None if row is None else StoredDelivery(*row)


async def attempts_of(conn: Connection, delivery_id: int) -> list[StoredAttempt]:
    """Every attempt of a delivery, oldest first."""
    rows = await conn.fetch(
        "SELECT attempted_us, status_code, duration_ms, response, error FROM webhook_attempts"
        " WHERE delivery_id = $1 ORDER BY id",
        delivery_id,
    )
    return [StoredAttempt(*row) for row in rows]


async def retry_now(conn: Connection, delivery_id: int, now_us: int) -> None:
    """Make a delivery due now: one more attempt, whatever came before (a claimed one keeps
    its claim, so that it is never sent twice at once)."""
    await conn.execute(
        "UPDATE webhook_deliveries SET status = 'pending',"
        " next_attempt_us = CASE WHEN claimed_until_us > $2 THEN next_attempt_us ELSE $2 END"
        " WHERE id = $1",
        delivery_id,
        now_us,
    )


async def fail_pending(conn: Connection, endpoint_id: int) -> int:
    """A disabled endpoint is owed nothing: its pending deliveries fail (recover re-sends them)."""
    return rows_changed(
        await conn.execute(
            "UPDATE webhook_deliveries SET status = 'failed', next_attempt_us = NULL"
            " WHERE endpoint_id = $1 AND status = 'pending'",
            endpoint_id,
        )
    )


async def recover(
    conn: Connection, company_id: int, endpoint_id: int, since_us: int, now_us: int
) -> int:
    """Re-queue the endpoint's deliveries that failed since `since_us`, and make those it was
    never sent (its events while it was disabled, or before it subscribed to their type):
    how many are now due."""
    requeued = rows_changed(
        await conn.execute(
            "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_us = $3"
            " WHERE endpoint_id = $1 AND status = 'failed' AND created_us >= $2",
            endpoint_id,
            since_us,
            now_us,
        )
    )
    made = rows_changed(
        await conn.execute(
            "INSERT INTO webhook_deliveries"
            " (company_id, event_id, endpoint_id, status, attempts, next_attempt_us, created_us)"
            " SELECT e.company_id, e.id, w.id, 'pending', 0, $4, $4 FROM events AS e"
            " JOIN webhook_endpoints AS w ON w.id = $2 AND w.company_id = e.company_id"
            " AND (w.enabled_events = ' * ' OR w.enabled_events LIKE '% ' || e.type || ' %')"
            " WHERE e.company_id = $1 AND e.created_us >= $3 AND e.type <> 'webhook.test'"
            " AND NOT EXISTS"
            " (SELECT 1 FROM webhook_deliveries AS o WHERE o.event_id = e.id"
            " AND o.endpoint_id = w.id)",
            company_id,
            endpoint_id,
            since_us,
            now_us,
        )
    )
    return requeued + made
