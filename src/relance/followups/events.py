"""The events of a followup's writes: what a create and an update record (docs/webhooks.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from relance.events.records import NewEvent, changes_between
from relance.events.types import EventType
from relance.followups.enums import COMPLETED, FollowupStatus
from relance.followups.records import RECORD_FIELDS, StoredFollowup
from relance.followups.schemas import FollowupView

_encode = msgspec.json.Encoder().encode
# Compared between the followup before and after a write. processed_at is the write's own
# moment, which every write moves: it is shown among the changes, but is not one by itself.
_COMPARED = tuple(name for name in FollowupView.__struct_fields__ if name != "media_urls_expire_at")
_NOT_A_CHANGE = frozenset({"processed_at"})


def created(view: FollowupView) -> list[NewEvent]:
    """followup.created, and followup.completed or .failed when it is created so."""
    events = [NewEvent(EventType.FOLLOWUP_CREATED, _encode(view))]
    return events + _outcome(view, first_completion=view.status in COMPLETED)


def updated(before: FollowupView, after: FollowupView, *, first_completion: bool) -> list[NewEvent]:
    """followup.updated with each shown field that changed, and followup.completed (the first
    time the status enters a completed one) or .failed (when it enters failed); nothing when
    no shown field changed."""
    changes = changes_between(before, after, _COMPARED)
    if not changes.keys() - _NOT_A_CHANGE:
        return []
    data = _encode(after)
    events = [NewEvent(EventType.FOLLOWUP_UPDATED, data, _encode(changes))]
    if "status" in changes:
        events += _outcome(after, first_completion=first_completion, data=data)
    return events


def _outcome(
    view: FollowupView, *, first_completion: bool, data: bytes | None = None
) -> list[NewEvent]:
    if first_completion:
        return [NewEvent(EventType.FOLLOWUP_COMPLETED, data or _encode(view))]
    if view.status == FollowupStatus.FAILED:
        return [NewEvent(EventType.FOLLOWUP_FAILED, data or _encode(view))]
    return []


def view_before(current: StoredFollowup, after: FollowupView) -> FollowupView:
    """The followup as the API showed it before the write, from the locked record (its
    timestamps in the form the reads give them: UTC, to the second, with an offset)."""
    shown = {name: _shown(getattr(current, name)) for name in RECORD_FIELDS}
    return msgspec.structs.replace(after, media_urls_expire_at=None, **shown)


def _shown(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
