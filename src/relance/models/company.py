from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from relance.models.base import Base, Key, Timestamped


class Company(Timestamped, Base):
    """A creditor: owns debts and the OAuth clients that read them."""

    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # How the company is reached, as GET /company/profile shows it.
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
