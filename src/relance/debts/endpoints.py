"""HTTP endpoints for debts, each declared once (relance.operations)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, TypeVar

from litestar import Request
from litestar.params import FromPath

from relance.auth.dependencies import Authenticator, PrincipalParam
from relance.auth.scopes import DEBTS_READ, DEBTS_WRITE
from relance.context import runtime_of
from relance.creditors.service import CreditorNotFound, known_creditor
from relance.db import lost_unique_race
from relance.debtors.service import DebtorNotFound, known_debtor
from relance.debts import batch, service
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
from relance.kit.bodies import parse_body, parse_json_of_items, require_json
from relance.kit.responses import JsonAnswer
from relance.kit.time import utc_now
from relance.operations import (
    PAGE_PARAMETERS,
    Answer,
    Body,
    Envelope,
    Operation,
    PathId,
    json_content,
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
    return await _page(request, principal)


async def _page(
    request: AnyRequest,
    principal: PrincipalParam,
    *,
    debtor_id: int | None = None,
    creditor_id: int | None = None,
) -> JsonAnswer:
    filters, page = parse_list_query(request.query_params.dict())
    filters = replace(filters, debtor_id=debtor_id, creditor_id=creditor_id)
    runtime = runtime_of(request.scope)
    data, total = await service.list_debts(
        runtime.db, runtime.ids, principal.company_id, filters, page
    )
    return JsonAnswer({"error": False, "data": data, "pagination": page.envelope(total)})


@Operation(
    method="GET",
    path="/debts/by-debtor/{debtorId}",
    summary="List Debts by Debtor",
    tag="Debts",
    token=READ,
    parameters=(PathId("debtorId", "debtor_id", "The debtor's ID"), *DEBT_FILTERS),
    answers=(Answer(200, Envelope(DebtView, paged=True)),),
    errors=(ValidationFailed, DebtorNotFound),
)
async def list_debtor_debts(
    request: AnyRequest, principal: PrincipalParam, debtor_id: FromPath[str]
) -> JsonAnswer:
    """A page of one debtor's debts, with the list's filters."""
    runtime = runtime_of(request.scope)
    key = await known_debtor(runtime.db, runtime.ids, principal.company_id, debtor_id)
    return await _page(request, principal, debtor_id=key)


@Operation(
    method="GET",
    path="/debts/by-creditor/{creditorId}",
    summary="List Debts by Creditor",
    tag="Debts",
    token=READ,
    parameters=(PathId("creditorId", "creditor_id", "The creditor's ID"), *DEBT_FILTERS),
    answers=(Answer(200, Envelope(DebtView, paged=True)),),
    errors=(ValidationFailed, CreditorNotFound),
)
async def list_creditor_debts(
    request: AnyRequest, principal: PrincipalParam, creditor_id: FromPath[str]
) -> JsonAnswer:
    """A page of the debts owed to one creditor, with the list's filters."""
    runtime = runtime_of(request.scope)
    key = await known_creditor(runtime.db, runtime.ids, principal.company_id, creditor_id)
    return await _page(request, principal, creditor_id=key)


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


@Operation(
    method="POST",
    path="/debts/batch",
    summary="Batch Create Debts",
    tag="Debts",
    token=WRITE,
    body=Body("DebtBatch", model=batch.BatchBody),
    idempotent=True,
    answers=(Answer(200, json_content(batch.ANSWER_SCHEMA)),),
)
async def create_debts(request: AnyRequest, principal: PrincipalParam) -> JsonAnswer:
    """Create up to 1,000 debts, each checked alone as `POST /debts` checks a body: the
    answer lists the items `created` (with their `debt_id`), those `failed` (with their
    `errors` by field) and those `skipped` (a template's placeholder rows), by `index` and
    `temp_id`. The debts that pass are created together, or none is."""
    runtime = runtime_of(request.scope)
    require_json(request.headers.get("content-type"))
    body, inexact = parse_json_of_items(batch.BatchBody, await request.body(), "debts")
    checked = batch.Outcome()
    passed = batch.check_items(body, inexact, checked)
    now = utc_now()
    name = body.batch_name or batch.default_name(now)

    async def write(unit: UnitOfWork) -> tuple[int, dict[str, Any]]:
        # Afresh on each attempt: a write run again after a lost race starts over.
        outcome = batch.Outcome(failed=list(checked.failed), skipped=list(checked.skipped))
        import_id = await batch.create_batch(
            unit.conn,
            runtime.ids,
            principal.company_id,
            (name, principal.client_id, now),
            passed,
            outcome,
            runtime.events,
        )
        data = batch.answer(import_id, name, outcome, len(body.debts))
        return 200, {"error": False, "message": "Batch operation completed", "data": data}

    return await _checked_again_on_race(
        lambda: answered_once(request, runtime.db, principal.client_id, body, write)
    )


ROUTES = [
    list_debts,
    list_debtor_debts,
    list_creditor_debts,
    create_debt,
    create_debts,
    get_debt,
    update_debt,
]
