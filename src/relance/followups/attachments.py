"""Attaching a file to a followup: the file checked and stored first, outside any
transaction, then the followup pointed at it (replacing whatever recording or document it
had) in the caller's unit of work."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from relance.changes import repository as changes
from relance.db import Connection
from relance.errors import NotFound, ValidationFailed
from relance.events.log import EventLog
from relance.events.records import now_us
from relance.followups import events
from relance.followups.repository import media as repository
from relance.followups.repository.writes import locked_followup
from relance.followups.schemas import FollowupView, signed
from relance.followups.service import FollowupNotFound, followup_key, unsigned_followup
from relance.kit.ids import IdCodec
from relance.kit.time import utc_now
from relance.media.kinds import MediaKind
from relance.media.links import MediaLinks
from relance.media.service import check_file, store_new
from relance.runtime import Deployment


@dataclass(frozen=True, slots=True)
class StoredMedia:
    """A file stored for a followup, not yet pointed at."""

    followup_id: int
    kind: MediaKind
    reference: str  # media:KEY


async def store_for_followup(
    runtime: Deployment, public_id: str, kind: MediaKind, path: Path
) -> StoredMedia:
    """Check the file and store it for the followup, outside any transaction: an upload may
    take long, and a transaction would hold the embedded database's write lock meanwhile."""
    try:
        followup_id = followup_key(runtime.ids, public_id)
    except FollowupNotFound:
        raise NotFound(f"no followup with ID {public_id}") from None
    checked = check_file(path, kind, runtime.settings.media_max_bytes)
    if isinstance(checked, str):
        raise ValidationFailed({kind.value: [checked]})
    # Looked up first, so that no file is stored for a followup that does not exist.
    if await repository.company_of(runtime.db, followup_id) is None:
        raise NotFound(f"no followup with ID {public_id}")
    return StoredMedia(followup_id, kind, await store_new(runtime.media, checked))


async def point_at(
    conn: Connection, ids: IdCodec, stored: StoredMedia, links: MediaLinks, log: EventLog
) -> FollowupView:
    """Make the stored file the followup's recording or document, and record the event of the
    change, in the caller's transaction; the followup as the API now shows it."""
    company_id = await repository.company_of(conn, stored.followup_id)
    current = (
        None if company_id is None else await locked_followup(conn, company_id, stored.followup_id)
    )
    if company_id is None or current is None:  # gone meanwhile
        raise NotFound("the followup was deleted while its file was stored")
    await repository.set_media(conn, stored.followup_id, stored.kind, stored.reference, utc_now())
    view = await unsigned_followup(conn, ids, company_id, stored.followup_id)
    before = events.view_before(current, view)
    await log.record(conn, company_id, events.updated(before, view, first_completion=False))
    await changes.record(conn, company_id, [(stored.followup_id, current.debt_id)], now_us())
    return signed(view, links)
