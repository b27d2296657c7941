"""The changes feed and the export against real `relance serve` processes, on SQLite and
PostgreSQL (issue 22 §5): a transaction that holds its change uncommitted across another's
commit (the classic bug), long polls woken by a write through another process, and the export
on the wire (gzip, one per client, a client that leaves, writes made while it streams, a write
in progress when it begins)."""

from __future__ import annotations

import asyncio
import gzip
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from relance.db import Connection
from relance.followups.service import create_followup, update_followup
from relance.runtime import Runtime
from relance.units import unit_of_work
from tests.sync.live import (
    API,
    CHANGES,
    EXPORT,
    HTTP_TIMEOUT,
    Json,
    Live,
    Mirror,
    Tenant,
    body,
    eventually,
    export_lines,
    exported,
    feed_page,
    links,
    live_deployment,
    load_book,
    local_runtime,
    new_client_token,
    new_tenant,
)

# Bounds on what the tests wait for; none of them is a timing assertion of the server's speed.
HOLD_SECONDS = 20
WAIT = 20
# A book whose export (about 8.5 KB a line) is far more than the sockets between a server and a
# client that stops reading can hold: the server stays in the middle of its stream.
BOOK_DEBTS, BOOK_PER_DEBT = 10, 400
IDENTITY = {"Accept-Encoding": "identity"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    with live_deployment(request.param, tmp_path_factory.mktemp("serve")) as deployment:
        yield deployment


@pytest.fixture
async def local(live: Live) -> AsyncIterator[Runtime]:
    async with local_runtime(live) as runtime:
        yield runtime


@pytest.fixture
async def http(live: Live) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live.base, timeout=HTTP_TIMEOUT) as client:
        yield client


async def created(runtime: Runtime, tenant: Tenant, debt: str, **fields: Any) -> str:
    """A followup created and committed in this process; its ID."""
    async with unit_of_work(runtime.db) as work:
        view = await create_followup(
            work.conn,
            runtime.ids,
            tenant.company_id,
            body(debt_id=debt, type="call", **fields),
            links(runtime),
            runtime.events,
        )
    return str(view.id)


async def updated(
    runtime: Runtime, conn: Connection, tenant: Tenant, followup: str, **fields: Any
) -> None:
    await update_followup(
        conn, runtime.ids, tenant.company_id, followup, body(**fields), links(runtime),
        runtime.events,
    )  # fmt: skip


# The classic bug (issue 22 §5): transaction 1 makes its change, and commits after transaction
# 2; a reader between the two commits passes transaction 2's change, and must still be given
# transaction 1's. Numbered in the write from a sequence, transaction 1's number would be below
# the reader's cursor, and its change skipped for ever.


async def test_a_change_held_across_anothers_commit_is_never_skipped(
    live: Live, local: Runtime, http: httpx.AsyncClient
) -> None:
    tenant = await new_tenant(local, live.base, debts=2)
    mirror = Mirror((await feed_page(http, tenant, cursor="now"))["next_cursor"])
    # Two followups on two debts, committed and not read since: their changes wait for a
    # number. Their notes-only updates share no row.
    first, second = [await created(local, tenant, debt) for debt in tenant.debts]
    holding, release = asyncio.Event(), asyncio.Event()

    async def transaction_1() -> None:
        async with unit_of_work(local.db) as work:
            await updated(local, work.conn, tenant, first, notes="T1")
            holding.set()
            # Its change made, uncommitted, until the test says.
            await asyncio.wait_for(release.wait(), HOLD_SECONDS)

    one = asyncio.create_task(transaction_1())
    try:
        await asyncio.wait_for(holding.wait(), HOLD_SECONDS)
        # Transaction 2 through the server, another process.
        put = http.put(f"{API}/followups/{second}", json={"notes": "T2"}, headers=tenant.headers)
        two = asyncio.create_task(put)
        if live.dialect == "postgresql":
            # It waits for nothing of transaction 1's; nor does a reader, who passes its
            # change and not transaction 1's (locked by it: skipped, not waited for).
            assert (await asyncio.wait_for(two, HOLD_SECONDS / 2)).status_code == 200
            page = await asyncio.wait_for(mirror.read(http, tenant, 100), HOLD_SECONDS / 2)
            assert [(e["followup"]["id"], e["followup"]["notes"]) for e in page["data"]] == [
                (second, "T2")
            ]
        else:
            # SQLite has one writer at a time: transaction 2 waits for transaction 1's
            # commit, and so does a read, which numbers the changes waiting first.
            reading = asyncio.create_task(mirror.read(http, tenant, 100))
            await asyncio.sleep(1)
            assert not two.done(), "transaction 2 committed beside transaction 1"
            assert not reading.done(), "a read numbered changes beside a writer"
    finally:
        release.set()
    await one
    assert (await asyncio.wait_for(two, HOLD_SECONDS)).status_code == 200
    if live.dialect == "sqlite":
        await asyncio.wait_for(reading, HOLD_SECONDS)
    await mirror.catch_up(http, tenant, limit=1)
    assert {fid: row["notes"] for fid, row in mirror.rows.items()} == {first: "T1", second: "T2"}
    assert mirror.rows == await exported(http, tenant)
    if live.dialect == "postgresql":
        # Transaction 1's change came after the one the reader had passed, not below it.
        assert [(e["followup"]["id"], e["followup"]["notes"]) for e in mirror.entries] == [
            (second, "T2"),
            (first, "T1"),
        ]


# Long polling: a change reaches a client waiting on another process.


async def long_poll_wakes(reader: str, writer: str, tenant: Tenant) -> None:
    async with (
        httpx.AsyncClient(base_url=reader, timeout=HTTP_TIMEOUT) as polling,
        httpx.AsyncClient(base_url=writer, timeout=HTTP_TIMEOUT) as writing,
    ):
        now = (await feed_page(polling, tenant, cursor="now"))["next_cursor"]
        started = time.monotonic()
        params = {"cursor": now, "wait": WAIT}
        poll = asyncio.create_task(polling.get(CHANGES, params=params, headers=tenant.headers))
        await asyncio.sleep(1)
        assert not poll.done(), "the long poll answered with nothing to give"
        made = await writing.post(
            f"{API}/followups", json={"debt_id": tenant.debts[0], "type": "sms"},
            headers=tenant.headers,
        )  # fmt: skip
        assert made.status_code == 201, made.text
        answer = await asyncio.wait_for(poll, WAIT + 10)
        woke = time.monotonic()
    assert answer.status_code == 200, answer.text
    page = answer.json()
    assert [e["followup"] for e in page["data"]] == [made.json()["data"]]
    # Woken by the change, well before its wait was over.
    assert woke - started < WAIT - 5


async def test_a_long_poll_wakes_for_a_write_through_the_same_server(
    live: Live, local: Runtime
) -> None:
    tenant = await new_tenant(local, live.base)
    await long_poll_wakes(live.base, live.base, tenant)


@pytest.fixture(params=["postgresql", "sqlite"])
def two_servers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Live]:
    with live_deployment(request.param, tmp_path, servers=2) as deployment:
        yield deployment


async def test_a_long_poll_on_one_server_wakes_for_a_write_through_another(
    two_servers: Live,
) -> None:
    async with local_runtime(two_servers) as runtime:
        tenant = await new_tenant(runtime, two_servers.base)
    await long_poll_wakes(two_servers.bases[0], two_servers.bases[1], tenant)


# The export on the wire.


async def test_the_export_is_gzip_on_the_wire_when_accepted(
    live: Live, local: Runtime, http: httpx.AsyncClient
) -> None:
    tenant = await new_tenant(local, live.base)
    for status in ("scheduled", "deal_found", "failed"):
        await created(local, tenant, tenant.debts[0], status=status)
    headers = {**tenant.headers, "Accept-Encoding": "gzip"}
    async with http.stream("GET", EXPORT, headers=headers) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-encoding"] == "gzip"
        raw = b"".join([chunk async for chunk in answer.aiter_raw()])
    assert raw[:2] == b"\x1f\x8b", raw[:16]
    lines = [json.loads(line) for line in gzip.decompress(raw).decode().splitlines()]
    plain = await export_lines(http, tenant)
    assert lines == plain
    assert len(lines) == 4


async def a_book(runtime: Runtime, base: str) -> Tenant:
    tenant = await new_tenant(runtime, base, debts=BOOK_DEBTS)
    await load_book(runtime, tenant.company_id, tenant.debts, BOOK_PER_DEBT)
    return tenant


async def started_export(http: httpx.AsyncClient, tenant: Tenant) -> httpx.Response:
    """An export in progress: its answer begun, and read no further than its first bytes."""
    request = http.build_request("GET", EXPORT, headers={**tenant.headers, **IDENTITY})
    answer = await http.send(request, stream=True)
    assert answer.status_code == 200
    return answer


async def export_sessions(runtime: Runtime) -> dict[int, str]:
    """PostgreSQL sessions in a transaction reading an export's statement, by PID: state."""
    rows = await runtime.db.fetch(
        "SELECT pid, state FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid() AND state <> 'idle'"
        " AND query LIKE 'SELECT % FROM followups WHERE % ORDER BY id'"
    )
    return {int(row[0]): str(row[1]) for row in rows}


async def test_one_export_at_a_time_per_client_and_one_that_leaves_frees_its_place(
    live: Live, local: Runtime, http: httpx.AsyncClient
) -> None:
    tenant = await a_book(local, live.base)
    first = await started_export(http, tenant)
    chunks = first.aiter_raw()
    read = len(await anext(chunks))
    sessions: dict[int, str] = {}
    try:
        # Read slowly: the first export stays in the middle of its stream.
        for _ in range(3):
            busy = await http.get(EXPORT, headers={**tenant.headers, **IDENTITY})
            assert busy.status_code == 429, busy.text[:200]
            assert busy.headers["retry-after"] == "5"
            assert busy.json()["error"] is True
            read += len(await anext(chunks))
            await asyncio.sleep(0.2)
        # Another client of the company exports meanwhile.
        other = Tenant(
            tenant.company_id, await new_client_token(local, live.base, tenant.company_id)
        )
        assert (
            len(await export_lines(http, other, include_media="false"))
            == BOOK_DEBTS * BOOK_PER_DEBT + 1
        )
        if live.dialect == "postgresql":
            sessions = await export_sessions(local)
            assert len(sessions) == 1, sessions
    finally:
        # The client goes away in the middle of the stream.
        await first.aclose()
    assert read < 10 * 1024 * 1024, "the first export was read too far to be cut in the middle"
    if live.dialect == "postgresql":
        # Its query stopped, its snapshot ended.
        (pid,) = sessions

        async def export_ended() -> bool:
            return pid not in await export_sessions(local)

        await eventually(export_ended, 10)

    async def export_again() -> list[Json] | None:
        answer = await http.get(EXPORT, headers=tenant.headers, params={"include_media": "false"})
        if answer.status_code == 429:
            return None
        assert answer.status_code == 200, answer.text[:200]
        return [json.loads(line) for line in answer.text.splitlines()]

    lines = await eventually(export_again, 10, every=0.5)
    assert len(lines) == BOOK_DEBTS * BOOK_PER_DEBT + 1
    assert set(lines[-1]) == {"next_cursor"}


async def read_lines(chunks: AsyncIterator[bytes], into: bytearray, lines: int) -> None:
    """Read from the stream until `into` holds at least so many whole lines."""
    while into.count(b"\n") < lines:
        into.extend(await anext(chunks))


async def test_an_export_then_its_cursor_keep_an_exact_mirror_through_writes_made_meanwhile(
    live: Live, local: Runtime, http: httpx.AsyncClient
) -> None:
    tenant = await a_book(local, live.base)
    before = await exported(http, tenant)
    keys = list(before)  # in the export's order: by key
    answer = await started_export(http, tenant)
    chunks = answer.aiter_raw()
    received = bytearray()
    try:
        await read_lines(chunks, received, 3)
        # While it streams: change a followup it has sent and one it has not, create some,
        # and delete a debt whose followups it has not sent yet.
        writes = [
            http.put(f"{API}/followups/{keys[0]}", json={"notes": "after"}, headers=tenant.headers),
            http.put(f"{API}/followups/{keys[-1]}", json={"status": "deal_found"},
                     headers=tenant.headers),
            *(http.post(f"{API}/followups", json={"debt_id": tenant.debts[0], "type": "email"},
                        headers=tenant.headers) for _ in range(3)),
            http.delete(f"{API}/debts/{tenant.debts[5]}", headers=tenant.headers),
        ]  # fmt: skip
        for write in writes:
            done = await write
            assert done.status_code in (200, 201), done.text
        async for chunk in chunks:
            received.extend(chunk)
    finally:
        await answer.aclose()
    lines = [json.loads(line) for line in received.decode().splitlines()]
    assert set(lines[-1]) == {"next_cursor"}, "the export was cut"
    snapshot = {line["id"]: line for line in lines[:-1]}
    # One snapshot: the book as it was when the export began, none of the writes in it.
    assert snapshot == before
    assert {line["debt_id"] for line in snapshot.values()} <= set(tenant.debts)
    mirror = Mirror(lines[-1]["next_cursor"])
    mirror.rows = dict(snapshot)
    await mirror.catch_up(http, tenant, limit=100)
    assert mirror.rows == await exported(http, tenant)
    deletions = [e for e in mirror.entries if e["action"] == "delete"]
    assert len(deletions) == BOOK_PER_DEBT
    assert {e["debt_id"] for e in deletions} == {tenant.debts[5]}


async def test_an_export_beside_a_write_in_progress_loses_nothing(
    live: Live, local: Runtime, http: httpx.AsyncClient
) -> None:
    tenant = await new_tenant(local, live.base, debts=2)
    await created(local, tenant, tenant.debts[0])
    await exported(http, tenant)  # numbers it
    # Committed and not numbered yet when a write takes it: a numbering must skip it.
    changing = await created(local, tenant, tenant.debts[1])
    holding, release = asyncio.Event(), asyncio.Event()

    async def transaction() -> None:
        async with unit_of_work(local.db) as work:
            await updated(local, work.conn, tenant, changing, notes="held")
            holding.set()
            await asyncio.wait_for(release.wait(), HOLD_SECONDS)

    writing = asyncio.create_task(transaction())
    try:
        await asyncio.wait_for(holding.wait(), HOLD_SECONDS)
        export = asyncio.create_task(export_lines(http, tenant, include_media="false"))
        if live.dialect == "postgresql":
            # The export waits for nothing of the write's.
            lines = await asyncio.wait_for(export, HOLD_SECONDS / 2)
        else:
            # SQLite: it numbers first, under the one writer's lock, after the write.
            await asyncio.sleep(1)
            assert not export.done()
    finally:
        release.set()
    await writing
    if live.dialect == "sqlite":
        lines = await asyncio.wait_for(export, HOLD_SECONDS)
    mirror = Mirror(lines[-1]["next_cursor"])
    mirror.rows = {line["id"]: line for line in lines[:-1]}
    await mirror.catch_up(http, tenant, limit=1)
    assert mirror.rows == await exported(http, tenant)
    assert mirror.rows[changing]["notes"] == "held"
