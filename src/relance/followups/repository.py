"""Every SQL statement about followups.

Tenant scoping lives here and only here: every read is built on `_shared`, which binds the
company first, so no caller can forget the filter. Every write keeps the count
tables (`followups.counts`) in step, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypedDict

from relance.config import Dialect
from relance.db import Connection, Row
from relance.followups import counts
from relance.followups.schemas import FOLLOWUP_FIELDS, FollowupFilters, activity_at
from relance.kit.time import to_utc_seconds
from relance.models.followup_count import ANY

_TIMESTAMPS = ("call_date", "scheduled_at", "processed_at", "email_first_opened_at")
# PostgreSQL writes the timestamps in the API's own form: decoding them into datetime objects
# was the largest single cost of reading a page in the driver.
_PG_ISO = "to_char({0} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"') AS {0}"
_COLUMNS: dict[Dialect, str] = {
    "postgresql": ", ".join(
        _PG_ISO.format(name) if name in _TIMESTAMPS else name for name in FOLLOWUP_FIELDS
    ),
    # SQLite stores them in that form already.
    "sqlite": ", ".join(FOLLOWUP_FIELDS),
}
_PAGE_COLUMNS = ", ".join(f"p.{name}" for name in FOLLOWUP_FIELDS)
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


class _Params:
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
) -> tuple[int, list[Row]]:
    """The exact total of the company's followups that pass the filters, and one page of them.

    One statement reads both, so total and page come from the same snapshot in one round trip.
    The total comes from the count tables, or for one debt from its few rows. A page starting
    `seek_from` rows deep or deeper first seeks, from the day counts, the day its first row falls
    in, then walks that day's rows instead of every newer one.
    """
    if offset >= seek_from and filters.debt_id is None:
        return await _sought_page(conn, company_id, filters, limit, offset)
    params = _Params()
    shared = _shared(params, company_id, filters)
    total = _total(params, shared, filters)
    where = _rows_where(params, shared, filters)
    window = f"LIMIT {params.bind(limit)} OFFSET {params.bind(offset)}"
    columns = _COLUMNS[conn.dialect]
    rows = await conn.fetch(
        f"SELECT ({total}) AS total, {columns} FROM followups WHERE {where} {_ORDER} {window}",
        *params.values,
    )
    if rows:
        return int(rows[0][0]), [row[1:] for row in rows]
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
) -> tuple[int, list[Row]]:
    columns = _COLUMNS[conn.dialect]
    rows = await conn.fetch(
        f"{ctes}SELECT t.total, {_PAGE_COLUMNS} FROM {total}"
        f" LEFT JOIN (SELECT {columns}, activity_at FROM followups WHERE {where} {_ORDER}"
        f" {window}) AS p ON 1 = 1 ORDER BY p.activity_at DESC, p.id DESC",
        *values,
    )
    # The outer join always yields one row, with a null followup when the page is empty.
    return int(rows[0][0]), [row[1:] for row in rows if row[1] is not None]


_ANY_SQL = f"'{ANY}'"


class _Shared(TypedDict, total=False):
    company_id: str
    status: str
    type: str


def _shared(params: _Params, company_id: int, filters: FollowupFilters) -> _Shared:
    """Tenant scoping starts here: every condition below is built on the company's placeholder."""
    shared: _Shared = {"company_id": params.bind(company_id)}
    if filters.status is not None:
        shared["status"] = params.bind(filters.status.value)
    if filters.type is not None:
        shared["type"] = params.bind(filters.type.value)
    return shared


def _rows_where(params: _Params, shared: _Shared, filters: FollowupFilters) -> str:
    rows = [f"{column} = {placeholder}" for column, placeholder in shared.items()]
    if filters.date_from is not None:
        rows.append(f"activity_at >= {params.bind(_start_of(filters.date_from))}")
    # The last representable day has no "next day" to stop before; nothing lies beyond it.
    if filters.date_to is not None and filters.date_to < date.max:
        rows.append(f"activity_at < {params.bind(_start_of(filters.date_to + timedelta(days=1)))}")
    if filters.debt_id is not None:
        rows.append(f"debt_id = {params.bind(filters.debt_id)}")
    return " AND ".join(rows)


def _counts_where(params: _Params, shared: _Shared, filters: FollowupFilters) -> str:
    """The same filters over the count tables, where ANY stands for an unfiltered column."""
    counts = [f"company_id = {shared['company_id']}"]
    counts.append(f"status = {shared.get('status', _ANY_SQL)}")
    counts.append(f"type = {shared.get('type', _ANY_SQL)}")
    if filters.date_from is not None:
        counts.append(f"day >= {params.bind(filters.date_from)}")
    if filters.date_to is not None:
        counts.append(f"day <= {params.bind(filters.date_to)}")
    return " AND ".join(counts)


def _total(params: _Params, shared: _Shared, filters: FollowupFilters) -> str:
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
) -> tuple[int, list[Row]]:
    params = _Params()
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


INSERT_FIELDS = (*FOLLOWUP_FIELDS[2:], "activity_at")
_INSERT = (
    f"INSERT INTO followups (company_id, debt_id, {', '.join(INSERT_FIELDS)},"
    f" created_at, updated_at) VALUES ("
    + ", ".join(f"${n}" for n in range(1, len(INSERT_FIELDS) + 5))
    + ")"
)


def stored_values(values: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """The values as stored: timestamps in UTC to the second, on either database."""
    stored = dict(values)
    for name in _TIMESTAMPS:
        if (name in stored or not partial) and stored[name] is not None:
            stored[name] = to_utc_seconds(stored[name])
    return stored


def _insert_row(
    company_id: int, debt_id: int, values: Mapping[str, Any], now: datetime
) -> tuple[Any, ...]:
    fields = (values[name] for name in INSERT_FIELDS[:-1])
    return (company_id, debt_id, *fields, activity_at(values), now, now)


async def insert_followup(
    conn: Connection, company_id: int, debt_id: int, values: Mapping[str, Any], now: datetime
) -> int:
    values = stored_values(values)
    row = _insert_row(company_id, debt_id, values, now)
    followup_id = int(await conn.fetchval(_INSERT + " RETURNING id", *row))
    await counts.apply_deltas(conn, [(_count_key(company_id, values), 1)])
    return followup_id


async def insert_followups(
    conn: Connection,
    company_id: int,
    debt_id: int,
    followups: Sequence[Mapping[str, Any]],
    now: datetime,
) -> None:
    followups = [stored_values(values) for values in followups]
    rows = [_insert_row(company_id, debt_id, values, now) for values in followups]
    await conn.executemany(_INSERT, rows)
    await counts.apply_deltas(conn, [(_count_key(company_id, values), 1) for values in followups])


def _count_key(company_id: int, values: Mapping[str, Any]) -> counts.CountKey:
    return counts.count_key(company_id, values["status"], values["type"], activity_at(values))


_ONE: dict[Dialect, str] = {
    dialect: f"SELECT {columns} FROM followups WHERE id = $1 AND company_id = $2"
    for dialect, columns in _COLUMNS.items()
}
# What an update needs of the stored followup to work out its new activity time and counts.
_LOCKED = ("debt_id", "status", "type", "call_date", "scheduled_at", "activity_at")


def locked_columns(table: str = "") -> str:
    prefix = f"{table}." if table else ""
    return ", ".join(prefix + name for name in _LOCKED)


async def followup_row(conn: Connection, company_id: int, followup_id: int) -> Row | None:
    """The followup as the API shows it (FOLLOWUP_FIELDS), if it is the company's."""
    return await conn.fetchrow(_ONE[conn.dialect], followup_id, company_id)


async def locked_followup(
    conn: Connection, company_id: int, followup_id: int
) -> dict[str, Any] | None:
    """The company's followup, locked until the transaction ends (SQLite's write lock already
    covers the whole transaction), with its timestamps as datetimes on either database."""
    lock = " FOR UPDATE" if conn.dialect == "postgresql" else ""
    row = await conn.fetchrow(
        f"SELECT {locked_columns()} FROM followups WHERE id = $1 AND company_id = $2{lock}",
        followup_id,
        company_id,
    )
    return None if row is None else as_current(row)


def as_current(row: Sequence[Any]) -> dict[str, Any]:
    """A row of _LOCKED columns, its timestamps as datetimes on either database."""
    current = dict(zip(_LOCKED, row, strict=True))
    for name in _LOCKED[3:]:
        if isinstance(current[name], str):  # SQLite's stored text form
            current[name] = datetime.fromisoformat(current[name])
    return current


async def update_followup(
    conn: Connection,
    company_id: int,
    followup_id: int,
    current: Mapping[str, Any],
    changes: Mapping[str, Any],
    now: datetime,
) -> None:
    """Write the changed fields, move processed_at to now and the activity time with the dates,
    and move the followup between counts if its status, type or day changed."""
    merged = {**current, **changes, "processed_at": now}
    written = stored_values({**changes, "processed_at": now}, partial=True)
    written["activity_at"] = activity_at(merged)
    written["updated_at"] = now
    params = _Params()
    sets = ", ".join(f"{name} = {params.bind(value)}" for name, value in written.items())
    await conn.execute(
        f"UPDATE followups SET {sets} WHERE id = {params.bind(followup_id)}"
        f" AND company_id = {params.bind(company_id)}",
        *params.values,
    )
    old = counts.count_key(company_id, current["status"], current["type"], current["activity_at"])
    new = counts.count_key(company_id, merged["status"], merged["type"], written["activity_at"])
    await counts.apply_deltas(conn, [(old, -1), (new, 1)])
