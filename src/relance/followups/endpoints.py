"""HTTP endpoints for followups."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post, put
from litestar.params import FromPath

from relance.auth.dependencies import Authenticator, PrincipalParam, runtime_of
from relance.auth.scopes import FOLLOWUPS_READ, FOLLOWUPS_WRITE
from relance.db import Connection
from relance.followups import service
from relance.followups.bodies import FollowupBody
from relance.followups.schemas import parse_list_query
from relance.idempotency.responses import answered_once
from relance.kit.bodies import parse_body
from relance.kit.responses import JsonAnswer
from relance.media.endpoints import media_links

FollowupsRead = Authenticator(FOLLOWUPS_READ)
FollowupsWrite = Authenticator(FOLLOWUPS_WRITE)
AnyRequest = Request[Any, Any, Any]


@get("/followups", dependencies={"principal": FollowupsRead}, summary="List Followups")
async def list_followups(request: AnyRequest, principal: PrincipalParam) -> JsonAnswer:
    """A page of the company's followups, filtered by status, type, dates and debt."""
    # The runtime is read, not injected: with a single dependency Litestar resolves it inline
    # instead of starting a task group per request.
    runtime = runtime_of(request)
    filters, page = parse_list_query(request.query_params.dict(), runtime.ids)
    data, total = await service.list_followups(
        runtime, principal, filters, page, media_links(request)
    )
    return JsonAnswer({"error": False, "data": data, "pagination": page.envelope(total)})


@get(
    "/followups/debt/{debt_id:str}",
    dependencies={"principal": FollowupsRead},
    summary="Get Followups by Debt",
)
async def list_debt_followups(
    request: AnyRequest, principal: PrincipalParam, debt_id: FromPath[str]
) -> JsonAnswer:
    """A page of one debt's followups, with the list's filters (except debt_id)."""
    runtime = runtime_of(request)
    query = request.query_params.dict()
    filters, page = parse_list_query(query, runtime.ids, with_debt_id=False)
    data, total = await service.list_debt_followups(
        runtime, principal, debt_id, filters, page, media_links(request)
    )
    return JsonAnswer({"error": False, "data": data, "pagination": page.envelope(total)})


@get(
    "/followups/{followup_id:str}",
    dependencies={"principal": FollowupsRead},
    summary="Get Followup",
)
async def get_followup(
    request: AnyRequest, principal: PrincipalParam, followup_id: FromPath[str]
) -> JsonAnswer:
    """One followup of the company."""
    data = await service.get_followup(
        runtime_of(request), principal, followup_id, media_links(request)
    )
    return JsonAnswer({"error": False, "message": "Success", "data": data})


@post("/followups", dependencies={"principal": FollowupsWrite}, summary="Create Followup")
async def create_followup(request: AnyRequest, principal: PrincipalParam) -> JsonAnswer:
    """Log a followup on one of the company's debts; idempotent with an Idempotency-Key."""
    runtime = runtime_of(request)
    body = parse_body(FollowupBody, request.headers.get("content-type"), await request.body())

    async def write(conn: Connection) -> tuple[int, dict[str, Any]]:
        data = await service.create_followup(conn, runtime, principal, body, media_links(request))
        return 201, {"error": False, "message": "Followup created successfully", "data": data}

    return await answered_once(request, runtime, principal, body, write)


@put(
    "/followups/{followup_id:str}",
    dependencies={"principal": FollowupsWrite},
    summary="Update Followup",
)
async def update_followup(
    request: AnyRequest, principal: PrincipalParam, followup_id: FromPath[str]
) -> JsonAnswer:
    """Change the fields sent (null clears a field that may be empty); debt_id cannot change."""
    runtime = runtime_of(request)
    body = parse_body(FollowupBody, request.headers.get("content-type"), await request.body())
    data = await service.update_followup(
        runtime, principal, followup_id, body, media_links(request)
    )
    return JsonAnswer({"error": False, "message": "Followup updated successfully", "data": data})


ROUTES = [list_followups, list_debt_followups, get_followup, create_followup, update_followup]
