from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from relance.models.base import Base, Key, Timestamp


class IdempotencyKey(Base):
    """A POST made with an `Idempotency-Key`: what it asked and what it was answered, so that
    a retry within 24 hours gets the same answer instead of a second write."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("client_id", "key"),)

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    # A digest of the method, path and body: the same key with another request is a conflict.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(Timestamp, index=True)
