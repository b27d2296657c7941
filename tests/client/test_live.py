"""The SDK against a real `relance serve`: the demo book read across its pages with filters,
a followup created and updated, debts read, the async client alike, and a rate-limit window
so short that walking the pages has to wait for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from relance.client import AsyncRelance, BadRequestError, NotFoundError, Relance
from tests.commands import ok_json, relance, serving


def connect(demo: tuple[str, dict[str, Any]], **options: Any) -> Relance:
    base, company = demo
    return Relance(base, company["client_id"], company["client_secret"], **options)


def test_looping_over_a_list_walks_every_page(demo: tuple[str, dict[str, Any]]) -> None:
    with connect(demo) as client:
        first = client.followups.list(status="no_answer", limit=20)
        assert first.pagination.pages > 2
        everything = list(first)
        pages = list(first.iter_pages())
    assert len(everything) == first.pagination.total
    assert len({followup.id for followup in everything}) == len(everything)
    assert {followup.status for followup in everything} == {"no_answer"}
    assert len(pages) == first.pagination.pages
    moments = [f.call_date or f.scheduled_at for f in everything]
    assert all(moment is not None and moment.tzinfo is not None for moment in moments)


def test_reads_and_writes_of_one_followup(demo: tuple[str, dict[str, Any]]) -> None:
    with connect(demo) as client:
        debt_id = next(iter(client.followups.list(type="call", limit=1))).debt_id
        created = client.followups.create(
            debt_id=debt_id, type="manual_call", status="no_answer", summary="SDK test"
        )
        assert client.followups.get(created.id) == created
        changed = client.followups.update(created.id, status="deal_found", summary=None)
        assert (changed.status, changed.summary) == ("deal_found", None)
        by_debt = [f.id for f in client.followups.list_by_debt(debt_id, limit=5)]
        assert created.id in by_debt
        debt = client.debts.get(debt_id)
        assert debt.followups_count == len(by_debt)
        assert client.debts.list(limit=5).pagination.total > 0
        with pytest.raises(BadRequestError) as refused:
            client.followups.create(debt_id=debt_id, type="fax")
        assert "type" in refused.value.details
        with pytest.raises(NotFoundError):
            client.followups.get("0" * 22)


async def test_the_async_client_walks_pages_too(demo: tuple[str, dict[str, Any]]) -> None:
    base, company = demo
    async with AsyncRelance(base, company["client_id"], company["client_secret"]) as client:
        first = await client.followups.list(type="email", limit=50)
        seen = [followup.id async for followup in first]
    assert len(seen) == first.pagination.total


def test_a_short_rate_limit_window_is_waited_out(tmp_path: Path) -> None:
    home = tmp_path / "home"
    company = ok_json(relance("demo", "--no-serve", "--json", data_dir=home))["companies"][2]
    limits = {"RELANCE_RATE_LIMIT_READS": "3", "RELANCE_RATE_LIMIT_WINDOW_SECONDS": "2"}
    with serving(home, tmp_path, env=limits) as base:
        client = Relance(base, company["client_id"], company["client_secret"], max_retries=10)
        with client:
            first = client.followups.list(limit=10)
            assert first.pagination.pages >= 6  # twice the budget of one window
            walked = list(first)
    assert len(walked) == first.pagination.total
