from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from relance.models.base import Base, Key, Timestamp, Timestamped, external_id_index


class Debt(Timestamped, Base):
    """What a debtor owes a company; the parent of every followup."""

    __tablename__ = "debts"
    # Lets followups reference (debt, company) together, so the database itself refuses a
    # followup whose company differs from its debt's.
    __table_args__ = (
        UniqueConstraint("id", "company_id"),
        external_id_index("debts"),
        # The caller's reference, unique in the company when given; imports name a followup's
        # debt by it.
        Index(
            "ix_debts_company_id_internal_id",
            "company_id",
            "internal_id",
            unique=True,
            postgresql_where=text("internal_id IS NOT NULL"),
            sqlite_where=text("internal_id IS NOT NULL"),
        ),
        # GET /debts: the company's debts, newest first; and those of a debtor or a creditor.
        Index(None, "company_id", "created_at", "id"),
        Index(None, "debtor_id", "created_at", "id"),
        Index(None, "creditor_id", "created_at", "id"),
        # A deleted row's key is never given again (SQLite reuses the largest otherwise): public
        # IDs name one thing for ever, and the changes feed keeps a deleted followup's.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    civility: Mapped[str | None] = mapped_column(String(10))
    firstname: Mapped[str] = mapped_column(String(100))
    lastname: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3))
    object: Mapped[str | None] = mapped_column(Text)
    internal_id: Mapped[str | None] = mapped_column(String(100))
    invoice_reference: Mapped[str | None] = mapped_column(String(100))
    debtor_reference: Mapped[str | None] = mapped_column(String(100))
    invoice_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    street_address: Mapped[str | None] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(40))
    # Derived from the debt's followups, in the same transaction as each of their writes.
    followups_count: Mapped[int] = mapped_column(Integer, default=0)
    nb_reminders: Mapped[int] = mapped_column(Integer, default=0)
    nb_answered: Mapped[int] = mapped_column(Integer, default=0)
    birthdate: Mapped[date | None] = mapped_column(Date)
    address: Mapped[str | None] = mapped_column(String(300))
    street_number: Mapped[str | None] = mapped_column(String(20))
    timeline_id: Mapped[str | None] = mapped_column(String(100))
    summary: Mapped[str | None] = mapped_column(Text)
    iban: Mapped[str | None] = mapped_column(String(34))
    # GetBill's free-text `company` field, as the caller gave it (not the owning tenant).
    company_name: Mapped[str | None] = mapped_column(String(200))
    debtor_company: Mapped[str | None] = mapped_column(String(200))
    payment_link: Mapped[str | None] = mapped_column(String(2000))
    # A JSON object, as text, so both databases store it alike.
    metadata_json: Mapped[str | None] = mapped_column(Text)
    last_timeline_restart: Mapped[datetime | None] = mapped_column(Timestamp)
    payment_plan_active: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    plan_start_date: Mapped[date | None] = mapped_column(Date)
    external_id: Mapped[str | None] = mapped_column(String(100))
    # Who owes it and whom it is owed to, kept in step by every write of the debt.
    debtor_id: Mapped[int | None] = mapped_column(Key, ForeignKey("debtors.id"))
    creditor_id: Mapped[int | None] = mapped_column(Key, ForeignKey("creditors.id"))
