"""What a company may read of its events: those of the retention period, newest first."""

from __future__ import annotations

from datetime import datetime

from relance.db import Connection
from relance.errors import NotFound, ValidationFailed
from relance.events import repository
from relance.events.records import now_us
from relance.events.repository import EventQuery
from relance.events.types import EventType
from relance.events.views import EventView, event_key, event_view
from relance.kit.ids import IdCodec
from relance.kit.query import QueryParams, QueryReader
from relance.media.links import MediaLinks

DAY_US = 86_400 * 1_000_000
MAX_EVENTS = 100
DEFAULT_EVENTS = 10


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
    limit = reader.integer("limit", 1, MAX_EVENTS, default=DEFAULT_EVENTS) or DEFAULT_EVENTS
    types = []
    for text in params.get("type", []):
        try:
            types.append(EventType(text).value)
        except ValueError:
            reader.fail("type", f"{text!r} is not one of: {', '.join(EventType)}")
    gte = _moment(reader, params, "created_gte")
    lte = _moment(reader, params, "created_lte")
    before = None
    cursor = params.get("starting_after", [])
    if len(cursor) > 1:
        reader.fail("starting_after", "must be given only once")
    elif cursor:
        before = event_key(ids, cursor[0])
        if before is None:
            reader.fail("starting_after", "is not an event ID (evt_...) from this deployment")
    if reader.errors:
        raise ValidationFailed(reader.errors)
    query = EventQuery(company_id, retention_floor(retention_days), tuple(types), gte, lte, before)
    return query, limit


def _moment(reader: QueryReader, params: QueryParams, name: str) -> int | None:
    """A moment as RFC 3339 with its offset, or Unix seconds; in microseconds."""
    values = params.get(name, [])
    if not values:
        return None
    text = values[0]
    if len(values) == 1:
        if text.isascii() and text.isdigit() and len(text) <= 11:
            return int(text) * 1_000_000
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is not None and "T" in text:
                return int(moment.timestamp() * 1_000_000)
        except ValueError:
            pass
    reader.fail(name, "must be given once, as Unix seconds or RFC 3339 with its offset")
    return None


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
    key = event_key(ids, public_id)
    found = None
    if key is not None:
        found = await repository.stored_event(
            conn, company_id, key, retention_floor(retention_days)
        )
    if found is None:
        raise EventNotFound()
    return event_view(found, ids, links)
