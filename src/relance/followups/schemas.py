"""The list query's parameters, parsed strictly, and the followup object as the API shows it."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from relance.errors import ValidationFailed
from relance.followups.enums import FollowupStatus, FollowupType
from relance.kit.ids import IdCodec, MalformedId, Resource
from relance.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, MAX_PAGE, PageRequest

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
_INTEGER = re.compile(r"[0-9]{1,12}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


Choice = TypeVar("Choice", FollowupStatus, FollowupType)
IdEncoder = Callable[[int], str]


# Each parameter's values, in the order given.
QueryParams = Mapping[str, list[str]]


@dataclass(frozen=True, slots=True)
class FollowupFilters:
    status: FollowupStatus | None = None
    type: FollowupType | None = None
    date_from: date | None = None
    date_to: date | None = None
    debt_id: int | None = None


def followup_json(row: Sequence[Any], followup_id: IdEncoder, debt_id: IdEncoder) -> dict[str, Any]:
    """A stored row (FOLLOWUP_FIELDS, in order) as the API shows it. Written out key by key:
    this runs for every row of every page, and a dict display is the fastest way to build it.
    bool() because SQLite hands booleans back as 0 and 1."""
    return {
        "id": followup_id(row[0]),
        "debt_id": debt_id(row[1]),
        "status": row[2],
        "type": row[3],
        "call_date": row[4],
        "scheduled_at": row[5],
        "summary": row[6],
        "notes": row[7],
        "call_id": row[8],
        "audio_url": row[9],
        "pdf_url": row[10],
        "duration_ms": row[11],
        "disconnection_reason": row[12],
        "direction": row[13],
        "phone_number_used": row[14],
        "is_retry": bool(row[15]),
        "processed_at": row[16],
        "triggered_payment": bool(row[17]),
        "email_opened": bool(row[18]),
        "email_open_count": row[19],
        "email_first_opened_at": row[20],
        "email_clicked": bool(row[21]),
        "email_click_count": row[22],
        "media_urls_expire_at": None,
    }


def parse_list_query(
    params: QueryParams, ids: IdCodec, *, with_debt_id: bool = True
) -> tuple[FollowupFilters, PageRequest]:
    """Every parameter checked at once, so one 400 names everything there is to fix."""
    reader = _Reader(params)
    page = reader.integer("page", 1, MAX_PAGE, default=1)
    limit = reader.integer("limit", 1, MAX_LIMIT, default=DEFAULT_LIMIT)
    status = reader.choice("status", FollowupStatus)
    kind = reader.choice("type", FollowupType)
    date_from = reader.day("date_from")
    date_to = reader.day("date_to")
    if date_from and date_to and date_from > date_to:
        reader.fail("date_from", f"must be on or before date_to ({date_to.isoformat()})")
    debt_id = reader.debt_id(ids) if with_debt_id else None
    if reader.errors:
        raise ValidationFailed(reader.errors)
    filters = FollowupFilters(status, kind, date_from, date_to, debt_id)
    return filters, PageRequest(page or 1, limit or DEFAULT_LIMIT)


class _Reader:
    def __init__(self, params: QueryParams) -> None:
        self._params = params
        self.errors: dict[str, list[str]] = {}

    def fail(self, name: str, problem: str) -> None:
        self.errors.setdefault(name, []).append(problem)

    def _one(self, name: str) -> str | None:
        values = self._params.get(name, [])
        if len(values) > 1:
            self.fail(name, "must be given only once")
            return None
        return values[0] if values else None

    def integer(self, name: str, low: int, high: int, default: int) -> int | None:
        text = self._one(name)
        if text is None:
            return default
        if not _INTEGER.fullmatch(text) or not low <= int(text) <= high:
            self.fail(name, f"must be an integer from {low} to {high}")
            return None
        return int(text)

    def choice(self, name: str, enum: type[Choice]) -> Choice | None:
        text = self._one(name)
        if text is None:
            return None
        try:
            return enum(text)
        except ValueError:
            self.fail(name, f"must be one of: {', '.join(member.value for member in enum)}")
            return None

    def day(self, name: str) -> date | None:
        text = self._one(name)
        if text is None:
            return None
        try:
            if not _DAY.fullmatch(text):
                raise ValueError(text)
            return date.fromisoformat(text)
        except ValueError:
            self.fail(name, "must be a calendar date written YYYY-MM-DD")
            return None

    def debt_id(self, ids: IdCodec) -> int | None:
        text = self._one("debt_id")
        if text is None:
            return None
        try:
            return ids.decode(Resource.DEBT, text)
        except MalformedId:
            self.fail("debt_id", "is not a valid debt ID")
            return None


def activity_at(values: Mapping[str, Any]) -> datetime:
    """When a followup happened or will: call_date, else scheduled_at, else processed_at."""
    moment: datetime = values["call_date"] or values["scheduled_at"] or values["processed_at"]
    return moment
