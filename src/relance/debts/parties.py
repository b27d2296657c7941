"""A debt's parties: the debtor who owes it (matched by debtors/records.match_key) and the
creditor it is owed to (named by the debt's `company`, or by its creditor ID). Every write of a
debt links it to them in its own transaction, making either on first use; a debtor left owing
nothing goes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from relance.creditors import repository as creditors
from relance.creditors.records import name_key
from relance.db import Connection
from relance.debtors import repository as debtors
from relance.debtors.records import DebtorFacts, match_key
from relance.debts.records import DebtRecord


def debtor_key(debt: DebtRecord) -> str:
    return match_key(debt.email, debt.phone, debt.firstname, debt.lastname, debt.birthdate)


def _facts(debt: DebtRecord) -> DebtorFacts:
    return DebtorFacts(
        first_name=debt.firstname,
        last_name=debt.lastname,
        email=debt.email,
        phone=debt.phone,
        address=debt.address,
        date_of_birth=debt.birthdate,
    )


async def link(
    conn: Connection, company_id: int, debts: Sequence[DebtRecord], now: datetime
) -> None:
    """Set each debt's debtor_id, and its creditor_id from its `company` (a debt given its
    creditor by ID already carries both)."""
    facts: dict[str, DebtorFacts] = {}
    for debt in debts:
        facts.setdefault(debtor_key(debt), _facts(debt))
    found = await debtors.upsert(conn, company_id, facts, now) if facts else {}
    named = [n for d in debts if (n := _creditor_name(d)) and d.creditor_id is None]
    creditor_ids = await creditors.ids_by_name(conn, company_id, named, now) if named else {}
    for debt in debts:
        debt.debtor_id = found[debtor_key(debt)]
        name = _creditor_name(debt)
        if name is None:
            debt.creditor_id = None
        elif debt.creditor_id is None:
            debt.creditor_id = creditor_ids[name_key(name)]


def _creditor_name(debt: DebtRecord) -> str | None:
    """The creditor the debt's `company` names: none for a blank one."""
    name = debt.company_name
    return name if name is not None and name_key(name) else None


async def release(conn: Connection, company_id: int, debtor_ids: set[int | None]) -> None:
    """After debts moved away from these debtors, or were deleted: those owing nothing go."""
    await debtors.remove_unowed(conn, company_id, {d for d in debtor_ids if d is not None})
