"""The count tables behind `pagination.total`, on SQLite and on PostgreSQL.

Followups are written at random (one by one, several in one transaction, or in bulk through
executemany) and the counts kept in step with each write are checked against the rows
themselves: against a COUNT(*) for every filter a client can ask for, against what
`counts.rebuild` recounts from scratch, and against an independent tally made in Python. Then
several writers insert at once while readers page through the list: every answer must be a
consistent snapshot, whatever is committed around it.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import httpx
import pytest

from relance.app import create_app
from relance.db import Connection, Database
from relance.followups import counts
from relance.followups.counts import ANY
from relance.followups.enums import FollowupStatus, FollowupType
from relance.followups.records import FollowupRecord
from relance.followups.repository.writes import insert_followups
from relance.kit.time import utc_now
from relance.resources import Resource
from relance.runtime import Runtime
from tests.factories import (
    Client,
    at,
    bearer,
    create_client,
    create_company,
    create_debt,
    followup_values,
    insert_counted,
    token_for,
)

URL = "/external-api/v1/followups"
DAYS = [date(2024, 3, day) for day in range(1, 7)]
# Written ones; CANCELLED and POSTMAIL are asked for but never written.
STATUSES = [
    FollowupStatus.DELIVERED,
    FollowupStatus.NO_ANSWER,
    FollowupStatus.SCHEDULED,
    FollowupStatus.FAILED,
]
TYPES = [FollowupType.CALL, FollowupType.EMAIL, FollowupType.SMS]
# The same moments written in other offsets: the day that counts is the UTC one.
OFFSETS = [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5))]
# On and next to UTC day boundaries, so that a day counted on the wrong side shows.
SECONDS_INTO_DAY = [0, 1, 12 * 3600, 86_399]

Counts = dict[tuple[Any, ...], int]
CountsSnapshot = tuple[Counts, Counts, Counts]


@pytest.fixture(params=[0, 1000], ids=["seek", "walk"])
def seek_from_offset(request: pytest.FixtureRequest) -> int:
    """Every page through the day-count seek, and every page through the index walk."""
    offset: int = request.param
    return offset


@dataclass(frozen=True)
class Written:
    """What the test knows of a followup it wrote, found again by its unique `notes`."""

    company_id: int
    marker: str
    status: str
    type: str
    activity: datetime  # in UTC

    @property
    def day(self) -> date:
        return self.activity.date()


@dataclass(frozen=True)
class Query:
    status: FollowupStatus | None = None
    type: FollowupType | None = None
    date_from: date | None = None
    date_to: date | None = None

    def params(self) -> dict[str, str]:
        params: dict[str, str] = {}
        if self.status is not None:
            params["status"] = self.status.value
        if self.type is not None:
            params["type"] = self.type.value
        if self.date_from is not None:
            params["date_from"] = self.date_from.isoformat()
        if self.date_to is not None:
            params["date_to"] = self.date_to.isoformat()
        return params

    def admits(self, row: Written) -> bool:
        return (
            self.status in (None, row.status)
            and self.type in (None, row.type)
            and (self.date_from is None or row.day >= self.date_from)
            and (self.date_to is None or row.day <= self.date_to)
        )

    def where(self, company_id: int) -> tuple[str, list[Any]]:
        """The same filter as plain SQL over the followups: whole UTC days, both inclusive."""
        conditions, args = ["company_id = $1"], [company_id]

        def bind(condition: str, value: Any) -> None:
            args.append(value)
            conditions.append(f"{condition} ${len(args)}")

        if self.status is not None:
            bind("status =", self.status.value)
        if self.type is not None:
            bind("type =", self.type.value)
        if self.date_from is not None:
            bind("activity_at >=", datetime.combine(self.date_from, time.min, UTC))
        if self.date_to is not None:
            next_day = self.date_to + timedelta(days=1)
            bind("activity_at <", datetime.combine(next_day, time.min, UTC))
        return " AND ".join(conditions), args


DATE_RANGES: list[tuple[date | None, date | None]] = [
    (None, None),
    (DAYS[1], None),
    (None, DAYS[3]),
    (DAYS[2], DAYS[2]),
    (DAYS[1], DAYS[4]),
    (date(2024, 2, 1), date(2024, 2, 29)),
]
EVERY_QUERY = [
    Query(status, kind, date_from, date_to)
    for status, kind, (date_from, date_to) in itertools.product(
        [None, FollowupStatus.DELIVERED, FollowupStatus.NO_ANSWER, FollowupStatus.CANCELLED],
        [None, FollowupType.CALL, FollowupType.SMS, FollowupType.POSTMAIL],
        DATE_RANGES,
    )
]
READER_QUERIES = [
    Query(),
    Query(status=FollowupStatus.DELIVERED),
    Query(type=FollowupType.CALL),
    Query(status=FollowupStatus.NO_ANSWER, type=FollowupType.SMS),
    Query(date_from=DAYS[1], date_to=DAYS[3]),
    Query(type=FollowupType.EMAIL, date_from=DAYS[4]),
    Query(status=FollowupStatus.FAILED, date_to=DAYS[0]),
]


@dataclass
class Owner:
    company_id: int
    debts: list[int]


async def owner(runtime: Runtime, name: str, debts: int = 3) -> Owner:
    company_id = await create_company(runtime, name)
    return Owner(company_id, [await create_debt(runtime, company_id) for _ in range(debts)])


class Markers:
    """Unique `notes` values, so that each row read back is known for what it was written."""

    def __init__(self) -> None:
        self._next = itertools.count()

    def __call__(self) -> str:
        return f"m{next(self._next)}"


def random_moment(rng: random.Random) -> datetime:
    seconds = rng.choice([*SECONDS_INTO_DAY, rng.randrange(86_400)])
    moment = datetime.combine(rng.choice(DAYS), time.min, UTC) + timedelta(seconds=seconds)
    return moment.astimezone(rng.choice(OFFSETS))


def random_followup(rng: random.Random, marker: str) -> FollowupRecord:
    return followup_values(
        status=rng.choice(STATUSES).value,
        type=rng.choice(TYPES).value,
        call_date=random_moment(rng) if rng.random() < 0.5 else None,
        scheduled_at=random_moment(rng) if rng.random() < 0.5 else None,
        processed_at=random_moment(rng),
        notes=marker,
    )


def written(company_id: int, values: FollowupRecord) -> Written:
    activity = values.call_date or values.scheduled_at or values.processed_at
    assert activity is not None
    assert values.notes is not None
    return Written(company_id, values.notes, values.status, values.type, activity.astimezone(UTC))


async def write_batch(
    db: Database, company_id: int, debt_id: int, batch: list[FollowupRecord], how: str
) -> None:
    """One batch of followups of one debt, written the way `how` says."""
    now = utc_now()
    if how == "direct":  # as tests/factories.py does: no transaction of its own
        for values in batch:
            await insert_counted(db, company_id, debt_id, values, now)
        return
    async with db.transaction() as conn:
        if how == "bulk":
            await insert_followups(conn, company_id, debt_id, batch, now)
        else:
            for values in batch:
                await insert_counted(conn, company_id, debt_id, values, now)


async def populate(
    runtime: Runtime, rng: random.Random, owners: list[Owner], markers: Markers, size: int
) -> list[Written]:
    book: list[Written] = []
    while len(book) < size:
        owner = rng.choice(owners)
        batch = [random_followup(rng, markers()) for _ in range(rng.choice([1, 1, 2, 3, 5, 8]))]
        how = rng.choice(
            ["bulk", "bulk", "each", "direct"] if len(batch) > 1 else ["bulk", "each", "direct"]
        )
        await write_batch(runtime.db, owner.company_id, rng.choice(owner.debts), batch, how)
        book.extend(written(owner.company_id, values) for values in batch)
    return book


async def snapshot(conn: Connection) -> CountsSnapshot:
    """The count tables, without the rows that count nothing."""
    totals = {
        (int(row[0]), row[1], row[2]): int(row[3])
        for row in await conn.fetch("SELECT company_id, status, type, n FROM followup_totals")
        if row[3]
    }
    days = {
        (int(row[0]), row[1], row[2], date.fromisoformat(str(row[3]))): int(row[4])
        for row in await conn.fetch(
            "SELECT company_id, status, type, day, n FROM followup_day_counts"
        )
        if row[4]
    }
    months = {
        (int(row[0]), row[1], row[2], date.fromisoformat(str(row[3]))): int(row[4])
        for row in await conn.fetch(
            "SELECT company_id, status, type, month, n FROM followup_month_counts"
        )
        if row[4]
    }
    return totals, days, months


def tally(book: Sequence[Written]) -> CountsSnapshot:
    """The count tables worked out in Python: each followup under its four keys, per UTC day
    and month."""
    totals: Counter[tuple[Any, ...]] = Counter()
    days: Counter[tuple[Any, ...]] = Counter()
    months: Counter[tuple[Any, ...]] = Counter()
    for row in book:
        for status in (row.status, ANY):
            for kind in (row.type, ANY):
                totals[(row.company_id, status, kind)] += 1
                days[(row.company_id, status, kind, row.day)] += 1
                months[(row.company_id, status, kind, row.day.replace(day=1))] += 1
    return dict(totals), dict(days), dict(months)


async def rebuilt(db: Database) -> CountsSnapshot:
    async with db.transaction() as conn:
        await counts.rebuild(conn)
    return await snapshot(db)


async def count_rows(db: Database, query: Query, company_id: int) -> int:
    where, args = query.where(company_id)
    return int(await db.fetchval(f"SELECT count(*) FROM followups WHERE {where}", *args))


async def test_totals_equal_a_count_of_the_rows_for_every_filter(
    runtime: Runtime, client: Client
) -> None:
    rng = random.Random(20_261_127)
    owners = [await owner(runtime, name) for name in ("Alpha", "Beta", "Gamma")]
    book = await populate(runtime, rng, owners, Markers(), 240)

    for tenant in owners[:2]:
        headers = bearer(await token_for(client, await create_client(runtime, tenant.company_id)))
        mine = [row for row in book if row.company_id == tenant.company_id]
        for query in EVERY_QUERY:
            expected = await count_rows(runtime.db, query, tenant.company_id)
            assert expected == sum(query.admits(row) for row in mine), query
            # One row, anywhere from the first page to just past the last.
            page = rng.randint(1, expected + 1)
            params = {**query.params(), "limit": "1", "page": str(page)}
            response = await client.get(URL, params=params, headers=headers)
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["pagination"] == {
                "total": expected,
                "page": page,
                "limit": 1,
                "pages": expected,
            }, query
            where, args = query.where(tenant.company_id)
            nth = await runtime.db.fetchval(
                f"SELECT id FROM followups WHERE {where}"
                f" ORDER BY activity_at DESC, id DESC LIMIT 1 OFFSET {page - 1}",
                *args,
            )
            keys = [runtime.ids.decode(Resource.FOLLOWUP, item["id"]) for item in body["data"]]
            assert keys == ([] if nth is None else [int(nth)]), (query, page)


async def test_counts_kept_on_each_write_equal_a_rebuild(runtime: Runtime) -> None:
    rng = random.Random(4242)
    owners = [await owner(runtime, name) for name in ("Alpha", "Beta", "Gamma")]
    book = await populate(runtime, rng, owners, Markers(), 300)

    incremental = await snapshot(runtime.db)
    assert incremental == tally(book)
    assert await rebuilt(runtime.db) == incremental


async def test_deltas_that_only_move_a_followup_to_another_day_move_its_day_counts(
    runtime: Runtime, client: Client
) -> None:
    tenant = await owner(runtime, "Alpha", debts=1)
    first, moved = at("2024-03-01T10:00:00"), at("2024-03-02T10:00:00")
    values = followup_values(status="delivered", type="call", call_date=first)
    async with runtime.db.transaction() as conn:
        key = await insert_counted(conn, tenant.company_id, tenant.debts[0], values, utc_now())
    # Rescheduled to the next day, as an update of its call_date would be.
    async with runtime.db.transaction() as conn:
        await conn.execute(
            "UPDATE followups SET call_date = $1, activity_at = $1 WHERE id = $2", moved, key
        )
        await counts.apply_deltas(
            conn,
            [
                (counts.count_key(tenant.company_id, "delivered", "call", first), -1),
                (counts.count_key(tenant.company_id, "delivered", "call", moved), 1),
            ],
        )

    headers = bearer(await token_for(client, await create_client(runtime, tenant.company_id)))
    response = await client.get(
        URL, params={"date_from": "2024-03-02", "limit": "1"}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["pagination"]["total"] == 1
    assert await snapshot(runtime.db) == await rebuilt(runtime.db)


@dataclass
class Ledger:
    """The followups of one company as the writers progress; both lists only ever grow.

    A row is in `started` before its transaction begins and in `committed` once its commit has
    returned, so a read sees every row committed before it began and nothing not yet started.
    """

    started: list[Written] = field(default_factory=list)
    committed: list[Written] = field(default_factory=list)
    by_marker: dict[str, Written] = field(default_factory=dict)


async def writer(
    runtime: Runtime,
    rng: random.Random,
    tenant: Owner,
    ledger: Ledger,
    markers: Markers,
    rounds: int,
) -> None:
    for _ in range(rounds):
        batch = [random_followup(rng, markers()) for _ in range(rng.choice([1, 1, 2, 3, 6]))]
        rows = [written(tenant.company_id, values) for values in batch]
        ledger.by_marker.update((row.marker, row) for row in rows)
        ledger.started.extend(rows)
        how = rng.choice(["bulk", "each"])
        await write_batch(runtime.db, tenant.company_id, rng.choice(tenant.debts), batch, how)
        ledger.committed.extend(rows)


def activity_of(item: dict[str, Any]) -> datetime:
    text: str = item["call_date"] or item["scheduled_at"] or item["processed_at"]
    return datetime.fromisoformat(text)


async def reader(
    http: httpx.AsyncClient,
    runtime: Runtime,
    rng: random.Random,
    headers: dict[str, str],
    ledger: Ledger,
    writers_done: asyncio.Event,
) -> int:
    reads = 0
    while reads < 10 or (not writers_done.is_set() and reads < 300):
        reads += 1
        query, limit = rng.choice(READER_QUERIES), rng.choice([1, 3, 10, 50, 100])
        committed_before = list(ledger.committed)
        guess = sum(query.admits(row) for row in ledger.started)
        offset = rng.randint(0, guess + limit)
        page = offset // limit + 1
        offset = (page - 1) * limit
        params = {**query.params(), "limit": str(limit), "page": str(page)}
        response = await http.get(URL, params=params, headers=headers)
        started_after = list(ledger.started)

        assert response.status_code == 200, response.text
        body = response.json()
        total: int = body["pagination"]["total"]
        low = sum(query.admits(row) for row in committed_before)
        high = sum(query.admits(row) for row in started_after)
        assert low <= total <= high, (query, low, total, high)
        assert body["pagination"] == {
            "total": total,
            "page": page,
            "limit": limit,
            "pages": -(-total // limit),
        }
        assert len(body["data"]) == min(limit, max(total - offset, 0)), (query, page, total)
        order: list[tuple[datetime, int]] = []
        for item in body["data"]:
            row = ledger.by_marker[item["notes"]]
            assert row in started_after
            assert query.admits(row), (query, row)
            assert (item["status"], item["type"]) == (row.status, row.type)
            assert activity_of(item) == row.activity
            order.append((row.activity, runtime.ids.decode(Resource.FOLLOWUP, item["id"])))
        assert order == sorted(order, reverse=True), (query, page)
        assert len(set(order)) == len(order)
    return reads


async def test_concurrent_writers_and_readers_see_consistent_snapshots(
    runtime: Runtime, client: Client
) -> None:
    rng = random.Random(777)
    markers = Markers()
    tenant, other = await owner(runtime, "Alpha", debts=4), await owner(runtime, "Beta")
    ledger, other_ledger = Ledger(), Ledger()
    # A book to page through from the first read on.
    for _ in range(12):
        await writer(runtime, rng, tenant, ledger, markers, rounds=1)
    headers = bearer(await token_for(client, await create_client(runtime, tenant.company_id)))

    writers_done = asyncio.Event()

    async def writers() -> None:
        try:
            async with asyncio.TaskGroup() as group:
                for seed in range(4):
                    args = (runtime, random.Random(seed), tenant, ledger, markers)
                    group.create_task(writer(*args, rounds=12))
                # Another company writing at the same time must never show.
                args = (runtime, random.Random(99), other, other_ledger, markers)
                group.create_task(writer(*args, rounds=12))
        finally:
            writers_done.set()

    # The app runs on this event loop (the test client would block it for each request), so
    # reads really interleave with the writers' transactions.
    app = create_app(runtime.settings)
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=transport, base_url="http://relance.test") as http,
        asyncio.TaskGroup() as group,
    ):
        group.create_task(writers())
        for n in range(3):
            group.create_task(
                reader(http, runtime, random.Random(100 + n), headers, ledger, writers_done)
            )
    assert len(ledger.committed) == len(ledger.started)

    for query in READER_QUERIES:
        response = await client.get(URL, params={**query.params(), "limit": "1"}, headers=headers)
        assert response.status_code == 200, response.text
        expected = sum(query.admits(row) for row in ledger.committed)
        assert await count_rows(runtime.db, query, tenant.company_id) == expected
        assert response.json()["pagination"]["total"] == expected, query
    incremental = await snapshot(runtime.db)
    assert incremental == tally(ledger.committed + other_ledger.committed)
    assert await rebuilt(runtime.db) == incremental
