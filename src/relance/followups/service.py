"""What a company may read and write of its followups. Each function takes the collaborators
it uses: a connection (a write's, from the caller's unit of work), the public ID codec, the
media links of the answer."""

from __future__ import annotations

from dataclasses import replace

from relance.db import Connection
from relance.debts import repository as debts
from relance.debts.service import DebtNotFound, debt_key
from relance.errors import NotFound, ValidationFailed
from relance.events.log import EventLog
from relance.followups import counts, events
from relance.followups.bodies import FollowupBody, changed, for_create
from relance.followups.enums import COMPLETED, tally_change
from relance.followups.repository import reads, writes
from relance.followups.schemas import (
    FollowupFilters,
    FollowupView,
    followup_views,
    signed,
    unsigned_views,
)
from relance.kit.ids import IdCodec
from relance.kit.pagination import PageRequest
from relance.kit.time import utc_now
from relance.media.links import MediaLinks
from relance.resources import Resource


async def list_followups(
    db: Connection,
    ids: IdCodec,
    company_id: int,
    filters: FollowupFilters,
    page: PageRequest,
    media: MediaLinks,
    *,
    seek_from: int,
) -> tuple[list[FollowupView], int]:
    """One page of the company's followups, newest activity first, and the exact total; pages
    `seek_from` rows deep or deeper are sought from the day counts."""
    total, rows = await reads.page_of_followups(
        db, company_id, filters, page.limit, page.offset, seek_from
    )
    followup_id = ids.encoder(Resource.FOLLOWUP)
    debt_id = ids.encoder(Resource.DEBT)
    return followup_views(rows, followup_id, debt_id, media), total


class FollowupNotFound(NotFound):
    message = "Followup not found"


def followup_key(ids: IdCodec, public_id: str) -> int:
    key = ids.find(Resource.FOLLOWUP, public_id)
    if key is None:
        raise FollowupNotFound()
    return key


async def get_followup(
    db: Connection, ids: IdCodec, company_id: int, public_id: str, media: MediaLinks
) -> FollowupView:
    return await shown_followup(db, ids, company_id, followup_key(ids, public_id), media)


async def shown_followup(
    conn: Connection, ids: IdCodec, company_id: int, followup_id: int, media: MediaLinks
) -> FollowupView:
    """The company's followup as the API shows it."""
    return signed(await unsigned_followup(conn, ids, company_id, followup_id), media)


async def unsigned_followup(
    conn: Connection, ids: IdCodec, company_id: int, followup_id: int
) -> FollowupView:
    """The company's followup as the API shows it, its stored media not yet signed."""
    row = await reads.followup_row(conn, company_id, followup_id)
    if row is None:
        raise FollowupNotFound()
    return unsigned_views([row], ids.encoder(Resource.FOLLOWUP), ids.encoder(Resource.DEBT))[0]


async def unsigned_by_key(
    conn: Connection, ids: IdCodec, company_id: int, followup_ids: list[int] | None
) -> list[tuple[int, FollowupView]]:
    """The company's followups of these keys (None: all), unsigned, in key order, read in
    one statement: what a bulk write records its events from."""
    rows = await reads.followup_rows(conn, company_id, followup_ids)
    views = unsigned_views(rows, ids.encoder(Resource.FOLLOWUP), ids.encoder(Resource.DEBT))
    return sorted(zip((int(row[0]) for row in rows), views, strict=True), key=lambda kv: kv[0])


async def list_debt_followups(
    db: Connection,
    ids: IdCodec,
    company_id: int,
    public_debt_id: str,
    filters: FollowupFilters,
    page: PageRequest,
    media: MediaLinks,
    *,
    seek_from: int,
) -> tuple[list[FollowupView], int]:
    """The list of one debt's followups; a debt that is not the company's is a 404."""
    debt_id = debt_key(ids, public_debt_id)
    if not await debts.debt_exists(db, company_id, debt_id):
        raise DebtNotFound()
    mine = replace(filters, debt_id=debt_id)
    return await list_followups(db, ids, company_id, mine, page, media, seek_from=seek_from)


async def create_followup(
    conn: Connection,
    ids: IdCodec,
    company_id: int,
    body: FollowupBody,
    media: MediaLinks,
    log: EventLog,
) -> FollowupView:
    """A new followup on one of the company's debts, its counts, its debt's tallies and its
    events recorded in the caller's transaction."""
    public_debt_id, record = for_create(body)
    debt_id = await _own_debt(conn, ids, company_id, public_debt_id)
    now = utc_now()
    record.processed_at = now
    followup_id = await writes.insert_followup(conn, company_id, debt_id, record, now)
    view = await unsigned_followup(conn, ids, company_id, followup_id)
    await log.record(conn, company_id, events.created(view))
    # Last, counts then the debt (every write's order): their rows stay locked until the
    # commit, and the company's other writes wait on them.
    await writes.count_inserted(conn, company_id, record)
    moved = tally_change(None, record.status)
    await debts.add_tallies(conn, company_id, [(debt_id, moved)])
    return signed(view, media)


async def _own_debt(conn: Connection, ids: IdCodec, company_id: int, public_id: str) -> int:
    debt_id = ids.find(Resource.DEBT, public_id)
    if debt_id is None or not await debts.debt_exists(conn, company_id, debt_id):
        raise ValidationFailed({"debt_id": ["Debt not found"]})
    return debt_id


async def update_followup(
    conn: Connection,
    ids: IdCodec,
    company_id: int,
    public_id: str,
    body: FollowupBody,
    media: MediaLinks,
    log: EventLog,
) -> FollowupView:
    """Change the fields sent, and nothing else, and record the events of what changed, in the
    caller's transaction. The followup is locked until it ends, so concurrent updates apply one
    after the other: the last writer of each field wins and no update is lost."""
    key = followup_key(ids, public_id)
    current = await writes.locked_followup(conn, company_id, key)
    if current is None:
        raise FollowupNotFound()
    _refuse_other_debt(ids, body.debt_id, current.debt_id)
    new, names = changed(body, current)
    now = utc_now()
    counted = await writes.update_followup(conn, company_id, current, new, names, now)
    view = await unsigned_followup(conn, ids, company_id, key)
    first = (
        new.status != current.status
        and new.status in COMPLETED
        and await writes.mark_completed(conn, key, now)
    )
    before = events.view_before(current, view)
    await log.record(conn, company_id, events.updated(before, view, first_completion=first))
    # Last, as on create: counts, then the debt.
    await counts.apply_deltas(conn, counted)
    moved = tally_change(current.status, new.status)
    if any(moved):
        await debts.add_tallies(conn, company_id, [(current.debt_id, moved)])
    return signed(view, media)


def _refuse_other_debt(ids: IdCodec, sent: str | None, debt_id: int) -> None:
    if sent is not None and sent != ids.encode(Resource.DEBT, debt_id):
        raise ValidationFailed(
            {"debt_id": ["cannot be changed; create a followup on the other debt instead"]}
        )
