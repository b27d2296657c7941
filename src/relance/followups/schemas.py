"""The list query's parameters, parsed strictly, and the followup object as the API shows it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import msgspec

from relance.errors import ValidationFailed
from relance.followups.enums import Direction, FollowupStatus, FollowupType
from relance.kit.ids import IdCodec, Resource
from relance.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, MAX_PAGE, PageRequest
from relance.kit.query import QueryParams, QueryReader
from relance.kit.views import Moment, NonNegative, PublicId
from relance.media.links import MediaLinks

# The stored fields, in the order GetBill's document shows them; the repository selects these.
FOLLOWUP_FIELDS: tuple[str, ...] = (
    "id",
    "debt_id",
    "status",
    "type",
    "call_date",
    "scheduled_at",
    "summary",
    "notes",
    "call_id",
    "audio_url",
    "pdf_url",
    "duration_ms",
    "disconnection_reason",
    "direction",
    "phone_number_used",
    "is_retry",
    "processed_at",
    "triggered_payment",
    "email_opened",
    "email_open_count",
    "email_first_opened_at",
    "email_clicked",
    "email_click_count",
)


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


def followup_view(
    row: Sequence[Any], followup_id: IdEncoder, debt_id: IdEncoder, media: MediaLinks
) -> FollowupView:
    """A stored row (FOLLOWUP_FIELDS, in order) as the API shows it. bool() because SQLite
    hands booleans back as 0 and 1."""
    audio_url, pdf_url, media_expire_at = row[9], row[10], None
    if audio_url is not None or pdf_url is not None:  # most followups carry no media
        audio_url, pdf_url, media_expire_at = media.shown(audio_url, pdf_url)
    return FollowupView(
        followup_id(row[0]),
        debt_id(row[1]),
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        row[7],
        row[8],
        audio_url,
        pdf_url,
        row[11],
        row[12],
        row[13],
        row[14],
        bool(row[15]),
        row[16],
        bool(row[17]),
        bool(row[18]),
        row[19],
        row[20],
        bool(row[21]),
        row[22],
        media_expire_at,
    )


def parse_list_query(
    params: QueryParams, ids: IdCodec, *, with_debt_id: bool = True
) -> tuple[FollowupFilters, PageRequest]:
    """Every parameter checked at once, so one 400 names everything there is to fix."""
    reader = QueryReader(params)
    page = reader.integer("page", 1, MAX_PAGE, default=1)
    limit = reader.integer("limit", 1, MAX_LIMIT, default=DEFAULT_LIMIT)
    status = reader.choice("status", FollowupStatus)
    kind = reader.choice("type", FollowupType)
    date_from = reader.day("date_from")
    date_to = reader.day("date_to")
    if date_from and date_to and date_from > date_to:
        reader.fail("date_from", f"must be on or before date_to ({date_to.isoformat()})")
    debt_id = reader.public_id("debt_id", ids, Resource.DEBT) if with_debt_id else None
    if reader.errors:
        raise ValidationFailed(reader.errors)
    filters = FollowupFilters(status, kind, date_from, date_to, debt_id)
    return filters, PageRequest(page or 1, limit or DEFAULT_LIMIT)


def activity_at(values: Mapping[str, Any]) -> datetime:
    """When a followup happened or will: call_date, else scheduled_at, else processed_at."""
    moment: datetime = values["call_date"] or values["scheduled_at"] or values["processed_at"]
    return moment
