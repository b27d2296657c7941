"""POST /debts, GET /debts and GET /debts/{id}, through HTTP, on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from relance.auth.scopes import DEBTS_READ, FOLLOWUPS_READ
from relance.runtime import Runtime
from tests.factories import Client, new_tenant_headers

URL = "/external-api/v1/debts"
# GetBill's debt object, in its documented order.
FIELDS = [
    "id",
    "civility",
    "firstname",
    "lastname",
    "phone",
    "email",
    "birthdate",
    "amount",
    "amount_text",
    "currency",
    "object",
    "internal_id",
    "invoice_reference",
    "debtor_reference",
    "invoice_date",
    "due_date",
    "address",
    "street_address",
    "street_number",
    "postal_code",
    "city",
    "country",
    "status",
    "timeline_id",
    "nb_reminders",
    "nb_answered",
    "summary",
    "iban",
    "followups_count",
    "company",
    "debtor_company",
    "payment_link",
    "import_date",
    "last_timeline_restart",
    "payment_plan_active",
    "plan_start_date",
    "contacts",
    "metadata",
]
PENDING = "status.default.pending"
MINIMAL = {"firstname": "Camille", "lastname": "Durand", "amount": 250, "currency": "EUR"}


def debt_body(**changes: Any) -> dict[str, Any]:
    return {**MINIMAL, "phone": "+33612345678", **changes}


@pytest.fixture
async def headers(runtime: Runtime, client: Client) -> dict[str, str]:
    return (await new_tenant_headers(runtime, client))[1]


async def create(client: Client, headers: dict[str, str], **changes: Any) -> dict[str, Any]:
    response = await client.post(URL, json=debt_body(**changes), headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def refused(client: Client, headers: dict[str, str], body: Any) -> dict[str, list[str]]:
    response = await client.post(URL, json=body, headers=headers)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["error"] is True
    assert answer["message"] == "Validation failed"
    assert answer["code"] == 400
    details: dict[str, list[str]] = answer["details"]
    return details


class TestCreate:
    async def test_a_full_debt_is_created_pending_and_shown_as_getbill_shows_it(
        self, client: Client, headers: dict[str, str]
    ) -> None:
        full = debt_body(
            civility="Mme",
            email="camille.durand@example.fr",
            birthdate="1985-03-15",
            amount=1250.5,
            object="Invoice INV-2024-001",
            internal_id="DEBT-2024-001",
            invoice_reference="INV-2024-001",
            debtor_reference="DEB-001",
            invoice_date="2023-12-01",
            due_date="2023-12-31",
            address="12 rue de la Paix, 75002 Paris",
            street_address="rue de la Paix",
            street_number="12",
            postal_code="75002",
            city="Paris",
            country="FR",
            iban="FR14 2004 1010 0505 0001 3M02 606",
            company="Acme Énergie",
            debtor_company="Durand SARL",
            payment_link="https://pay.example.com/abc",
            timeline_id="tl_1",
            metadata={"crm_id": "CRM-123", "priority": "high"},
            timeline_start_mode="immediate",
            accept_expensive_destination=False,
        )

        answer = await create(client, headers, **full)

        assert answer["error"] is False
        assert answer["message"] == "Debt created successfully"
        debt = answer["data"]
        assert list(debt) == FIELDS
        assert len(debt["id"]) == 22
        assert debt["status"] == "status.default.pending"
        assert (debt["amount"], debt["amount_text"]) == (1250.5, "1250.50")
        assert debt["iban"] == "FR1420041010050500013M02606"
        assert debt["company"] == "Acme Énergie"
        assert debt["metadata"] == {"crm_id": "CRM-123", "priority": "high"}
        assert (debt["followups_count"], debt["nb_reminders"], debt["nb_answered"]) == (0, 0, 0)
        assert debt["contacts"] == []
        assert debt["payment_plan_active"] is False
        assert debt["birthdate"] == "1985-03-15"
        assert debt["import_date"].endswith("+00:00")
        for name in ("firstname", "lastname", "phone", "email", "city", "country", "due_date"):
            assert debt[name] == full[name], name

        fetched = await client.get(f"{URL}/{debt['id']}", headers=headers)
        assert fetched.status_code == 200
        assert fetched.json() == {"error": False, "message": "Success", "data": debt}

    async def test_the_minimal_debt_has_every_field(
        self, client: Client, headers: dict[str, str]
    ) -> None:
        debt = (await create(client, headers))["data"]

        assert list(debt) == FIELDS
        assert debt["email"] is None
        assert debt["metadata"] is None
        assert debt["amount_text"] == "250.00"

    @pytest.mark.parametrize("missing", ["firstname", "lastname", "amount", "currency"])
    async def test_a_required_field_left_out_is_named(
        self, client: Client, headers: dict[str, str], missing: str
    ) -> None:
        body = debt_body()
        del body[missing]

        assert await refused(client, headers, body) == {missing: ["is required"]}

    async def test_a_debtor_without_phone_or_email_cannot_be_reached(
        self, client: Client, headers: dict[str, str]
    ) -> None:
        details = await refused(client, headers, MINIMAL)

        assert set(details) == {"phone", "email"}

    @pytest.mark.parametrize(
        ("field", "value", "problem"),
        [
            ("amount", 0, "must be greater than 0"),
            ("amount", -5, "must be greater than 0"),
            ("amount", "lots", None),
            ("amount", 12.345, None),
            ("currency", "eur", "must be an ISO 4217 code in capitals, such as EUR"),
            ("currency", "XYZ", "must be an ISO 4217 code in capitals, such as EUR"),
            ("phone", "0612345678", None),
            ("email", "not-an-email", "must be an email address"),
            ("iban", "FR1420041010050500013M02607", "must be a valid IBAN"),
            ("country", "France", None),
            ("birthdate", "15/03/1985", "must be a date written YYYY-MM-DD"),
            ("firstname", "", None),
            ("firstname", "x" * 101, "must be at most 100 characters"),
            ("lastname", "Du\x00rand", "must not contain a NUL character"),
            (
                "payment_link",
                "javascript:alert(1)",
                "must be an absolute http or https URL with special characters percent-encoded",
            ),
            ("metadata", ["not", "an", "object"], "must be a JSON object"),
            ("status", "status.default.paid", "is not a field of this request"),
            ("colour", "blue", "is not a field of this request"),
        ],
    )
    async def test_each_bad_field_is_named_with_what_is_wrong(
        self,
        client: Client,
        headers: dict[str, str],
        field: str,
        value: Any,
        problem: str | None,
    ) -> None:
        details = await refused(client, headers, debt_body(**{field: value}))

        assert list(details) == [field]
        if problem is not None:
            assert details[field] == [problem]

    async def test_every_problem_is_reported_at_once(
        self, client: Client, headers: dict[str, str]
    ) -> None:
        details = await refused(client, headers, {"amount": -1, "currency": "eur", "x": 1})

        assert set(details) == {"firstname", "lastname", "amount", "currency", "x"}

    @pytest.mark.parametrize(
        ("content", "problem"),
        [(b"{not json", "is not valid JSON"), (b"[1, 2]", "must be a JSON object")],
    )
    async def test_a_body_that_is_not_a_json_object_is_a_400(
        self, client: Client, headers: dict[str, str], content: bytes, problem: str
    ) -> None:
        response = await client.post(
            URL, content=content, headers={**headers, "Content-Type": "application/json"}
        )

        assert response.status_code == 400
        assert response.json()["details"] == {"body": [problem]}

    async def test_a_body_that_is_not_json_at_all_is_a_415(
        self, client: Client, headers: dict[str, str]
    ) -> None:
        response = await client.post(URL, data={"firstname": "x"}, headers=headers)

        assert response.status_code == 415
        assert response.json() == {
            "error": True,
            "message": "The request body must be JSON: send it with Content-Type: application/json",
            "code": 415,
        }

    async def test_a_body_beyond_the_limit_is_a_413_in_the_envelope(
        self, client: Client, headers: dict[str, str]
    ) -> None:
        huge = debt_body(object="x" * 300_000)

        response = await client.post(URL, json=huge, headers=headers)

        assert response.status_code == 413
        assert response.json()["error"] is True

    async def test_debts_write_scope_is_required(self, runtime: Runtime, client: Client) -> None:
        _, headers = await new_tenant_headers(runtime, client, (DEBTS_READ,))

        response = await client.post(URL, json=debt_body(), headers=headers)

        assert response.status_code == 403
        assert response.json()["message"] == 'Required scope "debts:write" not found in token'

    async def test_no_token_is_a_401(self, client: Client) -> None:
        response = await client.post(URL, json=debt_body())

        assert response.status_code == 401


class TestRead:
    async def test_another_companys_debt_is_not_found(
        self, runtime: Runtime, client: Client, headers: dict[str, str]
    ) -> None:
        theirs = (await create(client, headers))["data"]["id"]
        _, mine = await new_tenant_headers(runtime, client)

        for debt_id in (theirs, "0" * 22, "not-an-id"):
            response = await client.get(f"{URL}/{debt_id}", headers=mine)
            assert response.status_code == 404, debt_id
            assert response.json() == {"error": True, "message": "Debt not found", "code": 404}

    async def test_the_list_holds_the_companys_debts_newest_first(
        self, runtime: Runtime, client: Client, headers: dict[str, str]
    ) -> None:
        made = [(await create(client, headers, internal_id=f"D{n}"))["data"] for n in range(3)]
        _, other = await new_tenant_headers(runtime, client)
        await create(client, other)

        response = await client.get(URL, params={"limit": 2}, headers=headers)

        assert response.status_code == 200
        body = response.json()
        assert body["pagination"] == {"total": 3, "page": 1, "limit": 2, "pages": 2}
        assert {d["id"] for d in body["data"]} <= {d["id"] for d in made}
        second = (await client.get(URL, params={"limit": 2, "page": 2}, headers=headers)).json()
        assert {d["id"] for d in body["data"] + second["data"]} == {d["id"] for d in made}

    async def test_the_list_filters_by_status_and_checks_its_parameters(
        self, client: Client, headers: dict[str, str]
    ) -> None:
        await create(client, headers)

        pending = await client.get(
            URL, params={"status": "status.default.pending"}, headers=headers
        )
        paid = await client.get(URL, params={"status": "status.default.paid"}, headers=headers)
        bad = await client.get(URL, params={"status": "active", "limit": 0}, headers=headers)

        assert pending.json()["pagination"]["total"] == 1
        assert paid.json()["pagination"]["total"] == 0
        assert bad.status_code == 400
        assert set(bad.json()["details"]) == {"status", "limit"}

    async def test_reading_debts_needs_debts_read(self, runtime: Runtime, client: Client) -> None:
        _, headers = await new_tenant_headers(runtime, client, (FOLLOWUPS_READ,))

        response = await client.get(URL, headers=headers)

        assert response.status_code == 403
