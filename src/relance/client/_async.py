"""The asynchronous client: the synchronous one's twin, awaited."""

from __future__ import annotations

# By name, so that a test can record the retries' waits without making them.
from asyncio import sleep
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import httpx

from relance.client._async_company import Company
from relance.client._async_debts import Debts
from relance.client._async_feeds import AsyncChangeFeed, AsyncExport
from relance.client._async_parties import Creditors, Debtors
from relance.client._async_webhooks import Events, WebhookDeliveries, WebhookEndpoints
from relance.client._auth import ClientCredentials
from relance.client._base import (
    API,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    Query,
    async_failure,
    body,
    creation,
    data_of,
    delay,
    params,
    request_headers,
    resolve,
    retryable,
    transport_error,
)
from relance.client._errors import APIStatusError, RelanceError
from relance.client._feeds import export_query, feed_wait
from relance.client._models import Followup
from relance.client._pages import AsyncPaginator, async_paginator
from relance.client._vocabulary import FollowupStatus, FollowupType


class AsyncRelance:
    """The asynchronous client: `async for followup in client.followups.list(...)`, or
    `await client.followups.list(...)` for the first page."""

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
        self.debtors = Debtors(self)
        self.creditors = Creditors(self)
        self.company = Company(self)
        self.events = Events(self)
        self.webhook_endpoints = WebhookEndpoints(self)
        self.webhook_deliveries = WebhookDeliveries(self)

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Query | None = None,
        json: Any = None,
        # httpx's timeouts for this request, not a deadline on the coroutine.
        timeout: httpx.Timeout | None = None,  # noqa: ASYNC109
        idempotency_key: str | None = None,
    ) -> Any:
        """The response's JSON; errors raised as RelanceError, after the retries they deserve.
        A POST carries `idempotency_key`, or one of its own, across its retries."""
        headers = request_headers(method, idempotency_key)
        sent = httpx.USE_CLIENT_DEFAULT if timeout is None else timeout

        def send() -> Awaitable[httpx.Response]:
            return self._http.request(
                method, path, params=query, json=json, headers=headers, timeout=sent
            )

        return (await self._retried(send)).json()

    @asynccontextmanager
    async def stream(
        self, path: str, *, query: Query | None = None, headers: dict[str, str] | None = None
    ) -> AsyncIterator[httpx.Response]:
        """A GET whose body is read as it arrives, closed at the end of the block; retried as
        `request` is until the server answers with a success (never once its body is read)."""

        def send() -> Awaitable[httpx.Response]:
            request = self._http.build_request("GET", path, params=query, headers=headers)
            return self._http.send(request, stream=True)

        response = await self._retried(send)
        try:
            yield response
        finally:
            await response.aclose()

    async def _retried(self, send: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
        attempt = 0
        while True:
            response: httpx.Response | None = None
            try:
                response = await send()
            except httpx.TransportError as exc:
                error: RelanceError = transport_error(exc, self.base_url)
            except APIStatusError as exc:
                # The token endpoint's refusal, raised by the auth flow: a 503 or a 429 there
                # is worth the same retries as one from the API.
                error, response = retryable(exc), exc.response
            else:
                failed = await async_failure(response)
                if failed is None:
                    return response
                error = failed
            wait = delay(attempt, response)
            if attempt >= self.max_retries or wait is None:
                raise error
            await sleep(wait)
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

    def list(
        self,
        *,
        status: FollowupStatus | None = None,
        type: FollowupType | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
        debt_id: str | None = None,
        page: int | None = None,
        limit: int | None = None,
    ) -> AsyncPaginator[Followup]:
        query = params(
            status=status,
            type=type,
            date_from=date_from,
            date_to=date_to,
            debt_id=debt_id,
            limit=limit,
        )
        return async_paginator(self._client, f"{API}/followups", query, Followup, page or 1)

    def list_by_debt(
        self,
        debt_id: str,
        *,
        status: FollowupStatus | None = None,
        type: FollowupType | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
        page: int | None = None,
        limit: int | None = None,
    ) -> AsyncPaginator[Followup]:
        query = params(status=status, type=type, date_from=date_from, date_to=date_to, limit=limit)
        path = f"{API}/followups/debt/{debt_id}"
        return async_paginator(self._client, path, query, Followup, page or 1)

    async def get(self, followup_id: str) -> Followup:
        found = await self._client.request("GET", f"{API}/followups/{followup_id}")
        return data_of(found, Followup)

    async def create(
        self,
        *,
        debt_id: str,
        type: FollowupType,
        status: FollowupStatus | None = None,
        **fields: Any,
    ) -> Followup:
        """A new followup; without a status, the server's default."""
        sent = body(creation(debt_id, type, status, fields))
        created = await self._client.request("POST", f"{API}/followups", json=sent)
        return data_of(created, Followup)

    async def update(self, followup_id: str, **fields: Any) -> Followup:
        """Change the fields given (None clears a field that may be empty)."""
        path = f"{API}/followups/{followup_id}"
        changed = await self._client.request("PUT", path, json=body(fields))
        return data_of(changed, Followup)

    def changes(
        self,
        cursor: str | None = None,
        *,
        limit: int | None = None,
        wait: int | None = None,
        include_media: bool | None = None,
        follow: bool = False,
    ) -> AsyncChangeFeed:
        """The changes after `cursor` (None: from the beginning; "now": from the present), in
        commit order, page by page (`limit` a page, 1 to 1,000). `wait` (0 to 30 s) holds an
        empty page until a change arrives; `follow` long polls for ever (`wait` 30 unless
        given). `include_media=False` leaves the signed media URLs out."""
        return AsyncChangeFeed(
            self._client,
            cursor,
            limit=limit,
            wait=feed_wait(wait, follow),
            include_media=include_media,
            follow=follow,
        )

    def export(
        self,
        *,
        status: FollowupStatus | None = None,
        type: FollowupType | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
        debt_id: str | None = None,
        include_media: bool | None = None,
    ) -> AsyncExport:
        """Every followup matching the filters, from one consistent snapshot, streamed; then
        `.next_cursor`, where `changes` continues from it."""
        query = export_query(status, type, date_from, date_to, debt_id, include_media)
        return AsyncExport(self._client, query)
