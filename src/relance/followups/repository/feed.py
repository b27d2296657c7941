"""The statement of the followups feed's page: the company's changes after a number, each with
the followup as it stands (changes.repository numbers them)."""

# Statements assembled from fixed fragments and $n placeholders, never caller text (as in
# every *repository.py, which pyproject.toml's per-file ignores name).

from __future__ import annotations

from collections.abc import Sequence

from relance.db import Connection, Row
from relance.followups.repository.reads import followup_columns

# After the followup's columns (null for a tombstone), in this order.
CHANGE_COLUMNS = ("seq", "deleted", "changed_us", "followup_id", "change_debt_id")


async def changes_after(
    conn: Connection, company_id: int, after_seq: int, limit: int
) -> Sequence[Row]:
    """Up to `limit` of the company's changes numbered after `after_seq`, in order, each with
    the followup as it stands (FOLLOWUP_FIELDS, then CHANGE_COLUMNS), read in one statement:
    one snapshot, in which the numbers seen are a prefix of those committed."""
    return await conn.fetch(
        f"SELECT {followup_columns(conn.dialect, 'f')},"
        " c.seq, c.deleted, c.changed_us, c.followup_id, c.debt_id"
        " FROM followup_changes AS c LEFT JOIN followups AS f ON f.id = c.followup_id"
        " WHERE c.company_id = $1 AND c.seq > $2 ORDER BY c.seq LIMIT $3",
        company_id,
        after_seq,
        limit,
    )
