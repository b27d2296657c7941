"""Followups on the first and last days there are (0001-01-01, 9999-12-31): every page, sought
from the day and month counts or walked, shows them in order with an exact total, with and
without date filters at those days, on both databases."""

from __future__ import annotations

from datetime import datetime

import pytest

from relance.runtime import Runtime
from tests.factories import Client, at, create_debt, create_followup, new_tenant_headers

URL = "/external-api/v1/followups"
MOMENTS = [
    at("9999-12-31T23:59:59"),
    at("9999-12-31T00:00:00"),
    at("9999-12-30T12:00:00"),
    at("9999-12-01T00:00:00"),
    at("9999-11-30T23:59:59"),
    at("2024-01-22T10:30:00"),
    at("0001-01-02T00:00:00"),
    at("0001-01-01T23:59:59"),
    at("0001-01-01T00:00:00"),
]


@pytest.fixture(params=[0, 1_000_000], ids=["sought", "walked"])
def seek_from_offset(request: pytest.FixtureRequest) -> int:
    offset: int = request.param
    return offset


async def book(runtime: Runtime, client: Client) -> dict[str, str]:
    company_id, headers = await new_tenant_headers(runtime, client)
    debt_id = await create_debt(runtime, company_id)
    for moment in MOMENTS:
        await create_followup(
            runtime, company_id, debt_id, call_date=moment, scheduled_at=None, processed_at=moment
        )
    return headers


async def every_page(client: Client, headers: dict[str, str], query: str) -> list[str]:
    """The call dates of every page of one row, and the total each page gives."""
    shown: list[str] = []
    totals = set()
    for page in range(1, len(MOMENTS) + 2):
        answer = await client.get(f"{URL}?limit=1&page={page}&{query}", headers=headers)
        assert answer.status_code == 200, answer.text
        shown += [row["call_date"] for row in answer.json()["data"]]
        totals.add(answer.json()["pagination"]["total"])
    assert totals == {len(shown)}
    return shown


def iso(moment: datetime) -> str:
    return moment.isoformat()


FIRST, LAST = "0001-01-01", "9999-12-31"


@pytest.mark.parametrize(
    ("query", "low", "high"),
    [
        ("", FIRST, LAST),
        (f"date_to={LAST}", FIRST, LAST),
        (f"date_from={FIRST}", FIRST, LAST),
        (f"date_from={FIRST}&date_to={LAST}", FIRST, LAST),
        (f"date_from={LAST}", LAST, LAST),
        (f"date_to={FIRST}", FIRST, FIRST),
        (f"date_from=9999-12-01&date_to={LAST}", "9999-12-01", LAST),
        ("date_from=0001-01-02&date_to=9999-12-30", "0001-01-02", "9999-12-30"),
        ("type=email&status=delivered", FIRST, LAST),
    ],
)
async def test_pages_on_the_first_and_last_days_show_their_rows(
    runtime: Runtime, client: Client, query: str, low: str, high: str
) -> None:
    headers = await book(runtime, client)
    expected = [iso(m) for m in MOMENTS if low <= m.date().isoformat() <= high]
    assert await every_page(client, headers, query) == expected
