"""A bug found by the sync tests, in the embedded database (not in the feed): a second
`SqliteDatabase.open` of a file that this process already has open drops the POSIX locks that
SQLite holds on it for the first one's connections.

`relance.db.sqlite.create_private_file` (called by `SqliteDatabase.open` and by
`relance.schema.upgrade`) opens the database file and closes the descriptor, to set its mode.
POSIX record locks belong to the process and a file: closing any descriptor of the file
releases every lock the process holds on it, including those of SQLite's open connections
(SQLite warns against exactly this). Another process that then opens and closes the database
finds no other holder, believes it is the last connection, checkpoints and deletes the WAL
under the first connections, whose next statements fail with "database disk image is
malformed". The test fixtures do it on every SQLite test (`runtime` opens the deployment, then
`client`'s app opens it again), and `relance import` run beside them broke every read of the
test's runtime that followed.

The fix: create the file only when it does not exist (`os.open(path, O_CREAT | O_EXCL ...)`,
FileExistsError ignored), never opening a descriptor on a database file that may be open."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from relance.db.sqlite import SqliteDatabase

OTHER_PROCESS = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("INSERT INTO t VALUES (2)")
conn.close()
"""


async def wal_after_another_process(path: Path, *, open_twice: bool) -> bool:
    """Whether the WAL is still there after another process wrote and closed the database,
    while this process's connections stay open."""
    first = SqliteDatabase.open(path, 2)
    second = None
    try:
        async with first.transaction() as conn:
            await conn.execute("CREATE TABLE t (x INTEGER)")
            await conn.execute("INSERT INTO t VALUES (1)")
        if open_twice:
            second = SqliteDatabase.open(path, 2)
        other = await asyncio.create_subprocess_exec(sys.executable, "-c", OTHER_PROCESS, str(path))
        assert await asyncio.wait_for(other.wait(), 30) == 0
        kept = path.with_name(path.name + "-wal").exists()
        assert await first.fetchval("SELECT count(*) FROM t") == 2
        return kept
    finally:
        await first.close()
        if second is not None:
            await second.close()


async def test_another_process_leaves_the_wal_of_open_connections(tmp_path: Path) -> None:
    assert await wal_after_another_process(tmp_path / "relance.sqlite3", open_twice=False)


async def test_a_second_open_in_one_process_keeps_the_first_ones_locks(tmp_path: Path) -> None:
    assert await wal_after_another_process(tmp_path / "relance.sqlite3", open_twice=True)
