"""Real `relance serve` processes on a database this test process also opens, for the sync tests
that need true concurrency: the AsyncTestClient runs each request on the test's own loop, so a
reader there can never read while a writer's transaction is open.

The test process writes through the services in a unit of work, as every API write does, on the
same database and with the same secret key as the servers; a reader follows the feed over HTTP."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import httpx

from relance.changes import repository as changes
from relance.config import Settings
from relance.debts.records import DebtRecord
from relance.debts.repository import insert_debt
from relance.events.records import now_us
from relance.followups.bodies import FollowupBody
from relance.followups.records import FollowupRecord
from relance.followups.repository.writes import insert_followups
from relance.kit.time import utc_now
from relance.media.links import MediaLinks
from relance.resources import Resource
from relance.runtime import Runtime, open_runtime
from relance.schema import upgrade
from relance.units import unit_of_work
from tests.commands import served
from tests.conftest import SECRET
from tests.factories import create_client, create_company
from tests.postgres import scratch_database

API = "/external-api/v1"
CHANGES = f"{API}/followups/changes"
EXPORT = f"{API}/followups/export"
# Every HTTP call of these tests is bounded: a hang fails the test instead of blocking the run.
HTTP_TIMEOUT = httpx.Timeout(30.0)
Json = dict[str, Any]
T = TypeVar("T")


@dataclass(frozen=True)
class Live:
    """A deployment: its data dir, its database (None: the SQLite file in the data dir), the
    environment its processes run with, and the base URL of each `relance serve`."""

    home: Path
    database_url: str | None
    env: dict[str, str]
    bases: list[str]

    @property
    def base(self) -> str:
        return self.bases[0]

    @property
    def dialect(self) -> str:
        return "sqlite" if self.database_url is None else "postgresql"

    def settings(self) -> Settings:
        return Settings(data_dir=self.home, database_url=self.database_url, secret_key=SECRET)


@contextmanager
def live_deployment(
    backend: str, root: Path, servers: int = 1, extra_env: dict[str, str] | None = None
) -> Iterator[Live]:
    """A migrated deployment on `backend` (a scratch PostgreSQL database, or SQLite in a data
    dir under `root`) with `servers` `relance serve` processes on it, stopped at the end."""
    home = root / f"home-{secrets.token_hex(3)}"
    with ExitStack() as stack:
        url = None if backend == "sqlite" else stack.enter_context(scratch_database("relance_sync"))
        env = {
            "RELANCE_SECRET_KEY": SECRET,
            "RELANCE_RATE_LIMIT_ENABLED": "false",
            "RELANCE_ACCESS_LOG": "false",
            **({} if url is None else {"RELANCE_DATABASE_URL": url}),
            **(extra_env or {}),
        }
        live = Live(home, url, env, [])
        upgrade(live.settings().database)
        for n in range(servers):
            log = root / f"serve-{home.name}-{n}.log"
            _, base = stack.enter_context(served(home, env, log, 1, "--no-deliver"))
            live.bases.append(base)
        yield live


@asynccontextmanager
async def local_runtime(live: Live) -> AsyncIterator[Runtime]:
    """The deployment opened in this process, as a CLI command opens it."""
    runtime = await open_runtime(live.settings())
    try:
        yield runtime
    finally:
        await runtime.close()


@dataclass
class Tenant:
    """A company of the deployment, with an API client's token and a few debts (public IDs)."""

    company_id: int
    token: str
    debts: list[str] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def new_tenant(runtime: Runtime, base: str, debts: int = 1) -> Tenant:
    company_id = await create_company(runtime, f"Sync {secrets.token_hex(3)}")
    tenant = Tenant(company_id, await new_client_token(runtime, base, company_id))
    for _ in range(debts):
        tenant.debts.append(await new_debt(runtime, company_id))
    return tenant


async def new_client_token(runtime: Runtime, base: str, company_id: int) -> str:
    """The access token of a new API client of the company (every scope)."""
    credentials = await create_client(runtime, company_id)
    form = {
        "grant_type": "client_credentials",
        "client_id": credentials.client_id,
        "client_secret": credentials.client_secret,
    }
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as http:
        answer = await http.post(f"{base}/token", data=form)
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


async def new_debt(runtime: Runtime, company_id: int) -> str:
    record = DebtRecord(
        firstname="Camille",
        lastname="Durand",
        amount=Decimal("90.00"),
        currency="EUR",
        phone="+33612345678",
        status="status.default.pending",
    )
    key = await insert_debt(runtime.db, company_id, record, utc_now())
    return runtime.ids.encode(Resource.DEBT, key)


async def load_book(
    runtime: Runtime,
    company_id: int,
    debts: list[str],
    per_debt: int,
    notes: str | None = "n" * 8_000,
) -> None:
    """Many followups on each of these debts in one transaction, numbered in the change
    sequence, as a book loaded whole (the demo's). Their notes are long by default, so that an
    export of a few thousand is tens of megabytes: more than the sockets between a server and
    a client that stops reading can hold, which keeps the server in the middle of its
    stream."""
    now = utc_now()
    record = FollowupRecord(type="email", status="delivered", notes=notes, processed_at=now)
    async with unit_of_work(runtime.db) as work:
        for debt in debts:
            key = runtime.ids.find(Resource.DEBT, debt)
            assert key is not None
            await insert_followups(work.conn, company_id, key, [record] * per_debt, now)
        await changes.record_all(work.conn, company_id, now_us())


def links(runtime: Runtime) -> MediaLinks:
    return MediaLinks(runtime.media, "http://testserver", 60, 0)


def body(**fields: Any) -> FollowupBody:
    """A body as a client sends it (JSON: the model is strict about types)."""
    return FollowupBody.model_validate_json(json.dumps(fields))


async def feed_page(http: httpx.AsyncClient, tenant: Tenant, **params: Any) -> Json:
    answer = await http.get(CHANGES, params=params, headers=tenant.headers)
    assert answer.status_code == 200, answer.text
    page: Json = answer.json()
    return page


class Mirror:
    """A reader's copy of a company's followups, kept from the feed alone, with what it saw on
    the way: every entry's number, in the order read."""

    def __init__(self, cursor: str | None = None) -> None:
        self.rows: dict[str, Json] = {}
        self.cursor = cursor
        self.seqs: list[int] = []
        self.entries: list[Json] = []

    def apply(self, page: Json) -> None:
        for entry in page["data"]:
            # Commit order across pages: every number is past every one read before it.
            assert not self.seqs or entry["seq"] > self.seqs[-1], (self.seqs[-5:], entry)
            self.seqs.append(entry["seq"])
            self.entries.append(entry)
            if entry["action"] == "upsert":
                self.rows[entry["followup"]["id"]] = entry["followup"]
            else:
                assert entry["action"] == "delete", entry
                self.rows.pop(entry["id"], None)
        self.cursor = page["next_cursor"]

    async def read(
        self, http: httpx.AsyncClient, tenant: Tenant, limit: int, **params: Any
    ) -> Json:
        """One page after the cursor, applied."""
        if self.cursor is not None:
            params["cursor"] = self.cursor
        page = await feed_page(http, tenant, limit=limit, include_media="false", **params)
        self.apply(page)
        return page

    async def catch_up(
        self, http: httpx.AsyncClient, tenant: Tenant, limit: int = 100, seconds: float = 30
    ) -> None:
        """Pages until one says nothing more is there."""
        deadline = time.monotonic() + seconds
        while (await self.read(http, tenant, limit))["has_more"]:
            assert time.monotonic() < deadline, "the feed did not end in time"


async def export_lines(http: httpx.AsyncClient, tenant: Tenant, **params: Any) -> list[Json]:
    """A whole export, its lines parsed; the last is `{"next_cursor"}`."""
    answer = await http.get(EXPORT, params=params, headers=tenant.headers)
    assert answer.status_code == 200, answer.text
    lines = [json.loads(line) for line in answer.text.splitlines()]
    assert set(lines[-1]) == {"next_cursor"}, lines[-1:]
    return lines


async def exported(http: httpx.AsyncClient, tenant: Tenant) -> dict[str, Json]:
    """The company's followups now, by ID, from an export (media left out, as the mirror)."""
    lines = await export_lines(http, tenant, include_media="false")
    rows = {line["id"]: line for line in lines[:-1]}
    assert len(rows) == len(lines) - 1, "an export gives each followup once"
    return rows


async def eventually(
    check: Callable[[], Awaitable[T | None]], seconds: float, every: float = 0.1
) -> T:
    """Await `check()` until it returns something true, for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        found = await check()
        if found:
            return found
        assert time.monotonic() < deadline, f"not within {seconds} s"
        await asyncio.sleep(every)
