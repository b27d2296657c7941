"""Many followups changed by one transaction, read from the changes feed across page
boundaries, on SQLite and PostgreSQL (issue 22 §5): each followup exactly once, the pages
contiguous, whatever the page size; a single transaction of API writes, an import's batch (the
`relance import followups` command), the same batch imported again, and a book larger than
one numbering takes at once. Read from a real `relance serve`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from relance.followups.changes import NUMBERED_AT_ONCE
from relance.followups.service import create_followup
from relance.resources import Resource
from relance.runtime import Runtime
from relance.units import unit_of_work
from tests.commands import ok_json, relance
from tests.sync.live import (
    CHANGES,
    HTTP_TIMEOUT,
    Live,
    Tenant,
    body,
    exported,
    links,
    live_deployment,
    load_book,
    local_runtime,
    new_tenant,
)

ROWS = 250
Json = dict[str, Any]


# A real server, and the CLI, on the database this process writes: the import runs in a process
# of its own, as an operator runs it.
@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    with live_deployment(request.param, tmp_path_factory.mktemp("bulk")) as deployment:
        yield deployment


@pytest.fixture
async def local(live: Live) -> AsyncIterator[Runtime]:
    async with local_runtime(live) as runtime:
        yield runtime


@pytest.fixture
async def http(live: Live) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live.base, timeout=HTTP_TIMEOUT) as client:
        yield client


@pytest.fixture
async def book(live: Live, local: Runtime) -> Tenant:
    return await new_tenant(local, live.base)


async def now_cursor(http: httpx.AsyncClient, book: Tenant) -> str:
    answer = await http.get(CHANGES, params={"cursor": "now"}, headers=book.headers)
    assert answer.status_code == 200, answer.text
    cursor: str = answer.json()["next_cursor"]
    return cursor


async def pages(http: httpx.AsyncClient, book: Tenant, cursor: str, limit: int) -> list[list[Json]]:
    """Every page after the cursor, to the end."""
    found: list[list[Json]] = []
    while True:
        params: dict[str, str | int] = {"cursor": cursor, "limit": limit, "include_media": "false"}
        answer = await http.get(CHANGES, params=params, headers=book.headers)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert len(page["data"]) <= limit
        found.append(page["data"])
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return found
        assert len(found) < 10_000


def assert_each_once_and_contiguous(found: list[list[Json]], limit: int, ids: set[str]) -> None:
    entries = [entry for page in found for entry in page]
    # Full pages until the last; numbers one after another across them, since one transaction's
    # changes are numbered together.
    assert all(len(page) == limit for page in found[:-1])
    seqs = [entry["seq"] for entry in entries]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "the pages are not contiguous"
    seen = [entry["followup"]["id"] for entry in entries]
    assert len(seen) == len(set(seen)), "a followup was given twice"
    assert set(seen) == ids


async def test_a_transaction_of_many_api_writes_is_read_once_across_pages(
    local: Runtime, http: httpx.AsyncClient, book: Tenant
) -> None:
    start = await now_cursor(http, book)
    made: set[str] = set()
    async with unit_of_work(local.db) as work:
        for n in range(ROWS):
            sent = body(debt_id=book.debts[0], type="call", notes=f"row {n}")
            view = await create_followup(
                work.conn, local.ids, book.company_id, sent, links(local), local.events
            )
            made.add(str(view.id))
    for limit in (100, 7, 1000):
        assert_each_once_and_contiguous(await pages(http, book, start, limit), limit, made)


def import_file(path: Path, debt_id: str, status: str) -> Path:
    lines = [
        json.dumps({"external_id": f"bulk-{n}", "debt_id": debt_id, "type": "email",
                    "status": status, "notes": f"row {n}"})
        for n in range(ROWS)
    ]  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    return path


def run_import(live: Live, local: Runtime, book: Tenant, file: Path) -> Json:
    """`relance import followups FILE`, one batch, in a process of its own."""
    company = local.ids.encode(Resource.COMPANY, book.company_id)
    result = relance(
        "import", "followups", str(file), "--company", company, "--json",
        data_dir=live.home, env=live.env,
    )  # fmt: skip
    summary: Json = ok_json(result)
    return summary


async def test_an_import_batch_and_its_reimport_are_each_read_once_across_pages(
    live: Live, local: Runtime, http: httpx.AsyncClient, book: Tenant, tmp_path: Path
) -> None:
    start = await now_cursor(http, book)
    first = import_file(tmp_path / "a.jsonl", book.debts[0], "sent")
    summary = run_import(live, local, book, first)
    assert (summary["created"], summary["failed"]) == (ROWS, 0)
    ids = set(await exported(http, book))
    assert len(ids) == ROWS
    for limit in (100, 7):
        assert_each_once_and_contiguous(await pages(http, book, start, limit), limit, ids)

    # The same rows updated by a second import: each given once more, at its new state.
    middle = await now_cursor(http, book)
    again = import_file(tmp_path / "b.jsonl", book.debts[0], "delivered")
    assert run_import(live, local, book, again)["updated"] == ROWS
    for limit in (100, 7):
        found = await pages(http, book, middle, limit)
        assert_each_once_and_contiguous(found, limit, ids)
        assert {entry["followup"]["status"] for page in found for entry in page} == {"delivered"}
    # From the first cursor: each once, at its latest state only.
    whole = [entry for page in await pages(http, book, start, 100) for entry in page]
    assert len(whole) == ROWS
    assert {entry["followup"]["status"] for entry in whole} == {"delivered"}


async def test_a_book_larger_than_one_numbering_is_read_once(
    local: Runtime, http: httpx.AsyncClient, book: Tenant
) -> None:
    start = await now_cursor(http, book)
    total = NUMBERED_AT_ONCE + 57
    await load_book(local, book.company_id, book.debts, total, notes=None)
    ids = set(await exported(http, book))
    assert len(ids) == total
    assert_each_once_and_contiguous(await pages(http, book, start, 1000), 1000, ids)
