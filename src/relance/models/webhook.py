"""Change events and their webhook deliveries (docs/webhooks.md).

Moments here are whole microseconds since the Unix epoch (`*_us`): an event's timestamp is
shown to the microsecond, which the other tables' SQLite form (text to the second) cannot hold,
and the delivery queue compares and orders them in every claim on both databases alike."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from relance.models.base import Base, Key

Micros = BigInteger


class Event(Base):
    """A change of one of a company's objects, recorded in the transaction that made it: its
    type, the object as the API showed it then (stored media unsigned), and what changed."""

    __tablename__ = "events"
    __table_args__ = (
        # GET /events: newest first within the company.
        Index(None, "company_id", "id"),
        # The retention purge.
        Index(None, "created_us"),
    )

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    type: Mapped[str] = mapped_column(String(40))
    created_us: Mapped[int] = mapped_column(Micros)
    # JSON text: the object, and for an update {field: {"previous", "new"}}.
    data: Mapped[str] = mapped_column(Text)
    changes: Mapped[str | None] = mapped_column(Text)


class WebhookEndpoint(Base):
    """A URL of the company's that receives the events it subscribes to."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str | None] = mapped_column(Text)
    # The event types, space-separated with a space at each end (" a b "), or " * ": a
    # delivery's fan-out matches a type with one LIKE on both databases.
    enabled_events: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))
    disabled_reason: Mapped[str | None] = mapped_column(String(20))
    # The signing secrets, sealed with the deployment's webhook key (never stored in clear);
    # during a rotation the previous one signs too, until it expires.
    secret: Mapped[str] = mapped_column(Text)
    previous_secret: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_us: Mapped[int | None] = mapped_column(Micros)
    # The first failure since the last success: failing for five days disables the endpoint.
    failing_since_us: Mapped[int | None] = mapped_column(Micros)
    created_us: Mapped[int] = mapped_column(Micros)
    updated_us: Mapped[int] = mapped_column(Micros)


class WebhookDelivery(Base):
    """One event owed to one endpoint, until it succeeds or its retries run out. Workers claim
    the pending ones that are due; a claim holds a delivery until `claimed_until_us`, after
    which a worker that died with it has lost it to the next."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The claim: each endpoint's due deliveries, oldest first.
        Index(
            "ix_webhook_deliveries_due",
            "endpoint_id",
            "next_attempt_us",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        # An endpoint's requests in flight, which the claim keeps to four.
        Index(
            "ix_webhook_deliveries_claimed",
            "endpoint_id",
            "claimed_until_us",
            postgresql_where=text("claimed_until_us IS NOT NULL"),
            sqlite_where=text("claimed_until_us IS NOT NULL"),
        ),
        # GET /webhook-endpoints/{id}/deliveries, newest first.
        Index(None, "endpoint_id", "id"),
        Index(None, "event_id"),
    )

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    # pending, succeeded or failed (its retries ran out, or its endpoint is gone).
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_us: Mapped[int | None] = mapped_column(Micros)
    claimed_until_us: Mapped[int | None] = mapped_column(Micros)
    last_attempt_us: Mapped[int | None] = mapped_column(Micros)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    created_us: Mapped[int] = mapped_column(Micros)


class WebhookAttempt(Base):
    """One request made for a delivery, and what came of it."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempted_us: Mapped[int] = mapped_column(Micros)
    status_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)
    # The answer's first KiB.
    response: Mapped[str] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(String(40))
