"""A creditor as Relance stores it, and how its name is compared: a debt's `company` names the
creditor whose name, spaces collapsed and in lower case, is the same."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


def name_key(name: str) -> str:
    return " ".join(name.split()).lower()


# The creditor's fields a caller may set, in GetBill's order, as stored.
FIELDS = (
    "name",
    "email",
    "phone",
    "address",
    "city",
    "postal_code",
    "country",
    "registration_number",
    "tax_number",
    "contact_person",
)


@dataclass(frozen=True, slots=True)
class StoredCreditor:
    id: int
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
    created_at: datetime
    updated_at: datetime
