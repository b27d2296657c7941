"""What a company may read and write of its debts. Each function takes the collaborators it
uses: a connection (a write's, from the caller's unit of work) and the public ID codec."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
from pydantic import BaseModel

from relance.creditors import repository as creditors
from relance.creditors.records import name_key
from relance.db import Connection
from relance.debts import parties, repository
from relance.debts.records import DebtRecord, StoredDebt
from relance.debts.schemas import (
    DebtBody,
    DebtFilters,
    DebtView,
    debt_view,
    for_create,
    for_update,
)
from relance.errors import Conflict, NotFound, ValidationFailed
from relance.events.log import EventLog
from relance.events.records import NewEvent, changes_between
from relance.events.types import EventType
from relance.kit.ids import IdCodec
from relance.kit.pagination import PageRequest
from relance.kit.time import utc_now
from relance.resources import Resource


class DebtNotFound(NotFound):
    message = "Debt not found"


# The unique index that holds an internal ID to one debt of a company (models/debt.py).
INTERNAL_ID_INDEX = "ix_debts_company_id_internal_id"


class InternalIdTaken(Conflict):
    title = "InternalIdTaken"
    description = "Another debt of the company already carries this `internal_id`"

    def __init__(self, holder: str) -> None:
        super().__init__(
            f"internal_id is already the internal_id of debt {holder}: each debt of a company"
            " has its own",
            details={"internal_id": [f"is already the internal_id of debt {holder}"]},
        )


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
    db: Connection, ids: IdCodec, company_id: int, filters: DebtFilters, page: PageRequest
) -> tuple[list[DebtView], int]:
    total, debts = await repository.page_of_debts(db, company_id, filters, page.limit, page.offset)
    encode = ids.encoder(Resource.DEBT)
    return [debt_view(debt, encode) for debt in debts], total


async def create_debt(
    conn: Connection, ids: IdCodec, company_id: int, body: DebtBody, log: EventLog
) -> DebtView:
    """A new debt of the caller's company, pending, with no followup yet, and its
    debt.created event; within the caller's transaction, so that an idempotency key is
    recorded with it or not at all."""
    debt, now = for_create(body), utc_now()
    await refuse_taken_internal_id(conn, ids, company_id, debt.internal_id, None)
    if body.creditor_id is not None:
        await name_creditor(conn, ids, company_id, debt, body.creditor_id)
    await parties.link(conn, company_id, [debt], now)
    debt_id = await repository.insert_debt(conn, company_id, debt, now)
    view = await shown_debt(conn, ids, company_id, debt_id)
    await log.record(conn, company_id, [created_event(view)])
    return view


async def update_debt(
    conn: Connection,
    ids: IdCodec,
    company_id: int,
    public_id: str,
    body: BaseModel,
    client_id: str,
    log: EventLog,
) -> DebtView:
    """Change the fields sent, and nothing else, in the caller's transaction: a status moved
    is written to the debt's history with the client that moved it, and the write's events
    are recorded (debt.updated with what changed; debt.status_changed when the status did).
    The debt is locked until the transaction ends: concurrent updates apply one after the
    other."""
    key = debt_key(ids, public_id)
    current = await repository.locked_debt(conn, company_id, key)
    if current is None:
        raise DebtNotFound()
    new, changed = for_update(body, current)
    if "internal_id" in changed:
        await refuse_taken_internal_id(conn, ids, company_id, new.internal_id, key)
    now = utc_now()
    changed |= await _relinked(conn, ids, company_id, body, current, new, now)
    if not changed:
        return debt_view(current, ids.encoder(Resource.DEBT))
    await repository.update_debt(conn, company_id, key, changed, now)
    if "debtor_id" in changed:
        await parties.release(conn, company_id, {current.debtor_id})
    if "status" in changed:
        moved = (current.status, new.status)
        await repository.record_status_change(conn, company_id, key, moved, now, client_id)
    view = await shown_debt(conn, ids, company_id, key)
    await log.record(
        conn, company_id, updated_events(debt_view(current, ids.encoder(Resource.DEBT)), view)
    )
    return view


async def _relinked(
    conn: Connection,
    ids: IdCodec,
    company_id: int,
    body: BaseModel,
    current: StoredDebt,
    new: StoredDebt,
    now: datetime,
) -> dict[str, Any]:
    """Link the changed debt to its parties again: the creditor its `creditor_id` names if
    sent, else the one its `company` names; the debtor of its new fields. The links (and the
    `company` a creditor gives) that differ from the debt's before."""
    sent = body.model_fields_set
    if "creditor_id" in sent:
        new.creditor_id = None
        if "company" not in sent:
            new.company_name = None
        creditor = getattr(body, "creditor_id")  # noqa: B009 (a model made at run time)
        if creditor is not None:
            await name_creditor(conn, ids, company_id, new, creditor)
    elif new.company_name != current.company_name:
        new.creditor_id = None
    await parties.link(conn, company_id, [new], now)
    linked = ("debtor_id", "creditor_id", "company_name")
    return {n: getattr(new, n) for n in linked if getattr(new, n) != getattr(current, n)}


async def name_creditor(
    conn: Connection, ids: IdCodec, company_id: int, debt: DebtRecord, public_id: str
) -> None:
    """Give the debt the creditor of this ID, and its name as the debt's `company`; a
    `company` sent beside it must name the same creditor."""
    key = ids.find(Resource.CREDITOR, public_id)
    creditor = None if key is None else await creditors.stored_creditor(conn, company_id, key)
    if key is None or creditor is None:
        raise ValidationFailed({"creditor_id": ["Creditor not found"]})
    if debt.company_name is not None and name_key(debt.company_name) != name_key(creditor.name):
        raise ValidationFailed({"company": [f"names another creditor than {public_id}"]})
    debt.creditor_id, debt.company_name = key, creditor.name


async def refuse_taken_internal_id(
    conn: Connection, ids: IdCodec, company_id: int, internal_id: str | None, debt_id: int | None
) -> None:
    """An internal ID names one debt of a company: refuse it when another debt carries it."""
    if internal_id is None:
        return
    holder = await repository.holder_of_internal_id(conn, company_id, internal_id)
    if holder is not None and holder != debt_id:
        raise InternalIdTaken(ids.encode(Resource.DEBT, holder))


async def internal_id_problems(
    conn: Connection,
    ids: IdCodec,
    company_id: int,
    claims: Sequence[tuple[str, str | None, str]],
) -> list[str | None]:
    """For many debts written together (a batch, an import's), each given as (internal ID,
    external ID, how to name it to a later one), the problem with its internal ID: another
    debt of the company carries it (not the one its external ID updates), or an earlier one
    of these claims it; None where there is none."""
    named = sorted({internal_id for internal_id, _, _ in claims})
    holders = await repository.internal_id_holders(conn, company_id, named)
    earlier: dict[str, tuple[str | None, str]] = {}
    problems: list[str | None] = []
    for internal_id, external_id, name in claims:
        problem = None
        if internal_id in holders and not _same(holders[internal_id][1], external_id):
            holder = ids.encode(Resource.DEBT, holders[internal_id][0])
            problem = f"is already the internal_id of debt {holder}"
        elif internal_id in earlier and not _same(earlier[internal_id][0], external_id):
            problem = f"is already the internal_id of {earlier[internal_id][1]}"
        else:
            earlier.setdefault(internal_id, (external_id, name))
        problems.append(problem)
    return problems


def _same(external_id: str | None, other: str | None) -> bool:
    """Whether two debts written are one, named by its external ID (no ID names none)."""
    return external_id is not None and external_id == other


_COMPARED = DebtView.__struct_fields__


def updated_events(before: DebtView, after: DebtView) -> list[NewEvent]:
    changes = changes_between(before, after, _COMPARED)
    if not changes:
        return []
    data = msgspec.json.encode(after)
    events = [NewEvent(EventType.DEBT_UPDATED, data, msgspec.json.encode(changes))]
    if "status" in changes:
        events.append(
            NewEvent(
                EventType.DEBT_STATUS_CHANGED,
                data,
                msgspec.json.encode({"status": changes["status"]}),
            )
        )
    return events


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
