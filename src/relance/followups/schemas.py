"""The list query's parameters, parsed strictly, and the followup object as the API shows it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import msgspec

from relance.db import Row
from relance.errors import ValidationFailed
from relance.followups.enums import Direction, FollowupStatus, FollowupType
from relance.followups.records import BOOLEANS, FOLLOWUP_FIELDS
from relance.kit.ids import IdCodec
from relance.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, MAX_PAGE, PageRequest
from relance.kit.query import QueryParams, QueryReader
from relance.kit.readers import row_reader
from relance.kit.views import Moment, NonNegative, PublicId
from relance.media.links import MediaLinks
from relance.resources import Resource

IdEncoder = Callable[[int], str]


@dataclass(frozen=True, slots=True)
class FollowupFilters:
    status: FollowupStatus | None = None
    type: FollowupType | None = None
    date_from: date | None = None
    date_to: date | None = None
    debt_id: int | None = None


class FollowupView(msgspec.Struct, frozen=True):
    """A followup as the API shows it, fields in the order of GetBill's document. A struct
    rather than a dict: built by one C call and encoded from its precomputed keys, it halves
    the cost of shaping and encoding a page (bench/RESULTS.md). The fields hold the stored
    values as they come (text where an enum is named); their types are what the OpenAPI
    document shows."""

    id: PublicId
    debt_id: PublicId
    status: FollowupStatus
    type: FollowupType
    call_date: Moment | None
    scheduled_at: Moment | None
    summary: str | None
    notes: str | None
    call_id: str | None
    audio_url: str | None
    pdf_url: str | None
    duration_ms: NonNegative | None
    disconnection_reason: str | None
    direction: Direction | None
    phone_number_used: str | None
    is_retry: bool
    processed_at: Moment | None
    triggered_payment: bool
    email_opened: bool
    email_open_count: NonNegative
    email_first_opened_at: Moment | None
    email_clicked: bool
    email_click_count: NonNegative
    media_urls_expire_at: Moment | None


_read = row_reader(
    FollowupView,
    FollowupView.__struct_fields__,
    FOLLOWUP_FIELDS,
    # SQLite hands booleans back as 0 and 1.
    through=dict.fromkeys(BOOLEANS, bool),
    given=("id", "debt_id"),
)


def followup_views(
    rows: Sequence[Row], followup_id: IdEncoder, debt_id: IdEncoder, media: MediaLinks
) -> list[FollowupView]:
    """Stored rows (FOLLOWUP_FIELDS first, in order) as the API shows them."""
    return [signed(view, media) for view in unsigned_views(rows, followup_id, debt_id)]


def unsigned_views(
    rows: Sequence[Row], followup_id: IdEncoder, debt_id: IdEncoder
) -> list[FollowupView]:
    """The rows as views whose stored media are still their references (`media:KEY`), as an
    event keeps them, to be signed each time it is shown."""
    return _read(rows, followup_id, debt_id)


def signed(view: FollowupView, media: MediaLinks) -> FollowupView:
    """The view with its stored media as signed URLs. Most followups carry no media: only
    those that do are built twice."""
    if view.audio_url is None and view.pdf_url is None:
        return view
    audio_url, pdf_url, expire_at = media.shown(view.audio_url, view.pdf_url)
    return msgspec.structs.replace(
        view, audio_url=audio_url, pdf_url=pdf_url, media_urls_expire_at=expire_at
    )


def parse_list_query(
    params: QueryParams, ids: IdCodec, *, with_debt_id: bool = True
) -> tuple[FollowupFilters, PageRequest]:
    """Every parameter checked at once, so one 400 names everything there is to fix."""
    reader = QueryReader(params)
    page = reader.integer("page", 1, MAX_PAGE, default=1)
    limit = reader.integer("limit", 1, MAX_LIMIT, default=DEFAULT_LIMIT)
    filters = read_filters(reader, ids, with_debt_id=with_debt_id)
    if reader.errors:
        raise ValidationFailed(reader.errors)
    return filters, PageRequest(page or 1, limit or DEFAULT_LIMIT)


def read_filters(reader: QueryReader, ids: IdCodec, *, with_debt_id: bool) -> FollowupFilters:
    """The list's filters; what is wrong with them goes to the reader's errors."""
    status = reader.choice("status", FollowupStatus)
    kind = reader.choice("type", FollowupType)
    date_from = reader.day("date_from")
    date_to = reader.day("date_to")
    if date_from and date_to and date_from > date_to:
        reader.fail("date_from", f"must be on or before date_to ({date_to.isoformat()})")
    debt_id = reader.public_id("debt_id", ids, Resource.DEBT) if with_debt_id else None
    return FollowupFilters(status, kind, date_from, date_to, debt_id)
