from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from relance.models.base import Base, Key, Timestamp


class DebtBatch(Base):
    """One POST /debts/batch that created debts: its `import_id` names it, with its name and
    what became of its items."""

    __tablename__ = "debt_batches"

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # The API client that sent it (its public client ID).
    client_id: Mapped[str | None] = mapped_column(String(64), ForeignKey("oauth_clients.client_id"))
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    created: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[int] = mapped_column(Integer)
