"""PostgreSQL through an asyncpg pool, with dates read and written exactly."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg

from relance.config import Dialect
from relance.db.protocols import Connection, PoolUsage, Row, Snapshot


class PostgresConnection(asyncpg.Connection):  # type: ignore[misc]
    """asyncpg's connection, saying which database it talks to (see relance.db)."""

    dialect: Dialect = "postgresql"


class PostgresDatabase:
    dialect: Dialect = "postgresql"

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        # asyncpg's pool already offers one-statement calls on a borrowed connection.
        self.fetch = pool.fetch
        self.fetchrow = pool.fetchrow
        self.fetchval = pool.fetchval
        self.execute = pool.execute
        self.executemany = pool.executemany

    @classmethod
    async def open(cls, dsn: str, pool_size: int) -> PostgresDatabase:
        pool = await asyncpg.create_pool(
            dsn,
            min_size=1,
            max_size=pool_size,
            timeout=10,
            command_timeout=30,
            connection_class=PostgresConnection,
            reset=_keep_session,
            init=_exact_dates,
            # Every statement is shaped for an index, so one generic plan per statement serves
            # all parameters; without this PostgreSQL may plan each execution again, which cost
            # more than executing the page query itself.
            server_settings={"plan_cache_mode": "force_generic_plan"},
        )
        return cls(pool)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        async with self._pool.acquire() as conn, conn.transaction():
            yield conn

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Snapshot]:
        async with (
            self._pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            yield _PostgresSnapshot(conn)

    def usage(self) -> PoolUsage:
        pool = self._pool
        size = pool.get_size()
        return PoolUsage(size, size - pool.get_idle_size(), pool.get_max_size())

    async def close(self) -> None:
        await self._pool.close()


class _PostgresSnapshot:
    dialect: Dialect = "postgresql"

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self.fetch = conn.fetch
        self.fetchrow = conn.fetchrow
        self.fetchval = conn.fetchval
        self.execute = conn.execute
        self.executemany = conn.executemany

    async def chunks(self, sql: str, *args: Any, size: int) -> AsyncIterator[Sequence[Row]]:
        cursor = await self._conn.cursor(sql, *args)
        while rows := await cursor.fetch(size):
            yield rows

    async def try_lock(self, key: int) -> bool:
        # A transaction's advisory lock: released when the snapshot ends, however it ends.
        return bool(await self._conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", key))


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Skip asyncpg's reset round trip on every release (RESET ALL, UNLISTEN, unlock...): Relance
    never changes session state, and the round trip cost as much as the query it followed."""


# PostgreSQL's binary forms: days, and microseconds, since 2000-01-01 (UTC).
_PG_EPOCH_DAY = date(2000, 1, 1).toordinal()
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_DATE, _MOMENT = struct.Struct("!i"), struct.Struct("!q")
_INFINITE_DAYS = {2**31 - 1: date.max, -(2**31): date.min}
_INFINITE_MOMENTS = {
    2**63 - 1: datetime.max.replace(tzinfo=UTC),
    -(2**63): datetime.min.replace(tzinfo=UTC),
}


async def _exact_dates(conn: asyncpg.Connection) -> None:
    """Dates and timestamps as the values they are. asyncpg writes the first and last days
    (0001-01-01, 9999-12-31) and the first moment as PostgreSQL's -infinity and infinity, which
    compare, add and print as no date at all: a day count of 9999-12-31 fell out of every range,
    and a followup dated 0001-01-01T00:00:00Z showed a null date."""
    for name, encode, decode in (
        ("date", _encode_date, _decode_date),
        ("timestamptz", _encode_moment, _decode_moment),
    ):
        await conn.set_type_codec(
            name, schema="pg_catalog", encoder=encode, decoder=decode, format="binary"
        )


def _encode_date(day: date) -> bytes:
    return _DATE.pack(day.toordinal() - _PG_EPOCH_DAY)


def _decode_date(data: bytes) -> date:
    (days,) = _DATE.unpack(data)
    return _INFINITE_DAYS.get(days) or date.fromordinal(days + _PG_EPOCH_DAY)


def _encode_moment(moment: datetime) -> bytes:
    since = moment.astimezone(UTC) - _PG_EPOCH
    return _MOMENT.pack((since.days * 86_400 + since.seconds) * 1_000_000 + since.microseconds)


def _decode_moment(data: bytes) -> datetime:
    (micros,) = _MOMENT.unpack(data)
    return _INFINITE_MOMENTS.get(micros) or _PG_EPOCH + timedelta(microseconds=micros)
