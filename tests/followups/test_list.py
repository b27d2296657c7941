"""GET /external-api/v1/followups, through HTTP, on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import jwt
import pytest

from relance.auth.scopes import DEBTS_READ, FOLLOWUPS_READ
from relance.kit.time import utc_now
from relance.resources import Resource
from relance.runtime import Runtime
from tests.factories import (
    Client,
    at,
    bearer,
    create_client,
    create_company,
    create_debt,
    create_followup,
    public_id,
    token_for,
)

URL = "/external-api/v1/followups"
# Spelled out here, not imported: the test states the contract (the seed's order) on its own.
FIELDS = [
    "id",
    "debt_id",
    "status",
    "type",
    "call_date",
    "scheduled_at",
    "summary",
    "notes",
    "call_id",
    "audio_url",
    "pdf_url",
    "duration_ms",
    "disconnection_reason",
    "direction",
    "phone_number_used",
    "is_retry",
    "processed_at",
    "triggered_payment",
    "email_opened",
    "email_open_count",
    "email_first_opened_at",
    "email_clicked",
    "email_click_count",
    "media_urls_expire_at",
]
ISO_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00")


@dataclass
class Tenant:
    company_id: int
    debt_id: int
    headers: dict[str, str]


@pytest.fixture
async def tenant(runtime: Runtime, client: Client) -> Tenant:
    company_id = await create_company(runtime)
    debt_id = await create_debt(runtime, company_id)
    credentials = await create_client(runtime, company_id)
    return Tenant(company_id, debt_id, bearer(await token_for(client, credentials)))


async def list_ok(client: Client, tenant: Tenant, **params: Any) -> dict[str, Any]:
    response = await client.get(URL, params=params, headers=tenant.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ids_of(body: dict[str, Any]) -> list[str]:
    return [item["id"] for item in body["data"]]


class TestAuthentication:
    async def test_no_token_is_401_with_a_bearer_challenge(self, client: Client) -> None:
        response = await client.get(URL)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json() == {
            "error": True,
            "message": "Authentication credentials are missing or invalid",
            "code": 401,
        }

    @pytest.mark.parametrize(
        "header",
        ["Bearer not-a-token", "Basic dXNlcjpwYXNz", "Bearer ", "bearer x.y.z"],
    )
    async def test_bad_credentials_are_401(self, client: Client, header: str) -> None:
        response = await client.get(URL, headers={"Authorization": header})
        assert response.status_code == 401
        assert response.json()["message"] == "Authentication credentials are missing or invalid"

    async def test_token_signed_with_another_key_is_401(
        self, client: Client, tenant: Tenant
    ) -> None:
        token = tenant.headers["Authorization"].removeprefix("Bearer ")
        claims = jwt.decode(token, options={"verify_signature": False})
        forged = jwt.encode(claims, "another-key-of-at-least-32-bytes!", algorithm="HS256")
        response = await client.get(URL, headers=bearer(forged))
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'

    async def test_unsigned_token_is_401(self, client: Client, tenant: Tenant) -> None:
        token = tenant.headers["Authorization"].removeprefix("Bearer ")
        claims = jwt.decode(token, options={"verify_signature": False})
        unsigned = jwt.encode(claims, "", algorithm="none")
        response = await client.get(URL, headers=bearer(unsigned))
        assert response.status_code == 401

    async def test_expired_token_is_401(self, runtime: Runtime, client: Client) -> None:
        from relance.auth.tokens import Principal

        principal = Principal("rlc_x", 1, frozenset({FOLLOWUPS_READ}))
        issued = runtime.authority.tokens.issue(principal, utc_now() - timedelta(hours=2))
        response = await client.get(URL, headers=bearer(issued.token))
        assert response.status_code == 401

    async def test_token_without_followups_read_is_403(
        self, runtime: Runtime, client: Client
    ) -> None:
        company_id = await create_company(runtime)
        credentials = await create_client(runtime, company_id, scopes=(DEBTS_READ,))
        token = await token_for(client, credentials)
        response = await client.get(URL, headers=bearer(token))
        assert response.status_code == 403
        assert response.json() == {
            "error": True,
            "message": 'Required scope "followups:read" not found in token',
            "code": 403,
        }

    async def test_token_narrowed_to_other_scopes_is_403(
        self, runtime: Runtime, client: Client
    ) -> None:
        company_id = await create_company(runtime)
        credentials = await create_client(runtime, company_id)
        token = await token_for(client, credentials, scope=DEBTS_READ)
        response = await client.get(URL, headers=bearer(token))
        assert response.status_code == 403


class TestEnvelope:
    async def test_a_followup_has_the_24_fields_with_their_types(
        self, runtime: Runtime, client: Client, tenant: Tenant
    ) -> None:
        followup_id = await create_followup(
            runtime,
            tenant.company_id,
            tenant.debt_id,
            status="deal_found",
            type="call",
            summary="Successfully contacted debtor",
            notes="Customer agreed to payment plan starting next month",
            call_id="call_789456",
            duration_ms=180000,
            disconnection_reason="completed_successfully",
            direction="outbound",
            phone_number_used="+33800123456",
            triggered_payment=True,
        )
        body = await list_ok(client, tenant)
        assert body["error"] is False
        assert body["pagination"] == {"total": 1, "page": 1, "limit": 20, "pages": 1}
        [item] = body["data"]
        assert list(item) == FIELDS
        assert item == {
            "id": public_id(runtime, Resource.FOLLOWUP, followup_id),
            "debt_id": public_id(runtime, Resource.DEBT, tenant.debt_id),
            "status": "deal_found",
            "type": "call",
            "call_date": "2024-01-22T10:30:00+00:00",
            "scheduled_at": "2024-01-22T10:00:00+00:00",
            "summary": "Successfully contacted debtor",
            "notes": "Customer agreed to payment plan starting next month",
            "call_id": "call_789456",
            "audio_url": None,
            "pdf_url": None,
            "duration_ms": 180000,
            "disconnection_reason": "completed_successfully",
            "direction": "outbound",
            "phone_number_used": "+33800123456",
            "is_retry": False,
            "processed_at": "2024-01-22T10:35:00+00:00",
            "triggered_payment": True,
            "email_opened": False,
            "email_open_count": 0,
            "email_first_opened_at": None,
            "email_clicked": False,
            "email_click_count": 0,
            "media_urls_expire_at": None,
        }

    async def test_email_tracking_and_booleans_come_back_typed(
        self, runtime: Runtime, client: Client, tenant: Tenant
    ) -> None:
        await create_followup(
            runtime,
            tenant.company_id,
            tenant.debt_id,
            is_retry=True,
            email_opened=True,
            email_clicked=True,
            email_open_count=3,
            email_click_count=1,
            email_first_opened_at=at("2024-01-22T11:02:03"),
        )
        [item] = (await list_ok(client, tenant))["data"]
        assert item["is_retry"] is True
        assert item["email_opened"] is True
        assert item["email_clicked"] is True
        assert (item["email_open_count"], item["email_click_count"]) == (3, 1)
        assert item["email_first_opened_at"] == "2024-01-22T11:02:03+00:00"
        assert ISO_UTC.fullmatch(item["processed_at"])

    async def test_timestamps_are_stored_in_utc_to_the_second(
        self, runtime: Runtime, client: Client, tenant: Tenant
    ) -> None:
        paris = timezone(timedelta(hours=2))
        await create_followup(
            runtime,
            tenant.company_id,
            tenant.debt_id,
            call_date=datetime(2024, 6, 1, 0, 30, 15, 987654, tzinfo=paris),
            processed_at=datetime(2024, 6, 1, 0, 45, 0, 1, tzinfo=paris),
        )
        [item] = (await list_ok(client, tenant, date_from="2024-05-31", date_to="2024-05-31"))[
            "data"
        ]
        assert item["call_date"] == "2024-05-31T22:30:15+00:00"
        assert item["processed_at"] == "2024-05-31T22:45:00+00:00"

    async def test_ids_are_22_base62_characters(
        self, runtime: Runtime, client: Client, tenant: Tenant
    ) -> None:
        await create_followup(runtime, tenant.company_id, tenant.debt_id)
        [item] = (await list_ok(client, tenant))["data"]
        assert re.fullmatch(r"[0-9A-Za-z]{22}", item["id"])
        assert re.fullmatch(r"[0-9A-Za-z]{22}", item["debt_id"])
        assert item["id"] != item["debt_id"]

    async def test_an_empty_book_has_zero_pages(self, client: Client, tenant: Tenant) -> None:
        body = await list_ok(client, tenant)
        assert body == {
            "error": False,
            "data": [],
            "pagination": {"total": 0, "page": 1, "limit": 20, "pages": 0},
        }


class TestPaging:
    @pytest.fixture
    async def five(self, runtime: Runtime, tenant: Tenant) -> list[int]:
        """Five followups, one a day, returned newest first."""
        made = [
            await create_followup(
                runtime, tenant.company_id, tenant.debt_id, call_date=at(f"2024-03-0{day}T09:00:00")
            )
            for day in range(1, 6)
        ]
        return list(reversed(made))

    async def test_pages_split_the_list_in_order(
        self, runtime: Runtime, client: Client, tenant: Tenant, five: list[int]
    ) -> None:
        expected = [public_id(runtime, Resource.FOLLOWUP, key) for key in five]
        first = await list_ok(client, tenant, limit=2)
        second = await list_ok(client, tenant, limit=2, page=2)
        third = await list_ok(client, tenant, limit=2, page=3)
        assert ids_of(first) + ids_of(second) + ids_of(third) == expected
        assert first["pagination"] == {"total": 5, "page": 1, "limit": 2, "pages": 3}
        assert third["pagination"] == {"total": 5, "page": 3, "limit": 2, "pages": 3}

    async def test_a_page_past_the_end_is_empty_with_the_true_total(
        self, client: Client, tenant: Tenant, five: list[int]
    ) -> None:
        body = await list_ok(client, tenant, limit=2, page=4)
        assert body["data"] == []
        assert body["pagination"] == {"total": 5, "page": 4, "limit": 2, "pages": 3}

    async def test_the_largest_page_number_is_answered(
        self, client: Client, tenant: Tenant, five: list[int]
    ) -> None:
        body = await list_ok(client, tenant, limit=100, page=2147483647)
        assert body["data"] == []
        assert body["pagination"]["total"] == 5

    async def test_limit_100_is_allowed(
        self, client: Client, tenant: Tenant, five: list[int]
    ) -> None:
        body = await list_ok(client, tenant, limit=100)
        assert body["pagination"] == {"total": 5, "page": 1, "limit": 100, "pages": 1}

    async def test_ties_in_activity_time_are_ordered_by_id_descending(
        self, runtime: Runtime, client: Client, tenant: Tenant
    ) -> None:
        same = at("2024-05-05T12:00:00")
        keys = [
            await create_followup(runtime, tenant.company_id, tenant.debt_id, call_date=same)
            for _ in range(3)
        ]
        body = await list_ok(client, tenant)
        assert ids_of(body) == [public_id(runtime, Resource.FOLLOWUP, k) for k in reversed(keys)]


class TestFilters:
    async def test_status_and_type(self, runtime: Runtime, client: Client, tenant: Tenant) -> None:
        company, debt = tenant.company_id, tenant.debt_id
        wanted = await create_followup(runtime, company, debt, status="no_answer", type="call")
        await create_followup(runtime, company, debt, status="no_answer", type="manual_call")
        await create_followup(runtime, company, debt, status="delivered", type="sms")
        body = await list_ok(client, tenant, status="no_answer", type="call")
        assert ids_of(body) == [public_id(runtime, Resource.FOLLOWUP, wanted)]
        assert body["pagination"]["total"] == 1
        assert (await list_ok(client, tenant, status="no_answer"))["pagination"]["total"] == 2
        assert (await list_ok(client, tenant, type="sms"))["pagination"]["total"] == 1

    async def test_date_range_covers_whole_utc_days(
        self, runtime: Runtime, client: Client, tenant: Tenant
    ) -> None:
        company, debt = tenant.company_id, tenant.debt_id
        times = [
            "2024-02-29T23:59:59",
            "2024-03-01T00:00:00",
            "2024-03-02T23:59:59",
            "2024-03-03T00:00:00",
        ]
        keys = [await create_followup(runtime, company, debt, call_date=at(t)) for t in times]
        body = await list_ok(client, tenant, date_from="2024-03-01", date_to="2024-03-02")
        inside = [public_id(runtime, Resource.FOLLOWUP, k) for k in (keys[2], keys[1])]
        assert ids_of(body) == inside
        only_day = await list_ok(client, tenant, date_from="2024-03-02", date_to="2024-03-02")
        assert ids_of(only_day) == inside[:1]
        since = await list_ok(client, tenant, date_from="2024-03-03")
        assert ids_of(since) == [public_id(runtime, Resource.FOLLOWUP, keys[3])]
        until = await list_ok(client, tenant, date_to="2024-02-29")
        assert ids_of(until) == [public_id(runtime, Resource.FOLLOWUP, keys[0])]

    async def test_activity_time_falls_back_to_scheduled_then_processed(
        self, runtime: Runtime, client: Client, tenant: Tenant
    ) -> None:
        company, debt = tenant.company_id, tenant.debt_id
        scheduled = await create_followup(
            runtime,
            company,
            debt,
            status="scheduled",
            call_date=None,
            scheduled_at=at("2024-06-10T08:00:00"),
            processed_at=at("2024-06-01T08:00:00"),
        )
        processed = await create_followup(
            runtime,
            company,
            debt,
            status="on_hold",
            call_date=None,
            scheduled_at=None,
            processed_at=at("2024-06-05T08:00:00"),
        )
        june_10 = await list_ok(client, tenant, date_from="2024-06-10", date_to="2024-06-10")
        assert ids_of(june_10) == [public_id(runtime, Resource.FOLLOWUP, scheduled)]
        june_5 = await list_ok(client, tenant, date_from="2024-06-05", date_to="2024-06-05")
        assert ids_of(june_5) == [public_id(runtime, Resource.FOLLOWUP, processed)]
        # A datetime with another offset is stored as the same UTC instant.
        assert ids_of(await list_ok(client, tenant)) == ids_of(june_10) + ids_of(june_5)

    async def test_debt_id(self, runtime: Runtime, client: Client, tenant: Tenant) -> None:
        other_debt = await create_debt(runtime, tenant.company_id, lastname="Martin")
        await create_followup(runtime, tenant.company_id, tenant.debt_id)
        mine = await create_followup(runtime, tenant.company_id, other_debt)
        body = await list_ok(client, tenant, debt_id=public_id(runtime, Resource.DEBT, other_debt))
        assert ids_of(body) == [public_id(runtime, Resource.FOLLOWUP, mine)]

    async def test_another_companys_debt_id_gives_an_empty_list(
        self, runtime: Runtime, client: Client, tenant: Tenant
    ) -> None:
        other_company = await create_company(runtime, "Other SAS")
        other_debt = await create_debt(runtime, other_company)
        await create_followup(runtime, other_company, other_debt)
        body = await list_ok(client, tenant, debt_id=public_id(runtime, Resource.DEBT, other_debt))
        assert body["data"] == []
        assert body["pagination"]["total"] == 0

    async def test_unknown_parameters_are_ignored(
        self, runtime: Runtime, client: Client, tenant: Tenant
    ) -> None:
        await create_followup(runtime, tenant.company_id, tenant.debt_id)
        body = await list_ok(client, tenant, sort="asc", foo="bar")
        assert body["pagination"]["total"] == 1


class TestValidation:
    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"page": "0"}, "page"),
            ({"page": "-1"}, "page"),
            ({"page": "abc"}, "page"),
            ({"page": "1.5"}, "page"),
            ({"page": "2147483648"}, "page"),
            ({"page": "9" * 40}, "page"),
            ({"limit": "0"}, "limit"),
            ({"limit": "101"}, "limit"),
            ({"limit": ""}, "limit"),
            ({"status": "done"}, "status"),
            ({"status": "DELIVERED"}, "status"),
            ({"status": ""}, "status"),
            ({"type": "fax"}, "type"),
            ({"date_from": "2024-13-01"}, "date_from"),
            ({"date_from": "2024-02-30"}, "date_from"),
            ({"date_to": "01/02/2024"}, "date_to"),
            ({"date_to": "2024-01-01T00:00:00"}, "date_to"),
            ({"debt_id": "abc"}, "debt_id"),
            ({"debt_id": "0000000000000000000000"}, "debt_id"),
            ({"debt_id": "zzzzzzzzzzzzzzzzzzzzzz"}, "debt_id"),
            ({"debt_id": "' OR 1=1 --"}, "debt_id"),
        ],
    )
    async def test_a_bad_parameter_is_a_400_naming_it(
        self, client: Client, tenant: Tenant, params: dict[str, str], field: str
    ) -> None:
        response = await client.get(URL, params=params, headers=tenant.headers)
        assert response.status_code == 400
        body = response.json()
        assert body["error"] is True
        assert body["code"] == 400
        assert body["message"] == "Validation failed"
        assert list(body["details"]) == [field]
        assert body["details"][field]
        assert all(isinstance(m, str) for m in body["details"][field])

    async def test_a_bad_status_lists_the_allowed_values(
        self, client: Client, tenant: Tenant
    ) -> None:
        response = await client.get(URL, params={"status": "done"}, headers=tenant.headers)
        [message] = response.json()["details"]["status"]
        for value in ("on_hold", "scheduled", "deal_found", "bad_behavior", "cancelled"):
            assert value in message

    async def test_every_bad_parameter_is_named_at_once(
        self, client: Client, tenant: Tenant
    ) -> None:
        params = {"page": "x", "limit": "500", "type": "fax", "date_to": "tomorrow"}
        response = await client.get(URL, params=params, headers=tenant.headers)
        assert sorted(response.json()["details"]) == ["date_to", "limit", "page", "type"]

    async def test_date_from_after_date_to_is_400(self, client: Client, tenant: Tenant) -> None:
        params = {"date_from": "2024-03-02", "date_to": "2024-03-01"}
        response = await client.get(URL, params=params, headers=tenant.headers)
        assert response.status_code == 400
        assert response.json()["details"] == {
            "date_from": ["must be on or before date_to (2024-03-01)"]
        }

    async def test_a_followup_id_is_not_a_debt_id(
        self, runtime: Runtime, client: Client, tenant: Tenant
    ) -> None:
        followup = await create_followup(runtime, tenant.company_id, tenant.debt_id)
        params = {"debt_id": public_id(runtime, Resource.FOLLOWUP, followup)}
        response = await client.get(URL, params=params, headers=tenant.headers)
        assert response.status_code == 400
        assert response.json()["details"] == {"debt_id": ["is not a valid debt ID"]}

    async def test_a_repeated_parameter_is_400(self, client: Client, tenant: Tenant) -> None:
        response = await client.get(URL + "?status=sent&status=delivered", headers=tenant.headers)
        assert response.status_code == 400
        assert response.json()["details"] == {"status": ["must be given only once"]}

    async def test_the_last_day_of_the_calendar_is_a_valid_bound(
        self, client: Client, tenant: Tenant
    ) -> None:
        body = await list_ok(client, tenant, date_from="0001-01-01", date_to="9999-12-31")
        assert body["pagination"]["total"] == 0


class TestTenantIsolation:
    async def test_each_company_sees_only_its_own_followups(
        self, runtime: Runtime, client: Client, tenant: Tenant
    ) -> None:
        other_company = await create_company(runtime, "Other SAS")
        other_debt = await create_debt(runtime, other_company)
        theirs = [await create_followup(runtime, other_company, other_debt) for _ in range(3)]
        mine = await create_followup(runtime, tenant.company_id, tenant.debt_id)
        other_token = await token_for(client, await create_client(runtime, other_company))

        body = await list_ok(client, tenant, limit=100)
        assert ids_of(body) == [public_id(runtime, Resource.FOLLOWUP, mine)]
        response = await client.get(URL, params={"limit": 100}, headers=bearer(other_token))
        expected = {public_id(runtime, Resource.FOLLOWUP, key) for key in theirs}
        assert set(ids_of(response.json())) == expected
        assert response.json()["pagination"]["total"] == 3


class TestRouting:
    async def test_an_unknown_route_is_404_in_the_envelope(self, client: Client) -> None:
        response = await client.get("/external-api/v1/nothing-here")
        assert response.status_code == 404
        assert response.json() == {
            "error": True,
            "message": "No route matches GET /external-api/v1/nothing-here",
            "code": 404,
        }

    async def test_a_wrong_method_is_405_in_the_envelope(self, client: Client) -> None:
        response = await client.delete(URL)
        assert response.status_code == 405
        assert "GET" in response.headers["allow"]
        body = response.json()
        assert body["error"] is True
        assert body["code"] == 405
        assert "DELETE" in body["message"]
