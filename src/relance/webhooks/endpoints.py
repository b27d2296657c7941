"""HTTP endpoints for webhook endpoints and their deliveries, each declared once
(relance.operations)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.params import FromPath

from relance.auth.dependencies import Authenticator, PrincipalParam
from relance.auth.scopes import WEBHOOKS_READ, WEBHOOKS_WRITE
from relance.context import runtime_of
from relance.errors import ValidationFailed
from relance.events.types import EventType
from relance.kit.bodies import Model, parse_body
from relance.kit.pagination import cursor_page
from relance.kit.responses import JsonAnswer
from relance.operations import (
    Answer,
    Body,
    Envelope,
    Operation,
    PathId,
    choice,
    cursor_parameters,
    query,
)
from relance.runtime import Runtime
from relance.units import unit_of_work
from relance.webhooks import service
from relance.webhooks.records import DeliveryStatus
from relance.webhooks.schemas import (
    RecoverBody,
    RotateSecretBody,
    WebhookEndpointBody,
    WebhookEndpointPatch,
)
from relance.webhooks.service import (
    DeliveryNotFound,
    EndpointDisabled,
    EndpointNotFound,
    Secrets,
)
from relance.webhooks.views import WebhookDeliveryView, WebhookEndpointView

AnyRequest = Request[Any, Any, Any]
READ = Authenticator(WEBHOOKS_READ)
WRITE = Authenticator(WEBHOOKS_WRITE)
TAG = "Webhooks"
ENDPOINT_ID = PathId(
    "id",
    "endpoint_id",
    "The webhook endpoint's ID (we_...)",
    {"type": "string", "pattern": "^we_[0-9A-Za-z]{22}$"},
)
DELIVERY_ID = PathId(
    "id",
    "delivery_id",
    "The webhook delivery's ID (wd_...)",
    {"type": "string", "pattern": "^wd_[0-9A-Za-z]{22}$"},
)


class DeletedView(msgspec.Struct, frozen=True):
    """What was deleted."""

    id: str
    deleted: bool


class RecoveredView(msgspec.Struct, frozen=True):
    """How many deliveries a recovery made due."""

    queued: int


def _secrets(runtime: Runtime) -> Secrets:
    return Secrets.of(runtime.keys)


async def _body(request: AnyRequest, model: type[Model], *, optional: bool = False) -> Model:
    raw = await request.body()
    if optional and not raw.strip():
        return model()
    return parse_body(model, request.headers.get("content-type"), raw)


def _one(data: Any, message: str = "Success", status: int = 200) -> JsonAnswer:
    return JsonAnswer({"error": False, "message": message, "data": data}, status)


@Operation(
    method="POST",
    path="/webhook-endpoints",
    summary="Create Webhook Endpoint",
    tag=TAG,
    token=WRITE,
    body=Body("WebhookEndpointBody", model=WebhookEndpointBody),
    answers=(Answer(201, Envelope(WebhookEndpointView)),),
)
async def create_endpoint(request: AnyRequest, principal: PrincipalParam) -> JsonAnswer:
    """Register a URL to receive the company's events (`enabled_events`, default every
    type). The answer holds the endpoint's signing `secret`, shown this once (and on
    rotate-secret): keep it to verify each delivery's signature. The URL must be https on a
    public address unless RELANCE_WEBHOOKS_ALLOW_PRIVATE_NETWORKS is on."""
    runtime = runtime_of(request.scope)
    body = await _body(request, WebhookEndpointBody)
    async with unit_of_work(runtime.db) as unit:
        view = await service.create_endpoint(
            unit.conn,
            runtime.ids,
            _secrets(runtime),
            principal.company_id,
            body,
            runtime.settings.webhooks_allow_private_networks,
        )
    return _one(view, "Webhook endpoint created", 201)


@Operation(
    method="GET",
    path="/webhook-endpoints",
    summary="List Webhook Endpoints",
    tag=TAG,
    token=READ,
    parameters=cursor_parameters("Webhook endpoints", "we_"),
    answers=(Answer(200, Envelope(WebhookEndpointView, cursor=True)),),
    errors=(ValidationFailed,),
)
async def list_endpoints(request: AnyRequest, principal: PrincipalParam) -> JsonAnswer:
    """The company's webhook endpoints, newest first."""
    runtime = runtime_of(request.scope)
    data, limit, more = await service.list_endpoints(
        runtime.db, runtime.ids, principal.company_id, request.query_params.dict()
    )
    return JsonAnswer(cursor_page(data, limit, more))


@Operation(
    method="GET",
    path="/webhook-endpoints/{id}",
    summary="Get Webhook Endpoint",
    tag=TAG,
    token=READ,
    parameters=(ENDPOINT_ID,),
    answers=(Answer(200, Envelope(WebhookEndpointView)),),
    errors=(EndpointNotFound,),
)
async def get_endpoint(
    request: AnyRequest, principal: PrincipalParam, endpoint_id: FromPath[str]
) -> JsonAnswer:
    """One of the company's webhook endpoints (without its secret)."""
    runtime = runtime_of(request.scope)
    return _one(
        await service.get_endpoint(runtime.db, runtime.ids, principal.company_id, endpoint_id)
    )


@Operation(
    method="PATCH",
    path="/webhook-endpoints/{id}",
    summary="Update Webhook Endpoint",
    tag=TAG,
    token=WRITE,
    parameters=(ENDPOINT_ID,),
    body=Body("WebhookEndpointPatch", model=WebhookEndpointPatch),
    answers=(Answer(200, Envelope(WebhookEndpointView)),),
    errors=(EndpointNotFound,),
)
async def update_endpoint(
    request: AnyRequest, principal: PrincipalParam, endpoint_id: FromPath[str]
) -> JsonAnswer:
    """Change an endpoint's `url`, `enabled_events`, `description` or `status`. Disabling it
    fails what it was still owed; enabling it again sends it what follows (`recover` re-sends
    what it missed)."""
    runtime = runtime_of(request.scope)
    patch = await _body(request, WebhookEndpointPatch)
    async with unit_of_work(runtime.db) as unit:
        view = await service.update_endpoint(
            unit.conn,
            runtime.ids,
            principal.company_id,
            endpoint_id,
            patch,
            runtime.settings.webhooks_allow_private_networks,
        )
    return _one(view, "Webhook endpoint updated")


@Operation(
    method="DELETE",
    path="/webhook-endpoints/{id}",
    summary="Delete Webhook Endpoint",
    tag=TAG,
    token=WRITE,
    parameters=(ENDPOINT_ID,),
    answers=(Answer(200, Envelope(DeletedView)),),
    errors=(EndpointNotFound,),
)
async def delete_endpoint(
    request: AnyRequest, principal: PrincipalParam, endpoint_id: FromPath[str]
) -> JsonAnswer:
    """Delete an endpoint and its delivery log; nothing more is sent to it."""
    runtime = runtime_of(request.scope)
    async with unit_of_work(runtime.db) as unit:
        await service.delete_endpoint(unit.conn, runtime.ids, principal.company_id, endpoint_id)
    return _one(DeletedView(endpoint_id, True), "Webhook endpoint deleted")


@Operation(
    method="POST",
    path="/webhook-endpoints/{id}/rotate-secret",
    summary="Rotate Webhook Endpoint Secret",
    tag=TAG,
    token=WRITE,
    parameters=(ENDPOINT_ID,),
    body=Body("RotateSecretBody", model=RotateSecretBody, required=False),
    answers=(Answer(200, Envelope(WebhookEndpointView)),),
    errors=(EndpointNotFound,),
)
async def rotate_secret(
    request: AnyRequest, principal: PrincipalParam, endpoint_id: FromPath[str]
) -> JsonAnswer:
    """A new signing secret, shown this once. Until `expire_previous_in_seconds` (default a
    day) have passed, each delivery carries a signature by the previous secret too, so that
    receivers can move to the new one without refusing a delivery."""
    runtime = runtime_of(request.scope)
    body = await _body(request, RotateSecretBody, optional=True)
    async with unit_of_work(runtime.db) as unit:
        view = await service.rotate_secret(
            unit.conn, runtime.ids, _secrets(runtime), principal.company_id, endpoint_id, body
        )
    return _one(view, "Webhook endpoint secret rotated")


@Operation(
    method="POST",
    path="/webhook-endpoints/{id}/recover",
    summary="Recover Webhook Endpoint",
    tag=TAG,
    token=WRITE,
    parameters=(ENDPOINT_ID,),
    body=Body("RecoverBody", model=RecoverBody),
    answers=(Answer(202, Envelope(RecoveredView)),),
    errors=(EndpointNotFound, EndpointDisabled),
)
async def recover_endpoint(
    request: AnyRequest, principal: PrincipalParam, endpoint_id: FromPath[str]
) -> JsonAnswer:
    """Re-send what the endpoint was owed since `since`: the deliveries that failed, and the
    events it was never sent (while it was disabled, or of types it did not subscribe to then
    but does now), each with its own event ID."""
    runtime = runtime_of(request.scope)
    body = await _body(request, RecoverBody)
    async with unit_of_work(runtime.db) as unit:
        queued = await service.recover(
            unit.conn, runtime.ids, principal.company_id, endpoint_id, body
        )
    return _one(RecoveredView(queued), f"{queued} deliveries queued", 202)


@Operation(
    method="POST",
    path="/webhook-endpoints/{id}/test",
    summary="Test Webhook Endpoint",
    tag=TAG,
    token=WRITE,
    parameters=(ENDPOINT_ID,),
    answers=(Answer(202, Envelope(WebhookDeliveryView)),),
    errors=(EndpointNotFound, EndpointDisabled),
)
async def test_endpoint(
    request: AnyRequest, principal: PrincipalParam, endpoint_id: FromPath[str]
) -> JsonAnswer:
    """Send a `webhook.test` event to this endpoint only, signed and retried as any other;
    the answer is its delivery, whose page shows how the receiver answered."""
    runtime = runtime_of(request.scope)
    async with unit_of_work(runtime.db) as unit:
        view = await service.send_test(unit.conn, runtime.ids, principal.company_id, endpoint_id)
    return _one(view, "Test event queued", 202)


@Operation(
    method="GET",
    path="/webhook-endpoints/{id}/deliveries",
    summary="List Webhook Deliveries",
    tag=TAG,
    token=READ,
    parameters=(
        ENDPOINT_ID,
        *cursor_parameters("Deliveries", "wd_"),
        choice("status", DeliveryStatus, "Only deliveries of this status"),
        query(
            "type",
            {"type": "string", "enum": [t.value for t in EventType]},
            "Only deliveries of events of this type; repeat it for several",
        ),
    ),
    answers=(Answer(200, Envelope(WebhookDeliveryView, cursor=True)),),
    errors=(ValidationFailed, EndpointNotFound),
)
async def list_deliveries(
    request: AnyRequest, principal: PrincipalParam, endpoint_id: FromPath[str]
) -> JsonAnswer:
    """The endpoint's deliveries, newest first: each event owed to it, its status and its
    last attempt."""
    runtime = runtime_of(request.scope)
    data, limit, more = await service.list_deliveries(
        runtime.db, runtime.ids, principal.company_id, endpoint_id, request.query_params.dict()
    )
    return JsonAnswer(cursor_page(data, limit, more))


@Operation(
    method="GET",
    path="/webhook-deliveries/{id}",
    summary="Get Webhook Delivery",
    tag=TAG,
    token=READ,
    parameters=(DELIVERY_ID,),
    answers=(Answer(200, Envelope(WebhookDeliveryView)),),
    errors=(DeliveryNotFound,),
)
async def get_delivery(
    request: AnyRequest, principal: PrincipalParam, delivery_id: FromPath[str]
) -> JsonAnswer:
    """One delivery with every attempt: when, the receiver's status code, how long it took,
    the first KiB of its answer and what went wrong."""
    runtime = runtime_of(request.scope)
    return _one(
        await service.get_delivery(runtime.db, runtime.ids, principal.company_id, delivery_id)
    )


@Operation(
    method="POST",
    path="/webhook-deliveries/{id}/retry",
    summary="Retry Webhook Delivery",
    tag=TAG,
    token=WRITE,
    parameters=(DELIVERY_ID,),
    answers=(Answer(202, Envelope(WebhookDeliveryView)),),
    errors=(DeliveryNotFound, EndpointDisabled),
)
async def retry_delivery(
    request: AnyRequest, principal: PrincipalParam, delivery_id: FromPath[str]
) -> JsonAnswer:
    """One more attempt of a delivery now, with the same event ID, whatever came of the
    previous ones."""
    runtime = runtime_of(request.scope)
    async with unit_of_work(runtime.db) as unit:
        view = await service.retry_delivery(
            unit.conn, runtime.ids, principal.company_id, delivery_id
        )
    return _one(view, "Delivery queued", 202)


ROUTES = [
    create_endpoint,
    list_endpoints,
    get_endpoint,
    update_endpoint,
    delete_endpoint,
    rotate_secret,
    recover_endpoint,
    test_endpoint,
    list_deliveries,
    get_delivery,
    retry_delivery,
]
