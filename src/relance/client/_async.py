"""The asynchronous client: the synchronous one's twin, awaited."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from typing import Any, Generic

import httpx

from relance.client._auth import ClientCredentials
from relance.client._base import (
    API,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    M,
    answered,
    body,
    data_of,
    delay,
    page_parts,
    params,
    request_headers,
    resolve,
    transport_error,
)
from relance.client._errors import RelanceError
from relance.client._models import Debt, Followup, Pagination


class AsyncPage(Generic[M]):
    """One page of a list. `async for` over it walks every item of this page and the next
    ones; `iter_pages()` walks the pages themselves."""

    def __init__(
        self,
        data: list[M],
        pagination: Pagination,
        fetch: Callable[[int], Awaitable[AsyncPage[M]]],
    ) -> None:
        self.data = data
        self.pagination = pagination
        self._fetch = fetch

    async def iter_pages(self) -> AsyncIterator[AsyncPage[M]]:
        page: AsyncPage[M] = self
        while True:
            yield page
            if not page.data or page.pagination.page >= page.pagination.pages:
                return
            page = await page._fetch(page.pagination.page + 1)

    async def __aiter__(self) -> AsyncIterator[M]:
        async for page in self.iter_pages():
            for item in page.data:
                yield item


class AsyncRelance:
    """The asynchronous client: `await client.followups.list(...)`, `async for` over a page."""

    def __init__(
        self,
        base_url: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        *,
        max_retries: int = DEFAULT_MAX_RETRIES,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        base, client, secret = resolve(base_url, client_id, client_secret)
        self.base_url = base
        self.max_retries = max_retries
        self._http = httpx.AsyncClient(
            base_url=base,
            timeout=timeout,
            transport=transport,
            auth=ClientCredentials(f"{base}/token", client, secret),
        )
        self.followups = Followups(self)
        self.debts = Debts(self)

    async def request(
        self, method: str, path: str, *, query: dict[str, str] | None = None, json: Any = None
    ) -> Any:
        """The response's JSON; errors raised as RelanceError, after the retries they deserve."""
        headers = request_headers(method)
        attempt = 0
        while True:
            response: httpx.Response | None = None
            try:
                response = await self._http.request(
                    method, path, params=query, json=json, headers=headers
                )
            except httpx.TransportError as exc:
                error: RelanceError = transport_error(exc, self.base_url)
            else:
                found, failure = answered(response)
                if failure is None:
                    return found
                error = failure
            wait = delay(attempt, response)
            if attempt >= self.max_retries or wait is None:
                raise error
            await asyncio.sleep(wait)
            attempt += 1

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncRelance:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class Followups:
    def __init__(self, client: AsyncRelance) -> None:
        self._client = client

    async def list(
        self,
        *,
        status: str | None = None,
        type: str | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
        debt_id: str | None = None,
        page: int | None = None,
        limit: int | None = None,
    ) -> AsyncPage[Followup]:
        query = params(
            status=status,
            type=type,
            date_from=date_from,
            date_to=date_to,
            debt_id=debt_id,
            limit=limit,
        )
        return await _page(self._client, f"{API}/followups", query, Followup, page or 1)

    async def list_by_debt(
        self,
        debt_id: str,
        *,
        status: str | None = None,
        type: str | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
        page: int | None = None,
        limit: int | None = None,
    ) -> AsyncPage[Followup]:
        query = params(status=status, type=type, date_from=date_from, date_to=date_to, limit=limit)
        path = f"{API}/followups/debt/{debt_id}"
        return await _page(self._client, path, query, Followup, page or 1)

    async def get(self, followup_id: str) -> Followup:
        found = await self._client.request("GET", f"{API}/followups/{followup_id}")
        return data_of(found, Followup)

    async def create(self, *, debt_id: str, type: str, **fields: Any) -> Followup:
        sent = body({"debt_id": debt_id, "type": type, **fields})
        created = await self._client.request("POST", f"{API}/followups", json=sent)
        return data_of(created, Followup)

    async def update(self, followup_id: str, **fields: Any) -> Followup:
        """Change the fields given (None clears a field that may be empty)."""
        path = f"{API}/followups/{followup_id}"
        changed = await self._client.request("PUT", path, json=body(fields))
        return data_of(changed, Followup)


class Debts:
    def __init__(self, client: AsyncRelance) -> None:
        self._client = client

    async def list(
        self, *, status: str | None = None, page: int | None = None, limit: int | None = None
    ) -> AsyncPage[Debt]:
        query = params(status=status, limit=limit)
        return await _page(self._client, f"{API}/debts", query, Debt, page or 1)

    async def get(self, debt_id: str) -> Debt:
        found = await self._client.request("GET", f"{API}/debts/{debt_id}")
        return data_of(found, Debt)

    async def create(self, **fields: Any) -> Debt:
        created = await self._client.request("POST", f"{API}/debts", json=body(fields))
        return data_of(created, Debt)


async def _page(
    client: AsyncRelance, path: str, query: dict[str, str], model: type[M], number: int
) -> AsyncPage[M]:
    found = await client.request("GET", path, query={**query, "page": str(number)})

    def fetch(next_number: int) -> Awaitable[AsyncPage[M]]:
        return _page(client, path, query, model, next_number)

    return AsyncPage(*page_parts(found, model), fetch)
