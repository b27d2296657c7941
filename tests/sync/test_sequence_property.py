"""The key property of the changes feed (issue 22 §5), on SQLite and PostgreSQL: while several
writers change a company's followups, pausing inside their transactions (after their change is
recorded, too) and rolling some back, readers following the feed over HTTP with small pages
each end with a copy equal to the company's followups, and never see a rolled-back change.

The writers run in this process through the services in a unit of work, as the API's writes
do; the readers read a real `relance serve` on the same database, so that their pages are
served while the writers' transactions are open, and number the changes committed as they read
(several readers: several numberings at once). What would break it is a change committed with a
number below one a reader has already passed: the reader never goes back, and its copy would
lack that change for ever. Numbered in the write from a counter outside its transaction (as a
sequence is), the changes fail this test on PostgreSQL within a few examples."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Literal

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from relance.db import Connection
from relance.deletions.service import delete_debt
from relance.errors import NotFound
from relance.followups.enums import FollowupStatus, FollowupType
from relance.followups.service import create_followup, update_followup
from relance.runtime import Runtime
from relance.units import unit_of_work
from tests.sync.live import (
    API,
    HTTP_TIMEOUT,
    Live,
    Mirror,
    Tenant,
    body,
    exported,
    links,
    live_deployment,
    local_runtime,
    new_tenant,
)

# A bound on one example, whatever the draws: writers and reader together.
EXAMPLE_SECONDS = 60
STABLE_DEBTS, DELETABLE_DEBTS, FIRST_FOLLOWUPS = 3, 2, 2
TYPES = [FollowupType.CALL, FollowupType.EMAIL, FollowupType.SMS, FollowupType.VOICEMAIL]
STATUSES = [FollowupStatus.SCHEDULED, FollowupStatus.DELIVERED, FollowupStatus.NO_ANSWER,
            FollowupStatus.DEAL_FOUND, FollowupStatus.FAILED]  # fmt: skip
Kind = Literal["create", "note", "status", "delete", "http_note"]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    with live_deployment(request.param, tmp_path_factory.mktemp("property")) as deployment:
        yield deployment


@pytest.fixture
async def local(live: Live) -> AsyncIterator[Runtime]:
    async with local_runtime(live) as runtime:
        yield runtime


@dataclass(frozen=True)
class Write:
    """One transaction: a pause, one change, a pause holding it uncommitted, then a commit or
    a rollback. `http_note` is a PUT through the server instead, a writer in another
    process."""

    kind: Kind
    pick: int
    before: float
    after: float
    rollback: bool


@dataclass(frozen=True)
class Reader:
    limits: list[int]
    pauses: list[float]
    long_poll: bool


pause = st.sampled_from([0.0, 0.0, 0.005, 0.02, 0.05])
writes = st.builds(
    Write,
    kind=st.sampled_from(["create", "create", "note", "note", "status", "delete", "http_note"]),
    pick=st.integers(0, 30),
    before=pause,
    after=pause,
    rollback=st.booleans(),
)
readers = st.builds(
    Reader,
    limits=st.lists(st.integers(1, 5), min_size=1, max_size=6),
    pauses=st.lists(st.sampled_from([0.0, 0.002, 0.01]), min_size=1, max_size=4),
    long_poll=st.booleans(),
)


class RolledBack(Exception):
    """Raised inside a unit of work to roll its transaction back."""


@dataclass
class Book:
    """A company being written, and what its writers know of what committed."""

    runtime: Runtime
    http: httpx.AsyncClient
    tenant: Tenant
    stable: list[str]
    deletable: list[str]
    # Each committed followup's debt, by followup ID.
    followups: dict[str, str] = field(default_factory=dict)
    # The notes of the writes that did not commit (each write's notes are its own). A
    # rolled-back create's key may be given again on SQLite, so the notes tell them apart.
    unseen_notes: set[str] = field(default_factory=set)

    @classmethod
    async def open(cls, runtime: Runtime, http: httpx.AsyncClient, base: str) -> Book:
        tenant = await new_tenant(runtime, base, STABLE_DEBTS + DELETABLE_DEBTS)
        book = cls(runtime, http, tenant, tenant.debts[:STABLE_DEBTS], tenant.debts[STABLE_DEBTS:])
        for n, debt in enumerate(book.deletable * FIRST_FOLLOWUPS + book.stable):
            async with unit_of_work(runtime.db) as work:
                made = await book._create(work.conn, debt, n, f"first-{n}")
            book.followups[made] = debt
        return book

    async def _create(self, conn: Connection, debt: str, pick: int, notes: str) -> str:
        sent = body(debt_id=debt, type=TYPES[pick % len(TYPES)],
                    status=STATUSES[pick % len(STATUSES)], notes=notes)  # fmt: skip
        view = await create_followup(
            conn, self.runtime.ids, self.tenant.company_id, sent, links(self.runtime),
            self.runtime.events,
        )  # fmt: skip
        return str(view.id)

    async def _update(self, conn: Connection, followup: str, **fields: str) -> None:
        await update_followup(
            conn, self.runtime.ids, self.tenant.company_id, followup, body(**fields),
            links(self.runtime), self.runtime.events,
        )  # fmt: skip

    def _target(self, write: Write) -> tuple[Kind, str]:
        """What the write changes: a followup (only those on stable debts change status, so
        that no two writers lock a debt and the counts in opposite orders), or a debt."""
        if write.kind == "delete":
            return "delete", self.deletable[write.pick % len(self.deletable)]
        pool = sorted(self.followups)
        if write.kind == "status":
            pool = [f for f in pool if self.followups[f] in self.stable]
        if write.kind == "create" or not pool:
            return "create", self.stable[write.pick % len(self.stable)]
        return write.kind, pool[write.pick % len(pool)]

    async def write(self, write: Write, notes: str) -> None:
        kind, target = self._target(write)
        if kind == "http_note":
            await self._put_through_the_server(target, notes)
            return
        made: str | None = None
        try:
            async with unit_of_work(self.runtime.db) as work:
                await asyncio.sleep(write.before)
                if kind == "create":
                    made = await self._create(work.conn, target, write.pick, notes)
                elif kind == "delete":
                    await delete_debt(work.conn, self.runtime.ids, self.tenant.company_id, target)
                elif kind == "status":
                    status = STATUSES[write.pick % len(STATUSES)]
                    await self._update(work.conn, target, status=status, notes=notes)
                else:
                    await self._update(work.conn, target, notes=notes)
                # The change is recorded: hold it, uncommitted, a while.
                await asyncio.sleep(write.after)
                if write.rollback:
                    raise RolledBack
        except (RolledBack, NotFound):
            # NotFound: a followup, or a debt, that a concurrent deletion took first.
            self.unseen_notes.add(notes)
            return
        if made is not None:
            self.followups[made] = target
        if kind == "delete":
            self.followups = {f: d for f, d in self.followups.items() if d != target}

    async def _put_through_the_server(self, followup: str, notes: str) -> None:
        answer = await self.http.put(
            f"{API}/followups/{followup}", json={"notes": notes}, headers=self.tenant.headers
        )
        if answer.status_code == 404:  # deleted meanwhile
            self.unseen_notes.add(notes)
            return
        assert answer.status_code == 200, answer.text


async def writer(book: Book, name: str, plan: list[Write]) -> None:
    for n, write in enumerate(plan):
        await book.write(write, f"{name}.{n}")


async def follow(book: Book, mirror: Mirror, reader: Reader, done: asyncio.Event) -> int:
    """Read small pages as fast as the reader's pauses allow until the writers are done, then
    to the end; how many pages were read."""
    reads = 0
    empty = False
    while not done.is_set():
        limit = reader.limits[reads % len(reader.limits)]
        wait = {"wait": 1} if reader.long_poll and empty else {}
        page = await mirror.read(book.http, book.tenant, limit, **wait)
        empty = not page["data"]
        reads += 1
        await asyncio.sleep(reader.pauses[reads % len(reader.pauses)])
    await mirror.catch_up(book.http, book.tenant, limit=reader.limits[0])
    return reads


@examples(
    max_examples=10,
    deadline=None,
    # No explain phase: it reruns a failing example hundreds of times, minutes of servers.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plans=st.lists(st.lists(writes, min_size=1, max_size=4), min_size=2, max_size=4),
       readers=st.lists(readers, min_size=1, max_size=3))  # fmt: skip
async def test_readers_of_the_feed_end_with_the_companys_followups_exactly(
    live: Live, local: Runtime, plans: list[list[Write]], readers: list[Reader]
) -> None:
    mirrors = [Mirror() for _ in readers]
    async with (
        asyncio.timeout(EXAMPLE_SECONDS),
        httpx.AsyncClient(base_url=live.base, timeout=HTTP_TIMEOUT) as http,
    ):
        book = await Book.open(local, http, live.base)
        done = asyncio.Event()
        tag = secrets.token_hex(3)
        reading = [
            asyncio.create_task(follow(book, mirror, reader, done))
            for mirror, reader in zip(mirrors, readers, strict=True)
        ]
        try:
            await asyncio.gather(
                *(writer(book, f"{tag}-w{n}", plan) for n, plan in enumerate(plans))
            )
        finally:
            done.set()
            await asyncio.gather(*reading)
        now = await exported(http, book.tenant)

    assert set(now) == set(book.followups)
    for mirror in mirrors:
        assert mirror.rows == now
        seen = {e["followup"]["notes"] for e in mirror.entries if e["action"] == "upsert"}
        assert not seen & book.unseen_notes, "a change that never committed was in the feed"
