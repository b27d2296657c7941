from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from relance.models.base import Base, Key, Timestamp


class Debtor(Base):
    """A person a company's debts are owed by, matched across its debts by `match_key`
    (debtors/matching.py): made by the first debt that names them, completed by the next,
    changed by PUT /debtors/{id}; gone with their last debt."""

    __tablename__ = "debtors"
    __table_args__ = (UniqueConstraint("company_id", "match_key"),)

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    match_key: Mapped[str] = mapped_column(String(300))
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(300))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    # GetBill's firstSeenAt, lastSeenAt (the last debt write that named them) and
    # lastUpdatedAt.
    first_seen_at: Mapped[datetime] = mapped_column(Timestamp)
    last_seen_at: Mapped[datetime] = mapped_column(Timestamp)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)
