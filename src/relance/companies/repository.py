"""Every SQL statement about companies. A company is read by its own key: the caller's token
names it, so that no other company is ever read for it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from relance.companies.records import COMPANY_FIELDS, READ_THROUGH, StoredCompany
from relance.db import Connection
from relance.kit.readers import row_reader

_SELECT = f"SELECT {', '.join(COMPANY_FIELDS)} FROM companies"
_read = row_reader(StoredCompany, COMPANY_FIELDS, COMPANY_FIELDS, through=READ_THROUGH)
# What `update_company` may set, so that only these names ever reach its statement.
CHANGEABLE = ("name", "email", "phone")


async def insert_company(
    conn: Connection,
    name: str,
    now: datetime,
    *,
    email: str | None = None,
    phone: str | None = None,
) -> int:
    return int(
        await conn.fetchval(
            "INSERT INTO companies (name, email, phone, created_at, updated_at)"
            " VALUES ($1, $2, $3, $4, $4) RETURNING id",
            name,
            email,
            phone,
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


async def stored_company(conn: Connection, company_id: int) -> StoredCompany | None:
    row = await conn.fetchrow(f"{_SELECT} WHERE id = $1", company_id)
    return None if row is None else _read([row])[0]


async def every_company(conn: Connection) -> list[StoredCompany]:
    """The deployment's companies, oldest first: for its operator, never for the API."""
    return _read(await conn.fetch(f"{_SELECT} ORDER BY id"))


async def update_company(
    conn: Connection, company_id: int, changes: Mapping[str, str | None], now: datetime
) -> bool:
    """Set the fields given (of CHANGEABLE); False when there is no such company."""
    unknown = set(changes) - set(CHANGEABLE)
    if unknown:
        raise ValueError(f"not a changeable field of a company: {', '.join(sorted(unknown))}")
    names = list(changes)
    assignments = ", ".join(f"{name} = ${n}" for n, name in enumerate(names, start=3))
    found = await conn.fetchval(
        f"UPDATE companies SET updated_at = $2{', ' if names else ''}{assignments}"
        " WHERE id = $1 RETURNING id",
        company_id,
        now,
        *(changes[name] for name in names),
    )
    return found is not None
