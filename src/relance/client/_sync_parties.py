"""The synchronous client's debtors and creditors: listed, read, changed, and their debts
listed with every filter of `debts.list`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Unpack

from relance.client._base import params
from relance.client._debts import DebtFilters, filters_query
from relance.client._models import Creditor, CreditorDetail, Debt, Debtor, DebtorDetail
from relance.client._pages import SyncPage, sync_page
from relance.client._parties import (
    CREDITORS,
    DEBTORS,
    DEBTS_BY_CREDITOR,
    DEBTS_BY_DEBTOR,
    CreditorDetails,
    CreditorFields,
    DebtorFields,
    camel_body,
    detail_of,
)

if TYPE_CHECKING:
    from relance.client._sync import Relance


class Debtors:
    """The people the company's debts are owed by (scopes debtors:read, debtors:write)."""

    def __init__(self, client: Relance) -> None:
        self._client = client

    def list(self, *, page: int | None = None, limit: int | None = None) -> SyncPage[Debtor]:
        """The company's debtors, first seen first."""
        return sync_page(self._client, DEBTORS, params(limit=limit), Debtor, page or 1)

    def get(self, debtor_id: str) -> DebtorDetail:
        """The debtor with their debts summed."""
        found = self._client.request("GET", f"{DEBTORS}/{debtor_id}")
        return DebtorDetail.model_validate(detail_of(found))

    def update(self, debtor_id: str, **fields: Unpack[DebtorFields]) -> DebtorDetail:
        """Change the fields given, and only those (None clears one); the debtor's debts keep
        their own."""
        sent = camel_body(fields)
        changed = self._client.request("PUT", f"{DEBTORS}/{debtor_id}", json=sent)
        return DebtorDetail.model_validate(detail_of(changed))

    def debts(self, debtor_id: str, **filters: Unpack[DebtFilters]) -> SyncPage[Debt]:
        """The debtor's debts that every filter given keeps, newest first (scope
        debts:read): `debts.list`'s filters and paging."""
        query, page = filters_query(filters)
        return sync_page(self._client, f"{DEBTS_BY_DEBTOR}/{debtor_id}", query, Debt, page)


class Creditors:
    """The clients the company collects for (scopes creditors:read, creditors:write)."""

    def __init__(self, client: Relance) -> None:
        self._client = client

    def list(self, *, page: int | None = None, limit: int | None = None) -> SyncPage[Creditor]:
        """The company's creditors, by name."""
        return sync_page(self._client, CREDITORS, params(limit=limit), Creditor, page or 1)

    def get(self, creditor_id: str) -> CreditorDetail:
        """The creditor with how many debts it has and their amounts summed."""
        found = self._client.request("GET", f"{CREDITORS}/{creditor_id}")
        return CreditorDetail.model_validate(detail_of(found))

    def update(self, creditor_id: str, **fields: Unpack[CreditorFields]) -> Creditor:
        """Change the fields given, and only those (None clears one, not the name); a name
        another creditor has is a ConflictError naming it."""
        sent = camel_body(fields)
        changed = self._client.request("PATCH", f"{CREDITORS}/{creditor_id}", json=sent)
        return Creditor.model_validate(changed["data"])

    def replace(self, creditor_id: str, name: str, **fields: Unpack[CreditorDetails]) -> Creditor:
        """Set the whole creditor: its name and the fields given; every field left out is
        cleared."""
        sent = camel_body({"name": name, **fields})
        changed = self._client.request("PUT", f"{CREDITORS}/{creditor_id}", json=sent)
        return Creditor.model_validate(changed["data"])

    def debts(self, creditor_id: str, **filters: Unpack[DebtFilters]) -> SyncPage[Debt]:
        """The debts owed to the creditor that every filter given keeps, newest first (scope
        debts:read): `debts.list`'s filters and paging."""
        query, page = filters_query(filters)
        return sync_page(self._client, f"{DEBTS_BY_CREDITOR}/{creditor_id}", query, Debt, page)
