"""Every SQL statement about idempotency keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from relance.db import Connection


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    fingerprint: str
    status: int
    body: bytes


async def claim(
    conn: Connection, client_id: str, key: str, fingerprint: str, now: datetime, expired: datetime
) -> int | None:
    """Take the key for this request, or None if a live request holds it already. Concurrent
    claims of one key wait for each other on the unique index: one wins, the others see it."""
    # The client's expired keys go first, so that a key may be used again after a day; keeping
    # to one client keeps concurrent writers of different clients from waiting on each other.
    await conn.execute(
        "DELETE FROM idempotency_keys WHERE client_id = $1 AND created_at < $2", client_id, expired
    )
    claimed = await conn.fetchval(
        "INSERT INTO idempotency_keys (client_id, key, fingerprint, created_at)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT (client_id, key) DO NOTHING RETURNING id",
        client_id,
        key,
        fingerprint,
        now,
    )
    return None if claimed is None else int(claimed)


async def record(conn: Connection, claimed: int, status: int, body: bytes) -> None:
    await conn.execute(
        "UPDATE idempotency_keys SET status = $2, body = $3 WHERE id = $1", claimed, status, body
    )


async def find(conn: Connection, client_id: str, key: str) -> StoredAnswer | None:
    row = await conn.fetchrow(
        "SELECT fingerprint, status, body FROM idempotency_keys WHERE client_id = $1 AND key = $2",
        client_id,
        key,
    )
    if row is None or row[1] is None:
        return None
    return StoredAnswer(row[0], int(row[1]), bytes(row[2]))
