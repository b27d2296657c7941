"""Debtors through HTTP, on SQLite and on PostgreSQL: matched across a company's debts by the
documented rule, kept in step by every debt write, GET /debtors, GET and PUT /debtors/{id} in
GetBill's camelCase and doubly nested answers, and GET /debts/by-debtor/{debtorId}."""

from __future__ import annotations

import re
from typing import Any

import pytest

from relance.auth.scopes import DEBTORS_READ, DEBTS_READ
from relance.runtime import Runtime
from tests.debts.test_endpoints import URL as DEBTS
from tests.debts.test_endpoints import debt_body
from tests.factories import Client, new_tenant_headers

URL = "/external-api/v1/debtors"
SPACED = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
LISTED = [
    "id",
    "firstName",
    "lastName",
    "email",
    "phone",
    "address",
    "dateOfBirth",
    "firstSeenAt",
    "lastSeenAt",
    "lastUpdatedAt",
]
DETAIL = [*LISTED, "totalDebtAmount", "totalPaidAmount", "averageRepaymentScore", "debtsCount"]


@pytest.fixture
async def headers(runtime: Runtime, client: Client) -> dict[str, str]:
    return (await new_tenant_headers(runtime, client))[1]


async def debt(client: Client, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = await client.post(DEBTS, json=debt_body(**fields), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


async def debtors(client: Client, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await client.get(URL, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def detail(client: Client, headers: dict[str, str], debtor_id: str) -> dict[str, Any]:
    response = await client.get(f"{URL}/{debtor_id}", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == ["error", "message", "data"]
    assert body["message"] == "Success"
    assert list(body["data"]) == ["data"]
    return body["data"]["data"]  # type: ignore[no-any-return]


async def debts_of(client: Client, headers: dict[str, str], debtor_id: str, **params: Any) -> Any:
    response = await client.get(f"{DEBTS}/by-debtor/{debtor_id}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_debts_of_one_email_phone_or_name_are_one_debtors(
    client: Client, headers: dict[str, str]
) -> None:
    """Email first (in any case), else phone."""
    await debt(client, headers, email="Camille@Example.fr", phone="+33600000001", amount=100)
    await debt(client, headers, email="camille@EXAMPLE.fr", phone="+33600000002", amount=50)
    await debt(client, headers, phone="+33600000001", email=None, amount=10)
    await debt(client, headers, phone="+33600000001", email=None, amount=20)

    page = await debtors(client, headers)

    assert page["pagination"] == {"total": 2, "page": 1, "limit": 20, "pages": 1}
    by_email, by_phone = page["data"]
    assert [list(d) for d in page["data"]] == [LISTED, LISTED]
    assert by_email["email"] == "Camille@Example.fr"
    assert by_email["phone"] == "+33600000001"
    assert by_phone["email"] is None
    assert (await detail(client, headers, by_email["id"]))["debtsCount"] == 2
    assert (await detail(client, headers, by_phone["id"]))["totalDebtAmount"] == 30.0


async def test_a_debtors_detail_sums_their_debts(client: Client, headers: dict[str, str]) -> None:
    made = await debt(client, headers, email="a@example.com", amount="1250.50",
                      birthdate="1985-03-15", address="1 rue Haute, 75001 Paris")  # fmt: skip
    paid = await debt(client, headers, email="a@example.com", amount=750)
    await client.put(f"{DEBTS}/{paid['id']}", json={"status": "status.default.paid"},
                     headers=headers)  # fmt: skip
    (listed,) = (await debtors(client, headers))["data"]

    shown = await detail(client, headers, listed["id"])

    assert list(shown) == DETAIL
    assert shown["firstName"] == made["firstname"]
    assert shown["lastName"] == made["lastname"]
    assert shown["dateOfBirth"] == "1985-03-15"
    assert shown["address"] == "1 rue Haute, 75001 Paris"
    assert all(SPACED.match(shown[k]) for k in ("firstSeenAt", "lastSeenAt", "lastUpdatedAt"))
    assert (shown["totalDebtAmount"], shown["totalPaidAmount"]) == (2000.5, 750.0)
    assert shown["averageRepaymentScore"] is None
    assert shown["debtsCount"] == 2


async def test_a_debt_whose_email_changes_moves_and_an_emptied_debtor_goes(
    client: Client, headers: dict[str, str]
) -> None:
    made = await debt(client, headers, email="old@example.com")
    await debt(client, headers, email="new@example.com")
    old = next(d for d in (await debtors(client, headers))["data"] if d["email"].startswith("old"))

    moved = await client.put(f"{DEBTS}/{made['id']}", json={"email": "NEW@example.com"},
                             headers=headers)  # fmt: skip

    assert moved.status_code == 200, moved.text
    (left,) = (await debtors(client, headers))["data"]
    assert left["email"] == "new@example.com"
    assert (await detail(client, headers, left["id"]))["debtsCount"] == 2
    gone = await client.get(f"{URL}/{old['id']}", headers=headers)
    assert gone.status_code == 404
    assert gone.json() == {"error": True, "message": "Debtor not found", "code": 404}


async def test_deleting_a_debtors_last_debt_removes_the_debtor(
    client: Client, headers: dict[str, str]
) -> None:
    first = await debt(client, headers, email="a@example.com")
    second = await debt(client, headers, email="a@example.com")

    for made, left in ((first, 1), (second, 0)):
        deleted = await client.delete(f"{DEBTS}/{made['id']}", headers=headers)
        assert deleted.status_code == 200, deleted.text
        assert (await debtors(client, headers))["pagination"]["total"] == left


async def test_a_batch_and_its_items_share_debtors(client: Client, headers: dict[str, str]) -> None:
    items = [debt_body(email="a@example.com"), debt_body(email="A@example.com"), debt_body()]

    response = await client.post(f"{DEBTS}/batch", json={"debts": items}, headers=headers)

    assert response.status_code == 200, response.text
    listed = (await debtors(client, headers))["data"]
    assert sorted([(await detail(client, headers, d["id"]))["debtsCount"] for d in listed]) == [
        1,
        2,
    ]


async def test_put_changes_the_fields_sent_and_answers_as_getbill(
    client: Client, headers: dict[str, str]
) -> None:
    made = await debt(client, headers, email="a@example.com")
    (listed,) = (await debtors(client, headers))["data"]

    response = await client.put(
        f"{URL}/{listed['id']}",
        json={"phone": "+33699999999", "address": "456 New Street", "dateOfBirth": "1990-07-22"},
        headers=headers,
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] == "Success"
    assert body["data"]["message"] == "Debtor updated successfully"
    shown = body["data"]["data"]
    assert list(shown) == DETAIL
    assert (shown["phone"], shown["address"], shown["dateOfBirth"]) == (
        "+33699999999",
        "456 New Street",
        "1990-07-22",
    )
    assert shown["email"] == "a@example.com"
    assert await detail(client, headers, listed["id"]) == shown
    # The debt keeps its own fields.
    kept = (await client.get(f"{DEBTS}/{made['id']}", headers=headers)).json()["data"]
    assert kept["phone"] == "+33612345678"


@pytest.mark.parametrize("birth", ["15/03/1985", "1985-02-30", "1985-3-5", "19850315"])
async def test_a_bad_date_of_birth_is_getbills_400(
    client: Client, headers: dict[str, str], birth: str
) -> None:
    await debt(client, headers)
    (listed,) = (await debtors(client, headers))["data"]

    response = await client.put(f"{URL}/{listed['id']}", json={"dateOfBirth": birth},
                                headers=headers)  # fmt: skip

    assert response.status_code == 400
    body = response.json()
    assert body["message"] == "Invalid dateOfBirth format. Use YYYY-MM-DD"
    assert list(body["details"]) == ["dateOfBirth"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "nope"}, "email"),
        ({"phone": "0612345678"}, "phone"),
        ({"firstName": ""}, "firstName"),
        ({"colour": "blue"}, "colour"),
    ],
)
async def test_other_bad_fields_are_named(
    client: Client, headers: dict[str, str], body: dict[str, Any], field: str
) -> None:
    await debt(client, headers)
    (listed,) = (await debtors(client, headers))["data"]

    response = await client.put(f"{URL}/{listed['id']}", json=body, headers=headers)

    assert response.status_code == 400
    assert list(response.json()["details"]) == [field]


async def test_by_debtor_lists_their_debts_with_the_filters(
    client: Client, headers: dict[str, str]
) -> None:
    mine = [await debt(client, headers, email="a@example.com", amount=n) for n in (10, 20, 30)]
    await debt(client, headers, email="b@example.com")
    (debtor,) = [d for d in (await debtors(client, headers))["data"] if d["email"][0] == "a"]

    page = await debts_of(client, headers, debtor["id"], limit=2)
    large = await debts_of(client, headers, debtor["id"], min_amount="20")

    assert page["pagination"] == {"total": 3, "page": 1, "limit": 2, "pages": 2}
    assert [d["id"] for d in page["data"]] == [mine[2]["id"], mine[1]["id"]]
    assert [d["id"] for d in large["data"]] == [mine[2]["id"], mine[1]["id"]]


async def test_another_companys_debtor_is_never_seen(
    runtime: Runtime, client: Client, headers: dict[str, str]
) -> None:
    await debt(client, headers, email="a@example.com")
    (debtor,) = (await debtors(client, headers))["data"]
    _, other = await new_tenant_headers(runtime, client)
    await debt(client, other, email="a@example.com")

    for path in (f"{URL}/{debtor['id']}", f"{DEBTS}/by-debtor/{debtor['id']}", f"{URL}/nope"):
        response = await client.get(path, headers=other)
        assert response.status_code == 404, path
        assert response.json()["message"] == "Debtor not found"
    put = await client.put(f"{URL}/{debtor['id']}", json={"address": "x"}, headers=other)
    assert put.status_code == 404
    assert (await debtors(client, other))["pagination"]["total"] == 1


async def test_scopes_are_required(runtime: Runtime, client: Client) -> None:
    _, debts_only = await new_tenant_headers(runtime, client, (DEBTS_READ,))
    _, reader = await new_tenant_headers(runtime, client, (DEBTORS_READ,))

    listed = await client.get(URL, headers=debts_only)
    put = await client.put(f"{URL}/3kTMd9pYqZ1bXw7LrN2vHc", json={}, headers=reader)

    assert listed.status_code == 403
    assert listed.json()["message"] == 'Required scope "debtors:read" not found in token'
    assert put.status_code == 403
    assert put.json()["message"] == 'Required scope "debtors:write" not found in token'
