"""HTTP endpoints for debts, each declared once (relance.operations)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from litestar import Request
from litestar.params import FromPath

from relance.auth.dependencies import Authenticator, PrincipalParam
from relance.auth.scopes import DEBTS_READ, DEBTS_WRITE
from relance.context import runtime_of
from relance.db import lost_unique_race
from relance.debts import service
from relance.debts.codes import CURRENCIES
from relance.debts.schemas import (
    MAX_SEARCH,
    DebtBody,
    DebtStatus,
    DebtUpdate,
    DebtView,
    parse_list_query,
)
from relance.debts.service import INTERNAL_ID_INDEX, DebtNotFound, InternalIdTaken
from relance.errors import ValidationFailed
from relance.idempotency.service import answered_once
from relance.kit.bodies import parse_body
from relance.kit.responses import JsonAnswer
from relance.operations import (
    PAGE_PARAMETERS,
    Answer,
    Body,
    Envelope,
    Operation,
    PathId,
    query,
)
from relance.units import UnitOfWork, unit_of_work

AnyRequest = Request[Any, Any, Any]
READ = Authenticator(DEBTS_READ)
WRITE = Authenticator(DEBTS_WRITE)
DEBT_ID = PathId("id", "debt_id", "The debt's ID")
T = TypeVar("T")
_TEXT = {"type": "string", "minLength": 1, "maxLength": MAX_SEARCH}
_AMOUNT = {"type": "string", "pattern": r"^[0-9]{1,12}(\.[0-9]{1,2})?$"}
_MOMENT = {
    "type": "string",
    "description": "A date (YYYY-MM-DD, its first moment in UTC), an RFC 3339 moment with its"
    " offset, or Unix seconds",
}
DEBT_FILTERS = (
    *PAGE_PARAMETERS,
    query(
        "status",
        {"type": "string", "enum": [s.value for s in DebtStatus]},
        "Only debts of this status; its last part alone (`paid`) is taken too",
    ),
    query("internal_id", _TEXT, "Only the debt of this internal ID"),
    query("invoice_reference", _TEXT, "Only debts of this invoice reference"),
    query(
        "currency", {"type": "string", "enum": sorted(CURRENCIES)}, "Only debts in this currency"
    ),
    query("min_amount", _AMOUNT, "Only debts of at least this amount"),
    query("max_amount", _AMOUNT, "Only debts of at most this amount; not below `min_amount`"),
    query("created_after", _MOMENT, "Only debts created at this moment or after"),
    query(
        "created_before", _MOMENT, "Only debts created before this moment; after `created_after`"
    ),
    query(
        "search",
        _TEXT,
        "Only debts whose `internal_id` (any case) or `amount_text` contains this text",
    ),
)


@Operation(
    method="GET",
    path="/debts",
    summary="List Debts",
    tag="Debts",
    token=READ,
    parameters=DEBT_FILTERS,
    answers=(Answer(200, Envelope(DebtView, paged=True)),),
    errors=(ValidationFailed,),
)
async def list_debts(request: AnyRequest, principal: PrincipalParam) -> JsonAnswer:
    """A page of the company's debts the filters keep, newest first. Every filter given must
    hold; a bad value, or a range that keeps nothing, is a 400."""
    filters, page = parse_list_query(request.query_params.dict())
    runtime = runtime_of(request.scope)
    data, total = await service.list_debts(
        runtime.db, runtime.ids, principal.company_id, filters, page
    )
    return JsonAnswer({"error": False, "data": data, "pagination": page.envelope(total)})


@Operation(
    method="POST",
    path="/debts",
    summary="Create Debt",
    tag="Debts",
    token=WRITE,
    body=Body("DebtBody"),
    idempotent=True,
    answers=(Answer(201, Envelope(DebtView)),),
)
async def create_debt(request: AnyRequest, principal: PrincipalParam) -> JsonAnswer:
    """Register a debt of the company, pending. It needs a `phone` or an `email`; an `iban`
    whose check digits do not hold is a 400."""
    runtime = runtime_of(request.scope)
    body = parse_body(DebtBody, request.headers.get("content-type"), await request.body())

    async def write(unit: UnitOfWork) -> tuple[int, dict[str, Any]]:
        data = await service.create_debt(
            unit.conn, runtime.ids, principal.company_id, body, runtime.events
        )
        return 201, {"error": False, "message": "Debt created successfully", "data": data}

    return await _checked_again_on_race(
        lambda: answered_once(request, runtime.db, principal.client_id, body, write)
    )


async def _checked_again_on_race(write: Callable[[], Awaitable[T]]) -> T:
    """Run the write once more when another took the same `internal_id` between its check and
    its insert: the check then sees that debt, and names it in a 409."""
    try:
        return await write()
    except Exception as exc:
        if not lost_unique_race(exc, INTERNAL_ID_INDEX):
            raise
    return await write()


@Operation(
    method="GET",
    path="/debts/{id}",
    summary="Get Debt",
    tag="Debts",
    token=READ,
    parameters=(DEBT_ID,),
    answers=(Answer(200, Envelope(DebtView)),),
    errors=(DebtNotFound,),
)
async def get_debt(
    request: AnyRequest, principal: PrincipalParam, debt_id: FromPath[str]
) -> JsonAnswer:
    """One debt of the company."""
    runtime = runtime_of(request.scope)
    data = await service.get_debt(runtime.db, runtime.ids, principal.company_id, debt_id)
    return JsonAnswer({"error": False, "message": "Success", "data": data})


@Operation(
    method="PUT",
    path="/debts/{id}",
    summary="Update Debt",
    tag="Debts",
    token=WRITE,
    parameters=(DEBT_ID,),
    body=Body("DebtUpdate", model=DebtUpdate),
    answers=(Answer(200, Envelope(DebtView)),),
    errors=(DebtNotFound, InternalIdTaken),
)
async def update_debt(
    request: AnyRequest, principal: PrincipalParam, debt_id: FromPath[str]
) -> JsonAnswer:
    """Change the fields sent, any that `POST /debts` takes, and `status` among the five a
    caller may set; `null` clears a field that may be empty. A debt keeps a phone or an
    email. A status change is kept in the debt's history."""
    runtime = runtime_of(request.scope)
    body = parse_body(DebtUpdate, request.headers.get("content-type"), await request.body())

    async def write() -> DebtView:
        async with unit_of_work(runtime.db) as unit:
            return await service.update_debt(
                unit.conn,
                runtime.ids,
                principal.company_id,
                debt_id,
                body,
                principal.client_id,
                runtime.events,
            )

    data = await _checked_again_on_race(write)
    return JsonAnswer({"error": False, "message": "Debt updated successfully", "data": data})


ROUTES = [list_debts, create_debt, get_debt, update_debt]
