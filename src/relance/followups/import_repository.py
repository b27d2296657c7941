"""The statements of a followup import: batches of rows created or updated by external ID.

On PostgreSQL each batch is a handful of statements that take one array per column (`unnest`),
so a thousand rows cost one round trip and one plan each; row-at-a-time statements, planned and
sent a thousand times, made a 100,000-row import take minutes. SQLite, in process, takes the
rows one by one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from relance.db import Connection, dialect_of, placeholders
from relance.followups.repository import (
    INSERT_FIELDS,
    as_current,
    locked_columns,
    stored_values,
)
from relance.followups.schemas import activity_at

# The PostgreSQL type of each stored field an import writes (for the arrays).
_TYPES = {
    "status": "text",
    "type": "text",
    "call_date": "timestamptz",
    "scheduled_at": "timestamptz",
    "summary": "text",
    "notes": "text",
    "call_id": "text",
    "audio_url": "text",
    "pdf_url": "text",
    "duration_ms": "bigint",
    "disconnection_reason": "text",
    "direction": "text",
    "phone_number_used": "text",
    "is_retry": "boolean",
    "processed_at": "timestamptz",
    "triggered_payment": "boolean",
    "email_opened": "boolean",
    "email_open_count": "integer",
    "email_first_opened_at": "timestamptz",
    "email_clicked": "boolean",
    "email_click_count": "integer",
    "activity_at": "timestamptz",
    "external_id": "text",
}
# The written fields, in the order of the statements' parameters.
_WRITTEN = tuple((name, _TYPES[name]) for name in (*INSERT_FIELDS, "external_id"))
_NAMES = ", ".join(name for name, _ in _WRITTEN)
# The insert: (company_id, debt_id, *written, created_at = updated_at = now).
_NOW = f"${len(_WRITTEN) + 3}"
_INSERT_ROW = (
    f"INSERT INTO followups (company_id, debt_id, {_NAMES}, created_at, updated_at)"
    f" VALUES ($1, $2, {placeholders(3, len(_WRITTEN))}, {_NOW}, {_NOW})"
)
_INSERT_ARRAYS = (
    f"INSERT INTO followups (company_id, debt_id, {_NAMES}, created_at, updated_at)"
    f" SELECT $1, u.* , $2, $2 FROM unnest($3::bigint[], "
    + ", ".join(f"${n}::{kind}[]" for n, (_, kind) in enumerate(_WRITTEN, start=4))
    + ") AS u"
)
# The update: (id, *written, updated_at).
_UPDATE_ROW = (
    "UPDATE followups SET "
    + ", ".join(f"{name} = ${n}" for n, (name, _) in enumerate(_WRITTEN, start=2))
    + f", updated_at = ${len(_WRITTEN) + 2} WHERE id = $1"
)
_UPDATE_ARRAYS = (
    "UPDATE followups AS f SET "
    + ", ".join(f"{name} = u.{name}" for name, _ in _WRITTEN)
    + ", updated_at = $1 FROM unnest($2::bigint[], "
    + ", ".join(f"${n}::{kind}[]" for n, (_, kind) in enumerate(_WRITTEN, start=3))
    + f") AS u(id, {_NAMES}) WHERE f.id = u.id"
)


async def existing_by_external_id(
    conn: Connection, company_id: int, external_ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The company's followups already imported under these external IDs, locked."""
    if not external_ids:
        return {}
    columns = f"f.external_id, f.id, {locked_columns('f')}"
    if dialect_of(conn) == "postgresql":
        rows = await conn.fetch(
            f"SELECT {columns} FROM unnest($2::text[]) AS w(external_id) JOIN followups AS f"
            " ON f.company_id = $1 AND f.external_id = w.external_id FOR UPDATE OF f",
            company_id,
            list(external_ids),
        )
    else:
        rows = await conn.fetch(
            f"SELECT {columns} FROM followups AS f WHERE f.company_id = $1"
            f" AND f.external_id IN ({placeholders(2, len(external_ids))})",
            company_id,
            *external_ids,
        )
    return {row[0]: {"id": row[1], **as_current(row[2:])} for row in rows}


def written(values: Mapping[str, Any], external_id: str | None) -> list[Any]:
    stored = stored_values(values)
    return [*(stored[name] for name in INSERT_FIELDS[:-1]), activity_at(stored), external_id]


async def insert_rows(
    conn: Connection, company_id: int, rows: Sequence[tuple[int, list[Any]]], now: datetime
) -> None:
    """Rows as (debt_id, written(...))."""
    if not rows:
        return
    if dialect_of(conn) == "postgresql":
        columns = list(zip(*((debt_id, *values) for debt_id, values in rows), strict=True))
        await conn.execute(_INSERT_ARRAYS, company_id, now, *(list(c) for c in columns))
        return
    await conn.executemany(
        _INSERT_ROW, [(company_id, debt_id, *values, now) for debt_id, values in rows]
    )


async def update_rows(
    conn: Connection, rows: Sequence[tuple[int, list[Any]]], now: datetime
) -> None:
    """Rows as (followup_id, written(...))."""
    if not rows:
        return
    if dialect_of(conn) == "postgresql":
        columns = list(zip(*((key, *values) for key, values in rows), strict=True))
        await conn.execute(_UPDATE_ARRAYS, now, *(list(c) for c in columns))
        return
    await conn.executemany(_UPDATE_ROW, [(key, *values, now) for key, values in rows])
