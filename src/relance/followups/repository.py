"""Every SQL statement about followups.

Tenant scoping lives here and only here: every query is built by `_readable_by`, which starts
from the company's own rows, so no caller can forget the filter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from relance.db import Connection, Row
from relance.followups.schemas import FOLLOWUP_FIELDS, FollowupFilters, activity_at

_COLUMNS = ", ".join(FOLLOWUP_FIELDS)
_ORDER = "ORDER BY activity_at DESC, id DESC"


class _Where:
    def __init__(self, company_id: int) -> None:
        self.clauses = ["company_id = $1"]
        self.args: list[Any] = [company_id]

    def add(self, template: str, value: Any) -> None:
        self.args.append(value)
        self.clauses.append(template.replace("?", f"${len(self.args)}"))

    def sql(self) -> str:
        return " AND ".join(self.clauses)


def _readable_by(company_id: int, filters: FollowupFilters) -> _Where:
    where = _Where(company_id)
    if filters.status is not None:
        where.add("status = ?", filters.status.value)
    if filters.type is not None:
        where.add("type = ?", filters.type.value)
    if filters.date_from is not None:
        where.add("activity_at >= ?", _start_of(filters.date_from))
    # The last representable day has no "next day" to stop before; nothing lies beyond it.
    if filters.date_to is not None and filters.date_to < date.max:
        where.add("activity_at < ?", _start_of(filters.date_to + timedelta(days=1)))
    if filters.debt_id is not None:
        where.add("debt_id = ?", filters.debt_id)
    return where


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


async def count_followups(conn: Connection, company_id: int, filters: FollowupFilters) -> int:
    where = _readable_by(company_id, filters)
    sql = f"SELECT count(*) FROM followups WHERE {where.sql()}"  # noqa: S608 - no caller text
    return int(await conn.fetchval(sql, *where.args))


async def list_followups(
    conn: Connection, company_id: int, filters: FollowupFilters, limit: int, offset: int
) -> Sequence[Row]:
    where = _readable_by(company_id, filters)
    n = len(where.args)
    sql = (
        f"SELECT {_COLUMNS} FROM followups WHERE {where.sql()} "  # noqa: S608 - no caller text
        f"{_ORDER} LIMIT ${n + 1} OFFSET ${n + 2}"
    )
    return await conn.fetch(sql, *where.args, limit, offset)


_INSERT_FIELDS = (*FOLLOWUP_FIELDS[2:], "activity_at")
_INSERT = (
    f"INSERT INTO followups (company_id, debt_id, {', '.join(_INSERT_FIELDS)},"  # noqa: S608
    f" created_at, updated_at) VALUES ("
    + ", ".join(f"${n}" for n in range(1, len(_INSERT_FIELDS) + 5))
    + ")"
)


def _insert_row(
    company_id: int, debt_id: int, values: Mapping[str, Any], now: datetime
) -> tuple[Any, ...]:
    fields = (values[name] for name in _INSERT_FIELDS[:-1])
    return (company_id, debt_id, *fields, activity_at(values), now, now)


async def insert_followup(
    conn: Connection, company_id: int, debt_id: int, values: Mapping[str, Any], now: datetime
) -> int:
    row = _insert_row(company_id, debt_id, values, now)
    return int(await conn.fetchval(_INSERT + " RETURNING id", *row))


async def insert_followups(
    conn: Connection,
    company_id: int,
    debt_id: int,
    followups: Sequence[Mapping[str, Any]],
    now: datetime,
) -> None:
    rows = [_insert_row(company_id, debt_id, values, now) for values in followups]
    await conn.executemany(_INSERT, rows)
