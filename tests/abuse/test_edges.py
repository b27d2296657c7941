"""Values at the edges of every type a caller can send: integers beyond 64 bits, moments that
leave years 1 to 9999 once in UTC, numbers a float cannot hold, digits that are not ASCII, and
numbers thousands of digits long. Each is a 400 in the envelope naming the field (never a 500,
never a value silently changed), on both databases."""

from __future__ import annotations

from typing import Any

import pytest

from relance.resources import Resource
from relance.runtime import Runtime
from tests.abuse.test_abuse import assert_envelope
from tests.factories import Client, create_debt, create_followup, new_tenant_headers, public_id

API = "/external-api/v1"
JSON = {"Content-Type": "application/json"}
DEBT = '"firstname": "Camille", "lastname": "Durand", "currency": "EUR", "phone": "+33612345678"'


async def tenant(runtime: Runtime, client: Client) -> tuple[dict[str, str], str, str]:
    """Headers of a new company's client, one of its debts and one followup of that debt."""
    company_id, headers = await new_tenant_headers(runtime, client)
    debt_key = await create_debt(runtime, company_id)
    followup_key = await create_followup(runtime, company_id, debt_key)
    debt = public_id(runtime, Resource.DEBT, debt_key)
    return {**headers, **JSON}, debt, public_id(runtime, Resource.FOLLOWUP, followup_key)


async def totals(client: Client, headers: dict[str, str]) -> tuple[int, int]:
    followups = (await client.get(f"{API}/followups", headers=headers)).json()
    debts = (await client.get(f"{API}/debts", headers=headers)).json()
    return followups["pagination"]["total"], debts["pagination"]["total"]


OUT_OF_UTC = [
    "0001-01-01T00:00:00+01:00",  # year 0 in UTC
    "0001-01-01T23:58:59+23:59",
    "9999-12-31T23:59:59-01:00",  # year 10000 in UTC
    "9999-12-31T00:01:00-23:59",
]


@pytest.mark.parametrize("moment", OUT_OF_UTC)
@pytest.mark.parametrize("field", ["call_date", "scheduled_at", "email_first_opened_at"])
async def test_a_moment_outside_years_1_to_9999_in_utc_is_named(
    runtime: Runtime, client: Client, field: str, moment: str
) -> None:
    headers, debt, followup = await tenant(runtime, client)
    before = await totals(client, headers)
    body = f'{{"debt_id": "{debt}", "type": "email", "{field}": "{moment}"}}'
    created = await client.post(f"{API}/followups", content=body, headers=headers)
    assert "years 1 to 9999" in assert_envelope(created, 400)["details"][field][0]
    updated = await client.put(
        f"{API}/followups/{followup}", content=f'{{"{field}": "{moment}"}}', headers=headers
    )
    assert field in assert_envelope(updated, 400)["details"]
    assert await totals(client, headers) == before


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+00:00", "0001-01-01T00:59:59+00:59", "9999-12-31T23:59:59Z"]
)
async def test_the_first_and_last_moments_in_utc_are_kept_exactly(
    runtime: Runtime, client: Client, moment: str
) -> None:
    headers, debt, _ = await tenant(runtime, client)
    body = {"debt_id": debt, "type": "call", "call_date": moment, "scheduled_at": moment}
    created = await client.post(f"{API}/followups", json=body, headers=headers)
    assert created.status_code == 201, created.text
    shown = await client.get(f"{API}/followups/{created.json()['data']['id']}", headers=headers)
    utc = moment.replace("T00:59:59+00:59", "T00:00:59+00:00").replace("Z", "+00:00")
    assert shown.json()["data"]["call_date"] == utc
    assert shown.json()["data"]["scheduled_at"] == utc


BAD_METADATA_NUMBERS = [
    "NaN",
    "Infinity",
    "-Infinity",
    "1e400",
    "-1e400",
    "1e-400",  # would become 0.0
    "1.00000000000000000001",  # would become 1.0
    "18446744073709551616",  # 2**64
    "-9223372036854775809",  # below -2**63
    "9" * 5000,  # beyond Python's 4300-digit limit for int()
    "0." + "1" * 5000,
]


@pytest.mark.parametrize("number", BAD_METADATA_NUMBERS)
async def test_a_metadata_number_that_cannot_be_kept_exactly_is_named(
    runtime: Runtime, client: Client, number: str
) -> None:
    headers, _, _ = await tenant(runtime, client)
    before = await totals(client, headers)
    body = f'{{{DEBT}, "amount": 5, "metadata": {{"a": [1, {{"b": {number}}}]}}}}'
    answer = await client.post(f"{API}/debts", content=body, headers=headers)
    assert "metadata.a.1.b" in assert_envelope(answer, 400)["details"]
    assert await totals(client, headers) == before


@pytest.mark.parametrize(
    "number",
    ["0", "-0.0", "0.1", "1e2", "2.5e-300", "1.7976931348623157e308", "18446744073709551615",
     "-9223372036854775808", "0.30000000000000004", "123456789012345"],
)  # fmt: skip
async def test_metadata_numbers_that_are_kept_exactly_are_accepted(
    runtime: Runtime, client: Client, number: str
) -> None:
    headers, _, _ = await tenant(runtime, client)
    body = f'{{{DEBT}, "amount": 5, "metadata": {{"n": {number}}}}}'
    answer = await client.post(f"{API}/debts", content=body, headers=headers)
    assert answer.status_code == 201, answer.text
    shown = await client.get(f"{API}/debts/{answer.json()['data']['id']}", headers=headers)
    assert float(shown.json()["data"]["metadata"]["n"]) == float(number)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", '"١٢"'),  # Arabic-Indic digits, which Decimal() reads as 12
        ("amount", '"１"'),  # fullwidth
        ("amount", '"1_000"'),  # Python's digit grouping
        ("amount", '" 12 "'),
        ("amount", '"12e1"'),
        ("amount", "100.00000000000000001"),  # a float would keep 100
        ("amount", "1" * 5000),
        ("invoice_date", '"١٢٣٤-01-01"'),
        ("birthdate", '"0000-12-31"'),
        ("birthdate", "99999999999999999999999"),
    ],
)
async def test_debt_fields_at_their_edges_are_named(
    runtime: Runtime, client: Client, field: str, value: str
) -> None:
    headers, _, _ = await tenant(runtime, client)
    before = await totals(client, headers)
    amount = "" if field == "amount" else '"amount": 5, '
    body = f'{{{DEBT}, {amount}"{field}": {value}}}'
    answer = await client.post(f"{API}/debts", content=body, headers=headers)
    assert field in assert_envelope(answer, 400)["details"]
    assert await totals(client, headers) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("duration_ms", "9223372036854775808"),
        ("duration_ms", "1.00000000000000000001"),  # would be taken as 1
        ("duration_ms", "9" * 5000),
        ("duration_ms", "-1"),
        ("duration_ms", "9007199254740993"),
        ("email_open_count", "2147483648"),
        ("email_open_count", "-1"),
        ("email_click_count", "1e400"),
        ("email_click_count", "NaN"),
        ("duration_ms", '"١٢"'),
        ("call_date", "99999999999999999999999"),
        ("call_date", '"١٢٣٤-01-01T00:00:00Z"'),
    ],
)
async def test_followup_fields_at_their_edges_are_named(
    runtime: Runtime, client: Client, field: str, value: str
) -> None:
    headers, debt, followup = await tenant(runtime, client)
    before = await totals(client, headers)
    body = f'{{"debt_id": "{debt}", "type": "call", "{field}": {value}}}'
    created = await client.post(f"{API}/followups", content=body, headers=headers)
    assert field in assert_envelope(created, 400)["details"]
    changed = f'{{"{field}": {value}}}'
    updated = await client.put(f"{API}/followups/{followup}", content=changed, headers=headers)
    assert field in assert_envelope(updated, 400)["details"]
    assert await totals(client, headers) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [("duration_ms", 2**53), ("email_open_count", 2**31 - 1), ("email_click_count", 0)],
)
async def test_followup_counts_at_their_bounds_are_kept(
    runtime: Runtime, client: Client, field: str, value: int
) -> None:
    headers, debt, _ = await tenant(runtime, client)
    body: dict[str, Any] = {"debt_id": debt, "type": "call", field: value}
    created = await client.post(f"{API}/followups", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["data"][field] == value


LISTS = ["/followups", "/debts", "/followups/debt/{debt}"]


@pytest.mark.parametrize(
    "query",
    [
        "page=١٢", "page=１", "limit=１٠", "page=²", "page=" + "9" * 5000, "limit=" + "1" * 5000,
        "page=9223372036854775808", "page=2147483648", "page=0", "limit=0", "limit=101",
        "page=-1", "page=+1", "page=%201", "page=1%20", "page=0x10", "page=1.0", "page=",
    ],
)  # fmt: skip
@pytest.mark.parametrize("path", LISTS)
async def test_page_and_limit_at_their_edges_are_named(
    runtime: Runtime, client: Client, path: str, query: str
) -> None:
    headers, debt, _ = await tenant(runtime, client)
    answer = await client.get(f"{API}{path.format(debt=debt)}?{query}", headers=headers)
    assert query.split("=")[0] in assert_envelope(answer, 400)["details"]


@pytest.mark.parametrize(
    "query",
    [
        "date_from=١٢٣٤-٠١-٠١", "date_to=２０２４-01-01", "date_from=0000-01-01",
        "date_to=10000-01-01", "date_from=" + "9" * 5000, "date_to=9999-12-32",
    ],
)  # fmt: skip
async def test_dates_at_their_edges_are_named(runtime: Runtime, client: Client, query: str) -> None:
    headers, debt, _ = await tenant(runtime, client)
    for path in ("/followups", f"/followups/debt/{debt}"):
        answer = await client.get(f"{API}{path}?{query}", headers=headers)
        assert query.split("=")[0] in assert_envelope(answer, 400)["details"]


@pytest.mark.parametrize("path", LISTS)
async def test_the_last_page_there_can_be_is_an_empty_page(
    runtime: Runtime, client: Client, path: str
) -> None:
    headers, debt, _ = await tenant(runtime, client)
    query = "page=2147483647&limit=100&date_from=0001-01-01&date_to=9999-12-31"
    if path == "/debts":
        query = "page=2147483647&limit=100"
    answer = await client.get(f"{API}{path.format(debt=debt)}?{query}", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"] == []
    assert answer.json()["pagination"]["page"] == 2147483647
