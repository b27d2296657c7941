"""Database access: one small interface over asyncpg (PostgreSQL) and sqlite3 (embedded).

The hot read path runs hand-written SQL straight through the driver, with no ORM and no
per-row object: the SQLAlchemy models describe the schema and feed the migrations, not the
request path. Statements use PostgreSQL's `$1` placeholders; the SQLite side rewrites them to
SQLite's own numbered `?1` form (`statements`), so one statement text serves both. Every
connection says which database it talks to (`conn.dialect`), so a repository that must write
a statement two ways asks the connection it was given.

- `protocols`: what callers hold (Connection, Database) and which failures mean "unavailable";
- `postgres`, `sqlite`: the two pools;
- `statements`: placeholder rewriting and lists; `bulk`: what a large import needs.
"""

from __future__ import annotations

from pathlib import Path

from relance.config import DatabaseTarget
from relance.db.postgres import PostgresDatabase
from relance.db.protocols import (
    Connection,
    Database,
    PoolUsage,
    Row,
    Snapshot,
    is_unavailable,
    lost_unique_race,
)
from relance.db.sqlite import SqliteDatabase

__all__ = [
    "Connection",
    "Database",
    "PoolUsage",
    "Row",
    "Snapshot",
    "connect",
    "is_unavailable",
    "lost_unique_race",
]


async def connect(target: DatabaseTarget, pool_size: int) -> Database:
    if target.dialect == "postgresql":
        return await PostgresDatabase.open(target.driver_dsn, pool_size)
    return SqliteDatabase.open(Path(target.driver_dsn), pool_size)
