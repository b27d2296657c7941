"""Webhook endpoints and deliveries as the API shows them. Their IDs are Relance's own, with a
prefix that names their kind (`we_`, `wd_`), as the event's (`evt_`)."""

from __future__ import annotations

import msgspec

from relance.events.views import event_ids, moment_of
from relance.kit.ids import IdCodec, PrefixedIds
from relance.resources import Resource
from relance.webhooks.records import StoredAttempt, StoredDelivery, StoredEndpoint


def endpoint_ids(ids: IdCodec) -> PrefixedIds:
    return PrefixedIds(ids, Resource.WEBHOOK_ENDPOINT, "we_")


def delivery_ids(ids: IdCodec) -> PrefixedIds:
    return PrefixedIds(ids, Resource.WEBHOOK_DELIVERY, "wd_")


class WebhookEndpointView(msgspec.Struct, frozen=True, omit_defaults=True):
    """A URL that receives the company's events. `secret` is shown only when it is made: on
    create and on rotate-secret."""

    id: str
    url: str
    description: str | None
    enabled_events: list[str]
    status: str
    # manual, gone (the receiver answered 410) or failing (five days without a success).
    disabled_reason: str | None
    created_at: str
    updated_at: str
    secret: str | None = None


class WebhookAttemptView(msgspec.Struct, frozen=True):
    """One request of a delivery: when, the receiver's status code, how long it took and the
    first KiB of its answer; or, when no answer came, why (`error`: timeout, connection, tls,
    protocol, host_not_found, forbidden_address, invalid_url, secret)."""

    attempted_at: str
    status_code: int | None
    duration_ms: int
    response: str
    error: str | None


class WebhookDeliveryView(msgspec.Struct, frozen=True, omit_defaults=True):
    """One event owed to one endpoint: pending until an attempt succeeds or its retries run
    out (failed). The delivery's own page lists its attempts."""

    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    status: str
    attempt_count: int
    next_attempt_at: str | None
    last_attempt_at: str | None
    last_status_code: int | None
    created_at: str
    attempts: list[WebhookAttemptView] | None = None


def endpoint_view(
    endpoint: StoredEndpoint, ids: IdCodec, secret: str | None = None
) -> WebhookEndpointView:
    return WebhookEndpointView(
        endpoint_ids(ids).show(endpoint.id),
        endpoint.url,
        endpoint.description,
        endpoint.events,
        endpoint.status,
        endpoint.disabled_reason,
        moment_of(endpoint.created_us),
        moment_of(endpoint.updated_us),
        secret,
    )


def delivery_view(
    delivery: StoredDelivery, ids: IdCodec, attempts: list[StoredAttempt] | None = None
) -> WebhookDeliveryView:
    return WebhookDeliveryView(
        delivery_ids(ids).show(delivery.id),
        endpoint_ids(ids).show(delivery.endpoint_id),
        event_ids(ids).show(delivery.event_id),
        delivery.event_type,
        delivery.status,
        delivery.attempts,
        _moment(delivery.next_attempt_us if delivery.status == "pending" else None),
        _moment(delivery.last_attempt_us),
        delivery.last_status_code,
        moment_of(delivery.created_us),
        None if attempts is None else [attempt_view(a) for a in attempts],
    )


def attempt_view(attempt: StoredAttempt) -> WebhookAttemptView:
    return WebhookAttemptView(
        moment_of(attempt.attempted_us),
        attempt.status_code,
        attempt.duration_ms,
        attempt.response,
        attempt.error,
    )


def _moment(micros: int | None) -> str | None:
    return None if micros is None else moment_of(micros)
