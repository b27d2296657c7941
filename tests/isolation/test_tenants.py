"""Tenant isolation, as a property: for random books of several companies, every read and write
endpoint, called with each company's token and every other company's IDs (debts, followups,
debtors, creditors, events, webhook endpoints and deliveries), returns and changes nothing of
theirs, and answers exactly as it does for an ID that never existed."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import AsyncTestClient

from relance.app import create_app
from relance.config import Settings
from relance.events.views import event_ids
from relance.resources import Resource
from relance.runtime import Runtime, open_runtime
from relance.webhooks.views import delivery_ids, endpoint_ids
from tests.conftest import clear
from tests.factories import (
    Client,
    bearer,
    create_client,
    create_company,
    create_debt,
    create_followup,
    public_id,
    token_for,
)

API = "/external-api/v1"
# For each company: how many followups each of its debts has.
books = st.lists(st.lists(st.integers(0, 3), max_size=3), min_size=2, max_size=4)


@dataclass
class Tenant:
    headers: dict[str, str]
    debts: list[str] = field(default_factory=list)
    followups: list[str] = field(default_factory=list)
    # Its webhook endpoint, the delivery of a test event to it, and that event.
    hooks: tuple[str, str, str] = ("", "", "")
    # The debtor and the creditor of a debt it registered through the API.
    parties: tuple[str, str] = ("", "")


async def with_parties(client: Client, tenant: Tenant, n: int) -> None:
    """A debt registered through the API, which makes its debtor and creditor."""
    body = {"firstname": "Léa", "lastname": "Roux", "amount": 10, "currency": "EUR",
            "email": f"lea{n}@example.com", "company": "Acme"}  # fmt: skip
    made = await client.post(f"{API}/debts", json=body, headers=tenant.headers)
    tenant.debts.append(made.json()["data"]["id"])
    found = [
        (await client.get(f"{API}/{kind}", headers=tenant.headers)).json()["data"][0]["id"]
        for kind in ("debtors", "creditors")
    ]
    tenant.parties = (found[0], found[1])


async def hooked(client: Client, headers: dict[str, str]) -> tuple[str, str, str]:
    """A webhook endpoint of the company's, with a test event's delivery to it."""
    made = await client.post(
        f"{API}/webhook-endpoints", json={"url": "https://example.com/hooks"}, headers=headers
    )
    endpoint = made.json()["data"]["id"]
    tested = await client.post(f"{API}/webhook-endpoints/{endpoint}/test", headers=headers)
    delivery = tested.json()["data"]
    return endpoint, delivery["id"], delivery["event_id"]


async def build(runtime: Runtime, client: Client, book: list[list[int]]) -> list[Tenant]:
    tenants: list[Tenant] = []
    for debts in book:
        company_id = await create_company(runtime)
        credentials = await create_client(runtime, company_id)
        tenant = Tenant(bearer(await token_for(client, credentials)))
        for count in debts:
            debt_id = await create_debt(runtime, company_id)
            tenant.debts.append(public_id(runtime, Resource.DEBT, debt_id))
            for _ in range(count):
                key = await create_followup(runtime, company_id, debt_id)
                tenant.followups.append(public_id(runtime, Resource.FOLLOWUP, key))
        tenant.hooks = await hooked(client, tenant.headers)
        await with_parties(client, tenant, len(tenants))
        tenants.append(tenant)
    return tenants


def shown(answer: httpx.Response) -> tuple[int, Any]:
    """What a caller can tell from an answer (the request ID aside)."""
    return answer.status_code, answer.json()


async def requests_about(
    client: Client,
    headers: dict[str, str],
    debt: str,
    followup: str,
    hooks: tuple[str, str, str],
    parties: tuple[str, str],
) -> list[tuple[int, Any]]:
    """Every endpoint that takes an ID, called with these IDs."""
    debtor, creditor = f"{API}/debtors/{parties[0]}", f"{API}/creditors/{parties[1]}"
    named = {"firstname": "A", "lastname": "B", "amount": 1, "currency": "EUR",
             "phone": "+33612345678", "creditor_id": parties[1]}  # fmt: skip
    party_calls = [
        ("GET", debtor, None),
        ("PUT", debtor, {"address": "changed by another company"}),
        ("GET", f"{API}/debts/by-debtor/{parties[0]}", None),
        ("GET", creditor, None),
        ("PUT", creditor, {"name": "Taken over"}),
        ("PATCH", creditor, {"city": "Elsewhere"}),
        ("GET", f"{API}/debts/by-creditor/{parties[1]}", None),
        ("POST", f"{API}/debts", named),
        ("PUT", f"{API}/debts/{debt}", {"status": "status.default.archived"}),
        ("DELETE", f"{API}/debts/{debt}", None),
    ]
    owned = [
        shown(await client.request(method, url, json=body, headers=headers))
        for method, url, body in party_calls
    ]
    change = {"notes": "changed by another company", "status": "failed"}
    create = {"debt_id": debt, "type": "email"}
    endpoint, delivery, event = (
        f"{API}/webhook-endpoints/{hooks[0]}",
        f"{API}/webhook-deliveries/{hooks[1]}",
        f"{API}/events/{hooks[2]}",
    )
    hook_calls = [
        ("GET", endpoint, None),
        ("PATCH", endpoint, {"url": "https://attacker.example/hooks", "status": "disabled"}),
        ("POST", f"{endpoint}/rotate-secret", None),
        ("POST", f"{endpoint}/test", None),
        ("POST", f"{endpoint}/recover", {"since": "0"}),
        ("GET", f"{endpoint}/deliveries", None),
        ("GET", delivery, None),
        ("POST", f"{delivery}/retry", None),
        ("GET", event, None),
        ("DELETE", endpoint, None),
    ]
    webhooks = [
        shown(await client.request(method, url, json=body, headers=headers))
        for method, url, body in hook_calls
    ]
    return [
        *owned,
        *webhooks,
        shown(await client.get(f"{API}/followups/{followup}", headers=headers)),
        shown(await client.put(f"{API}/followups/{followup}", json=change, headers=headers)),
        shown(await client.get(f"{API}/followups/debt/{debt}", headers=headers)),
        shown(await client.get(f"{API}/followups?debt_id={debt}", headers=headers)),
        shown(await client.post(f"{API}/followups", json=create, headers=headers)),
        shown(await client.get(f"{API}/debts/{debt}", headers=headers)),
    ]


async def everything_of(client: Client, tenant: Tenant) -> Any:
    """A company's whole book, as its own token reads it."""
    followups = await client.get(f"{API}/followups?limit=100", headers=tenant.headers)
    debts = await client.get(f"{API}/debts?limit=100", headers=tenant.headers)
    events = await client.get(f"{API}/events?limit=100", headers=tenant.headers)
    endpoint = f"{API}/webhook-endpoints/{tenant.hooks[0]}"
    hooks = await client.get(endpoint, headers=tenant.headers)
    owed = await client.get(f"{endpoint}/deliveries", headers=tenant.headers)
    delivery = await client.get(
        f"{API}/webhook-deliveries/{tenant.hooks[1]}", headers=tenant.headers
    )
    parties = [
        await client.get(f"{API}/{path}", headers=tenant.headers)
        for path in ("debtors", "creditors", *(f"{kind}/{party}" for kind, party in
                     zip(("debtors", "creditors"), tenant.parties, strict=True)))
    ]  # fmt: skip
    return [r.json() for r in (followups, debts, events, hooks, owed, delivery, *parties)]


async def check_isolation(settings_: Settings, book: list[list[int]]) -> None:
    runtime = await open_runtime(settings_)
    try:
        await clear(runtime)
        async with AsyncTestClient(app=create_app(settings_)) as client:
            tenants = await build(runtime, client, book)
            before = [await everything_of(client, tenant) for tenant in tenants]
            for tenant, book_of in zip(tenants, before, strict=True):
                listed = {row["id"] for row in book_of[0]["data"]}
                assert listed == set(tenant.followups)  # its own, all of them, nothing else
                assert {row["id"] for row in book_of[1]["data"]} == set(tenant.debts)
                assert [row["type"] for row in book_of[2]["data"]] == [
                    "debt.created",
                    "webhook.test",
                ]
                assert [row["id"] for row in book_of[6]["data"]] == [tenant.parties[0]]
                assert [row["id"] for row in book_of[7]["data"]] == [tenant.parties[1]]
            never_debt = public_id(runtime, Resource.DEBT, 10**12)
            never_followup = public_id(runtime, Resource.FOLLOWUP, 10**12)
            never_hooks = (
                endpoint_ids(runtime.ids).show(10**12),
                delivery_ids(runtime.ids).show(10**12),
                event_ids(runtime.ids).show(10**12),
            )
            never_parties = (
                public_id(runtime, Resource.DEBTOR, 10**12),
                public_id(runtime, Resource.CREDITOR, 10**12),
            )
            for caller in tenants:
                unknown = await requests_about(
                    client, caller.headers, never_debt, never_followup, never_hooks, never_parties
                )
                # All but the list filtered by another debt_id, which is an empty page.
                assert all(status >= 400 for status, _ in unknown[:-3] + unknown[-2:])
                for owner in tenants:
                    if owner is caller:
                        continue
                    for debt, followup in _pairs(owner, never_followup):
                        answers = await requests_about(
                            client, caller.headers, debt, followup, owner.hooks, owner.parties
                        )
                        assert answers == unknown, "another company's ID must look unknown"
            after = [await everything_of(client, tenant) for tenant in tenants]
            assert after == before, "nothing of any company changed"
    finally:
        await runtime.close()


def _pairs(owner: Tenant, never_followup: str) -> list[tuple[str, str]]:
    """Every debt and every followup of the owner, each in at least one pair."""
    if not owner.debts:
        return []
    followups = owner.followups or [never_followup]
    count = max(len(followups), len(owner.debts))
    debts = owner.debts
    return [(debts[i % len(debts)], followups[i % len(followups)]) for i in range(count)]


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(book=books)
def test_no_company_sees_or_changes_another_companys_data(
    settings: Settings, book: list[list[int]]
) -> None:
    asyncio.run(check_isolation(settings, book))
