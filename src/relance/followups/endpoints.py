"""HTTP endpoints for followups, each declared once (relance.operations)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.params import FromPath

from relance.auth.dependencies import Authenticator, PrincipalParam
from relance.auth.scopes import FOLLOWUPS_READ, FOLLOWUPS_WRITE
from relance.context import runtime_of
from relance.debts.service import DebtNotFound
from relance.errors import ValidationFailed
from relance.followups import service
from relance.followups.bodies import FollowupBody
from relance.followups.enums import FollowupStatus, FollowupType
from relance.followups.schemas import FollowupView, parse_list_query
from relance.followups.service import FollowupNotFound
from relance.idempotency.service import answered_once
from relance.kit.bodies import parse_body
from relance.kit.responses import JsonAnswer
from relance.media.endpoints import media_links
from relance.operations import (
    PAGE_PARAMETERS,
    Answer,
    Body,
    Envelope,
    Operation,
    PathId,
    choice,
    query,
    ref,
)
from relance.units import UnitOfWork, unit_of_work

AnyRequest = Request[Any, Any, Any]
READ = Authenticator(FOLLOWUPS_READ)
WRITE = Authenticator(FOLLOWUPS_WRITE)
PAGE = Envelope(FollowupView, paged=True)
ONE = Envelope(FollowupView)
FOLLOWUP_ID = PathId("id", "followup_id", "The followup's ID")
# A calendar date from year 0001 on, the range Python's dates cover.
_DAY = {"type": "string", "format": "date", "pattern": r"^(?!0000)[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
FILTERS = (
    *PAGE_PARAMETERS,
    choice("status", FollowupStatus, "Only followups of this status"),
    choice("type", FollowupType, "Only followups of this type"),
    query(
        "date_from",
        _DAY,
        "Only followups whose activity falls on this UTC day or after (YYYY-MM-DD); "
        "not after `date_to`",
    ),
    query(
        "date_to",
        _DAY,
        "Only followups whose activity falls on this UTC day or before (YYYY-MM-DD)",
    ),
)
DEBT_FILTER = query(
    "debt_id",
    ref("Id"),
    "Only this debt's followups (its encrypted ID); another company's debt gives an empty page",
)


@Operation(
    method="GET",
    path="/followups",
    summary="List Followups",
    tag="Followups",
    token=READ,
    parameters=(*FILTERS, DEBT_FILTER),
    answers=(Answer(200, PAGE),),
    errors=(ValidationFailed,),
)
async def list_followups(request: AnyRequest, principal: PrincipalParam) -> JsonAnswer:
    """A page of the company's followups, newest activity first. The dates filter on the
    activity time: `call_date`, else `scheduled_at`, else `processed_at`. Beyond what the
    parameters' schemas say, a `date_from` after `date_to` and a `debt_id` that is not an ID
    this deployment made are 400s."""
    # The runtime is read, not injected: with a single dependency Litestar resolves it inline
    # instead of starting a task group per request.
    runtime = runtime_of(request.scope)
    filters, page = parse_list_query(request.query_params.dict(), runtime.ids)
    data, total = await service.list_followups(
        runtime.db,
        runtime.ids,
        principal.company_id,
        filters,
        page,
        media_links(request),
        seek_from=runtime.settings.seek_from_offset,
    )
    return JsonAnswer({"error": False, "data": data, "pagination": page.envelope(total)})


@Operation(
    method="POST",
    path="/followups",
    summary="Create Followup",
    tag="Followups",
    token=WRITE,
    body=Body("FollowupCreate"),
    idempotent=True,
    answers=(Answer(201, ONE),),
)
async def create_followup(request: AnyRequest, principal: PrincipalParam) -> JsonAnswer:
    """Log a followup on one of the company's debts: `debt_id` and `type` are required; a
    `debt_id` that is not one of the company's debts is a 400."""
    runtime = runtime_of(request.scope)
    body = parse_body(FollowupBody, request.headers.get("content-type"), await request.body())

    async def write(unit: UnitOfWork) -> tuple[int, dict[str, Any]]:
        data = await service.create_followup(
            unit.conn,
            runtime.ids,
            principal.company_id,
            body,
            media_links(request),
            runtime.events,
        )
        return 201, {"error": False, "message": "Followup created successfully", "data": data}

    return await answered_once(request, runtime.db, principal.client_id, body, write)


@Operation(
    method="GET",
    path="/followups/{id}",
    summary="Get Followup",
    tag="Followups",
    token=READ,
    parameters=(FOLLOWUP_ID,),
    answers=(Answer(200, ONE),),
    errors=(FollowupNotFound,),
)
async def get_followup(
    request: AnyRequest, principal: PrincipalParam, followup_id: FromPath[str]
) -> JsonAnswer:
    """One followup of the company; another company's is as unknown as none."""
    runtime = runtime_of(request.scope)
    data = await service.get_followup(
        runtime.db, runtime.ids, principal.company_id, followup_id, media_links(request)
    )
    return JsonAnswer({"error": False, "message": "Success", "data": data})


@Operation(
    method="PUT",
    path="/followups/{id}",
    summary="Update Followup",
    tag="Followups",
    token=WRITE,
    parameters=(FOLLOWUP_ID,),
    body=Body("FollowupUpdate"),
    answers=(Answer(200, ONE),),
    errors=(FollowupNotFound,),
)
async def update_followup(
    request: AnyRequest, principal: PrincipalParam, followup_id: FromPath[str]
) -> JsonAnswer:
    """Change the fields sent; `null` clears a field that may be empty. `debt_id` cannot
    change."""
    runtime = runtime_of(request.scope)
    body = parse_body(FollowupBody, request.headers.get("content-type"), await request.body())
    async with unit_of_work(runtime.db) as unit:
        data = await service.update_followup(
            unit.conn,
            runtime.ids,
            principal.company_id,
            followup_id,
            body,
            media_links(request),
            runtime.events,
        )
    return JsonAnswer({"error": False, "message": "Followup updated successfully", "data": data})


@Operation(
    method="GET",
    path="/followups/debt/{debtId}",
    summary="Get Followups by Debt",
    tag="Followups",
    token=READ,
    parameters=(PathId("debtId", "debt_id", "The debt's ID"), *FILTERS),
    answers=(Answer(200, PAGE),),
    errors=(ValidationFailed, DebtNotFound),
)
async def list_debt_followups(
    request: AnyRequest, principal: PrincipalParam, debt_id: FromPath[str]
) -> JsonAnswer:
    """A page of one debt's followups, with the list's filters except `debt_id`; a `date_from`
    after `date_to` is a 400."""
    runtime = runtime_of(request.scope)
    params = request.query_params.dict()
    filters, page = parse_list_query(params, runtime.ids, with_debt_id=False)
    data, total = await service.list_debt_followups(
        runtime.db,
        runtime.ids,
        principal.company_id,
        debt_id,
        filters,
        page,
        media_links(request),
        seek_from=runtime.settings.seek_from_offset,
    )
    return JsonAnswer({"error": False, "data": data, "pagination": page.envelope(total)})


ROUTES = [list_followups, create_followup, get_followup, update_followup, list_debt_followups]
