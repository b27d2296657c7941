"""The counts tables' statements: kept in step with every followup write, read for totals.

Each followup counts once under (status, type), (status, ANY), (ANY, type) and (ANY, ANY), in
the company's totals, its day of activity and its month, so that any filter combination's total
is one row, or one row per day of a date range, and a deep page finds its day in a few rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime

from relance.config import Dialect
from relance.db import Connection, dialect_of
from relance.models.followup_count import ANY

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
    postgresql = dialect_of(conn) == "postgresql"
    for (one_row, arrays), counter in ((_TOTAL, totals), (_DAY, days), (_MONTH, months)):
        rows = sorted((*key, n) for key, n in counter.items() if n)
        if not rows:
            continue
        if postgresql:
            await conn.execute(arrays, *(list(column) for column in zip(*rows, strict=True)))
        else:
            await conn.executemany(one_row, rows)


async def rebuild(conn: Connection, dialect: Dialect) -> None:
    """Recount everything from the followups themselves (after a bulk load, or to repair)."""
    buckets = _BUCKETS[dialect]
    for table in buckets:
        await conn.execute(f"DELETE FROM {table}")
    for status, kind in (("status", "type"), ("status", "'*'"), ("'*'", "type"), ("'*'", "'*'")):
        keys = ", ".join(k for k in ("company_id", status, kind) if not k.startswith("'"))
        for table, bucket in buckets.items():
            column, value = (f", {bucket[0]}", f", {bucket[1]}") if bucket else ("", "")
            await conn.execute(
                f"INSERT INTO {table} (company_id, status, type{column}, n)"
                f" SELECT company_id, {status}, {kind}{value}, count(*) FROM followups"
                f" GROUP BY {keys}{value}"
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
