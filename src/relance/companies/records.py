"""A company as Relance stores it, defined once: the columns the repository reads it by and
the fields the view and the commands show derive from `StoredCompany`."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from relance.kit.readers import moment_of


@dataclass(frozen=True, slots=True)
class StoredCompany:
    """A tenant: its name and how it is reached (GetBill's profile), and when it was made."""

    id: int
    name: str
    email: str | None
    phone: str | None
    created_at: datetime


COMPANY_FIELDS = tuple(field.name for field in fields(StoredCompany))


READ_THROUGH = {"created_at": moment_of}
