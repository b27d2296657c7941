"""HTTP endpoints that mirror a company's followups (docs/sync.md): the export, a snapshot
streamed as JSON Lines, and the feed of every change after it; each declared once
(relance.operations)."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

from litestar import Request

from relance.auth.dependencies import PrincipalParam
from relance.context import runtime_of
from relance.errors import Busy, Gone, ValidationFailed
from relance.followups import changes
from relance.followups.changes import FEED_DEFAULT, FEED_MAX, WAIT_MAX, ChangeView, Shown
from relance.followups.endpoints import DEBT_FILTER, FILTERS, READ
from relance.kit.responses import JsonAnswer, StreamAnswer, accepts_gzip
from relance.media.endpoints import media_links
from relance.operations import Answer, Envelope, Operation, query
from relance.runtime import Runtime
from relance.units import unit_of_work

AnyRequest = Request[Any, Any, Any]
NDJSON = "application/x-ndjson"
_INCLUDE_MEDIA = query(
    "include_media",
    {"type": "boolean", "default": True},
    "false leaves `audio_url`, `pdf_url` and `media_urls_expire_at` null, for bulk copies "
    "that need no media (signing each URL costs time)",
)


@Operation(
    method="GET",
    path="/followups/changes",
    summary="List Followup Changes",
    tag="Followups",
    token=READ,
    parameters=(
        query(
            "cursor",
            {"type": "string"},
            "A `next_cursor` as given, by this feed or an export; `now` for the present; "
            "none for the beginning",
        ),
        query(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": FEED_MAX, "default": FEED_DEFAULT},
            f"Changes per page, at most {FEED_MAX}",
        ),
        query(
            "wait",
            {"type": "integer", "minimum": 0, "maximum": WAIT_MAX, "default": 0},
            "Seconds to hold an empty answer until a change is committed (long polling)",
        ),
        _INCLUDE_MEDIA,
    ),
    answers=(Answer(200, Envelope(ChangeView, feed=True)),),
    errors=(ValidationFailed, Gone),
)
async def list_changes(request: AnyRequest, principal: PrincipalParam) -> JsonAnswer:
    """Every change of the company's followups committed after the cursor, in commit order,
    each followup once at its latest state; a deleted one as its ID and its debt's. Follow
    `next_cursor` for ever: no committed change is ever missed, none rolled back is ever seen.
    A cursor older than the deletions kept is a 410: mirror again from the export."""
    runtime = runtime_of(request.scope)
    cursors = changes.change_cursors(runtime.keys.change_cursors)
    found = changes.parse_feed_query(request.query_params.dict(), cursors, principal.company_id)
    page = await changes.changes_page(
        runtime.db,
        cursors,
        principal.company_id,
        found,
        Shown(runtime.ids, media_links(request), found.include_media),
        runtime.changes,
        lambda: catch_up(runtime, principal.company_id),
        runtime.settings.tombstone_retention_days,
    )
    return JsonAnswer(
        {"error": False, "data": page.data, "next_cursor": page.next_cursor,
         "has_more": page.has_more}
    )  # fmt: skip


@Operation(
    method="GET",
    path="/followups/export",
    summary="Export Followups",
    tag="Followups",
    token=READ,
    parameters=(*FILTERS[2:], DEBT_FILTER, _INCLUDE_MEDIA),
    answers=(
        Answer(
            200,
            {NDJSON: {"schema": {"type": "string"}}},
            "JSON Lines: each of the company's followups that pass the filters, in one "
            'snapshot, then a last line `{"next_cursor": ...}` to follow the changes from; '
            "gzip-encoded when the request accepts it. A stream without that line was cut.",
        ),
    ),
    errors=(ValidationFailed, Busy),
)
async def export_followups(request: AnyRequest, principal: PrincipalParam) -> StreamAnswer:
    """Stream the company's followups, with the list's filters, from one consistent snapshot,
    in constant memory; one export at a time per client. It counts as one read."""
    runtime = runtime_of(request.scope)
    params = request.query_params.dict()
    filters, include_media = changes.parse_export_query(params, runtime.ids)
    await catch_up(runtime, principal.company_id)
    shown = Shown(runtime.ids, media_links(request), include_media)
    cursors = changes.change_cursors(runtime.keys.change_cursors)
    stack = AsyncExitStack()
    lines = await stack.enter_async_context(
        changes.export(
            runtime.db, cursors, principal.client_id, principal.company_id, filters, shown
        )
    )
    return StreamAnswer(
        lines,
        NDJSON,
        stack.aclose,
        gzip=accepts_gzip(request.headers.get("accept-encoding")),
        stall_seconds=runtime.settings.export_stall_seconds,
    )


async def catch_up(runtime: Runtime, company_id: int) -> None:
    """Number the company's committed changes, a batch per transaction, so that a read sees
    every change committed before it began."""
    if not await changes.unnumbered(runtime.db, company_id):
        return
    retention = runtime.settings.tombstone_retention_days
    more = True
    while more:
        async with unit_of_work(runtime.db) as unit:
            more = await changes.number_some(unit.conn, company_id, retention)


ROUTES = [list_changes, export_followups]
