"""Migrations, run and checked from code: the CLI, the server's start-up and the tests use these."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from relance.config import DatabaseTarget
from relance.db import Database
from relance.db.sqlite import create_private_file

MIGRATIONS = Path(__file__).parent / "migrations"


class SchemaBehind(RuntimeError):
    """The database is not at the revision this code needs (usually older)."""


def alembic_config(target: DatabaseTarget) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    config.set_main_option("sqlalchemy.url", target.sqlalchemy_url.replace("%", "%%"))
    return config


def upgrade(target: DatabaseTarget) -> None:
    if target.dialect == "sqlite":
        create_private_file(Path(target.driver_dsn))
    command.upgrade(alembic_config(target), "head")


def head_revision(target: DatabaseTarget) -> str | None:
    return ScriptDirectory.from_config(alembic_config(target)).get_current_head()


async def current_revision(db: Database) -> str | None:
    table = "alembic_version"
    exists_sql = (
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $1"
        if db.dialect == "sqlite"
        else "SELECT count(*) FROM pg_catalog.pg_tables WHERE tablename = $1"
        " AND schemaname = current_schema()"
    )
    if not await db.fetchval(exists_sql, table):
        return None
    value = await db.fetchval(f"SELECT version_num FROM {table}")  # noqa: S608
    return None if value is None else str(value)


async def ensure_current(db: Database, target: DatabaseTarget) -> None:
    head = head_revision(target)
    current = await current_revision(db)
    if current != head:
        raise SchemaBehind(
            f"the database schema is at revision {current or 'none'}, this version of Relance "
            f"needs {head}: run `relance db upgrade` (with this version) first"
        )
