"""HTTP endpoints for followups."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from relance.auth.dependencies import Authenticator, PrincipalParam, runtime_of
from relance.auth.scopes import FOLLOWUPS_READ
from relance.followups import service
from relance.followups.schemas import parse_list_query
from relance.kit.responses import json_response

FollowupsRead = Authenticator(FOLLOWUPS_READ)


@get("/followups", dependencies={"principal": FollowupsRead}, summary="List Followups")
async def list_followups(
    request: Request[Any, Any, Any], principal: PrincipalParam
) -> Response[bytes]:
    """A page of the company's followups, filtered by status, type, dates and debt."""
    # The runtime is read, not injected: with a single dependency Litestar resolves it inline
    # instead of starting a task group per request.
    runtime = runtime_of(request)
    filters, page = parse_list_query(request.query_params.dict(), runtime.ids)
    data, total = await service.list_followups(runtime, principal, filters, page)
    return json_response({"error": False, "data": data, "pagination": page.envelope(total)})


ROUTES = [list_followups]
