"""The per-client budget as a client sees it: headers on every authenticated answer, a 429 in
the envelope once the budget is spent, and a window that slides."""

from __future__ import annotations

import asyncio
import math
import time
from datetime import datetime

import httpx
import pytest

from relance.auth.scopes import FOLLOWUPS_READ, FOLLOWUPS_WRITE
from relance.runtime import Runtime
from tests.factories import (
    Client,
    bearer,
    create_client,
    create_company,
    new_tenant_headers,
    token_for,
)
from tests.ratelimit.conftest import READS, WRITES

URL = "/external-api/v1/followups"
RATE_HEADERS = {
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "x-ratelimit-window",
    "ratelimit-policy",
    "ratelimit",
}


async def fresh_token(runtime: Runtime, client: Client, read_limit: int | None = None) -> str:
    _, headers = await new_tenant_headers(runtime, client, read_limit=read_limit)
    return headers["Authorization"].removeprefix("Bearer ")


async def spend(client: Client, token: str, times: int) -> list[httpx.Response]:
    return [await client.get(URL, headers=bearer(token)) for _ in range(times)]


async def test_every_answer_tells_where_the_client_stands(runtime: Runtime, client: Client) -> None:
    token = await fresh_token(runtime, client)
    before = time.time()

    responses = await spend(client, token, READS)

    for used, response in enumerate(responses, start=1):
        assert response.status_code == 200, response.text
        headers = response.headers
        assert headers["x-ratelimit-limit"] == str(READS)
        assert headers["x-ratelimit-remaining"] == str(READS - used)
        assert headers["x-ratelimit-window"] == "3600"
        assert headers["ratelimit-policy"] == f'"reads";q={READS};w=3600'
        assert headers["ratelimit"] == f'"reads";r={READS - used};t=3600'
        # The first request of the window leaves it an hour after it was made.
        reset = int(headers["x-ratelimit-reset"])
        assert math.floor(before) + 3600 <= reset <= math.ceil(time.time()) + 3600


async def test_a_spent_budget_is_a_429_in_the_envelope(runtime: Runtime, client: Client) -> None:
    token = await fresh_token(runtime, client)
    last_allowed = (await spend(client, token, READS))[-1]

    refused = await client.get(URL, headers=bearer(token))

    assert refused.status_code == 429, refused.text
    body = refused.json()
    assert set(body) == {"error", "message", "code", "details"}
    assert body["error"] is True
    assert body["code"] == 429
    assert body["message"] == "Rate limit exceeded. Please try again later."
    details = body["details"]
    assert set(details) == {"retry_after", "limit", "reset_time"}
    assert details["limit"] == READS
    assert refused.headers["retry-after"] == str(details["retry_after"])
    assert 3598 <= details["retry_after"] <= 3600
    reset = int(refused.headers["x-ratelimit-reset"])
    assert datetime.fromisoformat(details["reset_time"]).timestamp() == reset
    assert reset == int(last_allowed.headers["x-ratelimit-reset"])
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert refused.headers["ratelimit"] == f'"reads";r=0;t={details["retry_after"]}'


async def test_refusals_do_not_eat_into_the_next_window(runtime: Runtime, client: Client) -> None:
    token = await fresh_token(runtime, client)
    await spend(client, token, READS)

    refusals = await spend(client, token, 5)

    assert {r.status_code for r in refusals} == {429}
    assert {r.headers["x-ratelimit-reset"] for r in refusals} == {
        refusals[0].headers["x-ratelimit-reset"]
    }


async def test_each_client_has_its_own_budget(runtime: Runtime, client: Client) -> None:
    spent = await fresh_token(runtime, client)
    await spend(client, spent, READS + 1)
    other = await fresh_token(runtime, client)

    response = await client.get(URL, headers=bearer(other))

    assert response.status_code == 200, response.text
    assert response.headers["x-ratelimit-remaining"] == str(READS - 1)


async def test_a_client_of_its_own_limit_gets_that_limit(runtime: Runtime, client: Client) -> None:
    token = await fresh_token(runtime, client, read_limit=5)

    responses = await spend(client, token, 6)

    assert [r.status_code for r in responses] == [200] * 5 + [429]
    assert responses[0].headers["x-ratelimit-limit"] == "5"
    assert responses[-1].json()["details"]["limit"] == 5


async def test_concurrent_requests_get_exactly_the_budget(runtime: Runtime, client: Client) -> None:
    token = await fresh_token(runtime, client, read_limit=7)

    responses = await asyncio.gather(*(client.get(URL, headers=bearer(token)) for _ in range(20)))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 7 + [429] * 13
    # Each admitted request took its own unit of the budget.
    admitted = [r for r in responses if r.status_code == 200]
    assert sorted(int(r.headers["x-ratelimit-remaining"]) for r in admitted) == list(range(7))


async def test_reads_and_writes_have_budgets_of_their_own(runtime: Runtime, client: Client) -> None:
    token = await fresh_token(runtime, client)
    debt = {"firstname": "A", "lastname": "B", "amount": 1, "currency": "EUR", "email": "a@b.fr"}

    writes = [
        await client.post("/external-api/v1/debts", json=debt, headers=bearer(token))
        for _ in range(WRITES + 1)
    ]
    read = await client.get(URL, headers=bearer(token))

    assert [r.status_code for r in writes] == [201] * WRITES + [429]
    assert writes[0].headers["x-ratelimit-limit"] == str(WRITES)
    assert writes[0].headers["ratelimit-policy"] == f'"writes";q={WRITES};w=3600'
    assert writes[-1].json()["details"]["limit"] == WRITES
    assert read.status_code == 200
    assert read.headers["x-ratelimit-remaining"] == str(READS - 1)
    # The refused write wrote nothing.
    assert read.json()["pagination"]["total"] == 0
    listed = await client.get("/external-api/v1/debts", headers=bearer(token))
    assert listed.json()["pagination"]["total"] == WRITES


async def test_a_missing_scope_is_an_authenticated_answer_and_counts(
    runtime: Runtime, client: Client
) -> None:
    credentials = await create_client(runtime, await create_company(runtime), (FOLLOWUPS_WRITE,))
    token = await token_for(client, credentials)

    forbidden = await spend(client, token, READS + 1)

    assert [r.status_code for r in forbidden] == [403] * READS + [429]
    assert forbidden[0].headers["x-ratelimit-remaining"] == str(READS - 1)


async def test_unauthenticated_answers_carry_no_budget(client: Client) -> None:
    for headers in ({}, bearer("not-a-token")):
        response = await client.get(URL, headers=headers)

        assert response.status_code == 401
        assert RATE_HEADERS.isdisjoint(response.headers), response.headers


async def test_token_requests_are_outside_the_budget(runtime: Runtime, client: Client) -> None:
    credentials = await create_client(runtime, await create_company(runtime), (FOLLOWUPS_READ,))
    for _ in range(READS + 2):
        token = await token_for(client, credentials)

    response = await client.get(URL, headers=bearer(token))

    assert response.status_code == 200
    assert response.headers["x-ratelimit-remaining"] == str(READS - 1)


@pytest.mark.parametrize("window_seconds", [2])
async def test_the_window_slides(runtime: Runtime, client: Client, window_seconds: int) -> None:
    token = await fresh_token(runtime, client)
    first = await client.get(URL, headers=bearer(token))
    await asyncio.sleep(1.1)
    await spend(client, token, READS - 1)
    refused = await client.get(URL, headers=bearer(token))
    assert refused.status_code == 429
    # Only the first request has left the window when its reset comes: one more is allowed.
    assert refused.headers["x-ratelimit-reset"] == first.headers["x-ratelimit-reset"]
    await asyncio.sleep(max(0.0, int(refused.headers["x-ratelimit-reset"]) - time.time()) + 0.05)

    again = await spend(client, token, 2)

    assert [r.status_code for r in again] == [200, 429]
    assert again[0].headers["x-ratelimit-remaining"] == "0"
