"""Every SQL statement about creditors. Every read is scoped to the company, bound first."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from relance.creditors.records import FIELDS, StoredCreditor, name_key
from relance.db import Connection
from relance.db.statements import placeholders
from relance.kit.readers import moment_of, row_reader

_COLUMNS = tuple(field.name for field in fields(StoredCreditor))
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM creditors"
# The list's page: the creditors with the key they are ordered by.
_SELECT_SORTED = f"SELECT {', '.join(_COLUMNS)}, name_key FROM creditors"
_read = row_reader(
    StoredCreditor, _COLUMNS, _COLUMNS, through={"created_at": moment_of, "updated_at": moment_of}
)


async def ids_by_name(
    conn: Connection, company_id: int, names: list[str], now: datetime
) -> dict[str, int]:
    """The company's creditor of each of these names (compared by name_key), made with that
    name when there is none; their keys by name_key."""
    first = {name_key(name): name for name in reversed(names)}
    keys = sorted(first)
    found: dict[str, int] = {}
    for start in range(0, len(keys), 8_000):
        chunk = keys[start : start + 8_000]
        args = [v for key in chunk for v in (company_id, first[key], key, now, now)]
        # DO UPDATE, not DO NOTHING, so that RETURNING gives the creditors already there too.
        rows = await conn.fetch(
            "INSERT INTO creditors (company_id, name, name_key, created_at, updated_at) VALUES "
            + ", ".join(f"({placeholders(1 + n * 5, 5)})" for n in range(len(chunk)))
            + " ON CONFLICT (company_id, name_key) DO UPDATE SET name_key = excluded.name_key"
            " RETURNING name_key, id",
            *args,
        )
        found.update({str(key): int(creditor_id) for key, creditor_id in rows})
    return found


async def insert_creditor(
    conn: Connection, company_id: int, values: dict[str, Any], now: datetime
) -> int | None:
    """A new creditor of the company; None when one of that name is there already."""
    names = [name for name in FIELDS if name in values]
    found = await conn.fetchval(
        f"INSERT INTO creditors (company_id, name_key, created_at, updated_at, {', '.join(names)})"
        f" VALUES ($1, $2, $3, $3, {placeholders(4, len(names))})"
        " ON CONFLICT (company_id, name_key) DO NOTHING RETURNING id",
        company_id,
        name_key(values["name"]),
        now,
        *(values[name] for name in names),
    )
    return None if found is None else int(found)


async def holder_of_name(conn: Connection, company_id: int, name: str) -> int | None:
    found = await conn.fetchval(
        "SELECT id FROM creditors WHERE company_id = $1 AND name_key = $2",
        company_id,
        name_key(name),
    )
    return None if found is None else int(found)


async def page_of_creditors(
    conn: Connection, company_id: int, limit: int, offset: int
) -> tuple[int, list[StoredCreditor]]:
    """The company's creditors by name, and their count, in one snapshot."""
    rows = await conn.fetch(
        f"SELECT p.*, t.total FROM (SELECT count(*) AS total FROM creditors"
        f" WHERE company_id = $1) AS t LEFT JOIN ({_SELECT_SORTED}"
        f" WHERE company_id = $1 ORDER BY name_key, id LIMIT $2 OFFSET $3) AS p ON 1 = 1"
        f" ORDER BY p.name_key, p.id",
        company_id,
        limit,
        offset,
    )
    # Each row: the creditor's columns, its name_key, then the total.
    total = int(rows[0][len(_COLUMNS) + 1])
    return total, _read([row for row in rows if row[0] is not None])


async def stored_creditor(
    conn: Connection, company_id: int, creditor_id: int, *, lock: bool = False
) -> StoredCreditor | None:
    locked = " FOR UPDATE" if lock and conn.dialect == "postgresql" else ""
    row = await conn.fetchrow(
        f"{_SELECT} WHERE id = $1 AND company_id = $2{locked}", creditor_id, company_id
    )
    return None if row is None else _read([row])[0]


async def totals(conn: Connection, company_id: int, creditor_id: int) -> tuple[int, float]:
    """How many debts the creditor has, and their amounts summed."""
    row = await conn.fetchrow(
        "SELECT count(*), COALESCE(SUM(amount), 0) FROM debts"
        " WHERE company_id = $1 AND creditor_id = $2",
        company_id,
        creditor_id,
    )
    assert row is not None  # an aggregate always answers one row
    return int(row[0]), float(row[1])


async def update_creditor(
    conn: Connection, company_id: int, creditor_id: int, values: dict[str, Any], now: datetime
) -> None:
    """Set these of the creditor's fields (names from FIELDS, never a caller's); a new name
    is also written to its debts' `company`."""
    names = [name for name in FIELDS if name in values]
    if "name" in values:
        values = {**values, "name_key": name_key(values["name"])}
        names.append("name_key")
    assigned = "".join(f", {name} = ${n}" for n, name in enumerate(names, start=4))
    await conn.execute(
        f"UPDATE creditors SET updated_at = $3{assigned} WHERE id = $1 AND company_id = $2",
        creditor_id,
        company_id,
        now,
        *(values[name] for name in names),
    )
    if "name" in values:
        await conn.execute(
            "UPDATE debts SET company_name = $3 WHERE company_id = $1 AND creditor_id = $2",
            company_id,
            creditor_id,
            values["name"],
        )
