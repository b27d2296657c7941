"""PUT /debts/{id} and the internal_id that names one debt of a company, through HTTP, on
SQLite and on PostgreSQL: a partial update, the five statuses a caller may set, the status
history, the events of a change, and a taken internal_id refused with the holder's ID."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from relance.auth.scopes import DEBTS_READ
from relance.db import lost_unique_race
from relance.debts import repository, service
from relance.debts.schemas import DebtBody, for_create
from relance.kit.time import utc_now
from relance.runtime import Runtime
from relance.units import unit_of_work
from tests.debts.test_endpoints import URL, create, debt_body
from tests.factories import Client, new_tenant_headers

SETTABLE = [
    "status.default.paid",
    "status.default.in_progress",
    "status.default.on_hold",
    "status.default.failed",
    "status.default.archived",
]
NOT_SETTABLE = [
    "status.default.pending",
    "status.default.processing",
    "status.default.settled",
    "status.default.partial",
    "status.default.invalid_phone",
    "status.default.refused",
    "paid",
]


@pytest.fixture
async def tenant(runtime: Runtime, client: Client) -> tuple[int, dict[str, str]]:
    return await new_tenant_headers(runtime, client)


@pytest.fixture
def headers(tenant: tuple[int, dict[str, str]]) -> dict[str, str]:
    return tenant[1]


async def put(client: Client, headers: dict[str, str], debt_id: str, body: Any) -> Any:
    return await client.put(f"{URL}/{debt_id}", json=body, headers=headers)


async def updated(
    client: Client, headers: dict[str, str], debt_id: str, **fields: Any
) -> dict[str, Any]:
    response = await put(client, headers, debt_id, fields)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    assert answer["error"] is False
    assert answer["message"] == "Debt updated successfully"
    return answer["data"]  # type: ignore[no-any-return]


async def shown(client: Client, headers: dict[str, str], debt_id: str) -> dict[str, Any]:
    response = await client.get(f"{URL}/{debt_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


async def refused(client: Client, headers: dict[str, str], debt_id: str, body: Any) -> Any:
    response = await put(client, headers, debt_id, body)
    assert response.status_code == 400, response.text
    assert response.json()["message"] == "Validation failed"
    return response.json()["details"]


async def history(runtime: Runtime, company_id: int) -> list[tuple[Any, ...]]:
    rows = await runtime.db.fetch(
        "SELECT from_status, to_status, changed_at, client_id FROM debt_status_changes"
        " WHERE company_id = $1 ORDER BY id",
        company_id,
    )
    return [tuple(row) for row in rows]


class TestUpdate:
    async def test_only_the_fields_sent_change(
        self, client: Client, headers: dict[str, str]
    ) -> None:
        before = (await create(client, headers, email="a@example.com", city="Lyon"))["data"]

        after = await updated(
            client, headers, before["id"], amount="99.50", city=None, internal_id="INV-7"
        )

        assert after == await shown(client, headers, before["id"])
        assert after["amount"] == 99.5
        assert after["amount_text"] == "99.50"
        assert after["city"] is None
        assert after["internal_id"] == "INV-7"
        unchanged = {
            k: v
            for k, v in before.items()
            if k not in ("amount", "amount_text", "city", "internal_id")
        }
        assert {k: after[k] for k in unchanged} == unchanged

    async def test_the_body_is_checked_as_post_checks_it(
        self, client: Client, headers: dict[str, str]
    ) -> None:
        debt_id = (await create(client, headers))["data"]["id"]

        details = await refused(
            client,
            headers,
            debt_id,
            {"amount": 0, "currency": "eur", "iban": "FR1420041010050500013M02607", "x": 1},
        )

        assert details == {
            "amount": ["must be greater than 0"],
            "currency": ["must be an ISO 4217 code in capitals, such as EUR"],
            "iban": ["must be a valid IBAN"],
            "x": ["is not a field of this request"],
        }
        for name in ("firstname", "lastname", "amount", "currency"):
            assert await refused(client, headers, debt_id, {name: None}) == {
                name: ["must not be null"]
            }

    async def test_a_debt_keeps_a_way_to_reach_the_debtor(
        self, client: Client, headers: dict[str, str]
    ) -> None:
        debt_id = (await create(client, headers, email="a@example.com"))["data"]["id"]

        await updated(client, headers, debt_id, phone=None)
        details = await refused(client, headers, debt_id, {"email": None})

        assert set(details) == {"phone", "email"}
        assert (await shown(client, headers, debt_id))["email"] == "a@example.com"

    @pytest.mark.parametrize("status", SETTABLE)
    async def test_each_settable_status_is_set(
        self, client: Client, headers: dict[str, str], status: str
    ) -> None:
        debt_id = (await create(client, headers))["data"]["id"]

        assert (await updated(client, headers, debt_id, status=status))["status"] == status

    @pytest.mark.parametrize("status", NOT_SETTABLE)
    async def test_any_other_status_is_refused_naming_the_five(
        self, client: Client, headers: dict[str, str], status: str
    ) -> None:
        debt_id = (await create(client, headers))["data"]["id"]

        details = await refused(client, headers, debt_id, {"status": status})

        assert details == {"status": [f"must be one of: {', '.join(SETTABLE)}"]}

    async def test_an_empty_body_changes_nothing(
        self, client: Client, headers: dict[str, str]
    ) -> None:
        before = (await create(client, headers))["data"]

        assert await updated(client, headers, before["id"]) == before

    async def test_another_companys_debt_or_a_bad_id_is_not_found(
        self, runtime: Runtime, client: Client, headers: dict[str, str]
    ) -> None:
        debt_id = (await create(client, headers))["data"]["id"]
        _, other = await new_tenant_headers(runtime, client)

        for target, caller in ((debt_id, other), ("nope", headers)):
            response = await put(client, caller, target, {"city": "Nantes"})
            assert response.status_code == 404
            assert response.json() == {"error": True, "message": "Debt not found", "code": 404}
        assert (await shown(client, headers, debt_id))["city"] is None

    async def test_debts_write_is_required(self, runtime: Runtime, client: Client) -> None:
        _, reader = await new_tenant_headers(runtime, client, scopes=(DEBTS_READ,))

        response = await put(client, reader, "3kTMd9pYqZ1bXw7LrN2vHc", {"city": "Nantes"})

        assert response.status_code == 403
        assert response.json()["message"] == 'Required scope "debts:write" not found in token'

    async def test_racing_updates_apply_one_after_the_other(
        self, runtime: Runtime, client: Client, tenant: tuple[int, dict[str, str]]
    ) -> None:
        company_id, headers = tenant
        debt_id = (await create(client, headers))["data"]["id"]

        responses = await asyncio.gather(
            *(put(client, headers, debt_id, {"object": f"o{n}"}) for n in range(8)),
            *(put(client, headers, debt_id, {"status": SETTABLE[n % 5]}) for n in range(10)),
        )

        assert {r.status_code for r in responses} == {200}
        final = await shown(client, headers, debt_id)
        assert final["object"] in {f"o{n}" for n in range(8)}
        # Each move starts where the one before it ended: no update read a status another
        # was changing.
        moves = [(m[0], m[1]) for m in await history(runtime, company_id)]
        assert moves[0][0] == "status.default.pending"
        assert all(a[1] == b[0] for a, b in itertools.pairwise(moves))
        assert moves[-1][1] == final["status"]


class TestStatusHistory:
    async def test_each_status_move_is_kept_with_its_time_and_client(
        self, runtime: Runtime, client: Client, tenant: tuple[int, dict[str, str]]
    ) -> None:
        company_id, headers = tenant
        debt_id = (await create(client, headers))["data"]["id"]
        client_id = (await runtime.db.fetchval(
            "SELECT client_id FROM oauth_clients WHERE company_id = $1", company_id
        ))  # fmt: skip
        start = datetime.now(UTC).replace(microsecond=0)

        await updated(client, headers, debt_id, status="status.default.in_progress")
        await updated(client, headers, debt_id, status="status.default.in_progress", city="Metz")
        await updated(client, headers, debt_id, status="status.default.paid")

        moves = await history(runtime, company_id)
        assert [(m[0], m[1], m[3]) for m in moves] == [
            ("status.default.pending", "status.default.in_progress", client_id),
            ("status.default.in_progress", "status.default.paid", client_id),
        ]
        for move in moves:
            at = move[2] if isinstance(move[2], datetime) else datetime.fromisoformat(move[2])
            assert start <= at <= datetime.now(UTC) + timedelta(seconds=1)

    async def test_deleting_the_debt_deletes_its_history(
        self, runtime: Runtime, client: Client, tenant: tuple[int, dict[str, str]]
    ) -> None:
        company_id, headers = tenant
        debt_id = (await create(client, headers))["data"]["id"]
        await updated(client, headers, debt_id, status="status.default.paid")

        deleted = await client.delete(f"{URL}/{debt_id}", headers=headers)

        assert deleted.status_code == 200, deleted.text
        assert await history(runtime, company_id) == []


class TestEvents:
    async def test_a_change_sends_debt_updated_and_a_status_move_debt_status_changed(
        self, client: Client, headers: dict[str, str]
    ) -> None:
        debt_id = (await create(client, headers))["data"]["id"]

        await updated(client, headers, debt_id, city="Metz")
        await updated(client, headers, debt_id, city="Metz")
        after = await updated(client, headers, debt_id, status="status.default.paid")

        response = await client.get("/external-api/v1/events", headers=headers)
        found = response.json()["data"]
        assert [e["type"] for e in found] == [
            "debt.status_changed",
            "debt.updated",
            "debt.updated",
            "debt.created",
        ]
        status_changed, paid, city = found[0], found[1], found[2]
        moved = {"previous": "status.default.pending", "new": "status.default.paid"}
        assert paid["changes"] == {"status": moved}
        assert status_changed["changes"] == {"status": moved}
        assert status_changed["data"] == paid["data"] == after
        assert city["changes"] == {"city": {"previous": None, "new": "Metz"}}


class TestInternalId:
    async def test_a_taken_internal_id_is_a_409_naming_the_holder(
        self, client: Client, headers: dict[str, str]
    ) -> None:
        holder = (await create(client, headers, internal_id="INV-1"))["data"]["id"]
        other = (await create(client, headers, internal_id="INV-2"))["data"]["id"]

        created = await client.post(URL, json=debt_body(internal_id="INV-1"), headers=headers)
        moved = await put(client, headers, other, {"internal_id": "INV-1", "city": "Metz"})

        for response in (created, moved):
            assert response.status_code == 409, response.text
            assert response.json() == {
                "error": True,
                "message": f"internal_id is already the internal_id of debt {holder}: each"
                " debt of a company has its own",
                "code": 409,
                "details": {"internal_id": [f"is already the internal_id of debt {holder}"]},
            }
        assert (await shown(client, headers, other))["city"] is None
        listed = await client.get(URL, headers=headers)
        assert listed.json()["pagination"]["total"] == 2

    async def test_a_debt_keeps_its_own_and_others_companies_have_theirs(
        self, runtime: Runtime, client: Client, headers: dict[str, str]
    ) -> None:
        debt_id = (await create(client, headers, internal_id="INV-1"))["data"]["id"]
        _, other = await new_tenant_headers(runtime, client)

        await updated(client, headers, debt_id, internal_id="INV-1", city="Metz")
        await create(client, other, internal_id="INV-1")
        await updated(client, headers, debt_id, internal_id=None)
        await create(client, headers, internal_id="INV-1")

    async def test_racing_creates_of_one_internal_id_make_one_debt(
        self, client: Client, headers: dict[str, str]
    ) -> None:
        responses = await asyncio.gather(
            *(
                client.post(URL, json=debt_body(internal_id="INV-RACE"), headers=headers)
                for _ in range(6)
            )
        )

        assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409, 409]
        listed = await client.get(URL, headers=headers)
        assert listed.json()["pagination"]["total"] == 1


async def test_a_create_that_loses_the_race_is_told_apart_and_then_refused(
    runtime: Runtime, tenant: tuple[int, dict[str, str]], backend: str
) -> None:
    """Two transactions check one internal_id before either inserts (PostgreSQL runs them at
    once): the second insert fails on the unique index, which the endpoint takes for a lost
    race and runs again, when the check names the first debt."""
    if backend != "postgresql":
        pytest.skip("SQLite runs one writer at a time: its checks see every other write")
    company_id = tenant[0]
    body = DebtBody.model_validate(debt_body(internal_id="INV-RACE"), strict=False)
    first_inserted, second_checked = asyncio.Event(), asyncio.Event()
    log = runtime.events

    async def first() -> None:
        async with unit_of_work(runtime.db) as unit:
            await service.create_debt(unit.conn, runtime.ids, company_id, body, log)
            first_inserted.set()
            await second_checked.wait()

    async def second() -> None:
        await first_inserted.wait()
        async with unit_of_work(runtime.db) as unit:
            await service.refuse_taken_internal_id(
                unit.conn, runtime.ids, company_id, "INV-RACE", None
            )
            second_checked.set()
            # The insert create_debt makes after its check (whether the first has committed
            # by now or not, the index refuses it).
            await repository.insert_debt(unit.conn, company_id, for_create(body), utc_now())

    outcomes = await asyncio.gather(first(), second(), return_exceptions=True)

    assert outcomes[0] is None
    assert isinstance(outcomes[1], Exception)
    assert lost_unique_race(outcomes[1], service.INTERNAL_ID_INDEX)
    with pytest.raises(service.InternalIdTaken):
        async with unit_of_work(runtime.db) as unit:
            await service.create_debt(unit.conn, runtime.ids, company_id, body, log)
