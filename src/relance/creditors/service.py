"""What a company may read and change of its creditors, and how one is made."""

from __future__ import annotations

from typing import Any

from relance.creditors import repository
from relance.creditors.schemas import (
    CreditorDetailView,
    CreditorPatch,
    CreditorView,
    creditor_detail,
    creditor_view,
    values_of,
)
from relance.db import Connection
from relance.errors import Conflict, NotFound
from relance.kit.ids import IdCodec
from relance.kit.pagination import PageRequest
from relance.kit.time import utc_now
from relance.resources import Resource


class CreditorNotFound(NotFound):
    message = "Creditor not found"


class CreditorNameTaken(Conflict):
    title = "CreditorNameTaken"
    description = "Another creditor of the company already has this name"

    def __init__(self, holder: str) -> None:
        super().__init__(
            f"name is already the name of creditor {holder}: each creditor of a company has"
            " its own",
            details={"name": [f"is already the name of creditor {holder}"]},
        )


def creditor_key(ids: IdCodec, public_id: str) -> int:
    key = ids.find(Resource.CREDITOR, public_id)
    if key is None:
        raise CreditorNotFound()
    return key


async def known_creditor(db: Connection, ids: IdCodec, company_id: int, public_id: str) -> int:
    """The key of the company's creditor of this ID."""
    key = creditor_key(ids, public_id)
    if await repository.stored_creditor(db, company_id, key) is None:
        raise CreditorNotFound()
    return key


async def list_creditors(
    db: Connection, ids: IdCodec, company_id: int, page: PageRequest
) -> tuple[list[CreditorView], int]:
    total, found = await repository.page_of_creditors(db, company_id, page.limit, page.offset)
    encode = ids.encoder(Resource.CREDITOR)
    return [creditor_view(creditor, encode) for creditor in found], total


async def get_creditor(
    db: Connection, ids: IdCodec, company_id: int, public_id: str
) -> CreditorDetailView:
    key = creditor_key(ids, public_id)
    creditor = await repository.stored_creditor(db, company_id, key)
    if creditor is None:
        raise CreditorNotFound()
    totals = await repository.totals(db, company_id, key)
    return creditor_detail(creditor, totals, ids.encoder(Resource.CREDITOR))


async def update_creditor(
    conn: Connection,
    ids: IdCodec,
    company_id: int,
    public_id: str,
    body: CreditorPatch,
    *,
    whole: bool,
) -> CreditorView:
    """Change the creditor's fields sent (every field for a whole update), in the caller's
    transaction; a new name is its debts' `company` from now on."""
    key = creditor_key(ids, public_id)
    if await repository.stored_creditor(conn, company_id, key, lock=True) is None:
        raise CreditorNotFound()
    values = values_of(body, whole=whole)
    if "name" in values:
        holder = await repository.holder_of_name(conn, company_id, values["name"])
        if holder is not None and holder != key:
            raise CreditorNameTaken(ids.encode(Resource.CREDITOR, holder))
    await repository.update_creditor(conn, company_id, key, values, utc_now())
    updated = await repository.stored_creditor(conn, company_id, key)
    assert updated is not None  # locked above, in this transaction
    return creditor_view(updated, ids.encoder(Resource.CREDITOR))


async def create_creditor(
    conn: Connection, ids: IdCodec, company_id: int, values: dict[str, Any]
) -> str:
    """A new creditor of the company (`values` by stored names, `name` among them); its
    public ID."""
    key = await repository.insert_creditor(conn, company_id, values, utc_now())
    if key is None:
        holder = await repository.holder_of_name(conn, company_id, values["name"])
        assert holder is not None  # the insert met it, in this transaction
        raise CreditorNameTaken(ids.encode(Resource.CREDITOR, holder))
    return ids.encode(Resource.CREDITOR, key)
