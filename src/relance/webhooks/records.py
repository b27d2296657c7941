"""Webhook endpoints, deliveries and attempts as the repository returns them; moments in whole
microseconds since the Unix epoch (relance.models.webhook)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class EndpointStatus(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"


class DisabledReason(StrEnum):
    # PATCH {"status": "disabled"} or `relance webhooks disable`.
    MANUAL = "manual"
    # The receiver answered 410 Gone.
    GONE = "gone"
    # Every attempt failed for RELANCE_WEBHOOKS_DISABLE_AFTER_SECONDS (five days).
    FAILING = "failing"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    # Its retries ran out, or its endpoint was disabled before it succeeded.
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class StoredEndpoint:
    id: int
    company_id: int
    url: str
    description: str | None
    # " a b " or " * ", as stored (events_of reads it).
    enabled_events: str
    status: str
    disabled_reason: str | None
    created_us: int
    updated_us: int

    @property
    def events(self) -> list[str]:
        return self.enabled_events.split()


@dataclass(frozen=True, slots=True)
class EndpointSecrets:
    """An endpoint's sealed signing secrets: the current one, and during a rotation the
    previous one until it expires."""

    secret: str
    previous: str | None
    previous_expires_us: int | None


@dataclass(frozen=True, slots=True)
class StoredDelivery:
    id: int
    company_id: int
    event_id: int
    event_type: str
    endpoint_id: int
    status: str
    attempts: int
    next_attempt_us: int | None
    last_attempt_us: int | None
    last_status_code: int | None
    created_us: int


@dataclass(frozen=True, slots=True)
class StoredAttempt:
    attempted_us: int
    status_code: int | None
    duration_ms: int
    response: str
    error: str | None


def stored_events(names: list[str]) -> str:
    """`enabled_events` as stored: " a b " (each name between spaces, for one LIKE)."""
    return " " + " ".join(names) + " "
