"""Every SQL statement about debts. Every read is scoped to the company, bound first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from operator import attrgetter, itemgetter
from typing import Any

from relance.db import Connection, Row
from relance.db.statements import placeholders
from relance.debts.records import READ_THROUGH, RECORD_FIELDS, STORED_FIELDS, DebtRecord, StoredDebt
from relance.debts.schemas import DebtFilters
from relance.kit.readers import row_reader

_INSERT = (
    f"INSERT INTO debts (company_id, {', '.join(RECORD_FIELDS)}, created_at, updated_at)"
    f" VALUES ({', '.join(f'${n}' for n in range(1, len(RECORD_FIELDS) + 4))}) RETURNING id"
)
# An import's row updates the debt it made before, found by the caller's external ID; the
# tallies and status belong to the debt's life since, and are kept, as are the fields no
# write of Relance sets.
_KEPT_ON_UPDATE = frozenset(
    {
        "followups_count",
        "nb_reminders",
        "nb_answered",
        "status",
        "summary",
        "last_timeline_restart",
        "payment_plan_active",
        "plan_start_date",
    }
)
_UPSERT = (
    _INSERT.removesuffix(" RETURNING id")
    + " ON CONFLICT (company_id, external_id) WHERE external_id IS NOT NULL DO UPDATE SET "
    + ", ".join(
        f"{name} = excluded.{name}" for name in RECORD_FIELDS if name not in _KEPT_ON_UPDATE
    )
    + ", updated_at = excluded.updated_at"
)
_SELECT = f"SELECT {', '.join(STORED_FIELDS)} FROM debts"
_ORDER = "ORDER BY created_at DESC, id DESC"
# A page's rows: the debt, then the page's total.
_PAGE_COLUMNS = (*STORED_FIELDS, "total")
_total_of = itemgetter(_PAGE_COLUMNS.index("total"))
_id_of = itemgetter(_PAGE_COLUMNS.index("id"))
_read = row_reader(StoredDebt, STORED_FIELDS, STORED_FIELDS, through=READ_THROUGH, by_keyword=True)
_values_of = attrgetter(*RECORD_FIELDS)


async def insert_debt(conn: Connection, company_id: int, debt: DebtRecord, now: datetime) -> int:
    return int(await conn.fetchval(_INSERT, *_insert_args(company_id, debt, now)))


def _insert_args(company_id: int, debt: DebtRecord, now: datetime) -> tuple[Any, ...]:
    return (company_id, *_values_of(debt), now, now)


async def stored_debt(conn: Connection, company_id: int, debt_id: int) -> StoredDebt | None:
    row = await conn.fetchrow(f"{_SELECT} WHERE id = $1 AND company_id = $2", debt_id, company_id)
    return None if row is None else _read([row])[0]


async def locked_debt(conn: Connection, company_id: int, debt_id: int) -> StoredDebt | None:
    """The company's debt, locked until the transaction ends (SQLite's write lock already
    covers the whole transaction)."""
    lock = " FOR UPDATE" if conn.dialect == "postgresql" else ""
    row = await conn.fetchrow(
        f"{_SELECT} WHERE id = $1 AND company_id = $2{lock}", debt_id, company_id
    )
    return None if row is None else _read([row])[0]


async def update_debt(
    conn: Connection, company_id: int, debt_id: int, values: dict[str, Any], now: datetime
) -> None:
    """Set these of the debt's record fields (names from DebtRecord, never a caller's)."""
    names = [name for name in RECORD_FIELDS if name in values]
    assigned = ", ".join(f"{name} = ${n}" for n, name in enumerate(names, start=4))
    await conn.execute(
        f"UPDATE debts SET updated_at = $3, {assigned} WHERE id = $1 AND company_id = $2",
        debt_id,
        company_id,
        now,
        *(values[name] for name in names),
    )


async def record_status_change(
    conn: Connection,
    company_id: int,
    debt_id: int,
    moved: tuple[str, str],
    at: datetime,
    client_id: str | None,
) -> None:
    await conn.execute(
        "INSERT INTO debt_status_changes"
        " (company_id, debt_id, from_status, to_status, changed_at, client_id)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        company_id,
        debt_id,
        *moved,
        at,
        client_id,
    )


async def holder_of_internal_id(conn: Connection, company_id: int, internal_id: str) -> int | None:
    """The company's debt that carries this internal ID, if one does (it is unique)."""
    found = await conn.fetchval(
        "SELECT id FROM debts WHERE company_id = $1 AND internal_id = $2", company_id, internal_id
    )
    return None if found is None else int(found)


async def debt_exists(conn: Connection, company_id: int, debt_id: int) -> bool:
    found = await conn.fetchval(
        "SELECT 1 FROM debts WHERE id = $1 AND company_id = $2", debt_id, company_id
    )
    return found is not None


async def page_of_debts(
    conn: Connection, company_id: int, filters: DebtFilters, limit: int, offset: int
) -> tuple[int, list[StoredDebt]]:
    """The company's debts the filters keep (of one debtor or creditor if they name one),
    newest first, and their exact count, read in one snapshot."""
    conditions, args = _conditions(conn.dialect, filters, first=4)
    where = " AND ".join(["company_id = $1", *conditions])
    rows = await conn.fetch(
        f"SELECT p.*, t.total FROM (SELECT count(*) AS total FROM debts WHERE {where}) AS t"
        f" LEFT JOIN ({_SELECT} WHERE {where} {_ORDER} LIMIT $2 OFFSET $3) AS p ON 1 = 1"
        f" ORDER BY p.created_at DESC, p.id DESC",
        company_id,
        limit,
        offset,
        *args,
    )
    # The outer join always yields one row, with a null debt when the page is empty.
    return int(_total_of(rows[0])), _read([row for row in rows if _id_of(row) is not None])


# Each filter's condition, `{}` standing for its placeholder.
_EQUAL = ("debtor_id", "creditor_id", "status", "internal_id", "invoice_reference", "currency")
_BOUNDS = {
    "min_amount": "amount >= {}",
    "max_amount": "amount <= {}",
    "created_after": "created_at >= {}",
    "created_before": "created_at < {}",
}
# GetBill's amount_text: the amount with its two decimals (SQLite keeps a number, not text).
_AMOUNT_TEXT = {"postgresql": "CAST(amount AS TEXT)", "sqlite": "printf('%.2f', amount)"}


def _conditions(dialect: str, filters: DebtFilters, first: int) -> tuple[list[str], list[Any]]:
    """The SQL conditions of the filters given, numbered from placeholder `first`, and their
    values."""
    conditions: list[str] = []
    args: list[Any] = []
    for name in (*_EQUAL, *_BOUNDS):
        value = getattr(filters, name)
        if value is not None:
            args.append(value.value if name == "status" else value)
            shape = _BOUNDS.get(name, f"{name} = {{}}")
            conditions.append(shape.format(f"${first + len(args) - 1}"))
    if filters.search is not None:
        args.append(f"%{_escaped(filters.search.lower())}%")
        n = f"${first + len(args) - 1}"
        amount_text = _AMOUNT_TEXT[dialect]
        conditions.append(
            f"(lower(internal_id) LIKE {n} ESCAPE '\\' OR {amount_text} LIKE {n} ESCAPE '\\')"
        )
    return conditions, args


def _escaped(text: str) -> str:
    """`text` matched as itself by LIKE: its wildcards and the escape character escaped."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def add_tallies(
    conn: Connection, company_id: int, changes: list[tuple[int, tuple[int, int, int]]]
) -> None:
    """Move debts' followup tallies, given as (debt_id, (followups_count, nb_reminders,
    nb_answered)) changes."""
    if not changes:
        return
    if conn.dialect == "postgresql":
        ids, counts, reminders, answered = zip(
            *((debt_id, *tallies) for debt_id, tallies in changes), strict=True
        )
        await conn.execute(
            "UPDATE debts AS d SET followups_count = d.followups_count + u.c,"
            " nb_reminders = d.nb_reminders + u.r, nb_answered = d.nb_answered + u.a"
            " FROM unnest($2::bigint[], $3::int[], $4::int[], $5::int[]) AS u(id, c, r, a)"
            " WHERE d.id = u.id AND d.company_id = $1",
            company_id,
            list(ids),
            list(counts),
            list(reminders),
            list(answered),
        )
        return
    await conn.executemany(
        "UPDATE debts SET followups_count = followups_count + $3,"
        " nb_reminders = nb_reminders + $4, nb_answered = nb_answered + $5"
        " WHERE id = $1 AND company_id = $2",
        [(debt_id, company_id, *tallies) for debt_id, tallies in changes],
    )


async def existing_ids(conn: Connection, company_id: int, debt_ids: list[int]) -> set[int]:
    """Those of `debt_ids` that are the company's debts."""
    rows = await _matching(conn, company_id, "id", "bigint", "id", debt_ids)
    return {int(debt_id) for (debt_id,) in rows}


async def ids_by_internal_id(
    conn: Connection, company_id: int, internal_ids: list[str]
) -> dict[str, list[int]]:
    """The company's debts carrying each internal ID (the caller's reference, not unique)."""
    rows = await _matching(conn, company_id, "internal_id", "text", "internal_id, id", internal_ids)
    found: dict[str, list[int]] = {}
    for internal_id, debt_id in rows:
        found.setdefault(internal_id, []).append(int(debt_id))
    return found


async def internal_id_holders(
    conn: Connection, company_id: int, internal_ids: list[str]
) -> dict[str, tuple[int, str | None]]:
    """The company's debt carrying each of these internal IDs, with its external ID."""
    rows = await _matching(
        conn, company_id, "internal_id", "text", "internal_id, id, external_id", internal_ids
    )
    return {internal_id: (int(debt_id), external) for internal_id, debt_id, external in rows}


async def debtors_of_external_ids(
    conn: Connection, company_id: int, external_ids: list[str]
) -> set[int | None]:
    """The debtors of the company's debts imported under these external IDs."""
    rows = await _matching(conn, company_id, "external_id", "text", "debtor_id", external_ids)
    return {None if debtor_id is None else int(debtor_id) for (debtor_id,) in rows}


async def external_ids_known(
    conn: Connection, company_id: int, external_ids: list[str]
) -> set[str]:
    rows = await _matching(conn, company_id, "external_id", "text", "external_id", external_ids)
    return {str(external_id) for (external_id,) in rows}


async def _matching(
    conn: Connection, company_id: int, column: str, kind: str, selected: str, values: list[Any]
) -> Sequence[Row]:
    """The company's debts whose `column` is one of `values`. On PostgreSQL the values arrive
    as one array joined to the index: its generic plan for a long IN list scanned the company."""
    if not values:
        return []
    if conn.dialect == "postgresql":
        columns = ", ".join(f"d.{name.strip()}" for name in selected.split(","))
        return await conn.fetch(
            f"SELECT {columns} FROM unnest($2::{kind}[]) AS w(v)"
            f" JOIN debts AS d ON d.company_id = $1 AND d.{column} = w.v",
            company_id,
            values,
        )
    return await conn.fetch(
        f"SELECT {selected} FROM debts WHERE company_id = $1"
        f" AND {column} IN ({placeholders(2, len(values))})",
        company_id,
        *values,
    )


async def upsert_debts(
    conn: Connection,
    company_id: int,
    new: list[DebtRecord],
    others: list[DebtRecord],
    now: datetime,
) -> list[int]:
    """Insert the `new` debts (none of them with an external ID already imported, nor twice),
    many to a statement; then insert the `others`, or update those already imported under
    their external IDs, one after the other in their order. The keys of the debts inserted."""
    inserted: list[int] = []
    for start in range(0, len(new), _ROWS_PER_INSERT):
        chunk = new[start : start + _ROWS_PER_INSERT]
        args = [value for debt in chunk for value in _insert_args(company_id, debt, now)]
        rows = await conn.fetch(_upsert_many(len(chunk), conn.dialect), *args)
        # On PostgreSQL a concurrent import may have made one of them meanwhile: this one
        # then updated it (xmax is the updating transaction's, not 0).
        inserted.extend(int(row[0]) for row in rows if row[1])
    if others:
        await conn.executemany(_UPSERT, [_insert_args(company_id, debt, now) for debt in others])
    return inserted


_ARGS_PER_ROW = len(RECORD_FIELDS) + 3
# Both databases bind at most 32,766 parameters a statement.
_ROWS_PER_INSERT = 32_000 // _ARGS_PER_ROW


def _upsert_many(rows: int, dialect: str) -> str:
    values = ", ".join(
        f"({placeholders(1 + row * _ARGS_PER_ROW, _ARGS_PER_ROW)})" for row in range(rows)
    )
    inserted = "xmax = 0" if dialect == "postgresql" else "1"
    head, tail = _UPSERT.split(" VALUES ", 1)
    conflict = tail[tail.index(" ON CONFLICT") :]
    return f"{head} VALUES {values}{conflict} RETURNING id, {inserted}"


async def stored_debts(
    conn: Connection, company_id: int, debt_ids: Sequence[int]
) -> list[StoredDebt]:
    """The company's debts of these keys, in no particular order."""
    found: list[StoredDebt] = []
    for start in range(0, len(debt_ids), 10_000):
        chunk = debt_ids[start : start + 10_000]
        rows = await conn.fetch(
            f"{_SELECT} WHERE company_id = $1 AND id IN ({placeholders(2, len(chunk))})",
            company_id,
            *chunk,
        )
        found.extend(_read(rows))
    return found


async def insert_batch(
    conn: Connection,
    company_id: int,
    name: str,
    client_id: str,
    now: datetime,
    counts: tuple[int, int, int],
) -> int:
    """Record a batch with its (created, failed, skipped) counts; its key."""
    return int(
        await conn.fetchval(
            "INSERT INTO debt_batches"
            " (company_id, name, client_id, created_at, created, failed, skipped)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            company_id,
            name,
            client_id,
            now,
            *counts,
        )
    )
