from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from relance.followups.enums import Direction, FollowupStatus, FollowupType
from relance.models.base import Base, Key, Timestamp, Timestamped, external_id_index


def _one_of(column: str, values: type[FollowupStatus | FollowupType | Direction]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Followup(Timestamped, Base):
    """One collection attempt on a debt (docs/contract.md §1)."""

    __tablename__ = "followups"
    __table_args__ = (
        ForeignKeyConstraint(["debt_id", "company_id"], ["debts.id", "debts.company_id"]),
        CheckConstraint(_one_of("status", FollowupStatus), name="status"),
        CheckConstraint(_one_of("type", FollowupType), name="type"),
        CheckConstraint(_one_of("direction", Direction), name="direction"),
        # Every list query starts from the company, narrows by its filters and reads in
        # activity order (docs/contract.md §2); one index per filter shape the API offers.
        Index(None, "company_id", "activity_at", "id"),
        Index(None, "company_id", "status", "activity_at", "id"),
        Index(None, "company_id", "type", "activity_at", "id"),
        Index(None, "debt_id", "activity_at", "id"),
        external_id_index("followups"),
        # A deleted row's key is never given again (SQLite reuses the largest otherwise): public
        # IDs name one thing for ever, and the changes feed keeps a deleted followup's.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    # Held to an existing company by the debt's key above (migration 0008).
    company_id: Mapped[int] = mapped_column(Key)
    debt_id: Mapped[int] = mapped_column(Key)
    status: Mapped[str] = mapped_column(String(20))
    type: Mapped[str] = mapped_column(String(20))
    call_date: Mapped[datetime | None] = mapped_column(Timestamp)
    scheduled_at: Mapped[datetime | None] = mapped_column(Timestamp)
    summary: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    call_id: Mapped[str | None] = mapped_column(String(255))
    audio_url: Mapped[str | None] = mapped_column(Text)
    pdf_url: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    disconnection_reason: Mapped[str | None] = mapped_column(String(255))
    direction: Mapped[str | None] = mapped_column(String(10))
    phone_number_used: Mapped[str | None] = mapped_column(String(20))
    is_retry: Mapped[bool] = mapped_column(Boolean)
    processed_at: Mapped[datetime] = mapped_column(Timestamp)
    triggered_payment: Mapped[bool] = mapped_column(Boolean)
    email_opened: Mapped[bool] = mapped_column(Boolean)
    email_clicked: Mapped[bool] = mapped_column(Boolean)
    email_open_count: Mapped[int] = mapped_column(Integer)
    email_click_count: Mapped[int] = mapped_column(Integer)
    email_first_opened_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # call_date, else scheduled_at, else processed_at: the time the date filters and the
    # order use, stored so both can be served from an index.
    activity_at: Mapped[datetime] = mapped_column(Timestamp)
    # The caller's own reference, by which a second import updates instead of duplicating.
    external_id: Mapped[str | None] = mapped_column(String(100))
    # When its status first entered a completed one (followup.completed is sent that once).
    completed_at: Mapped[datetime | None] = mapped_column(Timestamp)
