"""Migration 0002 counts the followups already there, on a fresh SQLite file and a fresh
PostgreSQL database, and goes down to 0001 and back up again.

The rows are written at 0001 with plain SQL, as a deployment of that version would hold them,
and the count tables the upgrade fills are compared with a tally made in Python from those
rows: each followup under (status, type), (status, ANY), (ANY, type) and (ANY, ANY), in its
company's totals and in its UTC day of activity.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config

from relance.config import DatabaseTarget, Settings
from relance.db import Database, connect
from relance.followups import counts
from relance.kit.time import utc_now
from relance.schema import alembic_config, current_revision, head_revision
from tests.factories import followup_values, insert_counted
from tests.postgres import scratch_database

COUNT_TABLES = ("followup_day_counts", "followup_totals")
STATUSES = ["delivered", "no_answer", "scheduled", "failed", "cancelled"]
TYPES = ["call", "email", "sms", "postmail"]
DAYS = [date(2024, 5, day) for day in range(1, 6)]
OFFSETS = [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-7))]

Counts = dict[tuple[Any, ...], int]


@dataclass(frozen=True)
class Row:
    company_id: int
    status: str
    type: str
    activity: datetime

    @property
    def day(self) -> date:
        return self.activity.astimezone(UTC).date()


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: no tables, no revision."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    with scratch_database("relance_mig") as url:
        yield url


async def migrate(config: Config, revision: str, *, down: bool = False) -> None:
    # Alembic runs its own event loop for PostgreSQL: keep it off this one.
    step = command.downgrade if down else command.upgrade
    await asyncio.to_thread(step, config, revision)


@asynccontextmanager
async def opened(target: DatabaseTarget) -> AsyncIterator[Database]:
    """A connection pool for one step only, so none outlives a migration's DDL."""
    db = await connect(target, 2)
    try:
        yield db
    finally:
        await db.close()


def random_moment(rng: random.Random) -> datetime:
    seconds = rng.choice([0, 1, 86_399, rng.randrange(86_400)])
    moment = datetime.combine(rng.choice(DAYS), time.min, UTC) + timedelta(seconds=seconds)
    return moment.astimezone(rng.choice(OFFSETS))


async def write_at_0001(
    db: Database, rng: random.Random, company_ids: Sequence[int], size: int
) -> list[Row]:
    """Debts and followups as plain rows of the 0001 schema, with every NOT NULL column."""
    now = utc_now()
    debts: dict[int, list[int]] = {}
    for company_id in company_ids:
        debts[company_id] = [
            int(
                await db.fetchval(
                    "INSERT INTO debts (company_id, firstname, lastname, amount, currency,"
                    " status, followups_count, nb_reminders, nb_answered, created_at,"
                    " updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)"
                    " RETURNING id",
                    company_id,
                    "Camille",
                    f"Durand {n}",
                    Decimal("120.50"),
                    "EUR",
                    "status.default.pending",
                    0,
                    0,
                    0,
                    now,
                )
            )
            for n in range(2)
        ]
    rows: list[Row] = []
    args: list[tuple[Any, ...]] = []
    for _ in range(size):
        company_id = rng.choice(company_ids)
        status, kind = rng.choice(STATUSES), rng.choice(TYPES)
        call_date = random_moment(rng) if rng.random() < 0.4 else None
        scheduled_at = random_moment(rng) if rng.random() < 0.4 else None
        processed_at = random_moment(rng)
        activity = call_date or scheduled_at or processed_at
        rows.append(Row(company_id, status, kind, activity))
        debt_id = rng.choice(debts[company_id])
        args.append(
            (
                company_id,
                debt_id,
                status,
                kind,
                call_date,
                scheduled_at,
                processed_at,
                activity,
                now,
            )
        )
    await db.executemany(
        "INSERT INTO followups (company_id, debt_id, status, type, call_date, scheduled_at,"
        " is_retry, processed_at, triggered_payment, email_opened, email_clicked,"
        " email_open_count, email_click_count, activity_at, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, false, $7, false, false, false, 0, 0, $8, $9, $9)",
        args,
    )
    return rows


async def new_companies(db: Database, *names: str) -> list[int]:
    return [
        int(
            await db.fetchval(
                "INSERT INTO companies (name, created_at, updated_at) VALUES ($1, $2, $2)"
                " RETURNING id",
                name,
                utc_now(),
            )
        )
        for name in names
    ]


def tally(rows: Sequence[Row]) -> tuple[Counts, Counts]:
    totals: Counter[tuple[Any, ...]] = Counter()
    days: Counter[tuple[Any, ...]] = Counter()
    for row in rows:
        for status in (row.status, "*"):
            for kind in (row.type, "*"):
                totals[(row.company_id, status, kind)] += 1
                days[(row.company_id, status, kind, row.day)] += 1
    return dict(totals), dict(days)


async def stored_counts(db: Database) -> tuple[Counts, Counts]:
    """Every row of both count tables, zeros included."""
    totals = {
        (int(row[0]), row[1], row[2]): int(row[3])
        for row in await db.fetch("SELECT company_id, status, type, n FROM followup_totals")
    }
    days = {
        (int(row[0]), row[1], row[2], date.fromisoformat(str(row[3]))): int(row[4])
        for row in await db.fetch(
            "SELECT company_id, status, type, day, n FROM followup_day_counts"
        )
    }
    return totals, days


async def table_names(db: Database) -> set[str]:
    sql = (
        "SELECT name FROM sqlite_master WHERE type = 'table'"
        if db.dialect == "sqlite"
        else "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema()"
    )
    return {str(row[0]) for row in await db.fetch(sql)}


async def test_0002_counts_the_followups_already_there_and_migrates_down_and_up(
    fresh_url: str,
) -> None:
    target = Settings(database_url=fresh_url).database
    config = alembic_config(target)
    rng = random.Random(2002)

    await migrate(config, "0001")
    async with opened(target) as db:
        assert await current_revision(db) == "0001"
        assert not set(COUNT_TABLES) & await table_names(db)
        busy, quiet, idle = await new_companies(db, "Busy", "Quiet", "No debts")
        book = await write_at_0001(db, rng, [busy, quiet], 150)
    assert {row.company_id for row in book} == {busy, quiet}

    await migrate(config, "head")
    expected = tally(book)
    async with opened(target) as db:
        assert await current_revision(db) == head_revision(target)
        assert await stored_counts(db) == expected
        # What a rebuild recounts is what the migration filled in.
        async with db.transaction() as conn:
            await counts.rebuild(conn)
        assert await stored_counts(db) == expected
        # Writes at head keep counting on top of the backfilled rows.
        debt_id = int(await db.fetchval("SELECT min(id) FROM debts WHERE company_id = $1", quiet))
        moment = random_moment(rng)
        values = followup_values(status="sent", type="whatsapp", call_date=moment)
        async with db.transaction() as conn:
            await insert_counted(conn, quiet, debt_id, values, utc_now())
        book.append(Row(quiet, "sent", "whatsapp", moment))
        assert await stored_counts(db) == tally(book)

    await migrate(config, "0001", down=True)
    async with opened(target) as db:
        assert await current_revision(db) == "0001"
        assert not set(COUNT_TABLES) & await table_names(db)
        assert await db.fetchval("SELECT count(*) FROM followups") == len(book)
        # Rows written by the old version while it ran again are counted by the next upgrade.
        book += await write_at_0001(db, rng, [quiet, idle], 40)

    await migrate(config, "head")
    async with opened(target) as db:
        assert await current_revision(db) == head_revision(target)
        assert set(COUNT_TABLES) <= await table_names(db)
        assert await stored_counts(db) == tally(book)


async def insert_debt_at(db: Database, company_id: int, **fields: Any) -> int:
    """A debt as plain row of the schema before 0013 (no debtor, no creditor)."""
    values = {"firstname": "Camille", "lastname": "Durand", "amount": Decimal("10.00"),
              "currency": "EUR", "status": "status.default.pending", "followups_count": 0,
              "nb_reminders": 0, "nb_answered": 0, "created_at": utc_now(),
              "updated_at": utc_now(), **fields}  # fmt: skip
    names = ", ".join(values)
    marks = ", ".join(f"${n}" for n in range(2, len(values) + 2))
    return int(
        await db.fetchval(
            f"INSERT INTO debts (company_id, {names}) VALUES ($1, {marks}) RETURNING id",
            company_id,
            *values.values(),
        )
    )


async def test_0011_stops_on_shared_internal_ids_and_names_them(fresh_url: str) -> None:
    target = Settings(database_url=fresh_url).database
    config = alembic_config(target)
    await migrate(config, "0010")
    async with opened(target) as db:
        (company,) = await new_companies(db, "Shared")
        for _ in range(2):
            await insert_debt_at(db, company, internal_id="INV-1")

    with pytest.raises(RuntimeError, match=rf"company {company}: 'INV-1' on 2 debts"):
        await migrate(config, "0011")

    async with opened(target) as db:
        assert await current_revision(db) == "0010"
        await db.execute(
            "UPDATE debts SET internal_id = NULL WHERE id = (SELECT max(id) FROM debts)"
        )
    await migrate(config, "0011")


async def test_0013_links_the_debts_already_there_to_debtors_and_creditors(
    fresh_url: str,
) -> None:
    target = Settings(database_url=fresh_url).database
    config = alembic_config(target)
    await migrate(config, "0012")
    async with opened(target) as db:
        first, second = await new_companies(db, "First", "Second")
        by_email = [
            await insert_debt_at(db, first, email="A@Example.com ", phone="+33600000001",
                                 company_name="Acme"),
            await insert_debt_at(db, first, email="a@example.com", address="1 rue Haute",
                                 company_name="ACME "),
        ]  # fmt: skip
        by_phone = await insert_debt_at(db, first, phone="+33600000001")
        by_name = await insert_debt_at(db, first, birthdate=date(1985, 3, 15))
        elsewhere = await insert_debt_at(db, second, email="a@example.com", company_name="Acme")

    await migrate(config, "head")

    async with opened(target) as db:
        debtor_of = {
            int(debt): debtor for debt, debtor in await db.fetch("SELECT id, debtor_id FROM debts")
        }
        assert debtor_of[by_email[0]] == debtor_of[by_email[1]]
        assert len({debtor_of[d] for d in (by_email[0], by_phone, by_name, elsewhere)}) == 4
        debtor = await db.fetchrow(
            "SELECT company_id, match_key, email, phone, address FROM debtors WHERE id = $1",
            debtor_of[by_email[0]],
        )
        assert tuple(debtor or ()) == (
            first, "email:a@example.com", "A@Example.com ", "+33600000001", "1 rue Haute"
        )  # fmt: skip
        keys = {str(row[0]) for row in await db.fetch("SELECT match_key FROM debtors")}
        assert {"phone:+33600000001", "name:camille durand|1985-03-15"} <= keys
        creditors = await db.fetch(
            "SELECT company_id, name, name_key, id FROM creditors ORDER BY company_id"
        )
        assert [tuple(row)[:3] for row in creditors] == [
            (first, "Acme", "acme"),
            (second, "Acme", "acme"),
        ]
        creditor_of = {
            int(debt): creditor
            for debt, creditor in await db.fetch("SELECT id, creditor_id FROM debts")
        }
        assert creditor_of[by_email[0]] == creditor_of[by_email[1]] == creditors[0][3]
        assert creditor_of[elsewhere] == creditors[1][3]
        assert creditor_of[by_phone] is None
        if db.dialect == "sqlite":
            # Rebuilt for its foreign keys, the table still never gives a key twice.
            table = await db.fetchval("SELECT sql FROM sqlite_master WHERE name = 'debts'")
            assert "AUTOINCREMENT" in str(table)
