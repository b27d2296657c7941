"""What the sync and the async debts share: the list's filters as the API takes them, the
fields an update may send, and a batch's body."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypedDict

from relance.client._base import API, body, decimal_text, params
from relance.client._vocabulary import DebtStatus, DebtStatusName, SettableDebtStatus

DEBTS = f"{API}/debts"
# An amount: a Decimal (exact), an int, a float, or its digits as text ("99.50").
Amount = Decimal | int | float | str
# A bound of the creation filters: a date (its first moment in UTC), an aware datetime, Unix
# seconds, or text as the API takes it.
DebtMoment = date | datetime | int | str


class DebtFields(TypedDict, total=False):
    """The fields `debts.update` may change (those `debts.create` takes, and `status`); None
    clears one that may be empty. A debt keeps its names, its amount and currency, and a phone
    or an email."""

    status: SettableDebtStatus
    firstname: str
    lastname: str
    amount: Amount
    currency: str
    civility: str | None
    phone: str | None
    email: str | None
    birthdate: date | None
    object: str | None
    internal_id: str | None
    invoice_reference: str | None
    debtor_reference: str | None
    invoice_date: date | None
    due_date: date | None
    address: str | None
    street_address: str | None
    street_number: str | None
    postal_code: str | None
    city: str | None
    country: str | None
    iban: str | None
    company: str | None
    # The creditor by its ID, instead of (or as well as) by its name in `company`.
    creditor_id: str | None
    debtor_company: str | None
    payment_link: str | None
    timeline_id: str | None
    metadata: dict[str, Any] | None
    # GetBill's timeline options: taken, with no effect on Relance.
    timeline_start_mode: str | None
    accept_expensive_destination: bool | None


class DebtFilters(TypedDict, total=False):
    """The filters and paging of a list of debts, as `debts.list` takes them: the lists of a
    debtor's and of a creditor's debts take them all."""

    status: DebtStatus | DebtStatusName
    internal_id: str
    invoice_reference: str
    currency: str
    min_amount: Amount
    max_amount: Amount
    created_after: DebtMoment
    created_before: DebtMoment
    search: str
    page: int
    limit: int


def filters_query(filters: DebtFilters) -> tuple[dict[str, str], int]:
    """The list's parameters but the page, and the page to start from."""
    query = list_query(
        status=filters.get("status"),
        internal_id=filters.get("internal_id"),
        invoice_reference=filters.get("invoice_reference"),
        currency=filters.get("currency"),
        min_amount=filters.get("min_amount"),
        max_amount=filters.get("max_amount"),
        created_after=filters.get("created_after"),
        created_before=filters.get("created_before"),
        search=filters.get("search"),
        limit=filters.get("limit"),
    )
    return query, filters.get("page") or 1


def list_query(
    *,
    status: str | None,
    internal_id: str | None,
    invoice_reference: str | None,
    currency: str | None,
    min_amount: Amount | None,
    max_amount: Amount | None,
    created_after: DebtMoment | None,
    created_before: DebtMoment | None,
    search: str | None,
    limit: int | None,
) -> dict[str, str]:
    """GET /debts's parameters: amounts as their digits, moments as the API reads them."""
    return params(
        status=status,
        internal_id=internal_id,
        invoice_reference=invoice_reference,
        currency=currency,
        min_amount=_amount(min_amount),
        max_amount=_amount(max_amount),
        created_after=_moment(created_after),
        created_before=_moment(created_before),
        search=search,
        limit=limit,
    )


def _amount(value: Amount | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return decimal_text(value)
    # A float's shortest text is the number it holds (99.5, not 99.500000000000001).
    return repr(value) if isinstance(value, float) else str(value)


def _moment(value: DebtMoment | None) -> str | None:
    """A datetime in RFC 3339 (a naive one as it is, for the server to refuse: no one can tell
    which zone was meant), a date as YYYY-MM-DD, Unix seconds as digits."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, date):  # a datetime too
        return value.isoformat()
    return str(value)


def batch_body(
    debts: Iterable[Mapping[str, Any]],
    batch_name: str | None,
    accept_expensive_destination: bool | None,
) -> dict[str, Any]:
    """POST /debts/batch's body: each debt as `create` sends one (with its `temp_id`, if it has
    one); the options only when given."""
    sent: dict[str, Any] = {"debts": [body(debt) for debt in debts]}
    if batch_name is not None:
        sent["batch_name"] = batch_name
    if accept_expensive_destination is not None:
        sent["accept_expensive_destination"] = accept_expensive_destination
    return sent
