"""The embedded database: sqlite3 connections used one at a time, reads on the event loop and
writes in worker threads, so the loop never blocks on the file; WAL lets readers and one
writer across processes work together."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import sqlite3
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from relance.config import Dialect
from relance.db.protocols import Connection, PoolUsage, Row, Snapshot
from relance.db.statements import reads_only, sqlite_statement
from relance.kit.time import to_utc_seconds


class _SqliteCalls(ABC):
    """The Connection methods, over one `_run` that says how a statement reaches a connection."""

    dialect: Dialect = "sqlite"

    @abstractmethod
    async def _run(self, sql: str, args: Sequence[Any], how: str) -> Any: ...

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
    def __init__(self, connections: list[sqlite3.Connection], path: Path) -> None:
        self._all = connections
        self._path = path
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
        return cls([open_sqlite(path) for _ in range(min(pool_size, 8))], path)

    async def _run(self, sql: str, args: Sequence[Any], how: str) -> Any:
        conn = await self._idle.get()
        try:
            if reads_only(sql):
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

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Snapshot]:
        conn = await self._idle.get()
        locks = self._path.with_name(self._path.name + ".locks")
        try:
            # Under WAL a read transaction sees the database as of its first read, and
            # writers go on meanwhile.
            await _in_thread(conn, "BEGIN DEFERRED", (), "none")
            snapshot = _SqliteSnapshot(conn, locks)
            try:
                yield snapshot
            finally:
                snapshot.release()
                await _in_thread(conn, "ROLLBACK", (), "none")
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


class _SqliteSnapshot(_SqliteTransaction):
    def __init__(self, conn: sqlite3.Connection, locks: Path) -> None:
        super().__init__(conn)
        self._locks = locks
        self._held: list[int] = []

    async def chunks(self, sql: str, *args: Any, size: int) -> AsyncIterator[Sequence[Row]]:
        cursor = await _in_thread(self._conn, sql, args, "cursor")
        try:
            while rows := await _threaded(cursor.fetchmany, size):
                yield rows
        finally:
            cursor.close()

    async def try_lock(self, key: int) -> bool:
        # A lock on a file beside the database, which the system releases when its holder
        # closes it or dies: processes of one deployment share nothing else.
        self._locks.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(self._locks / f"{key}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._held.append(fd)
        return True

    def release(self) -> None:
        for fd in self._held:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._held.clear()


async def _in_thread(conn: sqlite3.Connection, sql: str, args: Sequence[Any], how: str) -> Any:
    return await _threaded(_sqlite_call, conn, sql, args, how)


async def _threaded(function: Callable[..., Any], *args: Any) -> Any:
    """Call `function` in a worker thread. If the caller is cancelled, the call still finishes
    before the cancellation goes on, so no connection is ever handed to a second thread while
    the first still uses it."""
    work = asyncio.get_running_loop().run_in_executor(None, function, *args)
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        await asyncio.wait([work])
        raise


def _sqlite_call(conn: sqlite3.Connection, sql: str, args: Sequence[Any], how: str) -> Any:
    statement = sqlite_statement(sql)
    if how == "many":
        conn.executemany(statement, args)
        return None
    cursor = conn.execute(statement, args)
    if how == "cursor":
        return cursor
    if how == "all":
        return cursor.fetchall()
    if how == "one":
        return cursor.fetchone()
    if how == "value":
        row = cursor.fetchone()
        return None if row is None else row[0]
    # As asyncpg's status ("UPDATE 3") tells, the rows a statement changed.
    return cursor.rowcount


def create_private_file(path: Path) -> None:
    """The database file, made readable by this user only before SQLite opens it (SQLite gives
    its -wal and -shm files the same mode): it holds debtors' personal data."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Never opened if it exists: closing any descriptor of a file drops every POSIX lock this
    # process holds on it, SQLite's own included, and another process would then take the
    # database for unused and delete its write-ahead log from under the open connections.
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600))


def open_sqlite(path: Path) -> sqlite3.Connection:
    _store_python_values()
    # isolation_level=None: autocommit, transactions only where transaction() opens one.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
    _write_ahead(conn)
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def _write_ahead(conn: sqlite3.Connection) -> None:
    """Put the file in WAL mode, which it keeps once set. Setting it takes a lock SQLite's
    busy timeout does not wait for: commands started together on one database saw "database
    is locked" here. So it is set only when the file is not in WAL yet, and tried again for up
    to the busy timeout's 10 s."""
    deadline = time.monotonic() + 10
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _store_python_values() -> None:
    """How sqlite3 stores the Python values Relance binds. sqlite3's adapters are global to the
    process; they are set when a connection opens, not on import."""
    sqlite3.register_adapter(datetime, _sqlite_timestamp)
    sqlite3.register_adapter(date, date.isoformat)
    sqlite3.register_adapter(Decimal, str)


def _sqlite_timestamp(moment: datetime) -> str:
    # The stored text form sorts in time order, as every stored timestamp is UTC to the second.
    return to_utc_seconds(moment).isoformat()
