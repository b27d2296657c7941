"""What a bulk load needs beyond single statements: its own plans, and staged records."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, cast

import asyncpg

from relance.db.protocols import Connection
from relance.db.statements import placeholders


async def plan_each_statement(conn: Connection) -> None:
    """For the rest of the transaction, plan each statement for its own parameters. The pool's
    generic plans suit the API's index-shaped statements; a bulk load's statements carry arrays
    of thousands of values, and a generic plan made when a table was new and empty (a nested
    loop over a sequential scan) made one batch of an import outlast the statement timeout."""
    if conn.dialect == "postgresql":
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
    if conn.dialect == "postgresql":
        await cast(asyncpg.Connection, conn).copy_records_to_table(table, records=records)
    elif records:
        values = placeholders(1, len(records[0]))
        # `table` is a name chosen in code, never input.
        await conn.executemany(f"INSERT INTO {table} VALUES ({values})", records)  # noqa: S608
    yield
    await conn.execute(f"DROP TABLE {table}")
