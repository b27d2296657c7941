"""HTTP endpoints for the token's company, each declared once (relance.operations): its
profile, its users and its credits, as GetBill answers them."""

from __future__ import annotations

from typing import Any

from litestar import Request

from relance.auth.dependencies import Authenticator, PrincipalParam
from relance.auth.scopes import COMPANY_READ, USERS_READ
from relance.companies import service
from relance.companies.schemas import CompanyView, CreditsView, UserView
from relance.context import runtime_of
from relance.kit.responses import JsonAnswer
from relance.operations import Answer, Envelope, Operation

AnyRequest = Request[Any, Any, Any]
COMPANY = Authenticator(COMPANY_READ)


@Operation(
    method="GET",
    path="/company/profile",
    summary="Get Company Profile",
    tag="Company",
    token=COMPANY,
    answers=(Answer(200, Envelope(CompanyView)),),
)
async def get_profile(request: AnyRequest, principal: PrincipalParam) -> JsonAnswer:
    """The token's company: its name, how it is reached and when it was registered."""
    runtime = runtime_of(request.scope)
    data = await service.company_profile(runtime.db, runtime.ids, principal.company_id)
    return JsonAnswer({"error": False, "message": "Success", "data": data})


@Operation(
    method="GET",
    path="/company/users",
    summary="Get Company Users",
    tag="Company",
    token=Authenticator(USERS_READ),
    answers=(Answer(200, Envelope(UserView, listed=True)),),
)
async def get_users(request: AnyRequest, principal: PrincipalParam) -> JsonAnswer:
    """The people who sign in to the company's console, every one of them, unpaged. Relance
    has no console yet: the list is empty."""
    runtime = runtime_of(request.scope)
    data = await service.list_users(runtime.db, runtime.ids, principal.company_id)
    return JsonAnswer({"error": False, "message": "Success", "data": data})


@Operation(
    method="GET",
    path="/company/credits",
    summary="Get Company Credits",
    tag="Company",
    token=COMPANY,
    answers=(Answer(200, Envelope(CreditsView)),),
)
async def get_credits(principal: PrincipalParam) -> JsonAnswer:
    """GetBill's credit balance and subscription. A Relance deployment bills nothing: no
    credits are counted (`current_credits` is null) and the subscription is the self-hosted
    one, active, with no end."""
    return JsonAnswer({"error": False, "message": "Success", "data": service.credits()})


ROUTES = [get_profile, get_users, get_credits]
