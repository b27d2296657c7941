"""Relance with the total left out: the same app, stack and page query, minus the count, so that
the cost of an exact total can be measured against it. For benchmarks only."""

from __future__ import annotations

from typing import Any

from litestar import Litestar

from relance.app import create_app
from relance.config import Dialect
from relance.db import Connection, Row
from relance.followups import repository
from relance.followups.schemas import FollowupFilters


async def page_without_total(
    conn: Connection,
    dialect: Dialect,
    company_id: int,
    filters: FollowupFilters,
    limit: int,
    offset: int,
    seek_from: int,
) -> tuple[int, list[Row]]:
    params = repository._Params()
    shared = repository._shared(params, company_id, filters)
    rows_where = repository._rows_where(params, shared, filters)
    sql = (
        f"SELECT {repository._COLUMNS[dialect]} FROM followups WHERE {rows_where}"
        f" {repository._ORDER}"
        f" LIMIT {params.bind(limit)} OFFSET {params.bind(offset)}"
    )
    rows: Any = await conn.fetch(sql, *params.values)
    return -1, list(rows)


def create_app_without_total() -> Litestar:
    # The service reads the function from the repository module at each call.
    repository.page_of_followups = page_without_total
    return create_app()
