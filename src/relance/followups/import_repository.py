"""The statements of a followup import: batches of rows created or updated by external ID."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from relance.config import Dialect
from relance.db import Connection, placeholders
from relance.followups.repository import (
    INSERT_FIELDS,
    as_current,
    locked_columns,
    stored_values,
)
from relance.followups.schemas import activity_at

# Every stored field an import writes, in the order of its statements' parameters.
_WRITTEN = (*INSERT_FIELDS, "external_id")
_INSERT = (
    f"INSERT INTO followups (company_id, debt_id, {', '.join(_WRITTEN)}, created_at, updated_at)"
    f" VALUES ({', '.join(f'${n}' for n in range(1, len(_WRITTEN) + 5))})"
)
_UPDATE = (
    "UPDATE followups SET "
    + ", ".join(f"{name} = ${n}" for n, name in enumerate(_WRITTEN, start=2))
    + f", updated_at = ${len(_WRITTEN) + 2} WHERE id = $1"
)


async def existing_by_external_id(
    conn: Connection, dialect: Dialect, company_id: int, external_ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The company's followups already imported under these external IDs, locked."""
    if not external_ids:
        return {}
    lock = " FOR UPDATE" if dialect == "postgresql" else ""
    rows = await conn.fetch(
        f"SELECT external_id, id, {locked_columns()} FROM followups WHERE company_id = $1"
        f" AND external_id IN ({placeholders(2, len(external_ids))}){lock}",
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
    await conn.executemany(
        _INSERT, [(company_id, debt_id, *values, now, now) for debt_id, values in rows]
    )


async def update_rows(
    conn: Connection, rows: Sequence[tuple[int, list[Any]]], now: datetime
) -> None:
    """Rows as (followup_id, written(...))."""
    await conn.executemany(_UPDATE, [(followup_id, *values, now) for followup_id, values in rows])
