"""POST /followups, PUT /followups/{id}, GET /followups/{id} and GET /followups/debt/{debtId},
through HTTP, on SQLite and on PostgreSQL: the rules of each, and the derived fields (the
processed time, the list totals, the debt's tallies) kept true by every write."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from relance.auth.scopes import FOLLOWUPS_READ
from relance.runtime import Runtime
from tests.factories import Client, new_tenant_headers

API = "/external-api/v1"
URL = f"{API}/followups"
DEBT = {"firstname": "Camille", "lastname": "Durand", "amount": 90, "currency": "EUR"}


@dataclass
class Tenant:
    headers: dict[str, str]
    debt_id: str


async def new_tenant(runtime: Runtime, client: Client) -> Tenant:
    _, headers = await new_tenant_headers(runtime, client)
    response = await client.post(
        f"{API}/debts", json={**DEBT, "phone": "+33612345678"}, headers=headers
    )
    assert response.status_code == 201, response.text
    return Tenant(headers, response.json()["data"]["id"])


@pytest.fixture
async def tenant(runtime: Runtime, client: Client) -> Tenant:
    return await new_tenant(runtime, client)


async def create(client: Client, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    body = {"debt_id": tenant.debt_id, "type": "call", **fields}
    response = await client.post(URL, json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    assert answer["error"] is False
    assert answer["message"] == "Followup created successfully"
    data: dict[str, Any] = answer["data"]
    return data


async def update(client: Client, tenant: Tenant, followup_id: str, **fields: Any) -> Any:
    return await client.put(f"{URL}/{followup_id}", json=fields, headers=tenant.headers)


async def details_of(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 400, response.text
    assert response.json()["message"] == "Validation failed"
    details: dict[str, list[str]] = response.json()["details"]
    return details


async def total(client: Client, tenant: Tenant, **params: Any) -> int:
    response = await client.get(URL, params=params, headers=tenant.headers)
    assert response.status_code == 200, response.text
    value: int = response.json()["pagination"]["total"]
    return value


async def tallies(client: Client, tenant: Tenant) -> tuple[int, int, int]:
    debt = (await client.get(f"{API}/debts/{tenant.debt_id}", headers=tenant.headers)).json()
    data = debt["data"]
    return data["followups_count"], data["nb_reminders"], data["nb_answered"]


def parsed(text: str) -> datetime:
    return datetime.fromisoformat(text)


class TestCreate:
    async def test_a_followup_is_created_with_defaults_and_counted(
        self, client: Client, tenant: Tenant
    ) -> None:
        before = datetime.now(UTC).replace(microsecond=0)

        made = await create(client, tenant)

        assert len(made) == 24
        assert made["debt_id"] == tenant.debt_id
        assert (made["status"], made["type"]) == ("on_hold", "call")
        assert made["is_retry"] is False
        assert made["email_open_count"] == 0
        assert made["call_date"] is None
        assert made["media_urls_expire_at"] is None
        assert before <= parsed(made["processed_at"]) <= datetime.now(UTC)
        fetched = await client.get(f"{URL}/{made['id']}", headers=tenant.headers)
        assert fetched.json() == {"error": False, "message": "Success", "data": made}
        assert await total(client, tenant) == 1
        assert await total(client, tenant, status="on_hold", type="call") == 1
        assert await tallies(client, tenant) == (1, 0, 0)

    async def test_every_writable_field_is_kept_and_datetimes_come_back_in_utc(
        self, client: Client, tenant: Tenant
    ) -> None:
        fields = {
            "status": "deal_found",
            "call_date": "2024-01-22T12:30:00+02:00",
            "scheduled_at": "2024-01-22T10:00:00Z",
            "summary": "Agreed to a payment plan",
            "notes": "Pays 50 a month from February",
            "call_id": "call_789",
            "audio_url": "https://recordings.example.com/call_789.mp3",
            "pdf_url": "https://docs.example.com/letter.pdf",
            "duration_ms": 180000,
            "disconnection_reason": "completed_successfully",
            "direction": "outbound",
            "phone_number_used": "+33800123456",
            "is_retry": True,
            "triggered_payment": True,
            "email_opened": False,
            "email_clicked": False,
            "email_open_count": 0,
            "email_click_count": 0,
            "email_first_opened_at": None,
        }

        made = await create(client, tenant, **fields)

        assert made["call_date"] == "2024-01-22T10:30:00+00:00"
        assert made["scheduled_at"] == "2024-01-22T10:00:00+00:00"
        for name, value in fields.items():
            if name not in ("call_date", "scheduled_at"):
                assert made[name] == value, name
        # The activity time follows call_date: the followup is found on that UTC day.
        assert await total(client, tenant, date_from="2024-01-22", date_to="2024-01-22") == 1
        assert await tallies(client, tenant) == (1, 1, 1)

    @pytest.mark.parametrize("missing", ["debt_id", "type"])
    async def test_debt_id_and_type_are_required(
        self, client: Client, tenant: Tenant, missing: str
    ) -> None:
        body = {"debt_id": tenant.debt_id, "type": "sms"}
        del body[missing]

        response = await client.post(URL, json=body, headers=tenant.headers)

        assert await details_of(response) == {missing: ["is required"]}

    async def test_a_debt_that_is_not_the_companys_is_not_found(
        self, runtime: Runtime, client: Client, tenant: Tenant
    ) -> None:
        other = await new_tenant(runtime, client)
        for debt_id in (other.debt_id, "0" * 22, "garbage"):
            body = {"debt_id": debt_id, "type": "sms"}

            response = await client.post(URL, json=body, headers=tenant.headers)

            assert await details_of(response) == {"debt_id": ["Debt not found"]}, debt_id
        assert await total(client, other) == 0

    @pytest.mark.parametrize(
        ("field", "value", "problem"),
        [
            ("status", "done", None),
            ("type", "fax", None),
            ("direction", "sideways", "must be one of: inbound, outbound"),
            ("call_date", "2024-01-22T10:30:00", None),
            ("call_date", "yesterday", None),
            ("duration_ms", -1, "must be at least 0"),
            ("duration_ms", "1000", "must be an integer"),
            ("duration_ms", 1.5, "must be an integer"),
            ("duration_ms", 2**70, None),
            ("phone_number_used", "0612345678", None),
            ("is_retry", "yes", "must be true or false"),
            ("is_retry", None, "must not be null"),
            ("status", None, "must not be null"),
            ("summary", "x" * 10_001, "must be at most 10000 characters"),
            ("notes", "a\x00b", "must not contain a NUL character"),
            (
                "audio_url",
                "ftp://x/y.mp3",
                "must be an absolute http or https URL with special characters percent-encoded",
            ),
            (
                "pdf_url",
                "https://x.example/a b.pdf",
                "must be an absolute http or https URL with special characters percent-encoded",
            ),
            ("email_open_count", -3, "must be at least 0"),
            ("processed_at", "2024-01-22T10:30:00Z", "is not a field of this request"),
            ("id", "abc", "is not a field of this request"),
        ],
    )
    async def test_each_bad_field_is_named(
        self, client: Client, tenant: Tenant, field: str, value: Any, problem: str | None
    ) -> None:
        body = {"debt_id": tenant.debt_id, "type": "call", field: value}

        details = await details_of(await client.post(URL, json=body, headers=tenant.headers))

        assert list(details) == [field]
        if problem is not None:
            assert details[field] == [problem]
        assert await total(client, tenant) == 0

    async def test_a_naive_datetime_says_to_add_an_offset(
        self, client: Client, tenant: Tenant
    ) -> None:
        body = {"debt_id": tenant.debt_id, "type": "call", "call_date": "2024-01-22T10:30:00"}

        details = await details_of(await client.post(URL, json=body, headers=tenant.headers))

        assert details == {
            "call_date": ["must carry a UTC offset, such as 2024-01-22T10:30:00Z or +02:00"]
        }

    async def test_writing_needs_followups_write(self, runtime: Runtime, client: Client) -> None:
        _, headers = await new_tenant_headers(runtime, client, (FOLLOWUPS_READ,))

        response = await client.post(URL, json={"type": "sms"}, headers=headers)

        assert response.status_code == 403
        assert response.json()["message"] == 'Required scope "followups:write" not found in token'


class TestUpdate:
    async def test_only_the_fields_sent_change_and_null_clears(
        self, client: Client, tenant: Tenant
    ) -> None:
        made = await create(client, tenant, summary="first", notes="keep me", call_id="c1")

        response = await update(client, tenant, made["id"], summary="second", call_id=None)

        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["message"] == "Followup updated successfully"
        changed = answer["data"]
        assert (changed["summary"], changed["notes"], changed["call_id"]) == (
            "second",
            "keep me",
            None,
        )
        assert parsed(changed["processed_at"]) >= parsed(made["processed_at"])
        unchanged = {
            k: v for k, v in made.items() if k not in ("summary", "call_id", "processed_at")
        }
        assert {k: changed[k] for k in unchanged} == unchanged

    async def test_a_status_and_date_change_moves_the_counts_and_tallies(
        self, client: Client, tenant: Tenant
    ) -> None:
        made = await create(client, tenant, status="scheduled", scheduled_at="2024-03-01T09:00:00Z")
        assert await total(client, tenant, status="scheduled") == 1

        response = await update(
            client, tenant, made["id"], status="no_answer", call_date="2024-03-02T09:05:00Z"
        )

        assert response.status_code == 200, response.text
        assert await total(client, tenant, status="scheduled") == 0
        assert await total(client, tenant, status="no_answer") == 1
        assert await total(client, tenant, date_from="2024-03-01", date_to="2024-03-01") == 0
        assert await total(client, tenant, date_from="2024-03-02", date_to="2024-03-02") == 1
        assert await total(client, tenant) == 1
        assert await tallies(client, tenant) == (1, 1, 0)
        await update(client, tenant, made["id"], status="deal_found")
        assert await tallies(client, tenant) == (1, 1, 1)

    async def test_the_debt_cannot_change(
        self, runtime: Runtime, client: Client, tenant: Tenant
    ) -> None:
        made = await create(client, tenant)
        second = await client.post(
            f"{API}/debts", json={**DEBT, "email": "a@b.fr"}, headers=tenant.headers
        )

        moved = await update(client, tenant, made["id"], debt_id=second.json()["data"]["id"])
        same = await update(client, tenant, made["id"], debt_id=tenant.debt_id, summary="ok")

        assert list(await details_of(moved)) == ["debt_id"]
        assert same.status_code == 200

    async def test_bad_fields_change_nothing(self, client: Client, tenant: Tenant) -> None:
        made = await create(client, tenant)

        response = await update(client, tenant, made["id"], summary="new", type=None, colour=1)

        assert set(await details_of(response)) == {"type", "colour"}
        fetched = (await client.get(f"{URL}/{made['id']}", headers=tenant.headers)).json()
        assert fetched["data"] == made

    async def test_another_companys_followup_is_not_found(
        self, runtime: Runtime, client: Client, tenant: Tenant
    ) -> None:
        made = await create(client, tenant)
        other = await new_tenant(runtime, client)

        for followup_id in (made["id"], tenant.debt_id, "nope"):
            put = await update(client, other, followup_id, summary="mine now")
            got = await client.get(f"{URL}/{followup_id}", headers=other.headers)
            for response in (put, got):
                assert response.status_code == 404
                assert response.json() == {
                    "error": True,
                    "message": "Followup not found",
                    "code": 404,
                }
        fetched = (await client.get(f"{URL}/{made['id']}", headers=tenant.headers)).json()
        assert fetched["data"]["summary"] is None

    async def test_racing_updates_lose_nothing(
        self, runtime: Runtime, client: Client, tenant: Tenant
    ) -> None:
        made = await create(client, tenant, status="scheduled")
        statuses = ["no_answer", "delivered", "deal_found", "failed"] * 5

        responses = await asyncio.gather(
            *(
                update(client, tenant, made["id"], status=status, notes=f"note {n}")
                for n, status in enumerate(statuses)
            ),
            *(update(client, tenant, made["id"], summary=f"s{n}") for n in range(10)),
        )

        assert {r.status_code for r in responses} == {200}
        final = (await client.get(f"{URL}/{made['id']}", headers=tenant.headers)).json()["data"]
        # Updates apply whole, one after the other: the last writer of status and notes set
        # both together, and the summary writers, who sent neither, undid none of it.
        assert statuses[int(final["notes"].removeprefix("note "))] == final["status"]
        assert final["summary"] in {f"s{n}" for n in range(10)}
        by_status = Counter({s: await total(client, tenant, status=s) for s in set(statuses)})
        assert by_status == Counter({final["status"]: 1})
        reminded = int(final["status"] in ("no_answer", "delivered", "deal_found", "failed"))
        answered = int(final["status"] == "deal_found")
        assert await tallies(client, tenant) == (1, reminded, answered)


class TestDebtFollowups:
    async def test_one_debts_followups_with_the_lists_filters(
        self, client: Client, tenant: Tenant
    ) -> None:
        mine = [await create(client, tenant, type=kind) for kind in ("call", "sms", "call")]
        other_debt = await client.post(
            f"{API}/debts", json={**DEBT, "email": "x@y.fr"}, headers=tenant.headers
        )
        other = Tenant(tenant.headers, other_debt.json()["data"]["id"])
        await create(client, other)

        url = f"{URL}/debt/{tenant.debt_id}"
        everything = (await client.get(url, headers=tenant.headers)).json()
        calls = (await client.get(url, params={"type": "call"}, headers=tenant.headers)).json()

        assert {f["id"] for f in everything["data"]} == {f["id"] for f in mine}
        assert everything["pagination"]["total"] == 3
        assert calls["pagination"]["total"] == 2
        bad = await client.get(url, params={"status": "nope"}, headers=tenant.headers)
        assert list(await details_of(bad)) == ["status"]

    async def test_another_companys_debt_is_not_found(
        self, runtime: Runtime, client: Client, tenant: Tenant
    ) -> None:
        other = await new_tenant(runtime, client)

        for debt_id in (other.debt_id, "x" * 22):
            response = await client.get(f"{URL}/debt/{debt_id}", headers=tenant.headers)
            assert response.status_code == 404
            assert response.json()["message"] == "Debt not found"
