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
    secret_version: int


async def find_client(conn: Connection, client_id: str) -> ClientRecord | None:
    row = await conn.fetchrow(
        "SELECT id, client_id, secret_hash, company_id, scopes, revoked_at, secret_version"
        " FROM oauth_clients WHERE client_id = $1",
        client_id,
    )
    if row is None:
        return None
    scopes = tuple(row[4].split())
    return ClientRecord(row[0], row[1], row[2], row[3], scopes, row[5] is not None, row[6])


async def insert_client(
    conn: Connection,
    *,
    client_id: str,
    secret_hash: str,
    company_id: int,
    scopes: tuple[str, ...],
    name: str | None,
    now: datetime,
    read_limit: int | None = None,
    write_limit: int | None = None,
) -> int:
    return int(
        await conn.fetchval(
            "INSERT INTO oauth_clients (client_id, secret_hash, company_id, scopes, name,"
            " read_limit, write_limit, created_at, updated_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
            client_id,
            secret_hash,
            company_id,
            " ".join(scopes),
            name,
            read_limit,
            write_limit,
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


@dataclass(frozen=True, slots=True)
class ClientListing:
    client_id: str
    company_id: int
    name: str | None
    scopes: str
    created_at: datetime | str
    revoked_at: datetime | str | None
    read_limit: int | None
    write_limit: int | None


_LISTING = (
    "SELECT client_id, company_id, name, scopes, created_at, revoked_at, read_limit, write_limit"
    " FROM oauth_clients"
)


async def list_clients(conn: Connection, company_id: int | None) -> list[ClientListing]:
    if company_id is None:
        rows = await conn.fetch(f"{_LISTING} ORDER BY id")
    else:
        rows = await conn.fetch(f"{_LISTING} WHERE company_id = $1 ORDER BY id", company_id)
    return [ClientListing(*row) for row in rows]


async def revoke_client(conn: Connection, client_id: str, now: datetime) -> bool:
    """True if the client existed; revoking twice keeps the first revocation's time."""
    found = await conn.fetchval(
        "UPDATE oauth_clients SET revoked_at = coalesce(revoked_at, $2), updated_at = $2"
        " WHERE client_id = $1 RETURNING id",
        client_id,
        now,
    )
    return found is not None


async def replace_secret(conn: Connection, client_id: str, secret_hash: str, now: datetime) -> bool:
    """True if a live client took the new secret; its older tokens stop being accepted."""
    found = await conn.fetchval(
        "UPDATE oauth_clients SET secret_hash = $2, secret_version = secret_version + 1,"
        " updated_at = $3 WHERE client_id = $1 AND revoked_at IS NULL RETURNING id",
        client_id,
        secret_hash,
        now,
    )
    return found is not None


@dataclass(frozen=True, slots=True)
class ClientStanding:
    """What decides whether a client's tokens are still good."""

    revoked: bool
    secret_version: int
    # The client's own rate limits; None follows the deployment's defaults.
    read_limit: int | None
    write_limit: int | None


async def client_standing(conn: Connection, client_id: str) -> ClientStanding | None:
    row = await conn.fetchrow(
        "SELECT revoked_at, secret_version, read_limit, write_limit FROM oauth_clients"
        " WHERE client_id = $1",
        client_id,
    )
    return None if row is None else ClientStanding(row[0] is not None, int(row[1]), row[2], row[3])


async def set_limits(
    conn: Connection, client_id: str, read_limit: int | None, write_limit: int | None, now: datetime
) -> bool:
    """True if the client exists; None puts a limit back on the deployment's default."""
    found = await conn.fetchval(
        "UPDATE oauth_clients SET read_limit = $2, write_limit = $3, updated_at = $4"
        " WHERE client_id = $1 RETURNING id",
        client_id,
        read_limit,
        write_limit,
        now,
    )
    return found is not None


async def signing_versions(conn: Connection) -> list[int]:
    """Every token signing key version; version 1 exists from the start, unrecorded."""
    rows = await conn.fetch("SELECT version FROM token_signing_keys")
    return sorted({1, *(int(row[0]) for row in rows)})


async def add_signing_version(conn: Connection, now: datetime) -> int:
    newest = int(await conn.fetchval("SELECT coalesce(max(version), 1) FROM token_signing_keys"))
    await conn.execute(
        "INSERT INTO token_signing_keys (version, created_at) VALUES ($1, $2)", newest + 1, now
    )
    return newest + 1
