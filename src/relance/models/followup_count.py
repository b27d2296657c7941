from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Integer, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from relance.models.base import Base, Key


class _CountKey:
    """The key every count shares: the company, and a status and a type, each possibly ANY
    (followups.counts.ANY, '*').
    No foreign key to the company: a count only counts followups, which have one (0008)."""

    company_id: Mapped[int] = mapped_column(Key)
    status: Mapped[str] = mapped_column(String(20))
    type: Mapped[str] = mapped_column(String(20))


class FollowupTotal(_CountKey, Base):
    """How many followups a company has, by status and type, with ANY rows for the sums.

    Kept in the transaction of every followup write, so that an exact `total` costs one row
    read instead of a COUNT over the company's followups.
    """

    __tablename__ = "followup_totals"
    __table_args__ = (
        # INCLUDE (n): PostgreSQL answers from the index alone; SQLite stores rows in key order.
        PrimaryKeyConstraint("company_id", "status", "type", postgresql_include=["n"]),
        {"sqlite_with_rowid": False},
    )

    n: Mapped[int] = mapped_column(BigInteger)


class FollowupDayCount(_CountKey, Base):
    """The same counts per UTC day of activity: totals over a date range, and the seek that
    turns a deep page into a jump to the right day plus a small offset."""

    __tablename__ = "followup_day_counts"
    __table_args__ = (
        # No INCLUDE (n), unlike the totals: every write moves a day's count, and an update that
        # leaves the index alone stays on its page (PostgreSQL, fillfactor 70: migration 0008).
        PrimaryKeyConstraint("company_id", "status", "type", "day"),
        {"sqlite_with_rowid": False},
    )

    day: Mapped[date] = mapped_column()
    # A day's count fits 32 bits; its running sum is then a bigint, not PostgreSQL's slower numeric.
    n: Mapped[int] = mapped_column(Integer)


class FollowupMonthCount(_CountKey, Base):
    """The same counts per UTC month (keyed by its first day): a deep page's seek walks months
    first, then the days of one month, so its work stays small however deep the page."""

    __tablename__ = "followup_month_counts"
    __table_args__ = (
        PrimaryKeyConstraint("company_id", "status", "type", "month", postgresql_include=["n"]),
        {"sqlite_with_rowid": False},
    )

    month: Mapped[date] = mapped_column()
    n: Mapped[int] = mapped_column(Integer)
