"""The SDK's events, webhook endpoints and deliveries, sync and async alike, against a real
`relance serve` on the demo book (webhooks allowed to loopback, so that an endpoint can be a
receiver of the test's own): cursor pages that walk every item once, the filters, each
endpoint operation, the deliveries and their attempts, and the errors as the SDK's exceptions."""

from __future__ import annotations

import asyncio
import queue
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any, TypeVar, get_args

import pytest
from pydantic import BaseModel

from relance.client import (
    AsyncCursorPage,
    AsyncCursorPaginator,
    AsyncRelance,
    BadRequestError,
    DeliveryStatus,
    EventType,
    NotFoundError,
    PermissionDeniedError,
    Relance,
    SubscribedEvent,
    SyncCursorPage,
    WebhookDelivery,
)
from relance.events.types import SUBSCRIBABLE
from relance.events.types import EventType as ServerEventType
from relance.webhooks.records import DeliveryStatus as ServerDeliveryStatus
from tests.client.conftest import Book
from tests.client.test_listen import Received, next_event, receiving
from tests.client.twins import Twin

M = TypeVar("M", bound=BaseModel)
Listing = SyncCursorPage[M] | AsyncCursorPaginator[M]
Connect = Callable[..., Twin]
MISSING_EVENT = "evt_" + "0" * 22
WAIT = 60  # seconds a delivery may take before the test fails, never a measure


@pytest.fixture(scope="module")
def demo_env() -> dict[str, str]:
    return {"RELANCE_WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "true"}


@pytest.fixture(params=[Relance, AsyncRelance], ids=["sync", "async"])
async def connect(request: pytest.FixtureRequest) -> AsyncIterator[Connect]:
    kind: type[Relance | AsyncRelance] = request.param
    made: list[Twin] = []

    def connect(base: str, credentials: dict[str, Any]) -> Twin:
        secret = credentials["client_secret"]
        made.append(Twin(kind(base, credentials["client_id"], secret)))
        return made[-1]

    yield connect
    for twin in made:
        await twin.close()


@pytest.fixture
def sdk(connect: Connect, demo: tuple[str, dict[str, Any]]) -> Twin:
    return connect(*demo)


async def first_page(listing: Listing[M]) -> SyncCursorPage[M] | AsyncCursorPage[M]:
    return listing if isinstance(listing, SyncCursorPage) else await listing


async def items(listing: Listing[M] | AsyncCursorPage[M]) -> list[M]:
    if isinstance(listing, SyncCursorPage):
        return list(listing)
    return [item async for item in listing]


async def pages(first: SyncCursorPage[M] | AsyncCursorPage[M]) -> list[list[M]]:
    if isinstance(first, SyncCursorPage):
        return [page.data for page in first.iter_pages()]
    return [page.data async for page in first.iter_pages()]


def new_debt(book: Book, name: str) -> str:
    company = book.companies[0]
    with Relance(book.base, company["client_id"], company["client_secret"]) as client:
        created = client.debts.create(
            firstname=name, lastname="Sdk", amount="9.00", currency="EUR", email="s@example.fr"
        )
    return created.id


def test_the_vocabulary_is_the_servers() -> None:
    assert list(get_args(EventType)) == [t.value for t in ServerEventType]
    assert set(get_args(SubscribedEvent)) == {"*", *SUBSCRIBABLE}
    assert set(get_args(DeliveryStatus)) == {s.value for s in ServerDeliveryStatus}


async def test_events_are_paged_newest_first_every_one_once(sdk: Twin) -> None:
    events = sdk.client.events
    walked = await items(events.list(type="debt.created", limit=40))
    first = await first_page(events.list(type="debt.created", limit=40))
    assert first.has_more
    assert len(first.data) == 40
    by_page = await pages(first)
    assert len(by_page) > 2
    assert all(len(page) == 40 for page in by_page[:-1])
    assert [event for page in by_page for event in page] == walked
    assert len({event.id for event in walked}) == len(walked)
    assert {event.type for event in walked} == {"debt.created"}
    moments = [event.timestamp for event in walked]
    assert moments == sorted(moments, reverse=True)
    assert all(moment.tzinfo is not None for moment in moments)
    onwards = await items(events.list(type="debt.created", limit=40, starting_after=walked[39].id))
    assert onwards == walked[40:]


async def test_events_are_filtered_by_types_and_moments(sdk: Twin, demo_book: Book) -> None:
    events = sdk.client.events
    debt_id = new_debt(demo_book, "Filtered")
    newest = (await first_page(events.list(type="debt.created", limit=1))).data[0]
    assert newest.data["id"] == debt_id
    assert await sdk.call(events.retrieve(newest.id)) == newest
    at = newest.timestamp
    since = await items(events.list(type="debt.created", created_gte=at))
    assert [event.id for event in since] == [newest.id]
    before = await first_page(
        events.list(type="debt.created", created_lte=at - timedelta(microseconds=1), limit=5)
    )
    assert newest.id not in {event.id for event in before.data}
    assert all(event.timestamp < at for event in before.data)
    whole_seconds = await items(events.list(type="debt.created", created_gte=int(at.timestamp())))
    assert newest.id in {event.id for event in whole_seconds}
    as_text = await items(events.list(type="debt.created", created_gte=at.isoformat()))
    assert as_text == since
    either: list[EventType] = ["followup.completed", "followup.failed"]
    mixed = await first_page(events.list(type=either, limit=50))
    assert mixed.data
    assert {event.type for event in mixed.data} <= set(either)


async def test_an_endpoint_is_created_listed_updated_rotated_and_deleted(sdk: Twin) -> None:
    endpoints = sdk.client.webhook_endpoints
    made = [
        await sdk.call(
            endpoints.create(
                url=f"http://127.0.0.1:9/hooks/{n}",
                enabled_events=["debt.created", "followup.completed"],
                description=f"SDK {n}",
            )
        )
        for n in range(3)
    ]
    first = made[0]
    assert first.secret is not None
    assert first.secret.startswith("whsec_")
    assert (first.status, first.disabled_reason) == ("enabled", None)
    assert sorted(first.enabled_events) == ["debt.created", "followup.completed"]
    shown = await sdk.call(endpoints.retrieve(first.id))
    assert shown.secret is None
    assert shown == first.model_copy(update={"secret": None})

    listed = await items(endpoints.list(limit=2))
    assert [e.id for e in listed[:3]] == [e.id for e in reversed(made)]  # newest first
    assert len({e.id for e in listed}) == len(listed)
    assert len(await pages(await first_page(endpoints.list(limit=2)))) >= 2

    changed = await sdk.call(
        endpoints.update(
            first.id, url="http://127.0.0.1:9/moved", enabled_events=["*"], description=None
        )
    )
    assert (changed.url, changed.enabled_events, changed.description) == (
        "http://127.0.0.1:9/moved",
        ["*"],
        None,
    )
    disabled = await sdk.call(endpoints.update(first.id, status="disabled"))
    assert (disabled.status, disabled.disabled_reason, disabled.url) == (
        "disabled",
        "manual",
        changed.url,
    )
    assert (await sdk.call(endpoints.update(first.id, status="enabled"))).status == "enabled"

    rotated = await sdk.call(endpoints.rotate_secret(first.id, expire_previous_in_seconds=0))
    assert rotated.secret is not None
    assert rotated.secret not in {None, first.secret}
    defaulted = await sdk.call(endpoints.rotate_secret(first.id))
    assert defaulted.secret not in {None, rotated.secret}

    for endpoint in made:
        deleted = await sdk.call(endpoints.delete(endpoint.id))
        assert (deleted.id, deleted.deleted) == (endpoint.id, True)
    with pytest.raises(NotFoundError):
        await sdk.call(endpoints.retrieve(first.id))


async def test_deliveries_are_listed_retrieved_retried_and_recovered(
    sdk: Twin, demo_book: Book
) -> None:
    endpoints, deliveries = sdk.client.webhook_endpoints, sdk.client.webhook_deliveries
    with receiving() as (target, got):
        endpoint = await sdk.call(endpoints.create(url=target, enabled_events=["debt.created"]))
        tested = await sdk.call(endpoints.test(endpoint.id))
        assert (tested.endpoint_id, tested.event_type, tested.status) == (
            endpoint.id,
            "webhook.test",
            "pending",
        )
        # Delivery is at least once (a lease that ran out sends again): what came is waited
        # for by its ID, and the attempts are not counted.
        until_received(got, lambda event: event["id"] == tested.event_id)
        debt_id = new_debt(demo_book, "Delivered")
        until_received(got, lambda event: event["data"].get("id") == debt_id)
        done = await until_settled(sdk, tested.id)
        assert done.status == "succeeded"
        assert done.attempts
        assert {attempt.status_code for attempt in done.attempts} == {200}
        assert all(attempt.error is None for attempt in done.attempts)
        assert done.last_status_code == 200
        assert done.attempt_count == len(done.attempts)

        listed = await items(endpoints.list_deliveries(endpoint.id, limit=1))
        assert [d.event_type for d in listed] == ["debt.created", "webhook.test"]
        assert all(d.attempts is None for d in listed)  # only on its own page
        tests_only = endpoints.list_deliveries(endpoint.id, type="webhook.test")
        assert [d.id for d in await items(tests_only)] == [tested.id]
        pending = await items(endpoints.list_deliveries(endpoint.id, status="pending"))
        assert tested.id not in {d.id for d in pending}

        retried = await sdk.call(deliveries.retry(tested.id))
        assert (retried.id, retried.event_id) == (tested.id, tested.event_id)
        retried_at = retried.next_attempt_at
        assert retried_at is not None
        again = await until_settled(sdk, tested.id, after=len(done.attempts))
        assert again.attempts is not None
        assert again.attempts[-1].status_code == 200
        queued = await sdk.call(endpoints.recover(endpoint.id, since=done.created_at))
        assert isinstance(queued, int)
        assert queued >= 0
        await sdk.call(endpoints.delete(endpoint.id))


async def until_settled(sdk: Twin, delivery_id: str, after: int = 0) -> WebhookDelivery:
    """The delivery once an attempt beyond the first `after` settled it (the server's worker
    sends it meanwhile)."""
    deadline = time.monotonic() + WAIT
    while True:
        found = await sdk.call(sdk.client.webhook_deliveries.retrieve(delivery_id))
        settled = found.status != "pending" and len(found.attempts or ()) > after
        if settled or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.1)


def until_received(got: queue.Queue[Received], wanted: Callable[[dict[str, Any]], bool]) -> None:
    while not wanted(next_event(got).event):
        pass


async def test_errors_are_the_sdks_exceptions(sdk: Twin, connect: Connect, demo_book: Book) -> None:
    with pytest.raises(NotFoundError):
        await sdk.call(sdk.client.events.retrieve(MISSING_EVENT))
    with pytest.raises(NotFoundError):
        await sdk.call(sdk.client.webhook_deliveries.retrieve("wd_" + "0" * 22))
    with pytest.raises(BadRequestError) as refused:
        await first_page(sdk.client.events.list(limit=0, created_gte="yesterday"))
    assert {"limit", "created_gte"} <= set(refused.value.details)
    with pytest.raises(BadRequestError) as refused:
        await sdk.call(sdk.client.webhook_endpoints.create(url="ftp://127.0.0.1/hooks"))
    assert "url" in refused.value.details
    reader = connect(demo_book.base, demo_book.new_client("followups:read"))
    with pytest.raises(PermissionDeniedError):
        await first_page(reader.client.events.list())
    watcher = connect(demo_book.base, demo_book.new_client("webhooks:read"))
    with pytest.raises(PermissionDeniedError):
        await sdk.call(watcher.client.webhook_endpoints.create(url="http://127.0.0.1:9/"))
