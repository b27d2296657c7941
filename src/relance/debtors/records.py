"""A debtor as Relance stores it, and the rule that matches a company's debts to one.

A debt names its debtor by, in this order: its email (trimmed, in lower case), else its phone
(E.164, as every stored phone is), else its debtor's names (spaces collapsed, lower case) with
the birthdate. Two debts with the same key are one debtor's; a debt whose email changes moves to
the debtor of its new key. docs/api.md ("Debtors") states the rule for callers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


def match_key(
    email: str | None, phone: str | None, firstname: str, lastname: str, birthdate: date | None
) -> str:
    if email is not None and email.strip():
        return f"email:{email.strip().lower()}"
    if phone:
        return f"phone:{phone}"
    names = " ".join(f"{firstname} {lastname}".split()).lower()
    return f"name:{names}|{'' if birthdate is None else birthdate.isoformat()}"


@dataclass(frozen=True, slots=True)
class DebtorFacts:
    """What a debt tells of its debtor: the debtor's fields a debt write fills when the
    debtor has none yet."""

    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    address: str | None
    date_of_birth: date | None


FACT_FIELDS = ("first_name", "last_name", "email", "phone", "address", "date_of_birth")


@dataclass(frozen=True, slots=True)
class StoredDebtor:
    id: int
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    address: str | None
    date_of_birth: date | None
    first_seen_at: datetime
    last_seen_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DebtorTotals:
    """A debtor's debts, summed: every amount, those paid or settled, and how many."""

    total_amount: float
    paid_amount: float
    count: int
