"""HTTP endpoints for the company's change events, each declared once (relance.operations)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.params import FromPath

from relance.auth.dependencies import Authenticator, PrincipalParam
from relance.auth.scopes import WEBHOOKS_READ
from relance.context import runtime_of
from relance.errors import ValidationFailed
from relance.events import service
from relance.events.service import EventNotFound
from relance.events.types import EventType
from relance.events.views import EventView
from relance.kit.pagination import cursor_page
from relance.kit.responses import JsonAnswer
from relance.kit.time import MOMENT_SCHEMAS
from relance.media.endpoints import media_links
from relance.operations import Answer, Envelope, Operation, PathId, cursor_parameters, query

AnyRequest = Request[Any, Any, Any]
READ = Authenticator(WEBHOOKS_READ)
_MOMENT = {"anyOf": MOMENT_SCHEMAS, "description": "RFC 3339 with its offset, or Unix seconds"}
EVENT_ID = {"type": "string", "pattern": "^evt_[0-9A-Za-z]{22}$"}


@Operation(
    method="GET",
    path="/events",
    summary="List Events",
    tag="Events",
    token=READ,
    parameters=(
        *cursor_parameters("Events", "evt_"),
        query(
            "type",
            {"type": "string", "enum": [t.value for t in EventType]},
            "Only events of this type; repeat it for several",
        ),
        query("created_gte", _MOMENT, "Only events at or after this moment"),
        query("created_lte", _MOMENT, "Only events at or before this moment"),
    ),
    answers=(Answer(200, Envelope(EventView, cursor=True)),),
    errors=(ValidationFailed,),
)
async def list_events(request: AnyRequest, principal: PrincipalParam) -> JsonAnswer:
    """The company's change events of the last 30 days (RELANCE_EVENTS_RETENTION_DAYS), newest
    first, each as its webhook delivers it; page on with `starting_after`."""
    runtime = runtime_of(request.scope)
    retention = runtime.settings.events_retention_days
    params = request.query_params.dict()
    found, limit = service.parse_event_query(params, runtime.ids, principal.company_id, retention)
    data, more = await service.list_events(
        runtime.db, runtime.ids, found, limit, media_links(request)
    )
    return JsonAnswer(cursor_page(data, limit, more))


@Operation(
    method="GET",
    path="/events/{id}",
    summary="Get Event",
    tag="Events",
    token=READ,
    parameters=(PathId("id", "event_id", "The event's ID (evt_...)", EVENT_ID),),
    answers=(Answer(200, Envelope(EventView)),),
    errors=(EventNotFound,),
)
async def get_event(
    request: AnyRequest, principal: PrincipalParam, event_id: FromPath[str]
) -> JsonAnswer:
    """One of the company's events; another company's is as unknown as none."""
    runtime = runtime_of(request.scope)
    data = await service.get_event(
        runtime.db,
        runtime.ids,
        principal.company_id,
        event_id,
        media_links(request),
        runtime.settings.events_retention_days,
    )
    return JsonAnswer({"error": False, "message": "Success", "data": data})


ROUTES = [list_events, get_event]
