"""The change sequence that the followups feed and export read (docs/sync.md).

Each committed change of a followup takes the next number of its company's sequence, from a
counter row that the writing transaction locks until it commits, so numbers are taken in
commit order: a reader who has seen every change up to N can never later find a committed
change below N. A followup keeps one row here, at its latest change; a deleted one keeps its
row as a tombstone until the retention purge, which moves the company's horizon past it."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, text
from sqlalchemy.orm import Mapped, mapped_column

from relance.models.base import Base, Key

Micros = BigInteger


class ChangeSequence(Base):
    """A company's counter: the last number taken, and the horizon below which tombstones
    were purged (a cursor older than it may have missed a deletion)."""

    __tablename__ = "change_sequences"

    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    horizon_seq: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))


class FollowupChange(Base):
    """A followup's latest change: upserted (the row itself holds its state) or deleted."""

    __tablename__ = "followup_changes"
    __table_args__ = (
        # The tombstone purge: a company's, oldest first.
        Index("ix_followup_changes_tombstones", "company_id", "changed_us",
              postgresql_where=text("deleted"), sqlite_where=text("deleted")),
    )  # fmt: skip

    # The feed reads a company's changes in order: (company_id, seq) is its index.
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # No foreign key: a tombstone outlives its followup.
    followup_id: Mapped[int] = mapped_column(Key, unique=True)
    debt_id: Mapped[int] = mapped_column(Key)
    deleted: Mapped[bool] = mapped_column(Boolean)
    changed_us: Mapped[int] = mapped_column(Micros)
