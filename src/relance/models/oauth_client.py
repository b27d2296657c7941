from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from relance.models.base import Base, Key, Timestamp, Timestamped


class OAuthClient(Timestamped, Base):
    """A client-credentials client of one company. The secret is kept only as a keyed hash."""

    __tablename__ = "oauth_clients"

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    # Space-separated, as OAuth writes scopes.
    scopes: Mapped[str] = mapped_column(Text)
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # Counts the client's secrets; each token carries the one it was issued under, so rotating
    # the secret retires every older token at once.
    secret_version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    # Requests allowed per rate-limit window; NULL follows the deployment's default.
    read_limit: Mapped[int | None] = mapped_column(Integer)
    write_limit: Mapped[int | None] = mapped_column(Integer)
