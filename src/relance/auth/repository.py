"""Every SQL statement about OAuth clients."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from relance.db import Connection


@dataclass(frozen=True, slots=True)
class ClientRecord:
    id: int
    client_id: str
    secret_hash: str
    company_id: int
    scopes: tuple[str, ...]
    revoked: bool


async def find_client(conn: Connection, client_id: str) -> ClientRecord | None:
    row = await conn.fetchrow(
        "SELECT id, client_id, secret_hash, company_id, scopes, revoked_at"
        " FROM oauth_clients WHERE client_id = $1",
        client_id,
    )
    if row is None:
        return None
    return ClientRecord(row[0], row[1], row[2], row[3], tuple(row[4].split()), row[5] is not None)


async def insert_client(
    conn: Connection,
    *,
    client_id: str,
    secret_hash: str,
    company_id: int,
    scopes: tuple[str, ...],
    name: str | None,
    now: datetime,
) -> int:
    return int(
        await conn.fetchval(
            "INSERT INTO oauth_clients"
            " (client_id, secret_hash, company_id, scopes, name, created_at, updated_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
            client_id,
            secret_hash,
            company_id,
            " ".join(scopes),
            name,
            now,
        )
    )


async def first_client_of(conn: Connection, company_id: int) -> str | None:
    value = await conn.fetchval(
        "SELECT client_id FROM oauth_clients WHERE company_id = $1 AND revoked_at IS NULL"
        " ORDER BY id LIMIT 1",
        company_id,
    )
    return None if value is None else str(value)
