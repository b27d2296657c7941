"""A deterministic collection book at benchmark scale, loaded fast into PostgreSQL or SQLite.

100 companies whose sizes follow Zipf's law (the biggest holds about a fifth of the book), one
debt for every five followups, two years of history up to a fixed anchor plus two weeks
scheduled ahead, and the channel and outcome mix of a real collection book. Rows are made day
by day in time order, as a live platform would have written them, so no company's rows sit
together on disk.

    python bench/generate.py --rows 1000000 --database postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import sqlite3
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from operator import attrgetter
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from relance.changes import repository as changes
from relance.config import DatabaseTarget, Settings
from relance.db import connect
from relance.debts import records as debts
from relance.debts.records import DebtRecord
from relance.demo.outcomes import (
    CALL_OUTCOMES,
    DISCONNECTIONS,
    MESSAGE_OUTCOMES,
    SUMMARIES,
    VISIT_OUTCOMES,
)
from relance.followups import counts
from relance.followups import records as followups
from relance.followups.enums import FollowupStatus as S
from relance.followups.enums import FollowupType as T
from relance.followups.records import FollowupRecord
from relance.models import TABLES_CHILDREN_FIRST
from relance.schema import upgrade

ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)
HISTORY_DAYS = 730
AHEAD_DAYS = 14
COMPANIES = 100
FOLLOWUPS_PER_DEBT = 5
TYPE_MIX = {
    T.EMAIL: 28,
    T.CALL: 26,
    T.SMS: 20,
    T.WHATSAPP: 8,
    T.VOICEMAIL: 7,
    T.MANUAL_CALL: 5,
    T.POSTMAIL: 5,
    T.PHYSICAL: 1,
}
# Each record's fields, framed by the keys and the stored timestamps.
FOLLOWUP_COLUMNS = (
    "id",
    "company_id",
    "debt_id",
    *followups.RECORD_FIELDS,
    "activity_at",
    "created_at",
    "updated_at",
)
COMPANY_COLUMNS = ("id", "name", "created_at", "updated_at")
DEBT_COLUMNS = ("id", "company_id", *debts.RECORD_FIELDS, "created_at", "updated_at")
_followup_values = attrgetter(*followups.RECORD_FIELDS)
_debt_values = attrgetter(*debts.RECORD_FIELDS)


@dataclass(frozen=True)
class Book:
    """How many followups and debts each company gets, and where its debts' keys start."""

    rows: int
    weights: list[float]
    debts: list[int]
    first_debt: list[int]

    @classmethod
    def plan(cls, rows: int) -> Book:
        weights = [1 / rank for rank in range(1, COMPANIES + 1)]
        total = sum(weights)
        debts = [max(1, round(rows / FOLLOWUPS_PER_DEBT * w / total)) for w in weights]
        first = list(itertools.accumulate([1, *debts[:-1]]))
        return cls(rows, weights, debts, first)

    def company_name(self, index: int) -> str:
        return f"Bench company {index + 1:03d}"


def followup_rows(book: Book, seed: int) -> Iterator[tuple[Any, ...]]:
    """Every followup, in time order, as a tuple of FOLLOWUP_COLUMNS."""
    rng = random.Random(seed)
    company_weights = list(itertools.accumulate(book.weights))
    types = list(TYPE_MIX)
    type_weights = list(itertools.accumulate(TYPE_MIX.values()))
    start = ANCHOR - timedelta(days=HISTORY_DAYS)
    days = HISTORY_DAYS + AHEAD_DAYS
    per_day = book.rows / days
    key = 0
    for day in range(days):
        quota = round(per_day * (day + 1)) - round(per_day * day)
        moments = sorted(rng.randrange(7 * 3600, 19 * 3600) for _ in range(quota))
        for seconds in moments:
            key += 1
            company = rng.choices(range(COMPANIES), cum_weights=company_weights)[0]
            debt = book.first_debt[company] + rng.randrange(book.debts[company])
            kind = rng.choices(types, cum_weights=type_weights)[0]
            moment = start + timedelta(days=day, seconds=seconds)
            yield _followup(rng, key, company + 1, debt, kind, moment)


def _followup(
    rng: random.Random, key: int, company: int, debt: int, kind: T, moment: datetime
) -> tuple[Any, ...]:
    future = moment > ANCHOR
    status = _status(rng, kind, future)
    executed = not future and status not in (S.CANCELLED, S.ON_HOLD)
    call_date = moment if executed else None
    processed = min(moment + timedelta(minutes=rng.randint(1, 20)), ANCHOR)
    if not executed:
        processed = moment - timedelta(days=rng.randint(1, 5))
    calls = kind in (T.CALL, T.MANUAL_CALL, T.VOICEMAIL)
    reached = status in (S.DEAL_FOUND, S.DEAL_NOT_FOUND, S.BAD_BEHAVIOR)
    duration = (
        (rng.randint(45_000, 540_000) if reached else rng.randint(0, 30_000)) if calls else None
    )
    opened = kind == T.EMAIL and executed and status != S.FAILED and rng.random() < 0.45
    opens = rng.randint(1, 5) if opened else 0
    clicks = rng.randint(0, opens) if opened and rng.random() < 0.35 else 0
    summaries = SUMMARIES.get(status)
    # The random draws below are made in this order, the order of the book ever since.
    record = FollowupRecord(
        status=status.value,
        type=kind.value,
        call_date=call_date,
        scheduled_at=moment,
        summary=rng.choice(summaries) if summaries and executed else None,
        call_id=f"call_{key:012x}" if calls and executed else None,
        duration_ms=duration if calls and executed else None,
        disconnection_reason=(
            rng.choice(DISCONNECTIONS[status]) if calls and status in DISCONNECTIONS else None
        ),
        direction="outbound" if calls else None,
        phone_number_used="+33970000001" if calls or kind in (T.SMS, T.WHATSAPP) else None,
        is_retry=rng.random() < 0.1,
        processed_at=processed,
        triggered_payment=status == S.DEAL_FOUND and rng.random() < 0.7,
        email_opened=opened,
        email_open_count=opens,
        email_first_opened_at=moment + timedelta(hours=2) if opened else None,
        email_clicked=clicks > 0,
        email_click_count=clicks,
    )
    return (
        key,
        company,
        debt,
        *_followup_values(record),
        call_date or moment,
        processed,
        processed,
    )


def _status(rng: random.Random, kind: T, future: bool) -> S:
    if future:
        return S.SCHEDULED
    roll = rng.random()
    if roll < 0.02:
        return S.CANCELLED
    if roll < 0.03:
        return S.ON_HOLD
    weighted: tuple[tuple[S, int], ...]
    if kind in (T.CALL, T.MANUAL_CALL):
        weighted = CALL_OUTCOMES
    elif kind == T.PHYSICAL:
        weighted = VISIT_OUTCOMES
    else:
        weighted = MESSAGE_OUTCOMES[kind]
    return rng.choices([s for s, _ in weighted], [w for _, w in weighted])[0]


def debt_rows(book: Book, seed: int) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(seed + 1)
    created = ANCHOR - timedelta(days=HISTORY_DAYS + 30)
    for company, size in enumerate(book.debts):
        for offset in range(size):
            debt = DebtRecord(
                firstname=rng.choice(("Camille", "Lucas", "Léa", "Hugo", "Manon", "Louis")),
                lastname=rng.choice(("Martin", "Bernard", "Dubois", "Durand", "Leroy", "Moreau")),
                phone=f"+336{rng.randint(10_000_000, 99_999_999)}",
                amount=Decimal(rng.randint(1500, 500_000)) / 100,
                currency="EUR",
                status="status.default.in_progress",
            )
            key = book.first_debt[company] + offset
            yield (key, company + 1, *_debt_values(debt), created, created)


def company_rows(book: Book) -> list[tuple[Any, ...]]:
    created = ANCHOR - timedelta(days=HISTORY_DAYS + 60)
    return [(i + 1, book.company_name(i), created, created) for i in range(COMPANIES)]


async def is_loaded(target: DatabaseTarget, book: Book) -> bool:
    db = await connect(target, 1)
    try:
        name = await db.fetchval("SELECT name FROM companies WHERE id = $1", COMPANIES)
        rows = await db.fetchval("SELECT count(*) FROM followups")
        numbered = await db.fetchval("SELECT count(*) FROM followup_changes")
        loaded = name == book.company_name(COMPANIES - 1) and rows == book.rows
        return bool(loaded and numbered == book.rows)
    finally:
        await db.close()


async def create_database(target: DatabaseTarget, *, fresh: bool = False) -> None:
    """A bench's own PostgreSQL database, made on first use beside the server's others; `fresh`
    drops what an earlier run left in it first."""
    if target.dialect != "postgresql":
        return
    parts = urlsplit(target.driver_dsn)
    name = parts.path.lstrip("/")
    conn = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
    try:
        if fresh:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def load(target: DatabaseTarget, rows: int, seed: int) -> None:
    """Replace the database's contents by the book, unless it already holds exactly that."""
    await create_database(target)
    await asyncio.to_thread(upgrade, target)
    book = Book.plan(rows)
    if await is_loaded(target, book):
        print(f"{target.dialect}: the book of {rows} followups is already loaded", file=sys.stderr)
        return
    started = time.monotonic()
    if target.dialect == "postgresql":
        await _load_postgresql(target.driver_dsn, book, seed)
    else:
        _load_sqlite(target.driver_dsn, book, seed)
    db = await connect(target, 1)
    try:
        async with db.transaction() as conn:
            await counts.rebuild(conn)
            await changes.rebuild(conn, time.time_ns() // 1000)
        await db.execute("ANALYZE")
    finally:
        await db.close()
    elapsed = time.monotonic() - started
    print(f"{target.dialect}: loaded {rows} followups in {elapsed:.0f} s", file=sys.stderr)


async def _load_postgresql(dsn: str, book: Book, seed: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        tables = ", ".join(TABLES_CHILDREN_FIRST)
        await conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        await conn.copy_records_to_table(
            "companies",
            records=company_rows(book),
            columns=("id", "name", "created_at", "updated_at"),
        )
        await conn.copy_records_to_table(
            "debts", records=debt_rows(book, seed), columns=DEBT_COLUMNS
        )
        # Secondary indexes are built once after the load rather than row by row during it.
        indexes = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'followups'"
            " AND indexname LIKE 'ix_%'"
        )
        for name, _ in indexes:
            await conn.execute(f'DROP INDEX "{name}"')
        rows = followup_rows(book, seed)
        while batch := list(itertools.islice(rows, 50_000)):
            await conn.copy_records_to_table("followups", records=batch, columns=FOLLOWUP_COLUMNS)
        for _, definition in indexes:
            await conn.execute(definition)
        for table in ("companies", "debts", "followups"):
            sequence = f"pg_get_serial_sequence('{table}', 'id')"
            await conn.execute(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))")
    finally:
        await conn.close()


def _load_sqlite(path: str, book: Book, seed: int) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("BEGIN")
        for table in TABLES_CHILDREN_FIRST:
            conn.execute(f"DELETE FROM {table}")
        _insert_all(conn, "companies", COMPANY_COLUMNS, iter(company_rows(book)))
        _insert_all(conn, "debts", DEBT_COLUMNS, debt_rows(book, seed))
        # Secondary indexes are built once after the load rather than row by row during it.
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
            " AND tbl_name = 'followups' AND name LIKE 'ix_%'"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        _insert_all(conn, "followups", FOLLOWUP_COLUMNS, followup_rows(book, seed))
        for _, definition in indexes:
            conn.execute(definition)
        conn.execute("COMMIT")
    finally:
        conn.close()


def _insert_all(
    conn: sqlite3.Connection, table: str, columns: tuple[str, ...], rows: Iterator[tuple[Any, ...]]
) -> None:
    marks = ", ".join("?" for _ in columns)
    conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--url", help="database URL (default: the bench database of --database)")
    args = parser.parse_args()
    url = args.url or default_url(args.database, args.rows)
    asyncio.run(load(Settings(database_url=url).database, args.rows, args.seed))


def default_url(database: str, rows: int) -> str:
    if database == "postgresql":
        # The local server through its Unix socket, as an operator on one machine would.
        return "postgresql://postgres@/relance_bench?host=/var/run/postgresql"
    return f"sqlite:///bench/.data/relance-{rows}.sqlite3"


if __name__ == "__main__":
    main()
