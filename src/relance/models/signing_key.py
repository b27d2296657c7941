from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer
from sqlalchemy.orm import Mapped, mapped_column

from relance.models.base import Base, Timestamp


class TokenSigningKey(Base):
    """A version of the token signing key. The key itself is derived from the deployment
    secret and the version number, so nothing secret is stored here."""

    __tablename__ = "token_signing_keys"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
