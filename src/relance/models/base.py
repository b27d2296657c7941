"""One metadata for every table, with a naming convention so migrations name constraints."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, MetaData, String, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
Key = BigInteger().with_variant(Integer(), "sqlite")
# UTC to the second everywhere; on SQLite as ISO 8601 text, which sorts in time order.
Timestamp = DateTime(timezone=True).with_variant(String(25), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)


def external_id_index(table: str) -> Index:
    """An import names its rows by the caller's own reference, unique in the company, so that a
    second run updates them; only rows that have one are indexed."""
    present = text("external_id IS NOT NULL")
    return Index(
        f"ix_{table}_company_id_external_id",
        "company_id",
        "external_id",
        unique=True,
        postgresql_where=present,
        sqlite_where=present,
    )
