"""HTTP endpoints for creditors, each declared once (relance.operations). GetBill nests a
creditor one level deeper (`data.data`) when it is read, not when it is updated: copied as it
is."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.params import FromPath

from relance.auth.dependencies import Authenticator, PrincipalParam
from relance.auth.scopes import CREDITORS_READ, CREDITORS_WRITE
from relance.context import runtime_of
from relance.creditors import service
from relance.creditors.schemas import CreditorDetailView, CreditorPatch, CreditorPut, CreditorView
from relance.creditors.service import CreditorNameTaken, CreditorNotFound
from relance.errors import ValidationFailed
from relance.kit.bodies import parse_body
from relance.kit.query import parse_page
from relance.kit.responses import JsonAnswer
from relance.operations import PAGE_PARAMETERS, Answer, Body, Envelope, Operation, PathId
from relance.units import unit_of_work

AnyRequest = Request[Any, Any, Any]
CREDITOR_ID = PathId("id", "creditor_id", "The creditor's ID")
READ = Authenticator(CREDITORS_READ)
WRITE = Authenticator(CREDITORS_WRITE)


@Operation(
    method="GET",
    path="/creditors",
    summary="List Creditors",
    tag="Creditors",
    token=READ,
    parameters=PAGE_PARAMETERS,
    answers=(Answer(200, Envelope(CreditorView, paged=True)),),
    errors=(ValidationFailed,),
)
async def list_creditors(request: AnyRequest, principal: PrincipalParam) -> JsonAnswer:
    """A page of the clients the company collects for, by name."""
    page = parse_page(request.query_params.dict())
    runtime = runtime_of(request.scope)
    data, total = await service.list_creditors(runtime.db, runtime.ids, principal.company_id, page)
    return JsonAnswer({"error": False, "data": data, "pagination": page.envelope(total)})


@Operation(
    method="GET",
    path="/creditors/{id}",
    summary="Get Creditor",
    tag="Creditors",
    token=READ,
    parameters=(CREDITOR_ID,),
    answers=(Answer(200, Envelope(CreditorDetailView, nested=True)),),
    errors=(CreditorNotFound,),
)
async def get_creditor(
    request: AnyRequest, principal: PrincipalParam, creditor_id: FromPath[str]
) -> JsonAnswer:
    """One creditor of the company, with how many debts it has and their amounts summed."""
    runtime = runtime_of(request.scope)
    data = await service.get_creditor(runtime.db, runtime.ids, principal.company_id, creditor_id)
    return JsonAnswer({"error": False, "message": "Success", "data": {"data": data}})


async def _updated(
    request: AnyRequest, principal: PrincipalParam, creditor_id: str, *, whole: bool
) -> JsonAnswer:
    runtime = runtime_of(request.scope)
    model = CreditorPut if whole else CreditorPatch
    body = parse_body(model, request.headers.get("content-type"), await request.body())
    async with unit_of_work(runtime.db) as unit:
        data = await service.update_creditor(
            unit.conn, runtime.ids, principal.company_id, creditor_id, body, whole=whole
        )
    return JsonAnswer({"error": False, "message": "Creditor updated successfully", "data": data})


@Operation(
    method="PUT",
    path="/creditors/{id}",
    summary="Update Creditor",
    tag="Creditors",
    token=WRITE,
    parameters=(CREDITOR_ID,),
    body=Body("CreditorPut", model=CreditorPut),
    answers=(Answer(200, Envelope(CreditorView)),),
    errors=(CreditorNotFound, CreditorNameTaken),
)
async def replace_creditor(
    request: AnyRequest, principal: PrincipalParam, creditor_id: FromPath[str]
) -> JsonAnswer:
    """Set the whole creditor: `name` is required, and a field left out is cleared. A new
    name is its debts' `company` from now on."""
    return await _updated(request, principal, creditor_id, whole=True)


@Operation(
    method="PATCH",
    path="/creditors/{id}",
    summary="Patch Creditor",
    tag="Creditors",
    token=WRITE,
    parameters=(CREDITOR_ID,),
    body=Body("CreditorPatch", model=CreditorPatch),
    answers=(Answer(200, Envelope(CreditorView)),),
    errors=(CreditorNotFound, CreditorNameTaken),
)
async def patch_creditor(
    request: AnyRequest, principal: PrincipalParam, creditor_id: FromPath[str]
) -> JsonAnswer:
    """Change the creditor's fields sent; `null` clears one (not the name)."""
    return await _updated(request, principal, creditor_id, whole=False)


ROUTES = [list_creditors, get_creditor, replace_creditor, patch_creditor]
