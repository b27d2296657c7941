"""What a company may read and write of its debts."""

from __future__ import annotations

from relance.auth.tokens import Principal
from relance.db import Connection
from relance.debts import repository
from relance.debts.schemas import DebtBody, DebtStatus, DebtView, debt_view, for_create
from relance.errors import NotFound
from relance.kit.ids import Resource
from relance.kit.pagination import PageRequest
from relance.kit.time import utc_now
from relance.runtime import Runtime


class DebtNotFound(NotFound):
    message = "Debt not found"


def debt_key(runtime: Runtime, public_id: str) -> int:
    """The debt's key from a path ID; a malformed ID is as unknown as another company's."""
    key = runtime.ids.find(Resource.DEBT, public_id)
    if key is None:
        raise DebtNotFound()
    return key


async def get_debt(runtime: Runtime, principal: Principal, public_id: str) -> DebtView:
    return await shown_debt(runtime.db, runtime, principal.company_id, debt_key(runtime, public_id))


async def shown_debt(conn: Connection, runtime: Runtime, company_id: int, debt_id: int) -> DebtView:
    debt = await repository.stored_debt(conn, company_id, debt_id)
    if debt is None:
        raise DebtNotFound()
    return debt_view(debt, runtime.ids.encoder(Resource.DEBT))


async def list_debts(
    runtime: Runtime, principal: Principal, status: DebtStatus | None, page: PageRequest
) -> tuple[list[DebtView], int]:
    total, debts = await repository.page_of_debts(
        runtime.db,
        principal.company_id,
        None if status is None else status.value,
        page.limit,
        page.offset,
    )
    encode = runtime.ids.encoder(Resource.DEBT)
    return [debt_view(debt, encode) for debt in debts], total


async def create_debt(
    conn: Connection, runtime: Runtime, principal: Principal, body: DebtBody
) -> DebtView:
    """A new debt of the caller's company, pending, with no followup yet; within the caller's
    transaction, so that an idempotency key is recorded with it or not at all."""
    debt_id = await repository.insert_debt(conn, principal.company_id, for_create(body), utc_now())
    return await shown_debt(conn, runtime, principal.company_id, debt_id)
