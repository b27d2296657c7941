"""HTTP endpoint that deletes a debt with its followups, declared once (relance.operations)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from litestar import Request
from litestar.params import FromPath

from relance.auth.dependencies import Authenticator, PrincipalParam
from relance.auth.scopes import DEBTS_WRITE
from relance.context import runtime_of
from relance.debts.service import DebtNotFound
from relance.deletions import service
from relance.kit.responses import JsonAnswer
from relance.media.stores import MediaStore
from relance.operations import Answer, Operation, PathId, json_content
from relance.units import unit_of_work

AnyRequest = Request[Any, Any, Any]
log = logging.getLogger(__name__)
_DELETED = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {"error": {"const": False}, "message": {"const": "Debt deleted successfully"}},
    "additionalProperties": False,
}


@Operation(
    method="DELETE",
    path="/debts/{id}",
    summary="Delete Debt",
    tag="Debts",
    token=Authenticator(DEBTS_WRITE),
    parameters=(PathId("id", "debt_id", "The debt's ID"),),
    answers=(Answer(200, json_content(_DELETED)),),
    errors=(DebtNotFound,),
)
async def delete_debt(
    request: AnyRequest, principal: PrincipalParam, debt_id: FromPath[str]
) -> JsonAnswer:
    """Delete one of the company's debts with its followups, and their stored recordings and
    documents; each followup leaves a tombstone in the changes feed. A second call is a 404."""
    runtime = runtime_of(request.scope)
    async with unit_of_work(runtime.db) as unit:
        keys = await service.delete_debt(unit.conn, runtime.ids, principal.company_id, debt_id)
        unit.after_commit(lambda: _remove(runtime.media, keys))
    return JsonAnswer({"error": False, "message": "Debt deleted successfully"})


async def _remove(store: MediaStore, keys: list[str]) -> None:
    for key in keys:
        try:
            await asyncio.to_thread(store.delete, key)
        except Exception:
            # The rows are gone; a file left behind is unreachable, never shown.
            log.warning("a deleted followup's stored file could not be removed", exc_info=True)


ROUTES = [delete_debt]
