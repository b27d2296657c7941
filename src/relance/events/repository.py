"""The statements of the event log: events recorded with the write that made them, each fanned
out in the same statement to a delivery per endpoint that subscribes to it; events read back,
newest first; and the retention purge."""

# Statements assembled from fixed fragments and $n placeholders, never caller text (as in
# every *repository.py, which pyproject.toml's per-file ignores name).

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from relance.db import Connection
from relance.db.statements import placeholders, rows_changed
from relance.events.records import NewEvent, StoredEvent

# Workers LISTEN here: a NOTIFY made in a transaction is sent when, and only if, it commits.
CHANNEL = "relance_webhooks"
_COLUMNS = "id, company_id, type, created_us, data, changes"
# The endpoints of the event's company that want it; `enabled_events` is " a b " or " * ".
_SUBSCRIBED = (
    "JOIN webhook_endpoints AS w ON w.company_id = e.company_id AND w.status = 'enabled'"
    " AND (w.enabled_events = ' * ' OR w.enabled_events LIKE '% ' || e.type || ' %')"
)
_DELIVERIES = (
    "INSERT INTO webhook_deliveries"
    " (company_id, event_id, endpoint_id, status, attempts, next_attempt_us, created_us)"
    " SELECT e.company_id, e.id, w.id, 'pending', 0, e.created_us, e.created_us FROM"
)
_PG_RECORD = (
    "WITH e AS (INSERT INTO events (company_id, type, created_us, data, changes)"
    " SELECT $1, t, $2, d, c FROM unnest($3::text[], $4::text[], $5::text[]) AS x(t, d, c)"
    " RETURNING id, company_id, type, created_us),"
    f" d AS ({_DELIVERIES} e {_SUBSCRIBED} RETURNING 1)"
    f" SELECT CASE WHEN count(*) > 0 THEN pg_notify('{CHANNEL}', '') END, count(*) FROM d"
)
_SQLITE_INSERT = (
    "INSERT INTO events (company_id, type, created_us, data, changes) VALUES ($1, $2, $3, $4, $5)"
)
_SQLITE_FAN_OUT = f"{_DELIVERIES} events AS e {_SUBSCRIBED} WHERE e.id > $1"


async def record(
    conn: Connection, company_id: int, events: Sequence[NewEvent], created_us: int
) -> int:
    """Record the company's events, and a delivery of each to every endpoint subscribed to
    it; the deliveries made."""
    if not events:
        return 0
    texts = [(e.type.value, e.data.decode(), _text(e.changes)) for e in events]
    if conn.dialect == "postgresql":
        types, data, changes = zip(*texts, strict=True)
        row = await conn.fetchrow(
            _PG_RECORD, company_id, created_us, list(types), list(data), list(changes)
        )
        return int(row[1]) if row is not None else 0
    # SQLite holds the write lock for the whole transaction: the events it inserts take the
    # keys that follow the largest, and no other writer's come between.
    last = await conn.fetchval("SELECT coalesce(max(id), 0) FROM events")
    await conn.executemany(_SQLITE_INSERT, [(company_id, t, created_us, d, c) for t, d, c in texts])
    return rows_changed(await conn.execute(_SQLITE_FAN_OUT, last))


async def record_for(
    conn: Connection, company_id: int, event: NewEvent, created_us: int, endpoint_id: int
) -> int:
    """Record one event with a delivery to one endpoint only (a test event); the delivery's
    key."""
    event_id = int(
        await conn.fetchval(
            _SQLITE_INSERT + " RETURNING id",
            company_id,
            event.type.value,
            created_us,
            event.data.decode(),
            _text(event.changes),
        )
    )
    delivery_id = await conn.fetchval(
        "INSERT INTO webhook_deliveries"
        " (company_id, event_id, endpoint_id, status, attempts, next_attempt_us, created_us)"
        " VALUES ($1, $2, $3, 'pending', 0, $4, $4) RETURNING id",
        company_id,
        event_id,
        endpoint_id,
        created_us,
    )
    await notify(conn)
    return int(delivery_id)


async def notify(conn: Connection) -> None:
    """Wake the workers once the transaction commits (PostgreSQL; on SQLite they poll)."""
    if conn.dialect == "postgresql":
        await conn.execute(f"SELECT pg_notify('{CHANNEL}', '')")


def _text(changes: bytes | None) -> str | None:
    return None if changes is None else changes.decode()


@dataclass(frozen=True, slots=True)
class EventQuery:
    company_id: int
    since_us: int
    types: tuple[str, ...] = ()
    created_gte_us: int | None = None
    created_lte_us: int | None = None
    before_id: int | None = None


async def events_page(conn: Connection, query: EventQuery, limit: int) -> list[StoredEvent]:
    """Up to `limit` + 1 of the company's events, newest first (the one more says there are
    more)."""
    where = ["company_id = $1", "created_us >= $2"]
    args: list[object] = [query.company_id, query.since_us]

    def bind(value: object) -> str:
        args.append(value)
        return f"${len(args)}"

    if query.types:
        first = len(args) + 1
        args.extend(query.types)
        where.append(f"type IN ({placeholders(first, len(query.types))})")
    if query.created_gte_us is not None:
        where.append(f"created_us >= {bind(query.created_gte_us)}")
    if query.created_lte_us is not None:
        where.append(f"created_us <= {bind(query.created_lte_us)}")
    if query.before_id is not None:
        where.append(f"id < {bind(query.before_id)}")
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM events WHERE {' AND '.join(where)}"
        f" ORDER BY id DESC LIMIT {bind(limit + 1)}",
        *args,
    )
    return [StoredEvent(*row) for row in rows]


async def stored_event(
    conn: Connection, company_id: int, event_id: int, since_us: int
) -> StoredEvent | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM events WHERE id = $1 AND company_id = $2 AND created_us >= $3",
        event_id,
        company_id,
        since_us,
    )
    return None if row is None else StoredEvent(*row)


async def purge(conn: Connection, before_us: int, limit: int) -> int:
    """Delete up to `limit` of the oldest events older than `before_us`, with their deliveries
    and attempts; how many events went."""
    oldest = f"SELECT id FROM events WHERE created_us < $1 ORDER BY created_us LIMIT {int(limit)}"
    await conn.execute(
        "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries"
        f" WHERE event_id IN ({oldest}))",
        before_us,
    )
    await conn.execute(f"DELETE FROM webhook_deliveries WHERE event_id IN ({oldest})", before_us)
    return rows_changed(await conn.execute(f"DELETE FROM events WHERE id IN ({oldest})", before_us))
