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
