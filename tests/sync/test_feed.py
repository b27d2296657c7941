"""The followups feed and export through HTTP, on SQLite and PostgreSQL (docs/sync.md): every
change in commit order, each followup once at its latest state; cursors sealed to their
company; long polling; the export's snapshot and the cursor it ends with."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest

from relance.runtime import Runtime
from tests.factories import Client, new_tenant_headers

API = "/external-api/v1"
CHANGES = f"{API}/followups/changes"
EXPORT = f"{API}/followups/export"
DEBT = {"firstname": "Camille", "lastname": "Durand", "amount": 90, "currency": "EUR",
        "phone": "+33612345678"}  # fmt: skip


class Tenant:
    def __init__(self, company_id: int, headers: dict[str, str], debt_id: str) -> None:
        self.company_id = company_id
        self.headers = headers
        self.debt_id = debt_id


async def new_tenant(runtime: Runtime, client: Client) -> Tenant:
    company_id, headers = await new_tenant_headers(runtime, client)
    response = await client.post(f"{API}/debts", json=DEBT, headers=headers)
    assert response.status_code == 201, response.text
    return Tenant(company_id, headers, response.json()["data"]["id"])


@pytest.fixture
async def tenant(runtime: Runtime, client: Client) -> Tenant:
    return await new_tenant(runtime, client)


async def create(client: Client, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    body = {"debt_id": tenant.debt_id, "type": "call", **fields}
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


async def feed(client: Client, tenant: Tenant, **params: Any) -> dict[str, Any]:
    response = await client.get(CHANGES, params=params, headers=tenant.headers)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def export_lines(client: Client, tenant: Tenant, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(EXPORT, params=params, headers=tenant.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-ndjson"
    return [json.loads(line) for line in response.text.splitlines()]


async def test_changes_come_in_commit_order_each_followup_once_at_its_latest_state(
    client: Client, tenant: Tenant
) -> None:
    first = await create(client, tenant, status="scheduled")
    second = await create(client, tenant)
    latest = await update(client, tenant, first["id"], status="deal_found", notes="rappeler")
    page = await feed(client, tenant)
    assert page["error"] is False
    assert page["has_more"] is False
    assert [(e["action"], e["followup"]["id"]) for e in page["data"]] == [
        ("upsert", second["id"]),
        ("upsert", first["id"]),
    ]
    assert page["data"][1]["followup"] == latest
    seqs = [entry["seq"] for entry in page["data"]]
    assert seqs == sorted(seqs)
    assert page["data"][0]["changed_at"].endswith("Z")
    assert set(page["data"][0]) == {"seq", "action", "changed_at", "followup"}


async def test_the_cursor_continues_where_the_last_page_ended(
    client: Client, tenant: Tenant
) -> None:
    made = [await create(client, tenant) for _ in range(5)]
    one = await feed(client, tenant, limit=2)
    assert one["has_more"] is True
    two = await feed(client, tenant, limit=2, cursor=one["next_cursor"])
    three = await feed(client, tenant, limit=2, cursor=two["next_cursor"])
    assert three["has_more"] is False
    seen = [e["followup"]["id"] for page in (one, two, three) for e in page["data"]]
    assert seen == [followup["id"] for followup in made]
    # Nothing new: an empty page, and a cursor that still continues from the same place.
    empty = await feed(client, tenant, cursor=three["next_cursor"])
    assert empty["data"] == []
    later = await create(client, tenant)
    after = await feed(client, tenant, cursor=empty["next_cursor"])
    assert [e["followup"]["id"] for e in after["data"]] == [later["id"]]


async def test_cursor_now_gives_the_present_and_nothing_before_it(
    client: Client, tenant: Tenant
) -> None:
    await create(client, tenant)
    now = await feed(client, tenant, cursor="now")
    assert now["data"] == []
    assert now["has_more"] is False
    made = await create(client, tenant)
    after = await feed(client, tenant, cursor=now["next_cursor"])
    assert [e["followup"]["id"] for e in after["data"]] == [made["id"]]


async def test_a_tampered_or_foreign_cursor_is_a_400_naming_the_cursor(
    runtime: Runtime, client: Client, tenant: Tenant
) -> None:
    other = await new_tenant(runtime, client)
    theirs = (await feed(client, other, cursor="now"))["next_cursor"]
    mine = (await feed(client, tenant, cursor="now"))["next_cursor"]
    tampered = mine[:-2] + ("AA" if not mine.endswith("AA") else "BB")
    for cursor in (theirs, tampered, "garbage", "cur_", "cur_" + "A" * 200):
        response = await client.get(CHANGES, params={"cursor": cursor}, headers=tenant.headers)
        assert response.status_code == 400, (cursor, response.text)
        body = response.json()
        assert body["error"] is True
        assert "cursor" in body["details"], body


async def test_other_companies_changes_are_never_seen(
    runtime: Runtime, client: Client, tenant: Tenant
) -> None:
    other = await new_tenant(runtime, client)
    await create(client, other)
    mine = await create(client, tenant)
    page = await feed(client, tenant)
    assert [e["followup"]["id"] for e in page["data"]] == [mine["id"]]
    lines = await export_lines(client, tenant)
    assert [line["id"] for line in lines[:-1]] == [mine["id"]]


async def test_bad_parameters_are_400s_naming_each(client: Client, tenant: Tenant) -> None:
    params = {"limit": "1001", "wait": "31", "include_media": "yes"}
    response = await client.get(CHANGES, params=params, headers=tenant.headers)
    assert response.status_code == 400
    assert set(response.json()["details"]) == {"limit", "wait", "include_media"}
    response = await client.get(EXPORT, params={"status": "nope"}, headers=tenant.headers)
    assert response.status_code == 400
    assert set(response.json()["details"]) == {"status"}


async def test_the_feed_and_the_export_need_followups_read(
    runtime: Runtime, client: Client
) -> None:
    _, headers = await new_tenant_headers(runtime, client, ("debts:read",))
    for path in (CHANGES, EXPORT):
        assert (await client.get(path)).status_code == 401
        assert (await client.get(path, headers=headers)).status_code == 403


async def test_a_long_poll_with_nothing_new_ends_empty_after_its_wait(
    client: Client, tenant: Tenant
) -> None:
    now = (await feed(client, tenant, cursor="now"))["next_cursor"]
    page = await feed(client, tenant, cursor=now, wait=1)
    assert page == {"error": False, "data": [], "next_cursor": now, "has_more": False}


async def test_include_media_false_leaves_the_media_urls_null(
    client: Client, tenant: Tenant
) -> None:
    made = await create(client, tenant, audio_url="https://cdn.example/call.mp3")
    page = await feed(client, tenant)
    assert page["data"][0]["followup"]["audio_url"] == made["audio_url"]
    bare = await feed(client, tenant, include_media="false")
    assert bare["data"][0]["followup"]["audio_url"] is None
    lines = await export_lines(client, tenant, include_media="false")
    assert lines[0]["audio_url"] is None


async def test_the_export_holds_every_followup_then_a_cursor_that_continues_it(
    client: Client, tenant: Tenant
) -> None:
    made = [await create(client, tenant, status=s) for s in ("scheduled", "deal_found", "failed")]
    lines = await export_lines(client, tenant)
    assert lines[:-1] == made
    assert set(lines[-1]) == {"next_cursor"}
    later = await update(client, tenant, made[0]["id"], status="deal_found")
    page = await feed(client, tenant, cursor=lines[-1]["next_cursor"])
    assert [e["followup"] for e in page["data"]] == [later]


async def test_the_export_takes_the_lists_filters(client: Client, tenant: Tenant) -> None:
    await create(client, tenant, status="scheduled")
    answered = await create(client, tenant, status="deal_found")
    lines = await export_lines(client, tenant, status="deal_found")
    assert lines[:-1] == [answered]


async def test_the_export_is_gzip_encoded_when_the_client_accepts_it(
    client: Client, tenant: Tenant
) -> None:
    made = await create(client, tenant)
    headers = {**tenant.headers, "Accept-Encoding": "gzip"}
    response = await client.get(EXPORT, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    # httpx decodes it; the bytes on the wire were gzip.
    assert json.loads(response.text.splitlines()[0]) == made
    raw = await client.get(EXPORT, headers={**tenant.headers, "Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers
    assert gzip.compress(raw.content)  # the plain answer is the same text
    assert raw.text == response.text.replace(
        response.text.splitlines()[-1], raw.text.splitlines()[-1]
    )
