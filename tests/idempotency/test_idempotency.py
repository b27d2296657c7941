"""POSTs with an Idempotency-Key: a retry replays the first answer and writes nothing more; the
same key with another request is a 409; concurrent duplicates make one row."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from relance.runtime import Runtime
from tests.factories import Client, new_tenant_headers

API = "/external-api/v1"
DEBT = {
    "firstname": "Camille",
    "lastname": "Durand",
    "amount": 90,
    "currency": "EUR",
    "phone": "+33612345678",
}


@pytest.fixture
async def headers(runtime: Runtime, client: Client) -> dict[str, str]:
    return (await new_tenant_headers(runtime, client))[1]


async def post_debt(client: Client, headers: dict[str, str], key: str | None, **body: Any) -> Any:
    extra = {} if key is None else {"Idempotency-Key": key}
    return await client.post(f"{API}/debts", json={**DEBT, **body}, headers={**headers, **extra})


async def debt_count(client: Client, headers: dict[str, str]) -> int:
    total: int = (await client.get(f"{API}/debts", headers=headers)).json()["pagination"]["total"]
    return total


async def test_a_retry_replays_the_first_answer(client: Client, headers: dict[str, str]) -> None:
    first = await post_debt(client, headers, "create-durand-1")
    # The same request, its keys in another order: still the same request.
    again = await client.post(
        f"{API}/debts",
        json=dict(reversed(list(DEBT.items()))),
        headers={**headers, "Idempotency-Key": "create-durand-1"},
    )

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await debt_count(client, headers) == 1


async def test_the_same_key_with_another_request_is_a_409(
    client: Client, headers: dict[str, str]
) -> None:
    await post_debt(client, headers, "k-1")

    response = await post_debt(client, headers, "k-1", amount=91)

    assert response.status_code == 409
    assert response.json() == {
        "error": True,
        "message": "This Idempotency-Key was already used with a different request; use a new key",
        "code": 409,
    }
    assert await debt_count(client, headers) == 1


async def test_concurrent_duplicates_make_one_row(client: Client, headers: dict[str, str]) -> None:
    responses = await asyncio.gather(*(post_debt(client, headers, "burst") for _ in range(8)))

    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["data"]["id"] for r in responses}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 7
    assert await debt_count(client, headers) == 1


async def test_a_refused_request_leaves_the_key_free(
    client: Client, headers: dict[str, str]
) -> None:
    refused = await post_debt(client, headers, "fix-me", currency="eur")
    corrected = await post_debt(client, headers, "fix-me")

    assert refused.status_code == 400
    assert corrected.status_code == 201
    assert "idempotent-replayed" not in corrected.headers


async def test_keys_belong_to_their_client(
    runtime: Runtime, client: Client, headers: dict[str, str]
) -> None:
    _, other = await new_tenant_headers(runtime, client)

    mine = await post_debt(client, headers, "shared-name")
    theirs = await post_debt(client, other, "shared-name")

    assert theirs.status_code == 201
    assert theirs.json()["data"]["id"] != mine.json()["data"]["id"]
    assert await debt_count(client, other) == 1


async def test_followup_creation_is_idempotent_too(client: Client, headers: dict[str, str]) -> None:
    debt_id = (await post_debt(client, headers, None)).json()["data"]["id"]
    body = {"debt_id": debt_id, "type": "sms", "status": "sent"}
    send = {**headers, "Idempotency-Key": "sms-1"}

    first = await client.post(f"{API}/followups", json=body, headers=send)
    again = await client.post(f"{API}/followups", json=body, headers=send)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    listed = (await client.get(f"{API}/followups", headers=headers)).json()
    assert listed["pagination"]["total"] == 1
    debt = (await client.get(f"{API}/debts/{debt_id}", headers=headers)).json()["data"]
    assert debt["followups_count"] == 1


async def test_a_key_is_forgotten_after_a_day(
    runtime: Runtime, client: Client, headers: dict[str, str]
) -> None:
    await post_debt(client, headers, "daily")
    # A day passes, as far as the key's record knows.
    await runtime.db.execute(
        "UPDATE idempotency_keys SET created_at = $1", datetime(2000, 1, 1, tzinfo=UTC)
    )

    later = await post_debt(client, headers, "daily")

    assert later.status_code == 201
    assert "idempotent-replayed" not in later.headers
    assert await debt_count(client, headers) == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "x" * 5000, "two words"], ids=len)
async def test_a_malformed_key_is_a_400(client: Client, headers: dict[str, str], key: str) -> None:
    response = await post_debt(client, headers, key)

    assert response.status_code == 400
    assert list(response.json()["details"]) == ["Idempotency-Key"]
    assert await debt_count(client, headers) == 0
