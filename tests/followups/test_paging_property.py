"""Property: walking the pages of any filtered list yields exactly the rows a brute-force filter
over every row yields, in order, each once, with an exact total on every page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from relance.followups.enums import FollowupStatus, FollowupType
from relance.resources import Resource
from relance.runtime import Runtime
from tests.conftest import clear
from tests.factories import (
    Client,
    at,
    bearer,
    create_client,
    create_company,
    create_debt,
    create_followup,
    token_for,
)

URL = "/external-api/v1/followups"
DAYS = [date(2024, 3, day) for day in (1, 2, 3)]
# Few distinct moments, on day and month boundaries among them, so that ties and edges are
# common.
MOMENTS = [
    at("2024-02-29T12:00:00"),
    at("2024-03-01T00:00:00"),
    at("2024-03-01T23:59:59"),
    at("2024-03-02T00:00:00"),
    at("2024-03-02T12:00:00"),
    at("2024-03-03T00:00:00"),
    at("2024-03-03T23:59:59"),
    at("2024-04-01T00:00:00"),
]


@dataclass(frozen=True)
class Spec:
    mine: bool
    debt: int
    status: FollowupStatus
    type: FollowupType
    call_date: datetime | None
    scheduled_at: datetime | None
    processed_at: datetime


@dataclass(frozen=True)
class Query:
    status: FollowupStatus | None
    type: FollowupType | None
    date_from: date | None
    date_to: date | None
    debt: int | None
    limit: int

    def params(self, debt_ids: list[str]) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": self.limit}
        if self.status:
            params["status"] = self.status.value
        if self.type:
            params["type"] = self.type.value
        if self.date_from:
            params["date_from"] = self.date_from.isoformat()
        if self.date_to:
            params["date_to"] = self.date_to.isoformat()
        if self.debt is not None:
            params["debt_id"] = debt_ids[self.debt]
        return params

    def admits(self, spec: Spec) -> bool:
        activity = (spec.call_date or spec.scheduled_at or spec.processed_at).date()
        return (
            spec.mine
            and self.status in (None, spec.status)
            and self.type in (None, spec.type)
            and (self.date_from is None or activity >= self.date_from)
            and (self.date_to is None or activity <= self.date_to)
            and self.debt in (None, spec.debt)
        )


maybe_moment = st.none() | st.sampled_from(MOMENTS)
specs = st.builds(
    Spec,
    mine=st.booleans(),
    debt=st.integers(0, 1),
    status=st.sampled_from(FollowupStatus),
    type=st.sampled_from([FollowupType.CALL, FollowupType.EMAIL, FollowupType.SMS]),
    call_date=maybe_moment,
    scheduled_at=maybe_moment,
    processed_at=st.sampled_from(MOMENTS),
)
queries = st.builds(
    Query,
    status=st.none() | st.sampled_from([FollowupStatus.DELIVERED, FollowupStatus.NO_ANSWER]),
    type=st.none() | st.sampled_from([FollowupType.CALL, FollowupType.EMAIL]),
    date_from=st.none() | st.sampled_from(DAYS),
    date_to=st.none() | st.sampled_from(DAYS),
    debt=st.none() | st.integers(0, 1),
    limit=st.integers(1, 7),
)


@pytest.fixture(params=[0, 1000], ids=["seek", "walk"])
def seek_from_offset(request: pytest.FixtureRequest) -> int:
    """Every page through the day-count seek, and every page through the index walk."""
    offset: int = request.param
    return offset


@examples(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(book=st.lists(specs, max_size=30), query=queries)
async def test_pages_cover_exactly_the_filtered_rows_in_order(
    runtime: Runtime, client: Client, book: list[Spec], query: Query
) -> None:
    assume(query.date_from is None or query.date_to is None or query.date_from <= query.date_to)
    await clear(runtime)
    mine, other = await create_company(runtime), await create_company(runtime, "Other")
    debts = {True: [await create_debt(runtime, mine) for _ in range(2)]}
    debts[False] = [await create_debt(runtime, other) for _ in range(2)]
    inserted: list[tuple[Spec, int]] = []
    for spec in book:
        key = await create_followup(
            runtime,
            mine if spec.mine else other,
            debts[spec.mine][spec.debt],
            status=spec.status.value,
            type=spec.type.value,
            call_date=spec.call_date,
            scheduled_at=spec.scheduled_at,
            processed_at=spec.processed_at,
        )
        inserted.append((spec, key))
    expected = brute_force(inserted, query, runtime)

    token = await token_for(client, await create_client(runtime, mine))
    debt_ids = [runtime.ids.encode(Resource.DEBT, key) for key in debts[True]]
    seen = await walk_pages(client, token, query.params(debt_ids), len(expected), query.limit)
    assert seen == expected


def brute_force(inserted: list[tuple[Spec, int]], query: Query, runtime: Runtime) -> list[str]:
    def order(item: tuple[Spec, int]) -> tuple[datetime, int]:
        spec, key = item
        return (spec.call_date or spec.scheduled_at or spec.processed_at, key)

    admitted = sorted((item for item in inserted if query.admits(item[0])), key=order)
    return [runtime.ids.encode(Resource.FOLLOWUP, key) for _, key in reversed(admitted)]


async def walk_pages(
    client: Client, token: str, params: dict[str, Any], total: int, limit: int
) -> list[str]:
    pages = -(-total // limit)
    seen: list[str] = []
    for page in range(1, pages + 2):
        response = await client.get(URL, params={**params, "page": page}, headers=bearer(token))
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["pagination"] == {"total": total, "page": page, "limit": limit, "pages": pages}
        expected_size = min(limit, max(total - (page - 1) * limit, 0))
        assert len(body["data"]) == expected_size
        seen.extend(item["id"] for item in body["data"])
    return seen


async def test_pages_across_months_and_days_come_in_order(runtime: Runtime, client: Client) -> None:
    """Rows spread over several months and days, some sharing a moment: every page in order."""
    company = await create_company(runtime)
    debt = await create_debt(runtime, company)
    moments = [
        f"2024-{month:02d}-{day:02d}T{hour:02d}:00:00"
        for month in (1, 2, 3)
        for day in (1, 15, 28)
        for hour in (0, 12, 12)
    ]
    keys = [await create_followup(runtime, company, debt, call_date=at(m)) for m in moments]
    newest_first = sorted(zip(moments, keys, strict=True), reverse=True)
    expected = [runtime.ids.encode(Resource.FOLLOWUP, key) for _, key in newest_first]

    token = await token_for(client, await create_client(runtime, company))
    for limit in (1, 2, 5):
        seen = await walk_pages(client, token, {"limit": limit}, len(expected), limit)
        assert seen == expected, limit
