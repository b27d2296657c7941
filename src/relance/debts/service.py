"""What a company may read and write of its debts. Each function takes the collaborators it
uses: a connection (a write's, from the caller's unit of work) and the public ID codec."""

from __future__ import annotations

import msgspec

from relance.db import Connection
from relance.debts import repository
from relance.debts.schemas import DebtBody, DebtStatus, DebtView, debt_view, for_create
from relance.errors import NotFound
from relance.events.log import EventLog
from relance.events.records import NewEvent
from relance.events.types import EventType
from relance.kit.ids import IdCodec
from relance.kit.pagination import PageRequest
from relance.kit.time import utc_now
from relance.resources import Resource


class DebtNotFound(NotFound):
    message = "Debt not found"


def debt_key(ids: IdCodec, public_id: str) -> int:
    """The debt's key from a path ID; a malformed ID is as unknown as another company's."""
    key = ids.find(Resource.DEBT, public_id)
    if key is None:
        raise DebtNotFound()
    return key


async def get_debt(db: Connection, ids: IdCodec, company_id: int, public_id: str) -> DebtView:
    return await shown_debt(db, ids, company_id, debt_key(ids, public_id))


async def shown_debt(conn: Connection, ids: IdCodec, company_id: int, debt_id: int) -> DebtView:
    debt = await repository.stored_debt(conn, company_id, debt_id)
    if debt is None:
        raise DebtNotFound()
    return debt_view(debt, ids.encoder(Resource.DEBT))


async def list_debts(
    db: Connection, ids: IdCodec, company_id: int, status: DebtStatus | None, page: PageRequest
) -> tuple[list[DebtView], int]:
    total, debts = await repository.page_of_debts(
        db, company_id, None if status is None else status.value, page.limit, page.offset
    )
    encode = ids.encoder(Resource.DEBT)
    return [debt_view(debt, encode) for debt in debts], total


async def create_debt(
    conn: Connection, ids: IdCodec, company_id: int, body: DebtBody, log: EventLog
) -> DebtView:
    """A new debt of the caller's company, pending, with no followup yet, and its
    debt.created event; within the caller's transaction, so that an idempotency key is
    recorded with it or not at all."""
    debt_id = await repository.insert_debt(conn, company_id, for_create(body), utc_now())
    view = await shown_debt(conn, ids, company_id, debt_id)
    await log.record(conn, company_id, [created_event(view)])
    return view


def created_event(view: DebtView) -> NewEvent:
    return NewEvent(EventType.DEBT_CREATED, msgspec.json.encode(view))


async def created_events(
    conn: Connection, ids: IdCodec, company_id: int, debt_ids: list[int]
) -> list[NewEvent]:
    """debt.created for each of these new debts, read back in one statement, in key order
    (the debts an import or the demo made in bulk)."""
    encode = ids.encoder(Resource.DEBT)
    debts = sorted(await repository.stored_debts(conn, company_id, debt_ids), key=lambda d: d.id)
    return [created_event(debt_view(debt, encode)) for debt in debts]
