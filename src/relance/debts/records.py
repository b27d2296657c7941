"""A debt as Relance stores it, defined once: the columns it is written and read by, what a
create leaves out and the demo's debts derive from `DebtRecord`.

The body (`schemas.DebtBody`), the view (`schemas.DebtView`) and the table (`models.debt.Debt`)
name the same fields for their own ends; tests/debts/test_records.py holds them to the record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any, get_type_hints

from relance.kit.readers import day_of, moment_of


@dataclass(slots=True, kw_only=True)
class DebtRecord:
    """What a debt stores besides its keys and its moments, in the order the API shows it
    (company_name is GetBill's `company`, metadata_json its `metadata` as text). The tallies
    follow the debt's followups, in the same transaction as each of their writes."""

    civility: str | None = None
    firstname: str
    lastname: str
    phone: str | None = None
    email: str | None = None
    birthdate: date | None = None
    amount: Decimal
    currency: str
    object: str | None = None
    internal_id: str | None = None
    invoice_reference: str | None = None
    debtor_reference: str | None = None
    invoice_date: date | None = None
    due_date: date | None = None
    address: str | None = None
    street_address: str | None = None
    street_number: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    status: str
    timeline_id: str | None = None
    nb_reminders: int = 0
    nb_answered: int = 0
    summary: str | None = None
    iban: str | None = None
    followups_count: int = 0
    company_name: str | None = None
    debtor_company: str | None = None
    payment_link: str | None = None
    last_timeline_restart: datetime | None = None
    payment_plan_active: bool = False
    plan_start_date: date | None = None
    metadata_json: str | None = None
    # The caller's own reference, by which a second import updates instead of duplicating.
    external_id: str | None = None
    # Its parties (debts/parties.py), set by every write from the fields above.
    debtor_id: int | None = None
    creditor_id: int | None = None


@dataclass(slots=True, kw_only=True)
class StoredDebt(DebtRecord):
    """A debt as read back: its record, its key and when it was created."""

    id: int
    created_at: datetime


RECORD_FIELDS = tuple(field.name for field in fields(DebtRecord))
STORED_FIELDS = tuple(field.name for field in fields(StoredDebt))


def _amount(value: Decimal | float | int) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


# What SQLite hands back in place of each type (text for dates and moments, a number for an
# amount, 0 or 1 for a boolean), made the record's own type again; PostgreSQL's pass unchanged.
_READ_AS: dict[object, Callable[[Any], Any]] = {
    date | None: day_of,
    datetime: moment_of,
    datetime | None: moment_of,
    Decimal: _amount,
    bool: bool,
}
_TYPES = get_type_hints(StoredDebt)
READ_THROUGH = {name: _READ_AS[_TYPES[name]] for name in STORED_FIELDS if _TYPES[name] in _READ_AS}
