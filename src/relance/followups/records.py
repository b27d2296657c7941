"""A followup as Relance stores it, defined once: the columns it is read and written by, what a
create leaves out, and the demo's and the import's followups all derive from `FollowupRecord`.

The body (`bodies.FollowupBody`), the view (`schemas.FollowupView`) and the table
(`models.followup.Followup`) name the same fields for their own ends (what a caller may send,
what the OpenAPI document shows, the schema); tests/followups/test_records.py holds them equal
to the record rather than deriving them, which would cost the view its speed.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import get_type_hints

from relance.followups.enums import FollowupStatus


@dataclass(slots=True, kw_only=True)
class FollowupRecord:
    """What a followup stores besides its keys, in the order of GetBill's document; the
    defaults are what a create leaves out. processed_at is the moment of the last write, set
    by the write itself. Enums are held as their text."""

    status: str = FollowupStatus.ON_HOLD.value
    type: str
    call_date: datetime | None = None
    scheduled_at: datetime | None = None
    summary: str | None = None
    notes: str | None = None
    call_id: str | None = None
    audio_url: str | None = None
    pdf_url: str | None = None
    duration_ms: int | None = None
    disconnection_reason: str | None = None
    direction: str | None = None
    phone_number_used: str | None = None
    is_retry: bool = False
    processed_at: datetime | None = None
    triggered_payment: bool = False
    email_opened: bool = False
    email_open_count: int = 0
    email_first_opened_at: datetime | None = None
    email_clicked: bool = False
    email_click_count: int = 0


@dataclass(slots=True, kw_only=True)
class StoredFollowup(FollowupRecord):
    """A followup as read back to be changed: its record, its keys and its activity time."""

    id: int
    debt_id: int
    activity_at: datetime


RECORD_FIELDS = tuple(field.name for field in fields(FollowupRecord))
# What the API shows of a followup, and the repository reads: the keys, then the record.
FOLLOWUP_FIELDS = ("id", "debt_id", *RECORD_FIELDS)
_TYPES = get_type_hints(FollowupRecord)
TIMESTAMPS = tuple(name for name in RECORD_FIELDS if _TYPES[name] == datetime | None)
BOOLEANS = tuple(name for name in RECORD_FIELDS if _TYPES[name] is bool)


def activity_of(record: FollowupRecord) -> datetime:
    """When a followup happened or will: call_date, else scheduled_at, else processed_at."""
    moment = record.call_date or record.scheduled_at or record.processed_at
    if moment is None:
        raise ValueError("a followup written has a processed_at")
    return moment
