"""The debtor as the API shows it, in GetBill's camelCase, and the body of PUT /debtors/{id}."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

import msgspec
from pydantic import BaseModel, ConfigDict, StringConstraints, WithJsonSchema

from relance.debtors.records import DebtorTotals, StoredDebtor
from relance.errors import ValidationFailed
from relance.kit.fields import Email, Name, NoNul, Phone
from relance.kit.views import Day, PublicId, SpacedMoment, spaced


class DebtorView(msgspec.Struct, frozen=True, rename="camel"):
    """A person the company's debts are owed by, matched across its debts."""

    id: PublicId
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    address: str | None
    date_of_birth: Day | None
    first_seen_at: SpacedMoment
    last_seen_at: SpacedMoment
    last_updated_at: SpacedMoment


class DebtorDetailView(DebtorView, frozen=True, rename="camel"):
    """A debtor with their debts summed: every amount, those paid or settled, and how many.
    `averageRepaymentScore` is always null: Relance computes no score."""

    total_debt_amount: float
    total_paid_amount: float
    average_repayment_score: int | None
    debts_count: int


def debtor_view(debtor: StoredDebtor, encode: Callable[[int], str]) -> DebtorView:
    return DebtorView(**_shown(debtor, encode))


def debtor_detail(
    debtor: StoredDebtor, totals: DebtorTotals, encode: Callable[[int], str]
) -> DebtorDetailView:
    return DebtorDetailView(
        **_shown(debtor, encode),
        total_debt_amount=totals.total_amount,
        total_paid_amount=totals.paid_amount,
        average_repayment_score=None,
        debts_count=totals.count,
    )


def _shown(debtor: StoredDebtor, encode: Callable[[int], str]) -> dict[str, Any]:
    birth = debtor.date_of_birth
    return {
        "id": encode(debtor.id),
        "first_name": debtor.first_name,
        "last_name": debtor.last_name,
        "email": debtor.email,
        "phone": debtor.phone,
        "address": debtor.address,
        "date_of_birth": None if birth is None else birth.isoformat(),
        "first_seen_at": spaced(debtor.first_seen_at),
        "last_seen_at": spaced(debtor.last_seen_at),
        "last_updated_at": spaced(debtor.updated_at),
    }


class InvalidBirthDate(ValidationFailed):
    # GetBill's words for it.
    message = "Invalid dateOfBirth format. Use YYYY-MM-DD"


class DebtorUpdate(BaseModel):
    """The debtor's fields to change, by GetBill's names; `null` clears one."""

    model_config = ConfigDict(extra="forbid", strict=True)

    firstName: Name | None = None  # noqa: N815 (GetBill's name)
    lastName: Name | None = None  # noqa: N815
    email: Email | None = None
    phone: Phone | None = None
    address: Annotated[str, StringConstraints(max_length=300), NoNul] | None = None
    # Checked by for_update, to refuse it in GetBill's words.
    dateOfBirth: Annotated[  # noqa: N815
        str | None, WithJsonSchema({"type": ["string", "null"], "format": "date"})
    ] = None


_STORED_AS = {
    "firstName": "first_name",
    "lastName": "last_name",
    "email": "email",
    "phone": "phone",
    "address": "address",
    "dateOfBirth": "date_of_birth",
}


def for_update(body: DebtorUpdate) -> dict[str, Any]:
    """The stored values of the fields sent; a birth date GetBill's way or a 400 in its
    words."""
    sent = {_STORED_AS[name]: getattr(body, name) for name in body.model_fields_set}
    birth = sent.get("date_of_birth")
    if birth is not None:
        try:
            sent["date_of_birth"] = date.fromisoformat(birth) if len(birth) == 10 else None
        except ValueError:
            sent["date_of_birth"] = None
        if sent["date_of_birth"] is None:
            raise InvalidBirthDate({"dateOfBirth": ["must be a calendar date written YYYY-MM-DD"]})
    return sent
