"""Deleting a debt: its followups go with it, their counts come off the count tables, each
leaves a tombstone in the changes feed, and the files only they pointed at are removed from
the media store once the deletion has committed."""

from __future__ import annotations

from relance.changes import repository as changes
from relance.db import Connection
from relance.debts import parties
from relance.debts.service import DebtNotFound, debt_key
from relance.deletions import repository
from relance.events.records import now_us
from relance.followups import counts
from relance.kit.ids import IdCodec
from relance.media.stores import PREFIX


async def delete_debt(conn: Connection, ids: IdCodec, company_id: int, public_id: str) -> list[str]:
    """Delete the company's debt and its followups in the caller's transaction; the keys of
    the stored files no followup points at any more, for the caller to remove after the
    commit."""
    debt_id = debt_key(ids, public_id)
    await repository.lock_followups(conn, company_id, debt_id)
    if not await repository.lock_debt(conn, company_id, debt_id):
        raise DebtNotFound()
    followups, debtor_id = await repository.delete_debt(conn, company_id, debt_id)
    await parties.release(conn, company_id, {debtor_id})
    stored = sorted(
        {m for f in followups for m in (f.audio_url, f.pdf_url) if m and m.startswith(PREFIX)}
    )
    kept = await repository.still_referenced(conn, company_id, stored)
    # Last, as every write: the counts, then the tombstones.
    await counts.apply_deltas(
        conn,
        [(counts.count_key(company_id, f.status, f.type, f.activity_at), -1) for f in followups],
    )
    pairs = [(f.id, debt_id) for f in followups]
    await changes.record(conn, company_id, pairs, now_us(), deleted=True)
    return [reference.removeprefix(PREFIX) for reference in stored if reference not in kept]
