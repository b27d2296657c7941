"""The statements that delete a debt with its followups."""

# Statements assembled from fixed fragments and $n placeholders, never caller text (as in
# every *repository.py, which pyproject.toml's per-file ignores name).

from __future__ import annotations

from collections.abc import Sequence

from relance.db import Connection
from relance.db.statements import placeholders
from relance.followups.records import StoredFollowup
from relance.followups.repository.writes import locked_columns, read_locked


async def lock_debt(conn: Connection, company_id: int, debt_id: int) -> bool:
    """Lock the company's debt until the transaction ends; False when there is none."""
    lock = " FOR UPDATE" if conn.dialect == "postgresql" else ""
    found = await conn.fetchval(
        f"SELECT id FROM debts WHERE id = $1 AND company_id = $2{lock}", debt_id, company_id
    )
    return found is not None


async def lock_followups(conn: Connection, company_id: int, debt_id: int) -> None:
    """Lock the debt's followups first, as every write of a followup does before it reaches
    the debt's row: a deletion never waits on a write that waits on it."""
    if conn.dialect == "postgresql":
        await conn.execute(
            "SELECT id FROM followups WHERE debt_id = $1 AND company_id = $2 FOR UPDATE",
            debt_id,
            company_id,
        )


async def delete_debt(
    conn: Connection, company_id: int, debt_id: int
) -> tuple[list[StoredFollowup], int | None]:
    """Delete the debt, its followups and its status history; the followups as they were,
    and the debt's debtor. Run with the debt locked: no followup can be added to it
    meanwhile."""
    rows = await conn.fetch(
        f"DELETE FROM followups WHERE debt_id = $1 AND company_id = $2"
        f" RETURNING {locked_columns()}",
        debt_id,
        company_id,
    )
    await conn.execute(
        "DELETE FROM debt_status_changes WHERE debt_id = $1 AND company_id = $2",
        debt_id,
        company_id,
    )
    debtor_id = await conn.fetchval(
        "DELETE FROM debts WHERE id = $1 AND company_id = $2 RETURNING debtor_id",
        debt_id,
        company_id,
    )
    return read_locked(rows), None if debtor_id is None else int(debtor_id)


async def still_referenced(
    conn: Connection, company_id: int, references: Sequence[str]
) -> set[str]:
    """Which of these stored media references a followup of the company still points at (the
    demo's followups share their files)."""
    if not references:
        return set()
    listed = placeholders(2, len(references))
    rows = await conn.fetch(
        f"SELECT audio_url, pdf_url FROM followups WHERE company_id = $1"
        f" AND (audio_url IN ({listed}) OR pdf_url IN ({listed}))",
        company_id,
        *references,
    )
    wanted = set(references)
    return {value for row in rows for value in row if value in wanted}
