"""The statements that read followups as the API shows them: a page with its exact total, and
one followup.

Tenant scoping lives here and only here: every read is built on `_shared`, which binds the
company first, so no caller can forget the filter. Rows hold FOLLOWUP_FIELDS first, in order,
then on a page its total (`PAGE_COLUMNS`).
"""

# Statements assembled from fixed fragments and $n placeholders, never caller text (as in
# every *repository.py, which pyproject.toml's per-file ignores name).

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from operator import itemgetter
from typing import Any, TypedDict

from relance.config import Dialect
from relance.db import Connection, Row
from relance.followups.counts import ANY
from relance.followups.records import FOLLOWUP_FIELDS, TIMESTAMPS
from relance.followups.schemas import FollowupFilters

# PostgreSQL writes the timestamps in the API's own form: decoding them into datetime objects
# was the largest single cost of reading a page in the driver.
_PG_ISO = "to_char({0} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"') AS {1}"


def followup_columns(dialect: Dialect, table: str = "") -> str:
    """FOLLOWUP_FIELDS as the API shows them, of `table` when one is named."""
    prefix = f"{table}." if table else ""
    if dialect == "sqlite":
        # SQLite stores them in that form already.
        return ", ".join(prefix + name for name in FOLLOWUP_FIELDS)
    return ", ".join(
        _PG_ISO.format(prefix + name, name) if name in TIMESTAMPS else prefix + name
        for name in FOLLOWUP_FIELDS
    )


_COLUMNS: dict[Dialect, str] = {
    "postgresql": followup_columns("postgresql"),
    "sqlite": followup_columns("sqlite"),
}
_JOINED_COLUMNS = ", ".join(f"p.{name}" for name in FOLLOWUP_FIELDS)
PAGE_COLUMNS = (*FOLLOWUP_FIELDS, "total")
_total_of = itemgetter(PAGE_COLUMNS.index("total"))
_id_of = itemgetter(PAGE_COLUMNS.index("id"))
_ORDER = "ORDER BY activity_at DESC, id DESC"
# The end of a day count's day, where a deep page's rows stop: the next day's start. SQLite's
# date arithmetic has no day after 9999-12-31 (it answers NULL, and the last day's rows were
# lost), so there the end is written as 24:00 of the day itself, which sorts after every moment
# of that day in the stored text and before the next day's.
_DAY_END = {
    "postgresql": "activity_at < (SELECT (day + 1)::timestamp AT TIME ZONE 'UTC' FROM seek)",
    "sqlite": "activity_at < (SELECT day || 'T24:00:00+00:00' FROM seek)",
}
# A day count's day within a month count's month; in SQLite as text, for the same reason: no
# month follows 9999-12.
_IN_MONTH = {
    "postgresql": "day < (SELECT (month + interval '1 month')::date FROM m)",
    "sqlite": "day <= (SELECT substr(month, 1, 8) || '31' FROM m)",
}


class Params:
    """Positional parameters, numbered as they are bound."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def bind(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


async def page_of_followups(
    conn: Connection,
    company_id: int,
    filters: FollowupFilters,
    limit: int,
    offset: int,
    seek_from: int,
) -> tuple[int, Sequence[Row]]:
    """The exact total of the company's followups that pass the filters, and one page of them
    (rows of PAGE_COLUMNS).

    One statement reads both, so total and page come from the same snapshot in one round trip.
    The total comes from the count tables, or for one debt from its few rows. A page starting
    `seek_from` rows deep or deeper first seeks, from the day counts, the day its first row falls
    in, then walks that day's rows instead of every newer one.
    """
    if offset >= seek_from and filters.debt_id is None:
        return await _sought_page(conn, company_id, filters, limit, offset)
    params = Params()
    shared = _shared(params, company_id, filters)
    total = _total(params, shared, filters)
    where = _rows_where(params, shared, filters)
    window = f"LIMIT {params.bind(limit)} OFFSET {params.bind(offset)}"
    columns = _COLUMNS[conn.dialect]
    rows = await conn.fetch(
        f"SELECT {columns}, ({total}) AS total FROM followups WHERE {where} {_ORDER} {window}",
        *params.values,
    )
    if rows:
        return int(_total_of(rows[0])), rows
    # Past the end no row carries the total: read it again joined to the page, so that both
    # still come from one snapshot even if rows arrived meanwhile.
    return await _joined(conn, f"({total}) AS t", where, window, params.values)


async def _joined(
    conn: Connection,
    total: str,
    where: str,
    window: str,
    values: list[Any],
    ctes: str = "",
) -> tuple[int, Sequence[Row]]:
    columns = _COLUMNS[conn.dialect]
    rows = await conn.fetch(
        f"{ctes}SELECT {_JOINED_COLUMNS}, t.total FROM {total}"
        f" LEFT JOIN (SELECT {columns}, activity_at FROM followups WHERE {where} {_ORDER}"
        f" {window}) AS p ON 1 = 1 ORDER BY p.activity_at DESC, p.id DESC",
        *values,
    )
    # The outer join always yields one row, with a null followup when the page is empty.
    return int(_total_of(rows[0])), [row for row in rows if _id_of(row) is not None]


_ANY_SQL = f"'{ANY}'"


class _Shared(TypedDict, total=False):
    company_id: str
    status: str
    type: str


def _shared(params: Params, company_id: int, filters: FollowupFilters) -> _Shared:
    """Tenant scoping starts here: every condition below is built on the company's placeholder."""
    shared: _Shared = {"company_id": params.bind(company_id)}
    if filters.status is not None:
        shared["status"] = params.bind(filters.status.value)
    if filters.type is not None:
        shared["type"] = params.bind(filters.type.value)
    return shared


def _rows_where(params: Params, shared: _Shared, filters: FollowupFilters) -> str:
    rows = [f"{column} = {placeholder}" for column, placeholder in shared.items()]
    if filters.date_from is not None:
        rows.append(f"activity_at >= {params.bind(_start_of(filters.date_from))}")
    # The last representable day has no "next day" to stop before; nothing lies beyond it.
    if filters.date_to is not None and filters.date_to < date.max:
        rows.append(f"activity_at < {params.bind(_start_of(filters.date_to + timedelta(days=1)))}")
    if filters.debt_id is not None:
        rows.append(f"debt_id = {params.bind(filters.debt_id)}")
    return " AND ".join(rows)


def _counts_where(params: Params, shared: _Shared, filters: FollowupFilters) -> str:
    """The same filters over the count tables, where ANY stands for an unfiltered column."""
    counts = [f"company_id = {shared['company_id']}"]
    counts.append(f"status = {shared.get('status', _ANY_SQL)}")
    counts.append(f"type = {shared.get('type', _ANY_SQL)}")
    if filters.date_from is not None:
        counts.append(f"day >= {params.bind(filters.date_from)}")
    if filters.date_to is not None:
        counts.append(f"day <= {params.bind(filters.date_to)}")
    return " AND ".join(counts)


def _total(params: Params, shared: _Shared, filters: FollowupFilters) -> str:
    if filters.debt_id is not None:
        where = _rows_where(params, shared, filters)
        return f"SELECT count(*) AS total FROM followups WHERE {where}"
    dated = filters.date_from is not None or filters.date_to is not None
    table = "followup_day_counts" if dated else "followup_totals"
    counts_where = _counts_where(params, shared, filters)
    return f"SELECT {_SUM} AS total FROM {table} WHERE {counts_where}"


_SUM = "CAST(coalesce(sum(n), 0) AS BIGINT)"


async def _sought_page(
    conn: Connection,
    company_id: int,
    filters: FollowupFilters,
    limit: int,
    offset: int,
) -> tuple[int, Sequence[Row]]:
    params = Params()
    shared = _shared(params, company_id, filters)
    total = _total(params, shared, filters)
    counts_where = _counts_where(params, shared, filters)
    rows_where = _rows_where(params, shared, filters)
    limit_param, offset_param = params.bind(limit), params.bind(offset)
    deep = f"CAST({offset_param} AS BIGINT)"
    dated = filters.date_from is not None or filters.date_to is not None
    seek = (
        _day_seek(counts_where, deep)
        if dated
        else _month_then_day_seek(conn.dialect, counts_where, deep)
    )
    where = f"{rows_where} AND {_DAY_END[conn.dialect]}"
    skip = f"CAST({deep} - newer AS BIGINT)"
    window = f"LIMIT {limit_param} OFFSET coalesce((SELECT {skip} FROM seek), 0)"
    return await _joined(conn, f"({total}) AS t", where, window, params.values, seek)


def _day_seek(counts_where: str, deep: str) -> str:
    """`seek`: the newest day whose running sum, newest first, reaches past the offset (the day
    the page starts in), and how many rows lie in the newer days."""
    return (
        "WITH seek AS (SELECT day, through - n AS newer FROM (SELECT day, n,"
        f" sum(n) OVER (ORDER BY day DESC) AS through FROM followup_day_counts"
        f" WHERE {counts_where}) AS d WHERE through > {deep} ORDER BY day DESC LIMIT 1) "
    )


def _month_then_day_seek(dialect: Dialect, counts_where: str, deep: str) -> str:
    """The same `seek`, found in two short walks: the month first, then that month's days, so
    that the work stays small however deep the page (the date filters need the day walk)."""
    return (
        "WITH m AS (SELECT month, through - n AS newer FROM (SELECT month, n,"
        f" sum(n) OVER (ORDER BY month DESC) AS through FROM followup_month_counts"
        f" WHERE {counts_where}) AS x WHERE through > {deep} ORDER BY month DESC LIMIT 1),"
        " seek AS (SELECT day, through - n AS newer FROM (SELECT day, n,"
        " (SELECT newer FROM m) + sum(n) OVER (ORDER BY day DESC) AS through"
        f" FROM followup_day_counts WHERE {counts_where} AND day >= (SELECT month FROM m)"
        f" AND {_IN_MONTH[dialect]}) AS d"
        f" WHERE through > {deep} ORDER BY day DESC LIMIT 1) "
    )


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


_ONE: dict[Dialect, str] = {
    dialect: f"SELECT {columns} FROM followups WHERE id = $1 AND company_id = $2"
    for dialect, columns in _COLUMNS.items()
}


async def followup_row(conn: Connection, company_id: int, followup_id: int) -> Row | None:
    """The followup as the API shows it (FOLLOWUP_FIELDS), if it is the company's."""
    return await conn.fetchrow(_ONE[conn.dialect], followup_id, company_id)


async def followup_rows(
    conn: Connection, company_id: int, followup_ids: Sequence[int] | None
) -> list[Row]:
    """The company's followups of these keys (None: all of them) as the API shows them
    (FOLLOWUP_FIELDS), in no particular order: a bulk write's rows read back for its events."""
    if followup_ids is None:
        return list(
            await conn.fetch(
                f"SELECT {_COLUMNS[conn.dialect]} FROM followups WHERE company_id = $1",
                company_id,
            )
        )
    if not followup_ids:
        return []
    if conn.dialect == "postgresql":
        return list(
            await conn.fetch(
                f"SELECT {_COLUMNS['postgresql']} FROM followups"
                " WHERE company_id = $1 AND id = ANY($2::bigint[])",
                company_id,
                list(followup_ids),
            )
        )
    found: list[Row] = []
    # SQLite binds at most 32,766 parameters a statement.
    for start in range(0, len(followup_ids), 10_000):
        chunk = followup_ids[start : start + 10_000]
        found.extend(
            await conn.fetch(
                f"SELECT {_COLUMNS['sqlite']} FROM followups WHERE company_id = $1"
                f" AND id IN ({', '.join(f'${n}' for n in range(2, len(chunk) + 2))})",
                company_id,
                *chunk,
            )
        )
    return found


def export_statement(
    dialect: Dialect, company_id: int, filters: FollowupFilters
) -> tuple[str, list[Any]]:
    """The statement that reads every one of the company's followups that pass the filters and
    whose latest change is numbered, as the API shows them (FOLLOWUP_FIELDS), in key order: an
    export's rows, read through a cursor in the export's snapshot."""
    params = Params()
    shared = _shared(params, company_id, filters)
    where = _rows_where(params, shared, filters)
    numbered = (
        "SELECT followup_id FROM followup_changes"
        f" WHERE company_id = {shared['company_id']} AND seq IS NOT NULL"
    )
    return (
        f"SELECT {_COLUMNS[dialect]} FROM followups WHERE {where} AND id IN ({numbered})"
        " ORDER BY id",
        params.values,
    )
