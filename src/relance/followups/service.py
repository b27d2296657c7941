"""What a company may read of its followups."""

from __future__ import annotations

from typing import Any

from relance.auth.tokens import Principal
from relance.followups import repository
from relance.followups.schemas import FollowupFilters, followup_json
from relance.kit.ids import Resource
from relance.kit.pagination import PageRequest
from relance.runtime import Runtime


async def list_followups(
    runtime: Runtime, principal: Principal, filters: FollowupFilters, page: PageRequest
) -> tuple[list[dict[str, Any]], int]:
    """One page of the company's followups, newest activity first, and the exact total."""
    total, rows = await repository.page_of_followups(
        runtime.db,
        runtime.db.dialect,
        principal.company_id,
        filters,
        page.limit,
        page.offset,
        runtime.settings.seek_from_offset,
    )
    followup_id = runtime.ids.encoder(Resource.FOLLOWUP)
    debt_id = runtime.ids.encoder(Resource.DEBT)
    return [followup_json(row, followup_id, debt_id) for row in rows], total
