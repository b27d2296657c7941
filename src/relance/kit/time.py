"""Timestamps: stored and returned in UTC at seconds precision (docs/contract.md §1)."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def to_utc_seconds(moment: datetime) -> datetime:
    """The form every stored timestamp takes; naive datetimes are a programming error here."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every timestamp must carry its offset")
    return moment.astimezone(UTC).replace(microsecond=0)


# What micros_of reads, as JSON Schema: Unix seconds, or RFC 3339 with its offset from year
# 0001 on (what Python's datetime holds).
MOMENT_SCHEMAS: list[dict[str, str]] = [
    {"type": "string", "pattern": "^[0-9]{1,11}$"},
    {"type": "string", "format": "date-time", "pattern": "^(?!0000)[0-9]{4}-"},
]


def micros_of(text: str) -> int | None:
    """A moment given as Unix seconds or as RFC 3339 with its offset, in microseconds since
    the epoch; None when it is neither."""
    if text.isascii() and text.isdigit() and len(text) <= 11:
        return int(text) * 1_000_000
    # RFC 3339 allows a lower-case t and z.
    text = text.upper()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None or "T" not in text:
        return None
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
