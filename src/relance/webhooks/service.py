"""What a company may do with its webhook endpoints and their deliveries. Each function takes
the collaborators it uses: a connection (a write's, from the caller's unit of work), the
public ID codec, and for secrets the box that seals them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from relance.db import Connection
from relance.errors import Conflict, NotFound, ValidationFailed
from relance.events import repository as events
from relance.events.records import NewEvent, now_us
from relance.events.types import EventType
from relance.keys import DeploymentKeys
from relance.kit.ids import IdCodec
from relance.kit.query import QueryParams, QueryReader
from relance.kit.time import micros_of
from relance.webhooks.addresses import url_problem
from relance.webhooks.records import (
    DeliveryStatus,
    DisabledReason,
    EndpointSecrets,
    EndpointStatus,
    StoredEndpoint,
    stored_events,
)
from relance.webhooks.repository import deliveries, endpoints
from relance.webhooks.repository.deliveries import DeliveryQuery
from relance.webhooks.schemas import (
    ALL_EVENTS,
    RecoverBody,
    RotateSecretBody,
    WebhookEndpointBody,
    WebhookEndpointPatch,
)
from relance.webhooks.secrets import SecretBox, new_secret
from relance.webhooks.views import (
    WebhookDeliveryView,
    WebhookEndpointView,
    delivery_ids,
    delivery_view,
    endpoint_ids,
    endpoint_view,
)

_SECOND_US = 1_000_000


class EndpointNotFound(NotFound):
    message = "Webhook endpoint not found"


class DeliveryNotFound(NotFound):
    message = "Webhook delivery not found"


class EndpointDisabled(Conflict):
    message = (
        'The webhook endpoint is disabled: enable it first (PATCH it with {"status": "enabled"})'
    )
    title = "EndpointDisabled"
    description = "The webhook endpoint is disabled"


@dataclass(frozen=True, slots=True)
class Secrets:
    """What seals endpoint secrets, and the context each seal is bound to (its row)."""

    box: SecretBox

    @classmethod
    def of(cls, keys: DeploymentKeys) -> Secrets:
        """Sealed under the deployment's webhook key."""
        return cls(SecretBox(keys.webhook_secrets))

    def seal(self, endpoint_id: int, secret: str) -> str:
        return self.box.seal(secret, _context(endpoint_id))

    def open(self, endpoint_id: int, sealed: str) -> str:
        return self.box.open(sealed, _context(endpoint_id))

    def signing(self, endpoint_id: int, stored: EndpointSecrets, at_us: int) -> list[str]:
        """The secrets that sign a request now: the current one first, then the previous one
        while its rotation lasts."""
        found = [self.open(endpoint_id, stored.secret)]
        if stored.previous and (stored.previous_expires_us or 0) > at_us:
            found.append(self.open(endpoint_id, stored.previous))
        return found


def _context(endpoint_id: int) -> bytes:
    return f"webhook-endpoint:{endpoint_id}".encode()


# --- endpoints ------------------------------------------------------------------------------


async def create_endpoint(
    conn: Connection,
    ids: IdCodec,
    secrets: Secrets,
    company_id: int,
    body: WebhookEndpointBody,
    allow_private: bool,
) -> WebhookEndpointView:
    """A new enabled endpoint, shown with its secret: the only time but a rotation."""
    _check_url(body.url, allow_private)
    now = now_us()
    key = await endpoints.insert_endpoint(
        conn, company_id, body.url, body.description, _events(body.enabled_events), now
    )
    secret = new_secret()
    await endpoints.set_secrets(conn, key, EndpointSecrets(secrets.seal(key, secret), None, None))
    return endpoint_view(await _endpoint(conn, company_id, key), ids, secret)


async def list_endpoints(
    conn: Connection, ids: IdCodec, company_id: int, params: QueryParams
) -> tuple[list[WebhookEndpointView], int, bool]:
    reader = QueryReader(params)
    limit = reader.cursor_limit()
    before = reader.prefixed_id("starting_after", endpoint_ids(ids), "a webhook endpoint")
    _raise_problems(reader)
    found = await endpoints.endpoints_page(conn, company_id, before, limit)
    return [endpoint_view(e, ids) for e in found[:limit]], limit, len(found) > limit


async def get_endpoint(
    conn: Connection, ids: IdCodec, company_id: int, public_id: str
) -> WebhookEndpointView:
    return endpoint_view(await _endpoint(conn, company_id, _endpoint_key(ids, public_id)), ids)


async def update_endpoint(
    conn: Connection,
    ids: IdCodec,
    company_id: int,
    public_id: str,
    patch: WebhookEndpointPatch,
    allow_private: bool,
) -> WebhookEndpointView:
    """Change what the patch sends. Disabling fails what the endpoint was still owed;
    enabling starts it afresh (POST .../recover re-sends what it missed)."""
    key = _endpoint_key(ids, public_id)
    current = await _endpoint(conn, company_id, key, for_update=True)
    values: dict[str, object] = {}
    if patch.url is not None:
        _check_url(patch.url, allow_private)
        values["url"] = patch.url
    if patch.enabled_events is not None:
        values["enabled_events"] = _events(patch.enabled_events)
    if "description" in patch.model_fields_set:
        values["description"] = patch.description
    if patch.status is not None and patch.status != current.status:
        values |= await _status_change(conn, key, EndpointStatus(patch.status))
    if values:
        await endpoints.update_endpoint(conn, key, values, now_us())
    return endpoint_view(await _endpoint(conn, company_id, key), ids)


async def _status_change(
    conn: Connection, endpoint_id: int, status: EndpointStatus
) -> dict[str, object]:
    if status is EndpointStatus.DISABLED:
        await deliveries.fail_pending(conn, endpoint_id)
        return {"status": status.value, "disabled_reason": DisabledReason.MANUAL.value}
    return {"status": status.value, "disabled_reason": None, "failing_since_us": None}


async def delete_endpoint(conn: Connection, ids: IdCodec, company_id: int, public_id: str) -> None:
    """Delete the endpoint with its delivery log; its events stay."""
    if not await endpoints.delete_endpoint(conn, company_id, _endpoint_key(ids, public_id)):
        raise EndpointNotFound()


async def rotate_secret(
    conn: Connection,
    ids: IdCodec,
    secrets: Secrets,
    company_id: int,
    public_id: str,
    body: RotateSecretBody,
) -> WebhookEndpointView:
    """A new secret, shown once; the one it replaces still signs for
    `expire_previous_in_seconds`, so that receivers can be moved to the new one meanwhile."""
    key = _endpoint_key(ids, public_id)
    await _endpoint(conn, company_id, key, for_update=True)
    current = await endpoints.endpoint_secrets(conn, key)
    now = now_us()
    seconds = body.expire_previous_in_seconds
    secret = new_secret()
    rotated = EndpointSecrets(
        secrets.seal(key, secret),
        current.secret if seconds else None,
        now + seconds * _SECOND_US if seconds else None,
    )
    await endpoints.set_secrets(conn, key, rotated)
    await endpoints.update_endpoint(conn, key, {}, now)
    return endpoint_view(await _endpoint(conn, company_id, key), ids, secret)


async def send_test(
    conn: Connection, ids: IdCodec, company_id: int, public_id: str
) -> WebhookDeliveryView:
    """A `webhook.test` event delivered to this endpoint only, as any other; its delivery."""
    key = _endpoint_key(ids, public_id)
    endpoint = await _enabled(conn, company_id, key)
    data = {
        "endpoint_id": endpoint_ids(ids).show(key),
        "url": endpoint.url,
        "message": "A test event from Relance: this endpoint receives its events.",
    }
    event = NewEvent(EventType.WEBHOOK_TEST, msgspec.json.encode(data))
    delivery_id = await events.record_for(conn, company_id, event, now_us(), key)
    return await _delivery(conn, ids, company_id, delivery_id)


async def recover(
    conn: Connection, ids: IdCodec, company_id: int, public_id: str, body: RecoverBody
) -> int:
    """Re-send what the endpoint was owed since `since`; how many deliveries are due."""
    since = micros_of(body.since)
    if since is None:
        raise ValidationFailed({"since": ["must be RFC 3339 with its offset, or Unix seconds"]})
    key = _endpoint_key(ids, public_id)
    await _enabled(conn, company_id, key)
    due = await deliveries.recover(conn, company_id, key, since, now_us())
    if due:
        await events.notify(conn)
    return due


# --- deliveries -----------------------------------------------------------------------------


async def list_deliveries(
    conn: Connection, ids: IdCodec, company_id: int, public_id: str, params: QueryParams
) -> tuple[list[WebhookDeliveryView], int, bool]:
    reader = QueryReader(params)
    limit = reader.cursor_limit()
    status = reader.choice("status", DeliveryStatus)
    types = reader.choices("type", EventType)
    before = reader.prefixed_id("starting_after", delivery_ids(ids), "a webhook delivery")
    _raise_problems(reader)
    key = _endpoint_key(ids, public_id)
    await _endpoint(conn, company_id, key)
    query = DeliveryQuery(
        company_id,
        key,
        None if status is None else status.value,
        tuple(t.value for t in types),
        before,
    )
    found = await deliveries.deliveries_page(conn, query, limit)
    return [delivery_view(d, ids) for d in found[:limit]], limit, len(found) > limit


async def get_delivery(
    conn: Connection, ids: IdCodec, company_id: int, public_id: str
) -> WebhookDeliveryView:
    key = delivery_ids(ids).key(public_id)
    if key is None:
        raise DeliveryNotFound()
    return await _delivery(conn, ids, company_id, key, with_attempts=True)


async def retry_delivery(
    conn: Connection, ids: IdCodec, company_id: int, public_id: str
) -> WebhookDeliveryView:
    """One more attempt now, whatever came of the previous ones."""
    key = delivery_ids(ids).key(public_id)
    found = None if key is None else await deliveries.stored_delivery(conn, company_id, key)
    if found is None:
        raise DeliveryNotFound()
    await _enabled(conn, company_id, found.endpoint_id)
    await deliveries.retry_now(conn, found.id, now_us())
    await events.notify(conn)
    return await _delivery(conn, ids, company_id, found.id)


# --- helpers --------------------------------------------------------------------------------


def _check_url(url: str, allow_private: bool) -> None:
    problem = url_problem(url, allow_private=allow_private)
    if problem is not None:
        hint = "" if allow_private else " (RELANCE_WEBHOOKS_ALLOW_PRIVATE_NETWORKS allows others)"
        raise ValidationFailed({"url": [problem + hint]})


def _events(names: Sequence[str]) -> str:
    unique = list(dict.fromkeys(names))
    if ALL_EVENTS in unique and len(unique) > 1:
        raise ValidationFailed({"enabled_events": ['"*" (every type) stands alone']})
    return stored_events(unique)


def _raise_problems(reader: QueryReader) -> None:
    if reader.errors:
        raise ValidationFailed(reader.errors)


def _endpoint_key(ids: IdCodec, public_id: str) -> int:
    key = endpoint_ids(ids).key(public_id)
    if key is None:
        raise EndpointNotFound()
    return key


async def _endpoint(
    conn: Connection, company_id: int, key: int, *, for_update: bool = False
) -> StoredEndpoint:
    found = await endpoints.stored_endpoint(conn, company_id, key, for_update=for_update)
    if found is None:
        raise EndpointNotFound()
    return found


async def _enabled(conn: Connection, company_id: int, key: int) -> StoredEndpoint:
    found = await _endpoint(conn, company_id, key)
    if found.status != EndpointStatus.ENABLED:
        raise EndpointDisabled()
    return found


async def _delivery(
    conn: Connection, ids: IdCodec, company_id: int, key: int, *, with_attempts: bool = False
) -> WebhookDeliveryView:
    found = await deliveries.stored_delivery(conn, company_id, key)
    if found is None:
        raise DeliveryNotFound()
    attempts = await deliveries.attempts_of(conn, key) if with_attempts else None
    return delivery_view(found, ids, attempts)
