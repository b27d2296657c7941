"""The creditor as the API shows it, in GetBill's camelCase, and the bodies that change it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import msgspec
from pydantic import BaseModel, ConfigDict, StringConstraints

from relance.creditors.records import FIELDS, StoredCreditor
from relance.kit.bodies import NotNull
from relance.kit.fields import Email, NoNul, Phone
from relance.kit.views import PublicId, SpacedMoment, spaced


class CreditorView(msgspec.Struct, frozen=True, rename="camel"):
    """A client the company collects for: a debt's `company`, as a record."""

    id: PublicId
    name: str
    email: str | None
    phone: str | None
    address: str | None
    city: str | None
    postal_code: str | None
    country: str | None
    registration_number: str | None
    tax_number: str | None
    contact_person: str | None
    created_at: SpacedMoment
    updated_at: SpacedMoment


class CreditorDetailView(CreditorView, frozen=True, rename="camel"):
    """A creditor with how many debts it has and their amounts summed."""

    total_debts: int
    total_amount: float


def creditor_view(creditor: StoredCreditor, encode: Callable[[int], str]) -> CreditorView:
    return CreditorView(**_shown(creditor, encode))


def creditor_detail(
    creditor: StoredCreditor, totals: tuple[int, float], encode: Callable[[int], str]
) -> CreditorDetailView:
    count, amount = totals
    return CreditorDetailView(**_shown(creditor, encode), total_debts=count, total_amount=amount)


def _shown(creditor: StoredCreditor, encode: Callable[[int], str]) -> dict[str, Any]:
    return {
        "id": encode(creditor.id),
        **{name: getattr(creditor, name) for name in FIELDS},
        "created_at": spaced(creditor.created_at),
        "updated_at": spaced(creditor.updated_at),
    }


Text20 = Annotated[str, StringConstraints(min_length=1, max_length=20), NoNul]
Text100 = Annotated[str, StringConstraints(min_length=1, max_length=100), NoNul]
Text200 = Annotated[str, StringConstraints(min_length=1, max_length=200), NoNul]
Text300 = Annotated[str, StringConstraints(min_length=1, max_length=300), NoNul]
CreditorName = Annotated[
    str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True), NoNul
]


class CreditorPatch(BaseModel):
    """PATCH: the creditor's fields to change, by GetBill's names; `null` clears one (not
    the name)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: NotNull[CreditorName] = None
    email: Email | None = None
    phone: Phone | None = None
    address: Text300 | None = None
    city: Text100 | None = None
    postalCode: Text20 | None = None  # noqa: N815 (GetBill's names)
    country: Text100 | None = None
    registrationNumber: Text100 | None = None  # noqa: N815
    taxNumber: Text100 | None = None  # noqa: N815
    contactPerson: Text200 | None = None  # noqa: N815


class CreditorPut(CreditorPatch):
    """PUT: the whole creditor; a field left out is cleared, and the name is required."""

    name: CreditorName


_STORED_AS = dict(zip(CreditorPatch.model_fields, FIELDS, strict=True))


def values_of(body: CreditorPatch, *, whole: bool) -> dict[str, Any]:
    """The stored values a body sets: the fields sent, or every field for a whole one."""
    names = CreditorPatch.model_fields if whole else body.model_fields_set
    return {_STORED_AS[name]: getattr(body, name) for name in names}
