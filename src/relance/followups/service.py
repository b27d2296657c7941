"""What a company may read and write of its followups."""

from __future__ import annotations

from dataclasses import replace

from relance.auth.tokens import Principal
from relance.db import Connection
from relance.debts import repository as debts
from relance.debts.service import DebtNotFound, debt_key
from relance.errors import NotFound, ValidationFailed
from relance.followups.bodies import FollowupBody, changed, for_create
from relance.followups.enums import tally_change
from relance.followups.repository import reads, writes
from relance.followups.schemas import FollowupFilters, FollowupView, followup_views
from relance.kit.ids import Resource
from relance.kit.pagination import PageRequest
from relance.kit.time import utc_now
from relance.media.links import MediaLinks
from relance.runtime import Runtime


async def list_followups(
    runtime: Runtime,
    principal: Principal,
    filters: FollowupFilters,
    page: PageRequest,
    media: MediaLinks,
) -> tuple[list[FollowupView], int]:
    """One page of the company's followups, newest activity first, and the exact total."""
    total, rows = await reads.page_of_followups(
        runtime.db,
        principal.company_id,
        filters,
        page.limit,
        page.offset,
        runtime.settings.seek_from_offset,
    )
    followup_id = runtime.ids.encoder(Resource.FOLLOWUP)
    debt_id = runtime.ids.encoder(Resource.DEBT)
    return followup_views(rows, followup_id, debt_id, media), total


class FollowupNotFound(NotFound):
    message = "Followup not found"


def followup_key(runtime: Runtime, public_id: str) -> int:
    key = runtime.ids.find(Resource.FOLLOWUP, public_id)
    if key is None:
        raise FollowupNotFound()
    return key


async def get_followup(
    runtime: Runtime, principal: Principal, public_id: str, media: MediaLinks
) -> FollowupView:
    key = followup_key(runtime, public_id)
    return await shown_followup(runtime.db, runtime, principal.company_id, key, media)


async def shown_followup(
    conn: Connection, runtime: Runtime, company_id: int, followup_id: int, media: MediaLinks
) -> FollowupView:
    """The company's followup as the API shows it."""
    row = await reads.followup_row(conn, company_id, followup_id)
    if row is None:
        raise FollowupNotFound()
    encoders = runtime.ids.encoder(Resource.FOLLOWUP), runtime.ids.encoder(Resource.DEBT)
    return followup_views([row], *encoders, media)[0]


async def list_debt_followups(
    runtime: Runtime,
    principal: Principal,
    public_debt_id: str,
    filters: FollowupFilters,
    page: PageRequest,
    media: MediaLinks,
) -> tuple[list[FollowupView], int]:
    """The list of one debt's followups; a debt that is not the company's is a 404."""
    debt_id = debt_key(runtime, public_debt_id)
    if not await debts.debt_exists(runtime.db, principal.company_id, debt_id):
        raise DebtNotFound()
    return await list_followups(runtime, principal, replace(filters, debt_id=debt_id), page, media)


async def create_followup(
    conn: Connection,
    runtime: Runtime,
    principal: Principal,
    body: FollowupBody,
    media: MediaLinks,
) -> FollowupView:
    """A new followup on one of the company's debts, its counts and its debt's tallies moved in
    the caller's transaction."""
    public_debt_id, record = for_create(body)
    company_id = principal.company_id
    debt_id = await _own_debt(conn, runtime, company_id, public_debt_id)
    now = utc_now()
    record.processed_at = now
    followup_id = await writes.insert_followup(conn, company_id, debt_id, record, now)
    moved = tally_change(None, record.status)
    await debts.add_tallies(conn, company_id, [(debt_id, moved)])
    return await shown_followup(conn, runtime, company_id, followup_id, media)


async def _own_debt(conn: Connection, runtime: Runtime, company_id: int, public_id: str) -> int:
    debt_id = runtime.ids.find(Resource.DEBT, public_id)
    if debt_id is None or not await debts.debt_exists(conn, company_id, debt_id):
        raise ValidationFailed({"debt_id": ["Debt not found"]})
    return debt_id


async def update_followup(
    runtime: Runtime, principal: Principal, public_id: str, body: FollowupBody, media: MediaLinks
) -> FollowupView:
    """Change the fields sent, and nothing else. The followup is locked while it changes, so
    concurrent updates apply one after the other: the last writer of each field wins and no
    update is lost."""
    key = followup_key(runtime, public_id)
    company_id = principal.company_id
    async with runtime.db.transaction() as conn:
        current = await writes.locked_followup(conn, company_id, key)
        if current is None:
            raise FollowupNotFound()
        _refuse_other_debt(runtime, body.debt_id, current.debt_id)
        new, names = changed(body, current)
        await writes.update_followup(conn, company_id, current, new, names, utc_now())
        moved = tally_change(current.status, new.status)
        if any(moved):
            await debts.add_tallies(conn, company_id, [(current.debt_id, moved)])
        return await shown_followup(conn, runtime, company_id, key, media)


def _refuse_other_debt(runtime: Runtime, sent: str | None, debt_id: int) -> None:
    if sent is not None and sent != runtime.ids.encode(Resource.DEBT, debt_id):
        raise ValidationFailed(
            {"debt_id": ["cannot be changed; create a followup on the other debt instead"]}
        )
