"""Companies: the tenants of a deployment. Their operator makes and changes them (the CLI);
the API shows a company only to its own tokens. Each function takes what it uses: a
connection (a write's, from the caller's unit of work) and the public ID codec."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from relance.companies import repository
from relance.companies.records import StoredCompany
from relance.companies.schemas import (
    SELF_HOSTED,
    CompanyChanges,
    CompanyFields,
    CompanyView,
    CreditsView,
    UserView,
    company_view,
)
from relance.db import Connection
from relance.errors import Unauthenticated, ValidationFailed
from relance.kit.bodies import details_of
from relance.kit.ids import IdCodec
from relance.kit.time import utc_now
from relance.resources import Resource

Fields = TypeVar("Fields", bound=BaseModel)


def _valid(model: type[Fields], values: dict[str, Any]) -> Fields:
    """The values as `model`, or ValidationFailed naming each field at fault."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise ValidationFailed(details_of(exc)) from None


async def create_company(
    conn: Connection, name: str, *, email: str | None = None, phone: str | None = None
) -> StoredCompany:
    """A new company; ValidationFailed if a field is not one a company can have."""
    fields = _valid(CompanyFields, {"name": name, "email": email, "phone": phone})
    company_id = await repository.insert_company(
        conn, fields.name, utc_now(), email=fields.email, phone=fields.phone
    )
    return await _stored(conn, company_id)


async def update_company(
    conn: Connection, company_id: int, changes: dict[str, str | None]
) -> StoredCompany | None:
    """The company with the fields given changed, None if there is none; ValidationFailed
    if a field is not one a company can have (a name cannot be cleared)."""
    sent = _valid(CompanyChanges, changes)
    if "name" in sent.model_fields_set and sent.name is None:
        raise ValidationFailed({"name": ["a company needs a name"]})
    if not await repository.update_company(
        conn, company_id, sent.model_dump(include=sent.model_fields_set), utc_now()
    ):
        return None
    return await _stored(conn, company_id)


async def _stored(conn: Connection, company_id: int) -> StoredCompany:
    company = await repository.stored_company(conn, company_id)
    if company is None:
        raise LookupError(f"company {company_id} vanished within its own write")
    return company


async def company_profile(db: Connection, ids: IdCodec, company_id: int) -> CompanyView:
    """The token's company. Its clients hold it (a foreign key), so a token names a company
    that exists; one whose company is gone names no one, as a revoked client's does."""
    company = await repository.stored_company(db, company_id)
    if company is None:
        raise Unauthenticated(token_given=True)
    return company_view(company, ids.encoder(Resource.COMPANY))


async def list_users(db: Connection, ids: IdCodec, company_id: int) -> list[UserView]:
    """The company's console users. Relance has no console yet, so there are none; the
    console's issue adds their table, reads them here (with a Resource for their IDs) and
    leaves the endpoint, the view and the SDK as they are, which is why this takes what it
    will use."""
    return []


def credits() -> CreditsView:
    """What GetBill calls the company's credits: Relance bills nothing (docs/contract.md)."""
    return SELF_HOSTED
