"""The asynchronous client: the synchronous one's twin, awaited."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel

from relance.client._auth import ClientCredentials
from relance.client._base import (
    API,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    RETRYABLE,
    body,
    delay,
    params,
    resolve,
)
from relance.client._errors import APIConnectionError, APITimeoutError, RelanceError, status_error
from relance.client._models import Debt, Followup, Pagination

M = TypeVar("M", bound=BaseModel)


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
        """The response's JSON; errors raised as RelanceError, after the retries they deserve.
        A POST keeps one Idempotency-Key across its retries, so a retried create creates once."""
        headers = {"Idempotency-Key": str(uuid.uuid4())} if method == "POST" else {}
        attempt = 0
        while True:
            response: httpx.Response | None = None
            try:
                response = await self._http.request(
                    method, path, params=query, json=json, headers=headers
                )
            except httpx.TimeoutException as exc:
                error: RelanceError = APITimeoutError(f"the API did not answer in time: {exc}")
            except httpx.TransportError as exc:
                error = APIConnectionError(f"cannot reach the API at {self.base_url}: {exc}")
            else:
                if response.status_code < 400:
                    return response.json()
                error = status_error(response)
                if response.status_code not in RETRYABLE:
                    raise error
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
        return Followup.model_validate(found["data"])

    async def create(self, *, debt_id: str, type: str, **fields: Any) -> Followup:
        sent = body({"debt_id": debt_id, "type": type, **fields})
        created = await self._client.request("POST", f"{API}/followups", json=sent)
        return Followup.model_validate(created["data"])

    async def update(self, followup_id: str, **fields: Any) -> Followup:
        """Change the fields given (None clears a field that may be empty)."""
        path = f"{API}/followups/{followup_id}"
        changed = await self._client.request("PUT", path, json=body(fields))
        return Followup.model_validate(changed["data"])


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
        return Debt.model_validate(found["data"])

    async def create(self, **fields: Any) -> Debt:
        created = await self._client.request("POST", f"{API}/debts", json=body(fields))
        return Debt.model_validate(created["data"])


async def _page(
    client: AsyncRelance, path: str, query: dict[str, str], model: type[M], number: int
) -> AsyncPage[M]:
    found = await client.request("GET", path, query={**query, "page": str(number)})

    def fetch(next_number: int) -> Awaitable[AsyncPage[M]]:
        return _page(client, path, query, model, next_number)

    data = [model.model_validate(item) for item in found["data"]]
    return AsyncPage(data, Pagination.model_validate(found["pagination"]), fetch)
