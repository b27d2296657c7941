"""GET /debts's filters, through HTTP, on SQLite and on PostgreSQL: each keeps what it says and
nothing else, together they all hold, the totals follow, and every bad value is a 400 naming
its parameter."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from relance.resources import Resource
from relance.runtime import Runtime
from tests.debts.test_endpoints import URL
from tests.factories import Client, create_debt, new_tenant_headers, public_id

# Each debt: its internal ID, invoice reference, currency, amount, status and creation day.
BOOK = [
    ("INV-001", "F-1", "EUR", "1250.00", "status.default.pending", "2024-01-05"),
    ("INV-002", "F-2", "EUR", "99.50", "status.default.paid", "2024-01-20"),
    ("inv-003", "F-2", "USD", "310.00", "status.default.in_progress", "2024-02-01"),
    ("A_100%", None, "GBP", "12.25", "status.default.pending", "2024-02-15"),
    (None, "F-3", "EUR", "310.00", "status.default.on_hold", "2024-03-01"),
]


@pytest.fixture
async def book(runtime: Runtime, client: Client) -> tuple[dict[str, str], list[str]]:
    """A company holding BOOK, each debt created on its day; the header and the debts' IDs,
    in BOOK's order."""
    company_id, headers = await new_tenant_headers(runtime, client)
    ids = []
    for internal_id, invoice, currency, amount, status, day in BOOK:
        key = await create_debt(
            runtime,
            company_id,
            internal_id=internal_id,
            invoice_reference=invoice,
            currency=currency,
            amount=Decimal(amount),
            status=status,
        )
        created = datetime.fromisoformat(f"{day}T10:00:00+00:00")
        await runtime.db.execute("UPDATE debts SET created_at = $1 WHERE id = $2", created, key)
        ids.append(public_id(runtime, Resource.DEBT, key))
    # Another company's debt, which every filter would keep.
    other, _ = await new_tenant_headers(runtime, client)
    await create_debt(runtime, other, internal_id="INV-009", amount=Decimal("310.00"))
    return headers, ids


async def kept(client: Client, headers: dict[str, str], **params: Any) -> list[int]:
    """The indexes in BOOK of the debts the list keeps, in the list's order; the total checked
    against them."""
    response = await client.get(URL, params={"limit": 100, **params}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    internal = [d["internal_id"] for d in body["data"]]
    assert body["pagination"]["total"] == len(internal)
    return [next(n for n, row in enumerate(BOOK) if row[0] == i) for i in internal]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, [4, 3, 2, 1, 0]),
        ({"status": "status.default.pending"}, [3, 0]),
        ({"status": "paid"}, [1]),
        ({"internal_id": "INV-002"}, [1]),
        ({"internal_id": "inv-002"}, []),
        ({"invoice_reference": "F-2"}, [2, 1]),
        ({"currency": "EUR"}, [4, 1, 0]),
        ({"min_amount": "310"}, [4, 2, 0]),
        ({"max_amount": "99.50"}, [3, 1]),
        ({"min_amount": "99.5", "max_amount": "310.00"}, [4, 2, 1]),
        ({"created_after": "2024-02-01"}, [4, 3, 2]),
        ({"created_before": "2024-02-01"}, [1, 0]),
        (
            {
                "created_after": "2024-01-20T10:00:00Z",
                "created_before": "2024-02-01T10:00:01+00:00",
            },
            [2, 1],
        ),
        ({"created_after": str(int(datetime(2024, 2, 15, 10, tzinfo=UTC).timestamp()))}, [4, 3]),
        ({"search": "inv"}, [2, 1, 0]),
        ({"search": "310.00"}, [4, 2]),
        ({"search": "50"}, [1, 0]),
        ({"search": "_100%"}, [3]),
        ({"search": "%"}, [3]),
        ({"search": "x_1"}, []),
        ({"currency": "EUR", "min_amount": "100", "status": "status.default.pending"}, [0]),
    ],
)
async def test_each_filter_keeps_what_it_says(
    client: Client,
    book: tuple[dict[str, str], list[str]],
    params: dict[str, str],
    expected: list[int],
) -> None:
    assert await kept(client, book[0], **params) == expected


@pytest.mark.parametrize(
    ("params", "problems"),
    [
        ({"status": "active"}, {"status"}),
        ({"currency": "eur"}, {"currency"}),
        ({"min_amount": "-1"}, {"min_amount"}),
        ({"max_amount": "1.005"}, {"max_amount"}),
        ({"min_amount": "abc", "max_amount": "1e3"}, {"min_amount", "max_amount"}),
        ({"min_amount": "20", "max_amount": "10"}, {"min_amount"}),
        ({"created_after": "2024-13-01"}, {"created_after"}),
        ({"created_before": "2024-01-01T10:00:00"}, {"created_before"}),
        ({"created_after": "2024-02-01", "created_before": "2024-01-01"}, {"created_after"}),
        ({"created_after": "2024-02-01", "created_before": "2024-02-01"}, {"created_after"}),
        ({"search": "x" * 101}, {"search"}),
        ({"internal_id": ""}, {"internal_id"}),
        ({"invoice_reference": "a\x00b"}, {"invoice_reference"}),
    ],
)
async def test_a_bad_value_is_a_400_naming_its_parameter(
    client: Client,
    book: tuple[dict[str, str], list[str]],
    params: dict[str, str],
    problems: set[str],
) -> None:
    response = await client.get(URL, params=params, headers=book[0])

    assert response.status_code == 400, response.text
    assert response.json()["message"] == "Validation failed"
    assert set(response.json()["details"]) == problems


async def test_a_filter_given_twice_is_a_400(
    client: Client, book: tuple[dict[str, str], list[str]]
) -> None:
    response = await client.get(f"{URL}?currency=EUR&currency=USD", headers=book[0])

    assert response.status_code == 400
    assert response.json()["details"] == {"currency": ["must be given only once"]}


async def test_filters_page_with_the_true_total(
    client: Client, book: tuple[dict[str, str], list[str]]
) -> None:
    first = await client.get(URL, params={"currency": "EUR", "limit": 2}, headers=book[0])
    second = await client.get(
        URL, params={"currency": "EUR", "limit": 2, "page": 2}, headers=book[0]
    )

    assert first.json()["pagination"] == {"total": 3, "page": 1, "limit": 2, "pages": 2}
    ids = [d["id"] for d in first.json()["data"] + second.json()["data"]]
    assert ids == [book[1][4], book[1][1], book[1][0]]
