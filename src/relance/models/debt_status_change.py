from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from relance.models.base import Base, Key, Timestamp


class DebtStatusChange(Base):
    """One move of a debt's status (PUT /debts/{id}): from what, to what, when and by which
    API client, so that the console can count the debts paid in a period. A debt's first
    status, pending, is its creation, not a change."""

    __tablename__ = "debt_status_changes"
    __table_args__ = (
        ForeignKeyConstraint(["debt_id", "company_id"], ["debts.id", "debts.company_id"]),
        # A company's moves in a period, and one debt's history in order.
        Index(None, "company_id", "changed_at"),
        Index(None, "debt_id", "changed_at"),
    )

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    company_id: Mapped[int] = mapped_column(Key)
    debt_id: Mapped[int] = mapped_column(Key)
    from_status: Mapped[str] = mapped_column(String(40))
    to_status: Mapped[str] = mapped_column(String(40))
    changed_at: Mapped[datetime] = mapped_column(Timestamp)
    # The API client whose request made the change (its public client ID, as the audit log
    # names it); null for a change made another way.
    client_id: Mapped[str | None] = mapped_column(String(64), ForeignKey("oauth_clients.client_id"))
