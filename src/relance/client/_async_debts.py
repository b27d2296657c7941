"""The asynchronous client's debts: the synchronous one's twin, awaited."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Unpack

from relance.client._base import body, data_of
from relance.client._debts import DEBTS, Amount, DebtFields, DebtMoment, batch_body, list_query
from relance.client._models import Debt, DebtBatchResult
from relance.client._pages import AsyncPaginator, async_paginator
from relance.client._vocabulary import DebtStatus, DebtStatusName

if TYPE_CHECKING:
    from relance.client._async import AsyncRelance


class Debts:
    def __init__(self, client: AsyncRelance) -> None:
        self._client = client

    def list(
        self,
        *,
        status: DebtStatus | DebtStatusName | None = None,
        internal_id: str | None = None,
        invoice_reference: str | None = None,
        currency: str | None = None,
        min_amount: Amount | None = None,
        max_amount: Amount | None = None,
        created_after: DebtMoment | None = None,
        created_before: DebtMoment | None = None,
        search: str | None = None,
        page: int | None = None,
        limit: int | None = None,
    ) -> AsyncPaginator[Debt]:
        """The company's debts that every filter given keeps, newest first. Amounts are bounds
        included; `created_after` includes its moment, `created_before` does not; `search`
        looks in `internal_id` (any case) and `amount_text`."""
        query = list_query(
            status=status,
            internal_id=internal_id,
            invoice_reference=invoice_reference,
            currency=currency,
            min_amount=min_amount,
            max_amount=max_amount,
            created_after=created_after,
            created_before=created_before,
            search=search,
            limit=limit,
        )
        return async_paginator(self._client, DEBTS, query, Debt, page or 1)

    async def get(self, debt_id: str) -> Debt:
        return data_of(await self._client.request("GET", f"{DEBTS}/{debt_id}"), Debt)

    async def create(self, **fields: Any) -> Debt:
        created = await self._client.request("POST", DEBTS, json=body(fields))
        return data_of(created, Debt)

    async def update(self, debt_id: str, **fields: Unpack[DebtFields]) -> Debt:
        """Change the fields given, and only those (None clears a field that may be empty);
        an `internal_id` another debt holds is a ConflictError naming it."""
        changed = await self._client.request("PUT", f"{DEBTS}/{debt_id}", json=body(fields))
        return data_of(changed, Debt)

    async def delete(self, debt_id: str) -> None:
        """Delete the debt with its followups (each a deletion in the changes feed)."""
        await self._client.request("DELETE", f"{DEBTS}/{debt_id}")

    async def batch(
        self,
        debts: Iterable[Mapping[str, Any]],
        *,
        batch_name: str | None = None,
        accept_expensive_destination: bool | None = None,
        idempotency_key: str | None = None,
    ) -> DebtBatchResult:
        """Create up to 1,000 debts, each `create`'s fields and a `temp_id` of the caller's
        if it likes: each is checked alone, and those that pass are created together (or
        none). The result lists each item created, failed (its errors by field) or skipped,
        by its index. The same `idempotency_key` again is answered as the first time."""
        sent = batch_body(debts, batch_name, accept_expensive_destination)
        done = await self._client.request(
            "POST", f"{DEBTS}/batch", json=sent, idempotency_key=idempotency_key
        )
        return data_of(done, DebtBatchResult)
