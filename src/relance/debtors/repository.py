"""Every SQL statement about debtors. Every read is scoped to the company, bound first."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from relance.db import Connection
from relance.db.statements import placeholders
from relance.debtors.records import FACT_FIELDS, DebtorFacts, DebtorTotals, StoredDebtor
from relance.kit.readers import day_of, moment_of, row_reader

_COLUMNS = tuple(field.name for field in fields(StoredDebtor))
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM debtors"
# SQLite hands back text for days and moments.
_read = row_reader(
    StoredDebtor,
    _COLUMNS,
    _COLUMNS,
    through={
        "date_of_birth": day_of,
        **dict.fromkeys(("first_seen_at", "last_seen_at", "updated_at"), moment_of),
    },
)
# A debt write fills what the debtor lacks, and moves when it was last seen.
_FILL = ", ".join(f"{name} = COALESCE(debtors.{name}, excluded.{name})" for name in FACT_FIELDS)
_ROW = len(FACT_FIELDS) + 5


async def upsert(
    conn: Connection, company_id: int, debtors: dict[str, DebtorFacts], now: datetime
) -> dict[str, int]:
    """The company's debtor of each match key, made when there is none, its missing fields
    filled from the facts given; their keys by match key."""
    keys = sorted(debtors)
    if conn.dialect == "postgresql":
        return await _upsert_arrays(conn, company_id, keys, debtors, now)
    found: dict[str, int] = {}
    # SQLite binds at most 32,766 parameters a statement.
    for start in range(0, len(keys), 32_000 // _ROW):
        chunk = keys[start : start + 32_000 // _ROW]
        args: list[Any] = []
        for key in chunk:
            facts = debtors[key]
            args += [company_id, key, *(getattr(facts, n) for n in FACT_FIELDS), now, now, now]
        rows = await conn.fetch(
            f"INSERT INTO debtors (company_id, match_key, {', '.join(FACT_FIELDS)},"
            " first_seen_at, last_seen_at, updated_at) VALUES "
            + ", ".join(f"({placeholders(1 + n * _ROW, _ROW)})" for n in range(len(chunk)))
            + f" ON CONFLICT (company_id, match_key) DO UPDATE SET {_FILL},"
            " last_seen_at = excluded.last_seen_at RETURNING match_key, id",
            *args,
        )
        found.update({str(key): int(debtor_id) for key, debtor_id in rows})
    return found


# Each fact's column type, for the arrays PostgreSQL unnests.
_ARRAY_TYPES = ("text", "text", "text", "text", "text", "date")


async def _upsert_arrays(
    conn: Connection,
    company_id: int,
    keys: list[str],
    debtors: dict[str, DebtorFacts],
    now: datetime,
) -> dict[str, int]:
    """upsert on PostgreSQL: the facts as one array a column, in one statement, whatever the
    count (a statement of thousands of placeholders costs more to plan than to run)."""
    columns = [[getattr(debtors[key], name) for key in keys] for name in FACT_FIELDS]
    arrays = ", ".join(f"${n}::{kind}[]" for n, kind in enumerate(_ARRAY_TYPES, start=4))
    rows = await conn.fetch(
        f"INSERT INTO debtors (company_id, match_key, {', '.join(FACT_FIELDS)},"
        " first_seen_at, last_seen_at, updated_at)"
        f" SELECT $1, k, {', '.join(f'u.{n}' for n in FACT_FIELDS)}, $3, $3, $3"
        f" FROM unnest($2::text[], {arrays}) AS u(k, {', '.join(FACT_FIELDS)})"
        f" ON CONFLICT (company_id, match_key) DO UPDATE SET {_FILL},"
        " last_seen_at = excluded.last_seen_at RETURNING match_key, id",
        company_id,
        keys,
        now,
        *columns,
    )
    return {str(key): int(debtor_id) for key, debtor_id in rows}


async def remove_unowed(conn: Connection, company_id: int, debtor_ids: set[int]) -> None:
    """Delete those of these debtors who owe no debt any more (their last one moved to another
    debtor, or was deleted)."""
    if not debtor_ids:
        return
    listed = sorted(debtor_ids)
    if conn.dialect == "postgresql":
        # Locked first, so that the check below, a statement of its own, sees a debt that a
        # write holding the debtor was adding (the delete would otherwise break its link).
        await conn.execute(
            f"SELECT id FROM debtors WHERE company_id = $1 AND id IN"
            f" ({placeholders(2, len(listed))}) ORDER BY id FOR UPDATE",
            company_id,
            *listed,
        )
    await conn.execute(
        f"DELETE FROM debtors WHERE company_id = $1 AND id IN ({placeholders(2, len(listed))})"
        " AND NOT EXISTS (SELECT 1 FROM debts WHERE debts.debtor_id = debtors.id)",
        company_id,
        *listed,
    )


async def page_of_debtors(
    conn: Connection, company_id: int, limit: int, offset: int
) -> tuple[int, list[StoredDebtor]]:
    """The company's debtors, first seen first, and their count, in one snapshot."""
    rows = await conn.fetch(
        f"SELECT p.*, t.total FROM (SELECT count(*) AS total FROM debtors WHERE company_id = $1)"
        f" AS t LEFT JOIN ({_SELECT} WHERE company_id = $1 ORDER BY first_seen_at, id"
        f" LIMIT $2 OFFSET $3) AS p ON 1 = 1 ORDER BY p.first_seen_at, p.id",
        company_id,
        limit,
        offset,
    )
    total = int(rows[0][len(_COLUMNS)])
    return total, _read([row for row in rows if row[0] is not None])


async def stored_debtor(
    conn: Connection, company_id: int, debtor_id: int, *, lock: bool = False
) -> StoredDebtor | None:
    locked = " FOR UPDATE" if lock and conn.dialect == "postgresql" else ""
    row = await conn.fetchrow(
        f"{_SELECT} WHERE id = $1 AND company_id = $2{locked}", debtor_id, company_id
    )
    return None if row is None else _read([row])[0]


async def totals(conn: Connection, company_id: int, debtor_id: int) -> DebtorTotals:
    row = await conn.fetchrow(
        "SELECT COALESCE(SUM(amount), 0),"
        " COALESCE(SUM(CASE WHEN status IN ($3, $4) THEN amount ELSE 0 END), 0), count(*)"
        " FROM debts WHERE company_id = $1 AND debtor_id = $2",
        company_id,
        debtor_id,
        "status.default.paid",
        "status.default.settled",
    )
    assert row is not None  # an aggregate always answers one row
    return DebtorTotals(float(row[0]), float(row[1]), int(row[2]))


async def update_debtor(
    conn: Connection, company_id: int, debtor_id: int, values: dict[str, Any], now: datetime
) -> None:
    """Set these of the debtor's fields (names from FACT_FIELDS, never a caller's)."""
    names = [name for name in FACT_FIELDS if name in values]
    assigned = "".join(f", {name} = ${n}" for n, name in enumerate(names, start=4))
    await conn.execute(
        f"UPDATE debtors SET updated_at = $3{assigned} WHERE id = $1 AND company_id = $2",
        debtor_id,
        company_id,
        now,
        *(values[name] for name in names),
    )
