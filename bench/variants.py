"""Variants of Relance for benchmarks only: the same app with the total left out, so that the cost
of an exact total can be measured against it, the least app that can serve the same page, and the
statement alone: the ceiling of anything that runs Relance's page statement on each request."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from litestar import Litestar

from bench.floor import PAGE_FILE
from relance.app import create_app
from relance.auth.tokens import Principal
from relance.config import Settings, get_settings
from relance.db import Connection, Row
from relance.followups import service
from relance.followups.enums import FollowupStatus
from relance.followups.repository import reads
from relance.followups.schemas import FollowupFilters
from relance.kit.pagination import PageRequest
from relance.kit.responses import encode_json
from relance.media.links import MediaLinks
from relance.runtime import Runtime, open_runtime


async def page_without_total(
    conn: Connection,
    company_id: int,
    filters: FollowupFilters,
    limit: int,
    offset: int,
    seek_from: int,
) -> tuple[int, Sequence[Row]]:
    params = reads.Params()
    shared = reads._shared(params, company_id, filters)
    rows_where = reads._rows_where(params, shared, filters)
    sql = (
        f"SELECT {reads._COLUMNS[conn.dialect]} FROM followups WHERE {rows_where}"
        f" {reads._ORDER}"
        f" LIMIT {params.bind(limit)} OFFSET {params.bind(offset)}"
    )
    return -1, await conn.fetch(sql, *params.values)


def create_app_without_total() -> Litestar:
    # The service reads the function from the reads module at each call.
    reads.page_of_followups = page_without_total
    return create_app()


def create_least_app() -> Any:
    """The least a Python app can do to serve Relance's page: a bare ASGI callable running
    Relance's own query through Relance's own pool and shaping and encoding its rows as
    Relance does, with no framework, no token, no rate limit and no parameters (the `status`
    page of the biggest company, always). What Relance can at best approach."""
    settings = get_settings()
    state: dict[str, Any] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(state, settings, receive, send)
            return
        runtime: Runtime = state["runtime"]
        media = MediaLinks(runtime.media, "http://127.0.0.1/", 3600, time.time())
        data, total = await service.list_followups(
            runtime.db,
            runtime.ids,
            _BIGGEST.company_id,
            _STATUS,
            _PAGE,
            media,
            seek_from=runtime.settings.seek_from_offset,
        )
        body = encode_json({"error": False, "data": data, "pagination": _PAGE.envelope(total)})
        await send(_START)
        await send({"type": "http.response.body", "body": body})

    return app


def create_statement_app() -> Any:
    """Less than any server of the page can do: each request runs Relance's page statement (the
    `status` page of the biggest company, with its total) through Relance's own repository and
    pool, then ignores the rows and answers the floor's page, held in memory as bytes. No
    shaping, no encoding, no framework: its throughput bounds every app that runs this
    statement on each request, Relance and the least app included."""
    settings = get_settings()
    state: dict[str, Any] = {}
    answer = {"type": "http.response.body", "body": Path(os.environ[PAGE_FILE]).read_bytes()}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(state, settings, receive, send)
            return
        runtime: Runtime = state["runtime"]
        db, deep = runtime.db, runtime.settings.seek_from_offset
        await reads.page_of_followups(
            db, _BIGGEST.company_id, _STATUS, _PAGE.limit, _PAGE.offset, deep
        )
        await send(_START)
        await send(answer)

    return app


_BIGGEST = Principal(client_id="least", company_id=1, scopes=frozenset())
_STATUS = FollowupFilters(status=FollowupStatus.DELIVERED)
_PAGE = PageRequest(1, 50)
_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"application/json")],
}


async def _lifespan(state: dict[str, Any], settings: Settings, receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            state["runtime"] = await open_runtime(settings)
            await send({"type": "lifespan.startup.complete"})
        else:
            await state["runtime"].close()
            await send({"type": "lifespan.shutdown.complete"})
            return
