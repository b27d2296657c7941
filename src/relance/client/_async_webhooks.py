"""The asynchronous client's events, webhook endpoints and webhook deliveries: the
synchronous ones' twins, awaited."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING

from relance.client._base import (
    API,
    NOT_GIVEN,
    M,
    Moment,
    NotGiven,
    Query,
    cursor_parts,
    cursor_query,
    data_of,
    endpoint_creation,
    endpoint_patch,
    moment,
    rotation,
)
from relance.client._cursor import AsyncCursorPage, AsyncCursorPaginator
from relance.client._models import (
    DeletedWebhookEndpoint,
    Event,
    WebhookDelivery,
    WebhookEndpoint,
)
from relance.client._vocabulary import (
    DeliveryStatus,
    EventType,
    SubscribedEvent,
    WebhookEndpointStatus,
)

if TYPE_CHECKING:
    from relance.client._async import AsyncRelance

ENDPOINTS = f"{API}/webhook-endpoints"
DELIVERIES = f"{API}/webhook-deliveries"


class Events:
    def __init__(self, client: AsyncRelance) -> None:
        self._client = client

    def list(
        self,
        *,
        type: EventType | Sequence[EventType] | None = None,
        created_gte: Moment | None = None,
        created_lte: Moment | None = None,
        limit: int | None = None,
        starting_after: str | None = None,
    ) -> AsyncCursorPaginator[Event]:
        """The company's events, newest first; several types are any of them."""
        query = cursor_query(
            limit,
            starting_after,
            type=type,
            created_gte=moment(created_gte),
            created_lte=moment(created_lte),
        )
        return _paginator(self._client, f"{API}/events", query, Event)

    async def retrieve(self, event_id: str) -> Event:
        return data_of(await self._client.request("GET", f"{API}/events/{event_id}"), Event)


class WebhookEndpoints:
    def __init__(self, client: AsyncRelance) -> None:
        self._client = client

    async def create(
        self,
        *,
        url: str,
        enabled_events: Sequence[SubscribedEvent] | None = None,
        description: str | None = None,
    ) -> WebhookEndpoint:
        """A new endpoint, every event type unless `enabled_events` names some; its `secret`
        is in this answer only."""
        sent = endpoint_creation(url, enabled_events, description)
        return await self._one("POST", ENDPOINTS, sent)

    def list(
        self, *, limit: int | None = None, starting_after: str | None = None
    ) -> AsyncCursorPaginator[WebhookEndpoint]:
        query = cursor_query(limit, starting_after)
        return _paginator(self._client, ENDPOINTS, query, WebhookEndpoint)

    async def retrieve(self, endpoint_id: str) -> WebhookEndpoint:
        return await self._one("GET", f"{ENDPOINTS}/{endpoint_id}")

    async def update(
        self,
        endpoint_id: str,
        *,
        url: str | NotGiven = NOT_GIVEN,
        enabled_events: Sequence[SubscribedEvent] | NotGiven = NOT_GIVEN,
        description: str | NotGiven | None = NOT_GIVEN,
        status: WebhookEndpointStatus | NotGiven = NOT_GIVEN,
    ) -> WebhookEndpoint:
        """Change the fields passed; `description=None` clears it."""
        sent = endpoint_patch(url, enabled_events, description, status)
        return await self._one("PATCH", f"{ENDPOINTS}/{endpoint_id}", sent)

    async def delete(self, endpoint_id: str) -> DeletedWebhookEndpoint:
        found = await self._client.request("DELETE", f"{ENDPOINTS}/{endpoint_id}")
        return data_of(found, DeletedWebhookEndpoint)

    async def rotate_secret(
        self, endpoint_id: str, *, expire_previous_in_seconds: int | None = None
    ) -> WebhookEndpoint:
        """A new secret, in this answer only; the previous one signs too until it expires
        (the server's default: a day)."""
        sent = rotation(expire_previous_in_seconds)
        return await self._one("POST", f"{ENDPOINTS}/{endpoint_id}/rotate-secret", sent)

    async def recover(self, endpoint_id: str, *, since: Moment) -> int:
        """Re-send what the endpoint was owed since then; how many deliveries were queued."""
        path = f"{ENDPOINTS}/{endpoint_id}/recover"
        found = await self._client.request("POST", path, json={"since": moment(since)})
        return int(found["data"]["queued"])

    async def test(self, endpoint_id: str) -> WebhookDelivery:
        """Send a webhook.test event to this endpoint only; its delivery."""
        found = await self._client.request("POST", f"{ENDPOINTS}/{endpoint_id}/test")
        return data_of(found, WebhookDelivery)

    def list_deliveries(
        self,
        endpoint_id: str,
        *,
        status: DeliveryStatus | None = None,
        type: EventType | Sequence[EventType] | None = None,
        limit: int | None = None,
        starting_after: str | None = None,
    ) -> AsyncCursorPaginator[WebhookDelivery]:
        query = cursor_query(limit, starting_after, status=status, type=type)
        path = f"{ENDPOINTS}/{endpoint_id}/deliveries"
        return _paginator(self._client, path, query, WebhookDelivery)

    async def _one(self, method: str, path: str, sent: object = None) -> WebhookEndpoint:
        return data_of(await self._client.request(method, path, json=sent), WebhookEndpoint)


class WebhookDeliveries:
    def __init__(self, client: AsyncRelance) -> None:
        self._client = client

    async def retrieve(self, delivery_id: str) -> WebhookDelivery:
        """One delivery, with every attempt."""
        found = await self._client.request("GET", f"{DELIVERIES}/{delivery_id}")
        return data_of(found, WebhookDelivery)

    async def retry(self, delivery_id: str) -> WebhookDelivery:
        """One more attempt now, with the same event ID."""
        found = await self._client.request("POST", f"{DELIVERIES}/{delivery_id}/retry")
        return data_of(found, WebhookDelivery)


async def _cursor_page(
    client: AsyncRelance, path: str, query: Query, model: type[M], after: str | None = None
) -> AsyncCursorPage[M]:
    sent = query if after is None else {**query, "starting_after": after}
    found = await client.request("GET", path, query=sent)

    def fetch(cursor: str) -> Awaitable[AsyncCursorPage[M]]:
        return _cursor_page(client, path, query, model, cursor)

    return AsyncCursorPage(*cursor_parts(found, model), fetch)


def _paginator(
    client: AsyncRelance, path: str, query: Query, model: type[M]
) -> AsyncCursorPaginator[M]:
    return AsyncCursorPaginator(lambda: _cursor_page(client, path, query, model))
