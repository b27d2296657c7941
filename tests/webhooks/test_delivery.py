"""Webhook delivery end to end, on SQLite and PostgreSQL: a write's events reach a real
receiver on 127.0.0.1, signed so that GetBill's documented receiver and the Standard Webhooks
library both accept them; retried on the schedule with the same webhook-id; 410, Retry-After,
redirects, a receiver that hangs, rotation, the four requests in flight per endpoint, and the
delivery log that shows each attempt."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from relance.runtime import Runtime, open_deployment
from relance.webhooks.running import worker_options
from relance.webhooks.sender import Sender
from relance.webhooks.worker import DeliveryWorker
from tests.commands import free_port
from tests.factories import Client, new_tenant_headers
from tests.webhooks.receiver import Received, Receiver, Reply, running_receiver
from tests.webhooks.test_signing import getbill_node_receiver_accepts, reference_library_accepts

API = "/external-api/v1"
ENDPOINTS = f"{API}/webhook-endpoints"
DEBT = {"firstname": "Camille", "lastname": "Durand", "amount": 90, "currency": "EUR",
        "phone": "+33612345678"}  # fmt: skip
# Short delays and a short timeout, so that retries and cuts happen within a test.
SCHEDULE = "0.2,0.2,0.2"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "webhooks_allow_private_networks": True,
        "webhooks_retry_schedule": SCHEDULE,
        "webhooks_timeout_seconds": 1,
    }


@pytest.fixture
def receiver() -> Any:
    with running_receiver() as found:
        yield found


@pytest.fixture
def worker(runtime: Runtime) -> Iterator[None]:
    """A delivery worker on the test's deployment, in a thread with its own event loop, as it
    runs in a process of its own beside the server (the test client blocks the test's loop
    while the app answers, which would hold up a worker sharing it)."""
    stop = threading.Event()
    started = threading.Event()

    async def deliver() -> None:
        deployment = await open_deployment(runtime.settings)
        settings = deployment.settings
        sender = Sender(timeout=settings.webhooks_timeout_seconds, allow_private=True)
        options = worker_options(deployment, "http://testserver")
        stopping = asyncio.Event()
        task = asyncio.create_task(DeliveryWorker(deployment, sender, options).run(stopping))
        started.set()
        await asyncio.to_thread(stop.wait)
        stopping.set()
        await task
        await sender.aclose()
        await deployment.close()

    thread = threading.Thread(target=asyncio.run, args=(deliver(),), daemon=True)
    thread.start()
    assert started.wait(10), "the delivery worker did not start"
    yield
    stop.set()
    thread.join(15)
    assert not thread.is_alive(), "the delivery worker did not stop"


class Tenant:
    def __init__(self, headers: dict[str, str], endpoint: dict[str, Any]) -> None:
        self.headers = headers
        self.endpoint = endpoint

    @property
    def secret(self) -> str:
        secret: str = self.endpoint["secret"]
        return secret


async def subscribed(runtime: Runtime, client: Client, receiver: Receiver, **body: Any) -> Tenant:
    _, headers = await new_tenant_headers(runtime, client)
    made = await client.post(ENDPOINTS, json={"url": receiver.url, **body}, headers=headers)
    assert made.status_code == 201, made.text
    return Tenant(headers, made.json()["data"])


async def new_debt(client: Client, tenant: Tenant) -> dict[str, Any]:
    response = await client.post(f"{API}/debts", json=DEBT, headers=tenant.headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def received(receiver: Receiver, count: int) -> list[Received]:
    return await asyncio.to_thread(receiver.wait_for, count)


async def deliveries(client: Client, tenant: Tenant, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(
        f"{ENDPOINTS}/{tenant.endpoint['id']}/deliveries", params=params, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["data"]
    return found


async def attempted(client: Client, tenant: Tenant) -> dict[str, Any]:
    """The endpoint's one delivery, once its first attempt is recorded."""
    for _ in range(200):
        (delivery,) = await deliveries(client, tenant)
        if delivery["attempt_count"] >= 1:
            return delivery
        await asyncio.sleep(0.05)
    raise AssertionError(f"no attempt recorded: {delivery}")


async def settled(client: Client, tenant: Tenant, delivery_id: str) -> dict[str, Any]:
    """The delivery with its attempts, once it is no longer pending."""
    for _ in range(300):
        response = await client.get(
            f"{API}/webhook-deliveries/{delivery_id}", headers=tenant.headers
        )
        shown: dict[str, Any] = response.json()["data"]
        if shown["status"] != "pending":
            return shown
        await asyncio.sleep(0.05)
    raise AssertionError(f"delivery {delivery_id} still pending: {shown}")


def answers(*replies: Reply) -> Callable[[Received], Reply]:
    """The receiver's replies in turn, then 204s."""
    queue = list(replies)
    lock = threading.Lock()

    def answer(_request: Received) -> Reply:
        with lock:
            return queue.pop(0) if queue else Reply()

    return answer


@pytest.mark.usefixtures("worker")
async def test_an_event_arrives_signed_for_getbills_receiver_and_standard_webhooks(
    runtime: Runtime, client: Client, receiver: Receiver
) -> None:
    tenant = await subscribed(runtime, client, receiver)
    debt = await new_debt(client, tenant)
    (request,) = await received(receiver, 1)
    assert getbill_node_receiver_accepts(request.body, request.headers, tenant.secret)
    assert reference_library_accepts(request.body, request.headers, tenant.secret)
    assert request.headers["content-type"] == "application/json"
    body = json.loads(request.body)
    assert body["type"] == "debt.created"
    assert body["data"] == debt
    assert request.headers["webhook-id"] == body["id"]
    # The body is minified, and is the event as GET /events/{id} shows it.
    assert request.body == json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    shown = await client.get(f"{API}/events/{body['id']}", headers=tenant.headers)
    assert shown.json()["data"] == body
    (delivery,) = await deliveries(client, tenant)
    done = await settled(client, tenant, delivery["id"])
    assert done["status"] == "succeeded"
    assert done["event_id"] == body["id"]
    (attempt,) = done["attempts"]
    assert attempt["status_code"] == 204
    assert attempt["error"] is None


@pytest.mark.usefixtures("worker")
async def test_a_failure_is_retried_on_the_schedule_with_the_same_id(
    runtime: Runtime, client: Client, receiver: Receiver
) -> None:
    receiver.answer = answers(Reply(500, body=b"boom"), Reply(502))
    tenant = await subscribed(runtime, client, receiver)
    await new_debt(client, tenant)
    requests = await received(receiver, 3)
    assert len({r.headers["webhook-id"] for r in requests}) == 1
    assert len({r.body for r in requests}) == 1
    for request in requests:
        assert reference_library_accepts(request.body, request.headers, tenant.secret)
    (delivery,) = await deliveries(client, tenant)
    done = await settled(client, tenant, delivery["id"])
    assert done["status"] == "succeeded"
    assert done["attempt_count"] == 3
    assert [a["status_code"] for a in done["attempts"]] == [500, 502, 204]
    assert done["attempts"][0]["response"] == "boom"
    assert done["attempts"][0]["error"] is None


@pytest.mark.usefixtures("worker")
async def test_a_delivery_fails_once_the_schedule_runs_out(
    runtime: Runtime, client: Client, receiver: Receiver
) -> None:
    receiver.answer = lambda _r: Reply(503)
    tenant = await subscribed(runtime, client, receiver)
    await new_debt(client, tenant)
    (delivery,) = await deliveries(client, tenant)
    done = await settled(client, tenant, delivery["id"])
    # The first attempt and one retry per delay of the schedule.
    assert done["status"] == "failed"
    assert done["attempt_count"] == len(SCHEDULE.split(",")) + 1
    assert len(receiver.received) == done["attempt_count"]
    retried = await client.post(
        f"{API}/webhook-deliveries/{delivery['id']}/retry", headers=tenant.headers
    )
    assert retried.status_code == 202
    receiver.answer = lambda _r: Reply(200)
    again = await settled(client, tenant, delivery["id"])
    assert again["status"] == "succeeded"
    assert again["attempts"][-1]["status_code"] == 200


@pytest.mark.usefixtures("worker")
async def test_410_gone_disables_the_endpoint(
    runtime: Runtime, client: Client, receiver: Receiver
) -> None:
    receiver.answer = lambda _r: Reply(410)
    tenant = await subscribed(runtime, client, receiver)
    await new_debt(client, tenant)
    (delivery,) = await deliveries(client, tenant)
    done = await settled(client, tenant, delivery["id"])
    assert done["status"] == "failed"
    assert done["attempt_count"] == 1
    path = f"{ENDPOINTS}/{tenant.endpoint['id']}"
    endpoint = (await client.get(path, headers=tenant.headers)).json()["data"]
    assert (endpoint["status"], endpoint["disabled_reason"]) == ("disabled", "gone")
    await new_debt(client, tenant)
    assert len(await deliveries(client, tenant)) == 1


@pytest.mark.usefixtures("worker")
async def test_retry_after_sets_the_next_attempt(
    runtime: Runtime, client: Client, receiver: Receiver
) -> None:
    receiver.answer = lambda _r: Reply(429, {"Retry-After": "3600"})
    tenant = await subscribed(runtime, client, receiver)
    await new_debt(client, tenant)
    await received(receiver, 1)
    delivery = await attempted(client, tenant)
    assert delivery["attempt_count"] == 1
    assert delivery["status"] == "pending"
    assert delivery["last_status_code"] == 429
    wait = seconds_between(delivery["last_attempt_at"], delivery["next_attempt_at"])
    assert 3590 < wait < 3610
    assert len(receiver.received) == 1


def seconds_between(earlier: str, later: str) -> float:
    from datetime import datetime

    return (datetime.fromisoformat(later) - datetime.fromisoformat(earlier)).total_seconds()


@pytest.mark.usefixtures("worker")
async def test_a_redirect_is_not_followed(
    runtime: Runtime, client: Client, receiver: Receiver
) -> None:
    receiver.answer = answers(Reply(307, {"Location": receiver.url + "/elsewhere"}))
    tenant = await subscribed(runtime, client, receiver)
    await new_debt(client, tenant)
    first, second = await received(receiver, 2)
    # The retry goes to the endpoint's own URL again, never where the redirect pointed.
    assert first.path == second.path == "/hooks"
    (delivery,) = await deliveries(client, tenant)
    done = await settled(client, tenant, delivery["id"])
    assert [a["status_code"] for a in done["attempts"]] == [307, 204]


@pytest.mark.usefixtures("worker")
async def test_a_receiver_that_hangs_is_cut_at_the_timeout_and_retried(
    runtime: Runtime, client: Client, receiver: Receiver
) -> None:
    receiver.answer = answers(Reply(pause=5))
    tenant = await subscribed(runtime, client, receiver)
    await new_debt(client, tenant)
    (delivery,) = await deliveries(client, tenant)
    done = await settled(client, tenant, delivery["id"])
    assert done["status"] == "succeeded"
    hung, answered = done["attempts"]
    assert (hung["status_code"], hung["error"]) == (None, "timeout")
    assert answered["status_code"] == 204


@pytest.mark.usefixtures("worker")
async def test_during_a_rotation_both_secrets_sign(
    runtime: Runtime, client: Client, receiver: Receiver
) -> None:
    tenant = await subscribed(runtime, client, receiver)
    rotated = await client.post(
        f"{ENDPOINTS}/{tenant.endpoint['id']}/rotate-secret",
        json={"expire_previous_in_seconds": 3600},
        headers=tenant.headers,
    )
    new_secret = rotated.json()["data"]["secret"]
    await new_debt(client, tenant)
    (request,) = await received(receiver, 1)
    assert len(request.headers["webhook-signature"].split()) == 2
    assert reference_library_accepts(request.body, request.headers, tenant.secret)
    assert reference_library_accepts(request.body, request.headers, new_secret)
    # GetBill's header carries one signature: the new secret's.
    assert getbill_node_receiver_accepts(request.body, request.headers, new_secret)
    assert not getbill_node_receiver_accepts(request.body, request.headers, tenant.secret)


@pytest.mark.usefixtures("worker")
async def test_at_most_four_requests_are_in_flight_per_endpoint(
    runtime: Runtime, client: Client, receiver: Receiver
) -> None:
    in_flight = 0
    most = 0
    lock = threading.Lock()

    def slow(_request: Received) -> Reply:
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        time.sleep(0.3)
        with lock:
            in_flight -= 1
        return Reply()

    receiver.answer = slow
    tenant = await subscribed(runtime, client, receiver)
    for _ in range(12):
        await new_debt(client, tenant)
    await received(receiver, 12)
    assert most == 4


@pytest.mark.usefixtures("worker")
async def test_a_company_receives_only_its_own_events(
    runtime: Runtime, client: Client, receiver: Receiver
) -> None:
    with running_receiver() as other_receiver:
        mine = await subscribed(runtime, client, receiver)
        theirs = await subscribed(runtime, client, other_receiver)
        await new_debt(client, mine)
        await new_debt(client, theirs)
        (request,) = await received(receiver, 1)
        (other,) = await received(other_receiver, 1)
        assert reference_library_accepts(request.body, request.headers, mine.secret)
        assert not reference_library_accepts(other.body, other.headers, mine.secret)
        assert json.loads(request.body)["id"] != json.loads(other.body)["id"]
        await asyncio.sleep(0.5)
        assert len(receiver.received) == len(other_receiver.received) == 1


@pytest.mark.usefixtures("worker")
async def test_an_endpoint_receives_only_the_types_it_subscribes_to(
    runtime: Runtime, client: Client, receiver: Receiver
) -> None:
    tenant = await subscribed(runtime, client, receiver, enabled_events=["followup.created"])
    debt = await new_debt(client, tenant)
    made = await client.post(
        f"{API}/followups", json={"debt_id": debt["id"], "type": "sms"}, headers=tenant.headers
    )
    assert made.status_code == 201
    (request,) = await received(receiver, 1)
    assert json.loads(request.body)["type"] == "followup.created"
    tested = await client.post(f"{ENDPOINTS}/{tenant.endpoint['id']}/test", headers=tenant.headers)
    assert tested.status_code == 202
    _, test = await received(receiver, 2)
    event = json.loads(test.body)
    assert event["type"] == "webhook.test"
    assert event["data"]["endpoint_id"] == tenant.endpoint["id"]


@pytest.mark.parametrize(
    "settings_overrides",
    [
        {
            "webhooks_allow_private_networks": True,
            "webhooks_retry_schedule": "0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3",
            "webhooks_timeout_seconds": 1,
            "webhooks_disable_after_seconds": 1,
        }
    ],
)
@pytest.mark.usefixtures("worker")
async def test_an_endpoint_failing_for_too_long_is_disabled(
    runtime: Runtime, client: Client, receiver: Receiver
) -> None:
    receiver.answer = lambda _r: Reply(500)
    tenant = await subscribed(runtime, client, receiver)
    await new_debt(client, tenant)
    (delivery,) = await deliveries(client, tenant)
    done = await settled(client, tenant, delivery["id"])
    assert done["status"] == "failed"
    # Disabled after a second of failures: well before its schedule ran out.
    assert done["attempt_count"] < 9
    path = f"{ENDPOINTS}/{tenant.endpoint['id']}"
    endpoint = (await client.get(path, headers=tenant.headers)).json()["data"]
    assert (endpoint["status"], endpoint["disabled_reason"]) == ("disabled", "failing")


@pytest.mark.usefixtures("worker")
async def test_a_receiver_down_then_up_gets_the_event_on_the_next_attempt(
    runtime: Runtime, client: Client
) -> None:
    port = free_port()
    _, headers = await new_tenant_headers(runtime, client)
    url = f"http://127.0.0.1:{port}/hooks"
    made = await client.post(ENDPOINTS, json={"url": url}, headers=headers)
    tenant = Tenant(headers, made.json()["data"])
    await new_debt(client, tenant)
    delivery = await attempted(client, tenant)
    with running_receiver(port) as receiver:
        (request,) = await received(receiver, 1)
        done = await settled(client, tenant, delivery["id"])
    assert reference_library_accepts(request.body, request.headers, tenant.secret)
    assert done["status"] == "succeeded"
    assert done["attempts"][0]["error"] == "connection"
    assert done["attempts"][-1]["status_code"] == 204


@pytest.mark.parametrize(
    "settings_overrides",
    [{"webhooks_allow_private_networks": True, "events_retention_days": 30}],
)
async def test_the_worker_purges_what_is_older_than_the_retention(
    runtime: Runtime, client: Client, receiver: Receiver, request: pytest.FixtureRequest
) -> None:
    tenant = await subscribed(runtime, client, receiver, enabled_events=["followup.created"])
    for _ in range(2):
        await new_debt(client, tenant)
    await client.post(f"{ENDPOINTS}/{tenant.endpoint['id']}/test", headers=tenant.headers)
    # Two events made 31 days ago, as the clock would have it by then.
    month_ago = (time.time() - 31 * 86_400) * 1_000_000
    await runtime.db.execute(
        "UPDATE events SET created_us = $1 WHERE type = 'debt.created'", int(month_ago)
    )
    request.getfixturevalue("worker")  # its first turn purges
    await received(receiver, 1)
    for _ in range(200):
        left = await runtime.db.fetchval("SELECT count(*) FROM events")
        if left == 1:
            break
        await asyncio.sleep(0.05)
    assert left == 1
    listed = await client.get(f"{API}/events", headers=tenant.headers)
    assert [e["type"] for e in listed.json()["data"]] == ["webhook.test"]
    (delivery,) = await deliveries(client, tenant)
    assert delivery["event_type"] == "webhook.test"
