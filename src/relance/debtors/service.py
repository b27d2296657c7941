"""What a company may read and change of its debtors."""

from __future__ import annotations

from relance.db import Connection
from relance.debtors import repository
from relance.debtors.schemas import (
    DebtorDetailView,
    DebtorUpdate,
    DebtorView,
    debtor_detail,
    debtor_view,
    for_update,
)
from relance.errors import NotFound
from relance.kit.ids import IdCodec
from relance.kit.pagination import PageRequest
from relance.kit.time import utc_now
from relance.resources import Resource


class DebtorNotFound(NotFound):
    message = "Debtor not found"


def debtor_key(ids: IdCodec, public_id: str) -> int:
    """The debtor's key from a path ID; a malformed ID is as unknown as another company's."""
    key = ids.find(Resource.DEBTOR, public_id)
    if key is None:
        raise DebtorNotFound()
    return key


async def known_debtor(db: Connection, ids: IdCodec, company_id: int, public_id: str) -> int:
    """The key of the company's debtor of this ID."""
    key = debtor_key(ids, public_id)
    if await repository.stored_debtor(db, company_id, key) is None:
        raise DebtorNotFound()
    return key


async def list_debtors(
    db: Connection, ids: IdCodec, company_id: int, page: PageRequest
) -> tuple[list[DebtorView], int]:
    total, debtors = await repository.page_of_debtors(db, company_id, page.limit, page.offset)
    encode = ids.encoder(Resource.DEBTOR)
    return [debtor_view(debtor, encode) for debtor in debtors], total


async def get_debtor(
    conn: Connection, ids: IdCodec, company_id: int, public_id: str
) -> DebtorDetailView:
    key = debtor_key(ids, public_id)
    debtor = await repository.stored_debtor(conn, company_id, key)
    if debtor is None:
        raise DebtorNotFound()
    totals = await repository.totals(conn, company_id, key)
    return debtor_detail(debtor, totals, ids.encoder(Resource.DEBTOR))


async def update_debtor(
    conn: Connection, ids: IdCodec, company_id: int, public_id: str, body: DebtorUpdate
) -> DebtorDetailView:
    """Change the debtor's fields sent, in the caller's transaction; their debts keep their
    own (a debt is the caller's record of what it was told)."""
    values = for_update(body)
    key = debtor_key(ids, public_id)
    if await repository.stored_debtor(conn, company_id, key, lock=True) is None:
        raise DebtorNotFound()
    await repository.update_debtor(conn, company_id, key, values, utc_now())
    return await get_debtor(conn, ids, company_id, public_id)
