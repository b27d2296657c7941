"""The counts tables' statements: kept in step with every followup write, read for totals.

Each followup counts once under (status, type), (status, ANY), (ANY, type) and (ANY, ANY), in
the company's totals, its day of activity and its month, so that any filter combination's total
is one row, or one row per day of a date range, and a deep page finds its day in a few rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from relance.config import Dialect
from relance.db import Connection

# Stands for "every status" or "every type" in a count's key.
ANY = "*"

# (company_id, status, type, day of activity)
CountKey = tuple[int, str, str, date]


def _upserts(table: str, keys: str, types: str) -> tuple[str, str]:
    """A count table's upsert, adding n under a key: one row at a time (SQLite, in process), and
    one array per column (PostgreSQL: one round trip however many keys a bulk import moves)."""
    names = f"{keys}, n"
    conflict = f"ON CONFLICT ({keys}) DO UPDATE SET n = {table}.n + excluded.n"
    count = len(types.split())
    one_row = ", ".join(f"${n}" for n in range(1, count + 1))
    arrays = ", ".join(f"${n}::{kind}[]" for n, kind in enumerate(types.split(), start=1))
    return (
        f"INSERT INTO {table} ({names}) VALUES ({one_row}) {conflict}",
        f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) {conflict}",
    )


_TOTAL = _upserts("followup_totals", "company_id, status, type", "bigint text text bigint")
_DAY = _upserts(
    "followup_day_counts", "company_id, status, type, day", "bigint text text date bigint"
)
_MONTH = _upserts(
    "followup_month_counts", "company_id, status, type, month", "bigint text text date bigint"
)


def day_of(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def count_key(company_id: int, status: str, kind: str, activity: datetime) -> CountKey:
    return (company_id, status, kind, day_of(activity))


async def apply_deltas(conn: Connection, deltas: Iterable[tuple[CountKey, int]]) -> None:
    """Add each delta under the four keys it counts in, in one statement per table."""
    totals: Counter[tuple[int, str, str]] = Counter()
    days: Counter[tuple[int, str, str, date]] = Counter()
    months: Counter[tuple[int, str, str, date]] = Counter()
    for (company_id, status, kind, day), n in deltas:
        for s in (status, ANY):
            for t in (kind, ANY):
                totals[(company_id, s, t)] += n
                days[(company_id, s, t, day)] += n
                months[(company_id, s, t, day.replace(day=1))] += n
    # Rows are locked in key order within a call. Every write of a company also locks its
    # (company, ANY, ANY) total, which serialises that company's writers until they commit; a
    # transaction that writes to several companies should pass all its deltas in one call.
    # A followup moved to another day nets to nothing in the totals but not in the days.
    postgresql = conn.dialect == "postgresql"
    for (one_row, arrays), counter in ((_TOTAL, totals), (_DAY, days), (_MONTH, months)):
        rows = sorted((*key, n) for key, n in counter.items() if n)
        if not rows:
            continue
        if postgresql:
            await conn.execute(arrays, *(list(column) for column in zip(*rows, strict=True)))
        else:
            await conn.executemany(one_row, rows)


async def add_moved(conn: Connection, moved: str, *args: Any) -> None:
    """Add to every count table the rows of the query `moved` (parameters `args`), each a
    followup counted (n = 1) or uncounted (n = -1) as (company_id, status, type, activity_at, n):
    a bulk write's counts
    grouped by the database, in one statement per table, instead of row by row in Python."""
    dialect = conn.dialect
    for table, bucket in _BUCKETS[dialect].items():
        await conn.execute(_moved_upsert(dialect, table, bucket, moved), *args)


async def rebuild(conn: Connection) -> None:
    """Recount everything from the followups themselves (after a bulk load, or to repair)."""
    for table in _BUCKETS[conn.dialect]:
        await conn.execute(f"DELETE FROM {table}")
    await add_moved(conn, "SELECT company_id, status, type, activity_at, 1 AS n FROM followups")


def _moved_upsert(dialect: Dialect, table: str, bucket: tuple[str, str] | None, moved: str) -> str:
    """Each moved row counted under its four keys, summed per key, upserted in key order (the
    order apply_deltas locks rows in, so that an import and API writes never deadlock)."""
    column, value = (f", {bucket[0]}", f", {bucket[1]} AS {bucket[0]}") if bucket else ("", "")
    keys = f"company_id, status, type{column}"
    each_key = " UNION ALL ".join(
        f"SELECT company_id, {status} AS status, {kind} AS type{value}, n FROM moved"
        for status in ("status", f"'{ANY}'")
        for kind in ("type", f"'{ANY}'")
    )
    # Python sorts the keys' text by code point: PostgreSQL's "C" collation.
    collate = ' COLLATE "C"' if dialect == "postgresql" else ""
    order = f"company_id, status{collate}, type{collate}{column}"
    # `WHERE true` keeps SQLite from reading ON CONFLICT as a join's ON.
    return (
        f"WITH moved AS ({moved}) INSERT INTO {table} ({keys}, n)"
        f" SELECT {keys}, sum(n) FROM ({each_key}) AS keyed WHERE true"
        f" GROUP BY {keys} HAVING sum(n) <> 0 ORDER BY {order}"
        f" ON CONFLICT ({keys}) DO UPDATE SET n = {table}.n + excluded.n"
    )


# Each count table, and its time bucket (column, and its value from activity_at) if it has one.
_BUCKETS: dict[Dialect, dict[str, tuple[str, str] | None]] = {
    "postgresql": {
        "followup_totals": None,
        "followup_day_counts": ("day", "(activity_at AT TIME ZONE 'UTC')::date"),
        "followup_month_counts": (
            "month",
            "date_trunc('month', activity_at AT TIME ZONE 'UTC')::date",
        ),
    },
    "sqlite": {
        "followup_totals": None,
        "followup_day_counts": ("day", "substr(activity_at, 1, 10)"),
        "followup_month_counts": ("month", "substr(activity_at, 1, 7) || '-01'"),
    },
}
