"""Database access: one small interface over asyncpg (PostgreSQL) and sqlite3 (embedded).

The hot read path runs hand-written SQL straight through the driver, with no ORM and no
per-row object: the SQLAlchemy models describe the schema and feed the migrations, not the
request path. Statements use PostgreSQL's `$1` placeholders; the SQLite side rewrites them to
SQLite's own numbered `?1` form, so one statement text serves both.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sqlite3
import struct
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, cast

import asyncpg

from relance.config import DatabaseTarget, Dialect
from relance.kit.time import to_utc_seconds

Row = Sequence[Any]

# Failures that mean "the database cannot be reached", as opposed to a bad statement.
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    socket.gaierror,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    # A session ended by the server (shutdown, restart) fails its statement with an operator
    # intervention, and its connection, until the pool notices it is closed, with an internal
    # "another operation is in progress".
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InternalClientError,
)
# SQLite reports a locked or unopenable file with the same class as a bad statement.
_SQLITE_UNAVAILABLE = ("database is locked", "database is busy", "unable to open database")


def is_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.OperationalError):
        return str(exc).startswith(_SQLITE_UNAVAILABLE)
    return isinstance(exc, UNAVAILABLE_ERRORS)


class Connection(Protocol):
    async def fetch(self, sql: str, *args: Any) -> Sequence[Row]: ...
    async def fetchrow(self, sql: str, *args: Any) -> Row | None: ...
    async def fetchval(self, sql: str, *args: Any) -> Any: ...
    async def execute(self, sql: str, *args: Any) -> Any: ...
    async def executemany(self, sql: str, args: Iterable[Sequence[Any]]) -> Any: ...


class Database(Connection, Protocol):
    dialect: Dialect

    def transaction(self) -> AbstractAsyncContextManager[Connection]: ...
    def usage(self) -> PoolUsage: ...
    async def close(self) -> None: ...


@dataclass(frozen=True)
class PoolUsage:
    """The connections a pool holds, has lent out, and may hold at most (for /metrics)."""

    open: int
    in_use: int
    most: int


async def connect(target: DatabaseTarget, pool_size: int) -> Database:
    if target.dialect == "postgresql":
        return await PostgresDatabase.open(target.driver_dsn, pool_size)
    return SqliteDatabase.open(Path(target.driver_dsn), pool_size)


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

    def usage(self) -> PoolUsage:
        pool = self._pool
        size = pool.get_size()
        return PoolUsage(size, size - pool.get_idle_size(), pool.get_max_size())

    async def close(self) -> None:
        await self._pool.close()


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


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Skip asyncpg's reset round trip on every release (RESET ALL, UNLISTEN, unlock...): Relance
    never changes session state, and the round trip cost as much as the query it followed."""


class _SqliteCalls:
    """The Connection methods, over one `_run` that says how a statement reaches a connection."""

    async def _run(self, sql: str, args: Sequence[Any], how: str) -> Any:
        raise NotImplementedError

    async def fetch(self, sql: str, *args: Any) -> Sequence[Row]:
        return await self._run(sql, args, "all")  # type: ignore[no-any-return]

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        return await self._run(sql, args, "one")  # type: ignore[no-any-return]

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self._run(sql, args, "value")

    async def execute(self, sql: str, *args: Any) -> Any:
        return await self._run(sql, args, "none")

    async def executemany(self, sql: str, args: Iterable[Sequence[Any]]) -> Any:
        return await self._run(sql, list(args), "many")


class SqliteDatabase(_SqliteCalls):
    """sqlite3 connections used one at a time from worker threads, so the event loop never
    blocks on the file; WAL lets readers and one writer across processes work together."""

    dialect: Dialect = "sqlite"

    def __init__(self, connections: list[sqlite3.Connection]) -> None:
        self._all = connections
        self._idle: asyncio.Queue[sqlite3.Connection] = asyncio.Queue()
        for conn in connections:
            self._idle.put_nowait(conn)
        # SQLite lets one writer in at a time. Writers of this process queue here rather than
        # each blocking a worker thread in SQLite's busy wait, which could starve the thread
        # the lock holder needs to finish.
        self._writer = asyncio.Lock()

    @classmethod
    def open(cls, path: Path, pool_size: int) -> SqliteDatabase:
        create_private_file(path)
        # SQLite serialises writers anyway; a few readers per process are all it can use.
        return cls([open_sqlite(path) for _ in range(min(pool_size, 8))])

    async def _run(self, sql: str, args: Sequence[Any], how: str) -> Any:
        conn = await self._idle.get()
        try:
            if _reads_only(sql):
                # Readers never wait for a lock under WAL, and a page takes well under a
                # millisecond: run on the event loop. The hop to a worker thread costs more,
                # and its wait for the GIL behind a busy loop cut a worker's throughput 2 to 3
                # times under concurrent requests (bench/RESULTS.md, "SQLite reads").
                return _sqlite_call(conn, sql, args, how)
            return await _in_thread(conn, sql, args, how)
        finally:
            self._idle.put_nowait(conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        async with self._writer:
            conn = await self._idle.get()
            try:
                # IMMEDIATE takes the write lock up front: a deferred transaction that later
                # tries to write can fail with SQLITE_BUSY however long it waits.
                await _in_thread(conn, "BEGIN IMMEDIATE", (), "none")
                try:
                    yield _SqliteTransaction(conn)
                except BaseException:
                    await _in_thread(conn, "ROLLBACK", (), "none")
                    raise
                await _in_thread(conn, "COMMIT", (), "none")
            finally:
                self._idle.put_nowait(conn)

    def usage(self) -> PoolUsage:
        size = len(self._all)
        return PoolUsage(size, size - self._idle.qsize(), size)

    async def close(self) -> None:
        # Each connection is closed once it is back, never under a thread still using it.
        for _ in self._all:
            (await self._idle.get()).close()


class _SqliteTransaction(_SqliteCalls):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def _run(self, sql: str, args: Sequence[Any], how: str) -> Any:
        return await _in_thread(self._conn, sql, args, how)


async def _in_thread(conn: sqlite3.Connection, sql: str, args: Sequence[Any], how: str) -> Any:
    """Run a statement in a worker thread. If the caller is cancelled, the statement still
    finishes before the cancellation goes on, so no connection is ever handed to a second
    thread while the first still uses it."""
    work = asyncio.get_running_loop().run_in_executor(None, _sqlite_call, conn, sql, args, how)
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        await asyncio.wait([work])
        raise


_WRITES = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|PRAGMA|VACUUM)\b", re.I)


@lru_cache(maxsize=1024)
def _reads_only(sql: str) -> bool:
    """A SELECT (a WITH may also write): the statements are the repositories' own text, few
    and fixed, so the answer is kept."""
    first = sql.lstrip()[:4].upper()
    return first in ("SELE", "WITH") and _WRITES.search(sql) is None


def create_private_file(path: Path) -> None:
    """The database file, made readable by this user only before SQLite opens it (SQLite gives
    its -wal and -shm files the same mode): it holds debtors' personal data."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))


def open_sqlite(path: Path) -> sqlite3.Connection:
    # isolation_level=None: autocommit, transactions only where transaction() opens one.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def _sqlite_call(conn: sqlite3.Connection, sql: str, args: Sequence[Any], how: str) -> Any:
    statement = sqlite_statement(sql)
    if how == "many":
        conn.executemany(statement, args)
        return None
    cursor = conn.execute(statement, args)
    if how == "all":
        return cursor.fetchall()
    if how == "one":
        return cursor.fetchone()
    if how == "value":
        row = cursor.fetchone()
        return None if row is None else row[0]
    return None


def dialect_of(conn: Connection) -> Dialect:
    """Which database a connection (or a transaction's) talks to."""
    return "sqlite" if isinstance(conn, _SqliteCalls) else "postgresql"


async def plan_each_statement(conn: Connection) -> None:
    """For the rest of the transaction, plan each statement for its own parameters. The pool's
    generic plans suit the API's index-shaped statements; a bulk load's statements carry arrays
    of thousands of values, and a generic plan made when a table was new and empty (a nested
    loop over a sequential scan) made one batch of an import outlast the statement timeout."""
    if dialect_of(conn) == "postgresql":
        await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")


@asynccontextmanager
async def staged(
    conn: Connection, table: str, shape: str, records: Sequence[Sequence[Any]]
) -> AsyncIterator[None]:
    """A temporary table `table` with the columns of the query `shape`, holding `records`, for
    the statements of the block to read; dropped after it (a failure rolls its creation back).
    PostgreSQL takes the records in one binary COPY: the same values passed as arrays cost more
    to encode (an isinstance check per value in asyncpg) than PostgreSQL took to store them."""
    await conn.execute(f"CREATE TEMPORARY TABLE {table} AS {shape} LIMIT 0")
    if dialect_of(conn) == "postgresql":
        await cast(asyncpg.Connection, conn).copy_records_to_table(table, records=records)
    elif records:
        values = placeholders(1, len(records[0]))
        # `table` is a name chosen in code, never input.
        await conn.executemany(f"INSERT INTO {table} VALUES ({values})", records)  # noqa: S608
    yield
    await conn.execute(f"DROP TABLE {table}")


def placeholders(first: int, count: int) -> str:
    """`$first, ..., $(first + count - 1)`: the parameters of an IN list."""
    return ", ".join(f"${n}" for n in range(first, first + count))


@lru_cache(maxsize=1024)
def sqlite_statement(sql: str) -> str:
    return re.sub(r"\$(\d+)", r"?\1", sql)


def _sqlite_timestamp(moment: datetime) -> str:
    # The stored text form sorts in time order, as every stored timestamp is UTC to the second.
    return to_utc_seconds(moment).isoformat()


sqlite3.register_adapter(datetime, _sqlite_timestamp)
sqlite3.register_adapter(date, date.isoformat)
sqlite3.register_adapter(Decimal, str)
