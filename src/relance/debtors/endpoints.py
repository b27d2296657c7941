"""HTTP endpoints for debtors, each declared once (relance.operations). GetBill nests a
debtor one level deeper than other objects (`data.data`): copied as it is."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.params import FromPath

from relance.auth.dependencies import Authenticator, PrincipalParam
from relance.auth.scopes import DEBTORS_READ, DEBTORS_WRITE
from relance.context import runtime_of
from relance.debtors import service
from relance.debtors.schemas import DebtorDetailView, DebtorUpdate, DebtorView
from relance.debtors.service import DebtorNotFound
from relance.errors import ValidationFailed
from relance.kit.bodies import parse_body
from relance.kit.query import parse_page
from relance.kit.responses import JsonAnswer
from relance.operations import PAGE_PARAMETERS, Answer, Body, Envelope, Operation, PathId
from relance.units import unit_of_work

AnyRequest = Request[Any, Any, Any]
DEBTOR_ID = PathId("id", "debtor_id", "The debtor's ID")
UPDATED = "Debtor updated successfully"


@Operation(
    method="GET",
    path="/debtors",
    summary="List Debtors",
    tag="Debtors",
    token=Authenticator(DEBTORS_READ),
    parameters=PAGE_PARAMETERS,
    answers=(Answer(200, Envelope(DebtorView, paged=True)),),
    errors=(ValidationFailed,),
)
async def list_debtors(request: AnyRequest, principal: PrincipalParam) -> JsonAnswer:
    """A page of the people the company's debts are owed by, first seen first."""
    page = parse_page(request.query_params.dict())
    runtime = runtime_of(request.scope)
    data, total = await service.list_debtors(runtime.db, runtime.ids, principal.company_id, page)
    return JsonAnswer({"error": False, "data": data, "pagination": page.envelope(total)})


@Operation(
    method="GET",
    path="/debtors/{id}",
    summary="Get Debtor",
    tag="Debtors",
    token=Authenticator(DEBTORS_READ),
    parameters=(DEBTOR_ID,),
    answers=(Answer(200, Envelope(DebtorDetailView, nested=True)),),
    errors=(DebtorNotFound,),
)
async def get_debtor(
    request: AnyRequest, principal: PrincipalParam, debtor_id: FromPath[str]
) -> JsonAnswer:
    """One debtor of the company, with their debts summed."""
    runtime = runtime_of(request.scope)
    data = await service.get_debtor(runtime.db, runtime.ids, principal.company_id, debtor_id)
    return JsonAnswer({"error": False, "message": "Success", "data": {"data": data}})


@Operation(
    method="PUT",
    path="/debtors/{id}",
    summary="Update Debtor",
    tag="Debtors",
    token=Authenticator(DEBTORS_WRITE),
    parameters=(DEBTOR_ID,),
    body=Body("DebtorUpdate", model=DebtorUpdate),
    answers=(Answer(200, Envelope(DebtorDetailView, nested=True, inner_message=UPDATED)),),
    errors=(DebtorNotFound,),
)
async def update_debtor(
    request: AnyRequest, principal: PrincipalParam, debtor_id: FromPath[str]
) -> JsonAnswer:
    """Change the debtor's fields sent (`firstName`, `lastName`, `email`, `phone`, `address`,
    `dateOfBirth`); `null` clears one. Their debts keep their own fields."""
    runtime = runtime_of(request.scope)
    body = parse_body(DebtorUpdate, request.headers.get("content-type"), await request.body())
    async with unit_of_work(runtime.db) as unit:
        data = await service.update_debtor(
            unit.conn, runtime.ids, principal.company_id, debtor_id, body
        )
    return JsonAnswer(
        {"error": False, "message": "Success", "data": {"data": data, "message": UPDATED}}
    )


ROUTES = [list_debtors, get_debtor, update_debtor]
