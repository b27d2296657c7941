"""GET /company/profile, /company/users and /company/credits, through HTTP, on SQLite and on
PostgreSQL: GetBill's envelopes and fields exactly, the scope each needs, and a company's
profile shown to its own tokens only."""

from __future__ import annotations

import re
from typing import Any

import pytest

from relance.auth.scopes import COMPANY_READ, DEBTS_READ, USERS_READ
from relance.companies.repository import insert_company
from relance.kit.time import utc_now
from relance.resources import Resource
from relance.runtime import Runtime
from tests.factories import Client, bearer, create_client, public_id, token_for

API = "/external-api/v1/company"
MOMENT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\+00:00")


async def tenant(
    runtime: Runtime,
    client: Client,
    scopes: tuple[str, ...] = (COMPANY_READ, USERS_READ),
    **contact: str,
) -> tuple[int, dict[str, str]]:
    """A new company with its contact fields, and the header of a client of it holding
    `scopes`."""
    company_id = await insert_company(runtime.db, "Example Collections LLC", utc_now(), **contact)
    credentials = await create_client(runtime, company_id, scopes)
    return company_id, bearer(await token_for(client, credentials))


async def answer(client: Client, path: str, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get(f"{API}/{path}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    found: dict[str, Any] = response.json()
    return found


class TestProfile:
    async def test_the_company_is_shown_as_getbill_shows_it(
        self, runtime: Runtime, client: Client
    ) -> None:
        company_id, headers = await tenant(
            runtime, client, email="contact@example-collections.com", phone="+33123456789"
        )

        found = await answer(client, "profile", headers)

        assert list(found) == ["error", "message", "data"]
        assert found["error"] is False
        assert found["message"] == "Success"
        data = found["data"]
        assert list(data) == ["id", "name", "email", "phone", "created_at"]
        assert data["id"] == public_id(runtime, Resource.COMPANY, company_id)
        assert data["name"] == "Example Collections LLC"
        assert data["email"] == "contact@example-collections.com"
        assert data["phone"] == "+33123456789"
        assert MOMENT.fullmatch(data["created_at"]), data["created_at"]

    async def test_a_company_without_contact_shows_nulls(
        self, runtime: Runtime, client: Client
    ) -> None:
        _, headers = await tenant(runtime, client)

        data = (await answer(client, "profile", headers))["data"]

        assert data["email"] is None
        assert data["phone"] is None

    async def test_each_token_sees_its_own_company_only(
        self, runtime: Runtime, client: Client
    ) -> None:
        first, first_headers = await tenant(runtime, client, email="a@example.com")
        second, second_headers = await tenant(runtime, client, phone="+33987654321")

        shown_first = (await answer(client, "profile", first_headers))["data"]
        shown_second = (await answer(client, "profile", second_headers))["data"]

        assert shown_first["id"] == public_id(runtime, Resource.COMPANY, first)
        assert shown_second["id"] == public_id(runtime, Resource.COMPANY, second)
        assert (shown_first["email"], shown_first["phone"]) == ("a@example.com", None)
        assert (shown_second["email"], shown_second["phone"]) == (None, "+33987654321")

    async def test_a_company_id_is_not_a_debt_id(self, runtime: Runtime, client: Client) -> None:
        company_id, headers = await tenant(runtime, client)

        shown = (await answer(client, "profile", headers))["data"]["id"]

        assert shown != public_id(runtime, Resource.DEBT, company_id)
        assert runtime.ids.find(Resource.DEBT, shown) is None
        assert runtime.ids.find(Resource.COMPANY, shown) == company_id


class TestUsers:
    async def test_a_company_has_no_users_in_getbills_envelope(
        self, runtime: Runtime, client: Client
    ) -> None:
        _, headers = await tenant(runtime, client, (USERS_READ,))

        found = await answer(client, "users", headers)

        assert found == {"error": False, "message": "Success", "data": []}
        assert list(found) == ["error", "message", "data"]


class TestCredits:
    async def test_relance_bills_nothing_and_says_so(
        self, runtime: Runtime, client: Client
    ) -> None:
        _, headers = await tenant(runtime, client, (COMPANY_READ,))

        found = await answer(client, "credits", headers)

        assert found == {
            "error": False,
            "message": "Success",
            "data": {
                "current_credits": None,
                "subscription": {"plan": "self-hosted", "status": "active", "expires_at": None},
            },
        }
        assert list(found["data"]) == ["current_credits", "subscription"]
        assert list(found["data"]["subscription"]) == ["plan", "status", "expires_at"]


# Each operation, and the scope GetBill documents for it.
OPERATIONS = [("profile", COMPANY_READ), ("users", USERS_READ), ("credits", COMPANY_READ)]


class TestAccess:
    @pytest.mark.parametrize(("path", "scope"), OPERATIONS)
    async def test_a_token_without_the_scope_is_a_403(
        self, runtime: Runtime, client: Client, path: str, scope: str
    ) -> None:
        others = tuple(s for s in (COMPANY_READ, USERS_READ, DEBTS_READ) if s != scope)
        _, headers = await tenant(runtime, client, others)

        response = await client.get(f"{API}/{path}", headers=headers)

        assert response.status_code == 403, response.text
        assert response.json() == {
            "error": True,
            "message": f'Required scope "{scope}" not found in token',
            "code": 403,
        }

    @pytest.mark.parametrize(("path", "scope"), OPERATIONS)
    @pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}])
    async def test_no_valid_token_is_a_401(
        self, client: Client, path: str, scope: str, headers: dict[str, str]
    ) -> None:
        response = await client.get(f"{API}/{path}", headers=headers)

        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json() == {
            "error": True,
            "message": "Authentication credentials are missing or invalid",
            "code": 401,
        }

    @pytest.mark.parametrize(("path", "scope"), OPERATIONS)
    async def test_each_answer_carries_the_rate_limit(
        self, runtime: Runtime, client: Client, path: str, scope: str
    ) -> None:
        _, headers = await tenant(runtime, client, (scope,))

        response = await client.get(f"{API}/{path}", headers=headers)

        assert response.status_code == 200, response.text
        assert response.headers["x-ratelimit-limit"] == "1000"
        assert int(response.headers["x-ratelimit-remaining"]) < 1000
