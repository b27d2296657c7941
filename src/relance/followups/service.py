"""What a company may read of its followups."""

from __future__ import annotations

from typing import Any

from relance.auth.tokens import Principal
from relance.followups import repository
from relance.followups.schemas import FollowupFilters, followup_json
from relance.kit.pagination import PageRequest
from relance.runtime import Runtime


async def list_followups(
    runtime: Runtime, principal: Principal, filters: FollowupFilters, page: PageRequest
) -> tuple[list[dict[str, Any]], int]:
    """One page of the company's followups, newest activity first, and the exact total."""
    total = await repository.count_followups(runtime.db, principal.company_id, filters)
    if page.offset >= total:
        # Past the end: nothing to fetch, yet the caller still learns the true total.
        return [], total
    rows = await repository.list_followups(
        runtime.db, principal.company_id, filters, page.limit, page.offset
    )
    return [followup_json(row, runtime.ids) for row in rows], total
