"""A followup's media columns: its recording (audio_url) and its document (pdf_url)."""

from __future__ import annotations

from datetime import datetime

from relance.db import Connection
from relance.media.kinds import MediaKind


async def company_of(conn: Connection, followup_id: int) -> int | None:
    company_id = await conn.fetchval("SELECT company_id FROM followups WHERE id = $1", followup_id)
    return None if company_id is None else int(company_id)


async def set_media(
    conn: Connection, followup_id: int, kind: MediaKind, value: str, now: datetime
) -> int | None:
    """Point the followup at a stored object; its company, or None when there is no such
    followup. processed_at stays: attaching a file is not a new attempt on the debt."""
    company_id = await conn.fetchval(
        f"UPDATE followups SET {kind.column} = $2, updated_at = $3 WHERE id = $1"
        " RETURNING company_id",
        followup_id,
        value,
        now,
    )
    return None if company_id is None else int(company_id)
