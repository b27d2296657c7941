"""What a company may read of its events: those of the retention period, newest first."""

from __future__ import annotations

from relance.db import Connection
from relance.errors import NotFound, ValidationFailed
from relance.events import repository
from relance.events.records import now_us
from relance.events.repository import EventQuery
from relance.events.types import EventType
from relance.events.views import EventView, event_ids, event_view
from relance.kit.ids import IdCodec
from relance.kit.query import QueryParams, QueryReader
from relance.media.links import MediaLinks

DAY_US = 86_400 * 1_000_000


class EventNotFound(NotFound):
    message = "Event not found"


def retention_floor(retention_days: int) -> int:
    """The oldest moment whose events are still kept (the purge may lag behind it)."""
    return now_us() - retention_days * DAY_US


def parse_event_query(
    params: QueryParams, ids: IdCodec, company_id: int, retention_days: int
) -> tuple[EventQuery, int]:
    """GET /events' parameters, every problem named in one 400."""
    reader = QueryReader(params)
    limit = reader.cursor_limit()
    types = [t.value for t in reader.choices("type", EventType)]
    gte = reader.moment("created_gte")
    lte = reader.moment("created_lte")
    before = reader.prefixed_id("starting_after", event_ids(ids), "an event")
    if reader.errors:
        raise ValidationFailed(reader.errors)
    query = EventQuery(company_id, retention_floor(retention_days), tuple(types), gte, lte, before)
    return query, limit


async def list_events(
    conn: Connection, ids: IdCodec, query: EventQuery, limit: int, links: MediaLinks
) -> tuple[list[EventView], bool]:
    """A page of events, newest first, and whether older ones follow."""
    events = await repository.events_page(conn, query, limit)
    return [event_view(event, ids, links) for event in events[:limit]], len(events) > limit


async def get_event(
    conn: Connection,
    ids: IdCodec,
    company_id: int,
    public_id: str,
    links: MediaLinks,
    retention_days: int,
) -> EventView:
    key = event_ids(ids).key(public_id)
    found = None
    if key is not None:
        found = await repository.stored_event(
            conn, company_id, key, retention_floor(retention_days)
        )
    if found is None:
        raise EventNotFound()
    return event_view(found, ids, links)
