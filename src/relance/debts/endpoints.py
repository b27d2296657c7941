"""HTTP endpoints for debts."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath

from relance.auth.dependencies import Authenticator, PrincipalParam, runtime_of
from relance.auth.scopes import DEBTS_READ, DEBTS_WRITE
from relance.db import Connection
from relance.debts import service
from relance.debts.schemas import DebtBody, parse_list_query
from relance.idempotency.responses import answered_once
from relance.kit.bodies import parse_body
from relance.kit.responses import JsonAnswer

DebtsRead = Authenticator(DEBTS_READ)
DebtsWrite = Authenticator(DEBTS_WRITE)
AnyRequest = Request[Any, Any, Any]


@get("/debts", dependencies={"principal": DebtsRead}, summary="List Debts")
async def list_debts(request: AnyRequest, principal: PrincipalParam) -> JsonAnswer:
    """A page of the company's debts, newest first, optionally of one status."""
    status, page = parse_list_query(request.query_params.dict())
    data, total = await service.list_debts(runtime_of(request), principal, status, page)
    return JsonAnswer({"error": False, "data": data, "pagination": page.envelope(total)})


@get("/debts/{debt_id:str}", dependencies={"principal": DebtsRead}, summary="Get Debt")
async def get_debt(
    request: AnyRequest, principal: PrincipalParam, debt_id: FromPath[str]
) -> JsonAnswer:
    """One debt of the company."""
    data = await service.get_debt(runtime_of(request), principal, debt_id)
    return JsonAnswer({"error": False, "message": "Success", "data": data})


@post("/debts", dependencies={"principal": DebtsWrite}, summary="Create Debt")
async def create_debt(request: AnyRequest, principal: PrincipalParam) -> JsonAnswer:
    """Register a debt of the company, pending; idempotent with an Idempotency-Key."""
    runtime = runtime_of(request)
    body = parse_body(DebtBody, request.headers.get("content-type"), await request.body())

    async def write(conn: Connection) -> tuple[int, dict[str, Any]]:
        data = await service.create_debt(conn, runtime, principal, body)
        return 201, {"error": False, "message": "Debt created successfully", "data": data}

    return await answered_once(request, runtime, principal, body, write)


ROUTES = [list_debts, get_debt, create_debt]
