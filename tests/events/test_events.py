"""Change events through HTTP, on SQLite and PostgreSQL: each write records its events in its
own transaction (none for a write rolled back, none for a no-op PUT), with the object as GET
shows it and what changed; GET /events filters, pages by cursor and keeps to the company."""

from __future__ import annotations

import re
from typing import Any

import pytest

from relance.followups.bodies import FollowupBody
from relance.followups.service import create_followup
from relance.media.links import MediaLinks
from relance.runtime import Runtime
from relance.units import unit_of_work
from tests.factories import Client, new_tenant_headers

API = "/external-api/v1"
EVENTS = f"{API}/events"
DEBT = {"firstname": "Camille", "lastname": "Durand", "amount": 90, "currency": "EUR",
        "phone": "+33612345678"}  # fmt: skip
MOMENT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


class Tenant:
    def __init__(self, company_id: int, headers: dict[str, str], debt: dict[str, Any]) -> None:
        self.company_id = company_id
        self.headers = headers
        self.debt = debt


@pytest.fixture
async def tenant(runtime: Runtime, client: Client) -> Tenant:
    company_id, headers = await new_tenant_headers(runtime, client)
    response = await client.post(f"{API}/debts", json=DEBT, headers=headers)
    assert response.status_code == 201, response.text
    return Tenant(company_id, headers, response.json()["data"])


async def events(client: Client, tenant: Tenant, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(EVENTS, params=params, headers=tenant.headers)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["data"]
    return found


async def create(client: Client, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    body = {"debt_id": tenant.debt["id"], "type": "call", **fields}
    response = await client.post(f"{API}/followups", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def update(client: Client, tenant: Tenant, followup_id: str, **fields: Any) -> Any:
    response = await client.put(
        f"{API}/followups/{followup_id}", json=fields, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def test_a_debt_and_a_followup_are_recorded_as_get_shows_them(
    client: Client, tenant: Tenant
) -> None:
    followup = await create(client, tenant, status="scheduled")
    found = await events(client, tenant)
    assert [e["type"] for e in found] == ["followup.created", "debt.created"]
    created, debt = found
    assert created["id"].startswith("evt_")
    assert MOMENT.fullmatch(created["timestamp"])
    assert created["data"] == followup
    assert "changes" not in created
    assert debt["data"]["id"] == tenant.debt["id"]
    assert debt["data"]["firstname"] == "Camille"
    one = await client.get(f"{EVENTS}/{created['id']}", headers=tenant.headers)
    assert one.status_code == 200
    assert one.json()["data"] == created


async def test_an_update_records_what_changed_and_a_completion_once(
    client: Client, tenant: Tenant
) -> None:
    followup = await create(client, tenant, status="scheduled")
    await update(client, tenant, followup["id"], status="deal_found", summary="Agreed")
    newest = await events(client, tenant, limit=2)
    assert [e["type"] for e in newest] == ["followup.completed", "followup.updated"]
    completed, updated = newest
    assert updated["changes"]["status"] == {"previous": "scheduled", "new": "deal_found"}
    assert updated["changes"]["summary"] == {"previous": None, "new": "Agreed"}
    assert completed["data"] == updated["data"]
    assert completed["data"]["status"] == "deal_found"
    # Through another completed status and back: completed the first time only.
    await update(client, tenant, followup["id"], status="scheduled")
    await update(client, tenant, followup["id"], status="no_answer")
    types = [e["type"] for e in await events(client, tenant, limit=100)]
    assert types.count("followup.completed") == 1
    assert types.count("followup.updated") == 3


async def test_a_failure_is_recorded_each_time_the_status_enters_failed(
    client: Client, tenant: Tenant
) -> None:
    followup = await create(client, tenant, status="failed")
    assert [e["type"] for e in await events(client, tenant, limit=2)] == [
        "followup.failed",
        "followup.created",
    ]
    await update(client, tenant, followup["id"], status="scheduled")
    await update(client, tenant, followup["id"], status="failed")
    types = [e["type"] for e in await events(client, tenant, limit=100)]
    assert types.count("followup.failed") == 2


async def test_a_put_that_changes_nothing_records_nothing(client: Client, tenant: Tenant) -> None:
    followup = await create(client, tenant, status="scheduled", summary="Call back")
    before = await events(client, tenant, limit=100)
    await update(client, tenant, followup["id"], status="scheduled", summary="Call back")
    await update(client, tenant, followup["id"])
    assert await events(client, tenant, limit=100) == before


async def test_a_write_rolled_back_records_no_event(
    runtime: Runtime, tenant: Tenant, client: Client
) -> None:
    before = await events(client, tenant, limit=100)
    body = FollowupBody.model_validate_json(f'{{"debt_id": "{tenant.debt["id"]}", "type": "call"}}')
    links = MediaLinks(runtime.media, "http://testserver", 60, 0)

    async def write_then_fail() -> None:
        async with unit_of_work(runtime.db) as unit:
            await create_followup(
                unit.conn, runtime.ids, tenant.company_id, body, links, runtime.events
            )
            raise RuntimeError("the write fails after its events were recorded")

    with pytest.raises(RuntimeError):
        await write_then_fail()
    assert await events(client, tenant, limit=100) == before
    listed = await client.get(f"{API}/followups", headers=tenant.headers)
    assert listed.json()["data"] == []


async def test_events_filter_by_type_and_moment_and_page_by_cursor(
    client: Client, tenant: Tenant
) -> None:
    for _ in range(4):
        await create(client, tenant)
    every = await events(client, tenant, limit=100)
    assert len(every) == 5
    typed = await events(client, tenant, type=["debt.created", "followup.failed"])
    assert [e["type"] for e in typed] == ["debt.created"]
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        response = await client.get(EVENTS, params=params, headers=tenant.headers)
        page = response.json()
        seen.extend(e["id"] for e in page["data"])
        if not page["pagination"]["has_more"]:
            assert page["pagination"]["next_starting_after"] is None
            break
        params["starting_after"] = page["pagination"]["next_starting_after"]
    assert seen == [e["id"] for e in every]
    newest = every[0]["timestamp"]
    assert await events(client, tenant, created_gte=newest) == every[:1]
    assert await events(client, tenant, created_lte="2000-01-01T00:00:00+00:00") == []
    assert len(await events(client, tenant, created_gte="0", limit=100)) == 5


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"limit": 0}, {"limit"}),
        ({"limit": 101}, {"limit"}),
        ({"type": "followup.deleted"}, {"type"}),
        ({"created_gte": "yesterday", "created_lte": "2024-01-01"}, {"created_gte", "created_lte"}),
        ({"starting_after": "evt_nothing"}, {"starting_after"}),
        ({"starting_after": "3kTMd9pYqZ1bXw7LrN2vHc"}, {"starting_after"}),
    ],
)
async def test_a_bad_query_is_a_400_naming_each_parameter(
    client: Client, tenant: Tenant, params: dict[str, Any], names: set[str]
) -> None:
    response = await client.get(EVENTS, params=params, headers=tenant.headers)
    assert response.status_code == 400, response.text
    assert set(response.json()["details"]) == names


async def test_a_company_sees_only_its_own_events(
    runtime: Runtime, client: Client, tenant: Tenant
) -> None:
    mine = await events(client, tenant)
    _, other = await new_tenant_headers(runtime, client)
    assert (await client.get(EVENTS, headers=other)).json()["data"] == []
    foreign = await client.get(f"{EVENTS}/{mine[0]['id']}", headers=other)
    assert foreign.status_code == 404
    assert foreign.json()["message"] == "Event not found"
    unknown = await client.get(f"{EVENTS}/evt_{'0' * 22}", headers=tenant.headers)
    assert unknown.status_code == 404


@pytest.mark.parametrize("settings_overrides", [{"webhooks_enabled": False}])
async def test_with_webhooks_off_no_event_is_recorded(client: Client, tenant: Tenant) -> None:
    await create(client, tenant)
    assert await events(client, tenant) == []
