"""What the sync and the async debtors and creditors share: their paths, the fields a change
may send, typed by the SDK's snake_case names, and those names as GetBill's camelCase."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, TypedDict

from pydantic.alias_generators import to_camel

from relance.client._base import API, body

DEBTORS = f"{API}/debtors"
CREDITORS = f"{API}/creditors"
DEBTS_BY_DEBTOR = f"{API}/debts/by-debtor"
DEBTS_BY_CREDITOR = f"{API}/debts/by-creditor"


class DebtorFields(TypedDict, total=False):
    """The fields `debtors.update` may change; None clears one. The debtor's debts keep their
    own."""

    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    address: str | None
    date_of_birth: date | None


class CreditorDetails(TypedDict, total=False):
    """A creditor's fields but its name: `creditors.replace` clears those left out,
    `creditors.update` keeps them; None clears one."""

    email: str | None
    phone: str | None
    address: str | None
    city: str | None
    postal_code: str | None
    country: str | None
    registration_number: str | None
    tax_number: str | None
    contact_person: str | None


class CreditorFields(CreditorDetails, total=False):
    """The fields `creditors.update` may change: any of them, the name too (never None)."""

    name: str


def camel_body(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A body by GetBill's names (`first_name` is sent as `firstName`), its values as `body`
    writes them (a date as YYYY-MM-DD)."""
    return body({to_camel(name): value for name, value in fields.items()})


def detail_of(found: Any) -> Any:
    """The object GetBill nests one level deeper (`data.data`) on a debtor or a creditor."""
    return found["data"]["data"]
