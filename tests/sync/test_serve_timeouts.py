"""A bug found by the sync tests, in `relance serve`'s HTTP edge (relance.serving.EdgeProtocol),
not in the feed: an answer that takes longer than RELANCE_HEADER_TIMEOUT_SECONDS (default 10 s)
is cut, the connection closed with no answer or in the middle of a stream.

In `data_received`, once the parser has seen a whole request (`on_message_complete` sets
`_in_head` again), the head deadline is armed for the connection's next request, while the
app is still answering this one. When it fires, `_head_overdue` finds no byte of a next head
and closes the transport. So a long poll with `wait` above 10 s and nothing new gets no
answer at 10 s ("Server disconnected without sending a response"), an export that streams
for more than 10 s is cut after the bytes already buffered (its client sees an export without
its `next_cursor` line, and `relance followups sync` can never mirror a book that takes longer),
and a request that waits 10 s for SQLite's write lock is dropped instead of answered 503.
Measured with the default settings: a long poll with wait=20 or wait=30 cut at 10.0 s on
SQLite and PostgreSQL; an export read at about 1.3 MB/s cut after 26 MB of 34 MB.

The fix proposed: arm the next head's deadline only once the answer is complete (in an
`on_response_complete` override, as uvicorn arms its keep-alive timeout), not while
`self.cycle` is answering. The tests shorten the timeout to 2 s to show it quickly; the edge is
the same whatever the database, so they run on SQLite."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.sync.live import (
    CHANGES,
    EXPORT,
    HTTP_TIMEOUT,
    Live,
    feed_page,
    live_deployment,
    load_book,
    local_runtime,
    new_tenant,
)

HEAD_TIMEOUT = 2


@pytest.fixture
def impatient(tmp_path: Path) -> Iterator[Live]:
    env = {"RELANCE_HEADER_TIMEOUT_SECONDS": str(HEAD_TIMEOUT)}
    with live_deployment("sqlite", tmp_path, extra_env=env) as deployment:
        yield deployment


@pytest.fixture
async def http(impatient: Live) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=impatient.base, timeout=HTTP_TIMEOUT) as client:
        yield client


async def test_a_long_poll_longer_than_the_head_timeout_is_answered(
    impatient: Live, http: httpx.AsyncClient
) -> None:
    async with local_runtime(impatient) as runtime:
        tenant = await new_tenant(runtime, impatient.base)
    now = (await feed_page(http, tenant, cursor="now"))["next_cursor"]
    params = {"cursor": now, "wait": HEAD_TIMEOUT * 2}
    answer = await http.get(CHANGES, params=params, headers=tenant.headers)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"error": False, "data": [], "next_cursor": now, "has_more": False}


async def test_an_export_streamed_longer_than_the_head_timeout_is_whole(
    impatient: Live, http: httpx.AsyncClient
) -> None:
    async with local_runtime(impatient) as runtime:
        tenant = await new_tenant(runtime, impatient.base, debts=10)
        await load_book(runtime, tenant.company_id, tenant.debts, 400)
    received = bytearray()
    headers = {**tenant.headers, "Accept-Encoding": "identity"}
    async with http.stream("GET", EXPORT, headers=headers) as answer:
        assert answer.status_code == 200
        async for chunk in answer.aiter_raw():
            received.extend(chunk)
            # A client slower than the server (it writes what it reads): a few seconds.
            await asyncio.sleep(0.01)
    lines = received.decode().splitlines()
    assert len(lines) == 4001
    assert set(json.loads(lines[-1])) == {"next_cursor"}
