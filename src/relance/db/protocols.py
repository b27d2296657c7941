"""What the rest of Relance holds of a database: a Connection (one statement at a time, or a
transaction's), a Database (a pool that also opens transactions), and which failures mean the
database cannot be reached rather than a bad statement."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg

from relance.config import Dialect

Row = Sequence[Any]

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


def lost_unique_race(exc: BaseException, index: str) -> bool:
    """Whether a PostgreSQL write failed on this unique index: a concurrent transaction wrote
    the same value between this one's check and its write (SQLite runs one writer at a time,
    so its checks see every other write)."""
    return isinstance(exc, asyncpg.UniqueViolationError) and exc.constraint_name == index


class Connection(Protocol):
    @property
    def dialect(self) -> Dialect: ...

    async def fetch(self, sql: str, *args: Any) -> Sequence[Row]: ...
    async def fetchrow(self, sql: str, *args: Any) -> Row | None: ...
    async def fetchval(self, sql: str, *args: Any) -> Any: ...
    async def execute(self, sql: str, *args: Any) -> Any: ...
    async def executemany(self, sql: str, args: Iterable[Sequence[Any]]) -> Any: ...


class Snapshot(Connection, Protocol):
    """A read-only transaction: every statement sees the database as it stood at the first."""

    def chunks(self, sql: str, *args: Any, size: int) -> AsyncIterator[Sequence[Row]]:
        """The statement's rows through a cursor, `size` at a time: any number of rows in
        bounded memory."""
        ...

    async def try_lock(self, key: int) -> bool:
        """Hold the lock named `key` until the snapshot ends, unless another process or
        snapshot holds it (False)."""
        ...


class Database(Connection, Protocol):
    def transaction(self) -> AbstractAsyncContextManager[Connection]: ...
    def snapshot(self) -> AbstractAsyncContextManager[Snapshot]: ...
    def usage(self) -> PoolUsage: ...
    async def close(self) -> None: ...


@dataclass(frozen=True)
class PoolUsage:
    """The connections a pool holds, has lent out, and may hold at most (for /metrics)."""

    open: int
    in_use: int
    most: int
