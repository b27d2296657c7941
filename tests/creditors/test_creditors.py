"""Creditors through HTTP, on SQLite and on PostgreSQL: made by the first debt whose `company`
names them, GET /creditors, GET /creditors/{id} (nested, with totals), PUT (whole) and PATCH
(partial) in GetBill's camelCase, a debt naming its creditor by ID, and
GET /debts/by-creditor/{creditorId}."""

from __future__ import annotations

import re
from typing import Any

import pytest

from relance.auth.scopes import CREDITORS_READ, DEBTS_READ
from relance.runtime import Runtime
from tests.debts.test_endpoints import URL as DEBTS
from tests.debts.test_endpoints import debt_body
from tests.factories import Client, new_tenant_headers

URL = "/external-api/v1/creditors"
SPACED = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
FIELDS = [
    "id",
    "name",
    "email",
    "phone",
    "address",
    "city",
    "postalCode",
    "country",
    "registrationNumber",
    "taxNumber",
    "contactPerson",
    "createdAt",
    "updatedAt",
]
DETAILS = {
    "email": "billing@acme.example",
    "phone": "+33142123456",
    "address": "123 Business Street",
    "city": "Paris",
    "postalCode": "75001",
    "country": "France",
    "registrationNumber": "B123456789",
    "taxNumber": "FR12345678901",
    "contactPerson": "John Billing",
}


@pytest.fixture
async def headers(runtime: Runtime, client: Client) -> dict[str, str]:
    return (await new_tenant_headers(runtime, client))[1]


async def debt(client: Client, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = await client.post(DEBTS, json=debt_body(**fields), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


async def creditors(client: Client, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get(URL, params={"limit": 100}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


async def creditor(client: Client, headers: dict[str, str], name: str) -> dict[str, Any]:
    return next(c for c in await creditors(client, headers) if c["name"] == name)


async def detail(client: Client, headers: dict[str, str], creditor_id: str) -> dict[str, Any]:
    response = await client.get(f"{URL}/{creditor_id}", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["error"], body["message"], list(body["data"])) == (False, "Success", ["data"])
    return body["data"]["data"]  # type: ignore[no-any-return]


async def changed(
    client: Client, headers: dict[str, str], method: str, creditor_id: str, body: Any
) -> dict[str, Any]:
    response = await client.request(method, f"{URL}/{creditor_id}", json=body, headers=headers)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["message"] == "Creditor updated successfully"
    assert list(answer["data"]) == FIELDS
    return answer["data"]  # type: ignore[no-any-return]


async def test_a_debts_company_makes_its_creditor_once(
    client: Client, headers: dict[str, str]
) -> None:
    await debt(client, headers, company="Acme Corporation", amount=100)
    await debt(client, headers, company="  acme   CORPORATION ", amount="50.25")
    await debt(client, headers, company="Services Plus", amount=7)
    await debt(client, headers, amount=1)

    listed = await creditors(client, headers)

    assert [c["name"] for c in listed] == ["Acme Corporation", "Services Plus"]
    assert [list(c) for c in listed] == [FIELDS, FIELDS]
    assert all(SPACED.match(c["createdAt"]) and SPACED.match(c["updatedAt"]) for c in listed)
    shown = await detail(client, headers, listed[0]["id"])
    assert list(shown) == [*FIELDS, "totalDebts", "totalAmount"]
    assert (shown["totalDebts"], shown["totalAmount"]) == (2, 150.25)


async def test_patch_changes_the_fields_sent_and_put_sets_the_whole_creditor(
    client: Client, headers: dict[str, str]
) -> None:
    await debt(client, headers, company="Acme")
    acme = await creditor(client, headers, "Acme")

    patched = await changed(client, headers, "PATCH", acme["id"], DETAILS)
    patched_again = await changed(client, headers, "PATCH", acme["id"], {"city": None})
    whole = await changed(client, headers, "PUT", acme["id"], {"name": "Acme", "taxNumber": "T1"})

    assert {k: patched[k] for k in DETAILS} == DETAILS
    assert patched_again["city"] is None
    assert patched_again["email"] == DETAILS["email"]
    assert whole["taxNumber"] == "T1"
    assert all(whole[k] is None for k in DETAILS if k != "taxNumber")
    assert {k: v for k, v in (await detail(client, headers, acme["id"])).items()
            if k in FIELDS} == whole  # fmt: skip


async def test_a_new_name_is_its_debts_company_and_a_taken_one_is_a_409(
    client: Client, headers: dict[str, str]
) -> None:
    made = await debt(client, headers, company="Acme")
    await debt(client, headers, company="Other")
    acme, other = await creditor(client, headers, "Acme"), await creditor(client, headers, "Other")

    await changed(client, headers, "PATCH", acme["id"], {"name": "Acme Group"})
    taken = await client.patch(f"{URL}/{acme['id']}", json={"name": "other "}, headers=headers)

    shown = (await client.get(f"{DEBTS}/{made['id']}", headers=headers)).json()["data"]
    assert shown["company"] == "Acme Group"
    assert taken.status_code == 409
    assert taken.json()["details"] == {"name": [f"is already the name of creditor {other['id']}"]}
    again = await debt(client, headers, company="ACME group")
    assert again["company"] == "ACME group"
    assert (await detail(client, headers, acme["id"]))["totalDebts"] == 2


@pytest.mark.parametrize(
    ("method", "body", "field"),
    [
        ("PUT", {"email": "a@b.example"}, "name"),
        ("PATCH", {"name": None}, "name"),
        ("PATCH", {"name": ""}, "name"),
        ("PATCH", {"email": "nope"}, "email"),
        ("PATCH", {"phone": "0142123456"}, "phone"),
        ("PATCH", {"postalCode": "x" * 21}, "postalCode"),
        ("PATCH", {"colour": "blue"}, "colour"),
    ],
)
async def test_bad_bodies_are_named(
    client: Client, headers: dict[str, str], method: str, body: dict[str, Any], field: str
) -> None:
    await debt(client, headers, company="Acme")
    acme = await creditor(client, headers, "Acme")

    response = await client.request(method, f"{URL}/{acme['id']}", json=body, headers=headers)

    assert response.status_code == 400, response.text
    assert list(response.json()["details"]) == [field]


async def test_a_debt_names_its_creditor_by_id(client: Client, headers: dict[str, str]) -> None:
    await debt(client, headers, company="Acme")
    acme = await creditor(client, headers, "Acme")

    by_id = await debt(client, headers, creditor_id=acme["id"])
    both = await debt(client, headers, creditor_id=acme["id"], company="ACME")
    unknown = await client.post(DEBTS, json=debt_body(creditor_id="3kTMd9pYqZ1bXw7LrN2vHc"),
                                headers=headers)  # fmt: skip
    other = await client.post(DEBTS, json=debt_body(creditor_id=acme["id"], company="Other"),
                              headers=headers)  # fmt: skip
    mismatched = await client.put(f"{DEBTS}/{by_id['id']}",
                                  json={"creditor_id": acme["id"], "company": "Other"},
                                  headers=headers)  # fmt: skip
    moved = await client.put(f"{DEBTS}/{by_id['id']}", json={"creditor_id": None},
                             headers=headers)  # fmt: skip

    assert by_id["company"] == both["company"] == "Acme"
    assert unknown.status_code == 400
    assert unknown.json()["details"] == {"creditor_id": ["Creditor not found"]}
    for refused in (other, mismatched):
        assert refused.status_code == 400
        assert list(refused.json()["details"]) == ["company"]
    assert moved.status_code == 200, moved.text
    assert moved.json()["data"]["company"] is None
    assert (await detail(client, headers, acme["id"]))["totalDebts"] == 2


async def test_by_creditor_lists_its_debts_with_the_filters(
    client: Client, headers: dict[str, str]
) -> None:
    mine = [await debt(client, headers, company="Acme", currency=c) for c in ("EUR", "USD")]
    await debt(client, headers, company="Other")
    acme = await creditor(client, headers, "Acme")

    response = await client.get(f"{DEBTS}/by-creditor/{acme['id']}", headers=headers)
    euros = await client.get(
        f"{DEBTS}/by-creditor/{acme['id']}", params={"currency": "EUR"}, headers=headers
    )

    assert [d["id"] for d in response.json()["data"]] == [mine[1]["id"], mine[0]["id"]]
    assert response.json()["pagination"]["total"] == 2
    assert [d["id"] for d in euros.json()["data"]] == [mine[0]["id"]]


async def test_another_companys_creditor_is_never_seen(
    runtime: Runtime, client: Client, headers: dict[str, str]
) -> None:
    await debt(client, headers, company="Acme")
    acme = await creditor(client, headers, "Acme")
    _, other = await new_tenant_headers(runtime, client)

    for path in (f"{URL}/{acme['id']}", f"{DEBTS}/by-creditor/{acme['id']}", f"{URL}/nope"):
        response = await client.get(path, headers=other)
        assert response.status_code == 404, path
        assert response.json()["message"] == "Creditor not found"
    patch = await client.patch(f"{URL}/{acme['id']}", json={"city": "x"}, headers=other)
    named = await client.post(DEBTS, json=debt_body(creditor_id=acme["id"]), headers=other)
    assert patch.status_code == 404
    assert named.status_code == 400
    assert await creditors(client, other) == []


async def test_scopes_are_required(runtime: Runtime, client: Client) -> None:
    _, debts_only = await new_tenant_headers(runtime, client, (DEBTS_READ,))
    _, reader = await new_tenant_headers(runtime, client, (CREDITORS_READ,))

    listed = await client.get(URL, headers=debts_only)
    patched = await client.patch(f"{URL}/3kTMd9pYqZ1bXw7LrN2vHc", json={}, headers=reader)

    assert listed.status_code == 403
    assert listed.json()["message"] == 'Required scope "creditors:read" not found in token'
    assert patched.status_code == 403
