"""POST /debts/batch through HTTP, on SQLite and on PostgreSQL: each item checked alone, the
good ones created together, bad ones failed by field, placeholders skipped, by index and
temp_id; a retried batch with its Idempotency-Key creates nothing twice."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from relance.auth.scopes import DEBTS_READ
from relance.runtime import Runtime
from tests.debts.test_endpoints import URL, debt_body
from tests.factories import Client, new_tenant_headers

BATCH = f"{URL}/batch"


@pytest.fixture
async def headers(runtime: Runtime, client: Client) -> dict[str, str]:
    return (await new_tenant_headers(runtime, client))[1]


async def sent(client: Client, headers: dict[str, str], body: Any, **extra: str) -> Any:
    response = await client.post(BATCH, json=body, headers={**headers, **extra})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["error"] is False
    assert answer["message"] == "Batch operation completed"
    return answer["data"]


async def listed(client: Client, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get(URL, params={"limit": 100}, headers=headers)
    return response.json()["data"]  # type: ignore[no-any-return]


async def test_good_items_are_created_bad_ones_failed_placeholders_skipped(
    client: Client, headers: dict[str, str]
) -> None:
    items = [
        debt_body(temp_id="t0", internal_id="A-1"),
        debt_body(temp_id="t1", amount=-3, currency="eur"),
        {"firstname": "Prénom*", "lastname": "Nom*", "temp_id": "t2"},
        debt_body(temp_id="t3", email="x@example.com", phone=None),
        "not an object",
        debt_body(temp_id="t5", internal_id="A-1"),
        {},
        debt_body(temp_id="t7", amount="__HUGE__"),
        {"firstname": "Léa", "lastname": "Roux", "amount": 5, "currency": "EUR", "temp_id": "t8"},
    ]

    # A number no float holds, which no JSON encoder writes.
    text = json.dumps({"batch_name": "January", "debts": items}).replace('"__HUGE__"', "1e400")
    response = await client.post(
        BATCH, content=text, headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]

    assert re.fullmatch(r"[0-9A-Za-z]{22}", data["import_id"])
    assert data["batch_name"] == "January"
    assert [(c["index"], c["temp_id"], c["status"]) for c in data["created"]] == [
        (0, "t0", "valid"),
        (3, "t3", "valid"),
    ]
    assert data["created"][0]["data"] == {
        "firstname": "Camille",
        "lastname": "Durand",
        "phone": "+33612345678",
        "email": None,
        "amount": 250.0,
        "currency": "EUR",
    }
    failed = {f["index"]: (f["temp_id"], f["errors"]) for f in data["failed"]}
    assert list(failed) == [1, 4, 5, 7, 8]
    assert set(failed[1][1]) == {"amount", "currency"}
    assert failed[4] == (None, {"body": ["must be a JSON object"]})
    assert failed[5] == (
        "t5",
        {"internal_id": ["is already the internal_id of the item at index 0"]},
    )
    assert list(failed[7][1]) == ["amount"]
    assert set(failed[8][1]) == {"phone", "email"}
    assert {f["status"] for f in data["failed"]} == {"invalid"}
    assert [(s["index"], s["temp_id"]) for s in data["skipped"]] == [(2, "t2"), (6, None)]
    assert data["summary"] == {"total": 9, "created": 2, "failed": 5, "skipped": 2}
    shown = {d["id"]: d for d in await listed(client, headers)}
    assert set(shown) == {c["debt_id"] for c in data["created"]}
    assert shown[data["created"][1]["debt_id"]]["email"] == "x@example.com"
    assert {d["status"] for d in shown.values()} == {"status.default.pending"}


async def test_an_internal_id_already_there_fails_its_item(
    client: Client, headers: dict[str, str]
) -> None:
    first = await sent(client, headers, {"debts": [debt_body(internal_id="A-1")]})
    holder = first["created"][0]["debt_id"]

    data = await sent(client, headers, {"debts": [debt_body(internal_id="A-1"), debt_body()]})

    assert data["failed"] == [
        {
            "index": 0,
            "temp_id": None,
            "status": "invalid",
            "errors": {"internal_id": [f"is already the internal_id of debt {holder}"]},
        }
    ]
    assert len(data["created"]) == 1
    assert len(await listed(client, headers)) == 2


async def test_a_batch_without_a_name_gets_getbills_default(
    client: Client, headers: dict[str, str]
) -> None:
    data = await sent(client, headers, {"debts": [debt_body()]})

    assert re.fullmatch(r"API Batch - \d\d/\d\d/\d{4} \d\d:\d\d", data["batch_name"])


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({}, "debts"),
        ({"debts": []}, "debts"),
        ({"debts": [debt_body()] * 1001}, "debts"),
        ({"debts": {"a": 1}}, "debts"),
        ({"debts": [debt_body()], "batch_name": ""}, "batch_name"),
        ({"debts": [debt_body()], "colour": "blue"}, "colour"),
        ({"debts": [debt_body()], "accept_expensive_destination": "yes"},
         "accept_expensive_destination"),
    ],
)  # fmt: skip
async def test_a_bad_batch_is_a_400_and_creates_nothing(
    client: Client, headers: dict[str, str], body: Any, problem: str
) -> None:
    response = await client.post(BATCH, json=body, headers=headers)

    assert response.status_code == 400, response.text
    assert problem in response.json()["details"]
    assert await listed(client, headers) == []


async def test_a_retried_batch_creates_nothing_twice(
    client: Client, headers: dict[str, str]
) -> None:
    body = {"debts": [debt_body(temp_id=str(n)) for n in range(3)]}

    first = await sent(client, headers, body, **{"Idempotency-Key": "batch-1"})
    again = await client.post(BATCH, json=body, headers={**headers, "Idempotency-Key": "batch-1"})

    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["data"] == first
    assert len(await listed(client, headers)) == 3


async def test_each_created_debt_sends_debt_created(
    client: Client, headers: dict[str, str]
) -> None:
    data = await sent(client, headers, {"debts": [debt_body(), debt_body(phone="+33700000000")]})

    events = (await client.get("/external-api/v1/events", headers=headers)).json()["data"]
    assert sorted(e["data"]["id"] for e in events if e["type"] == "debt.created") == sorted(
        c["debt_id"] for c in data["created"]
    )


async def test_debts_write_is_required(runtime: Runtime, client: Client) -> None:
    _, reader = await new_tenant_headers(runtime, client, scopes=(DEBTS_READ,))

    response = await client.post(BATCH, json={"debts": [debt_body()]}, headers=reader)

    assert response.status_code == 403
