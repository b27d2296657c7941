"""Every SQL statement about debts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from relance.db import Connection

DEBT_COLUMNS: tuple[str, ...] = (
    "civility",
    "firstname",
    "lastname",
    "phone",
    "email",
    "amount",
    "currency",
    "object",
    "internal_id",
    "invoice_reference",
    "debtor_reference",
    "invoice_date",
    "due_date",
    "street_address",
    "postal_code",
    "city",
    "country",
    "status",
    "followups_count",
    "nb_reminders",
    "nb_answered",
)
_INSERT = (
    f"INSERT INTO debts (company_id, {', '.join(DEBT_COLUMNS)}, created_at, updated_at)"
    f" VALUES ({', '.join(f'${n}' for n in range(1, len(DEBT_COLUMNS) + 4))}) RETURNING id"
)


async def insert_debt(
    conn: Connection, company_id: int, values: Mapping[str, Any], now: datetime
) -> int:
    args = [values.get(name) for name in DEBT_COLUMNS]
    return int(await conn.fetchval(_INSERT, company_id, *args, now, now))
