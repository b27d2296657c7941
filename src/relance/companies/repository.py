"""Every SQL statement about companies."""

from __future__ import annotations

from datetime import datetime

from relance.db import Connection


async def insert_company(conn: Connection, name: str, now: datetime) -> int:
    return int(
        await conn.fetchval(
            "INSERT INTO companies (name, created_at, updated_at) VALUES ($1, $2, $2) RETURNING id",
            name,
            now,
        )
    )


async def company_exists(conn: Connection, company_id: int) -> bool:
    return bool(await conn.fetchval("SELECT count(*) FROM companies WHERE id = $1", company_id))


async def find_company_by_name(conn: Connection, name: str) -> int | None:
    value = await conn.fetchval(
        "SELECT id FROM companies WHERE name = $1 ORDER BY id LIMIT 1", name
    )
    return None if value is None else int(value)
