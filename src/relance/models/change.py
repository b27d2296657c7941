"""The change sequence that the followups feed and export read (docs/sync.md).

A write records which followups it changed, unnumbered, in its own transaction: it takes no
lock that another write waits for. Numbers are given later, to committed changes only, by
whoever reads the feed first ("numbering"), one numbering of a company at a time under its
counter row's lock: so a number, once seen, is never followed by a smaller one, and a change
rolled back is never numbered. A followup keeps one row here, at its latest change; a deleted
one keeps its row as a tombstone until the retention purge, which moves the company's horizon
past it."""

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
        # The feed reads a company's changes in order of their numbers; numbering finds those
        # not yet numbered in the same index (B-trees keep nulls: `seq IS NULL` is a range).
        Index("ix_followup_changes_company_id_seq", "company_id", "seq", unique=True),
        # The tombstone purge: a company's, oldest first.
        Index("ix_followup_changes_tombstones", "company_id", "changed_us",
              postgresql_where=text("deleted"), sqlite_where=text("deleted")),
    )  # fmt: skip

    # No foreign key: a tombstone outlives its followup.
    followup_id: Mapped[int] = mapped_column(Key, primary_key=True, autoincrement=False)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    # Null until the change is numbered.
    seq: Mapped[int | None] = mapped_column(BigInteger)
    debt_id: Mapped[int] = mapped_column(Key)
    deleted: Mapped[bool] = mapped_column(Boolean)
    changed_us: Mapped[int] = mapped_column(Micros)
