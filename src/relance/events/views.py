"""An event as the API and its webhooks show it: `{"id": "evt_...", "type", "timestamp",
"data", "changes"?}`, its object as GET showed it when the event happened, with the stored
media signed afresh each time it is shown, so that a retry days later carries working links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from relance.events.records import StoredEvent
from relance.kit.ids import IdCodec, PrefixedIds
from relance.media.links import MediaLinks
from relance.media.stores import PREFIX
from relance.resources import Resource

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MEDIA = ("audio_url", "pdf_url")
_STORED = f'"{PREFIX}'


class EventView(msgspec.Struct, frozen=True, omit_defaults=True):
    """A change event. `data` is the object exactly as its GET returns it; `changes`, on an
    update, each changed field's `previous` and `new` values."""

    id: str
    type: str
    timestamp: str
    data: msgspec.Raw
    changes: msgspec.Raw | None = None


def event_ids(ids: IdCodec) -> PrefixedIds:
    return PrefixedIds(ids, Resource.EVENT, "evt_")


def moment_of(micros: int) -> str:
    """RFC 3339, UTC, to the microsecond."""
    return (_EPOCH + timedelta(microseconds=micros)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_view(event: StoredEvent, ids: IdCodec, links: MediaLinks) -> EventView:
    changes = None if event.changes is None else msgspec.Raw(_signed_changes(event.changes, links))
    return EventView(
        event_ids(ids).show(event.id),
        event.type,
        moment_of(event.created_us),
        msgspec.Raw(_signed_data(event.data, links)),
        changes,
    )


_encode = msgspec.json.Encoder().encode


def event_body(event: StoredEvent, ids: IdCodec, links: MediaLinks) -> bytes:
    """A delivery's body: the event, minified."""
    return _encode(event_view(event, ids, links))


def _signed_data(text: str, links: MediaLinks) -> bytes:
    if _STORED not in text:
        return text.encode()
    shown: dict[str, Any] = msgspec.json.decode(text)
    audio, pdf, expire_at = links.shown(shown.get("audio_url"), shown.get("pdf_url"))
    shown.update(audio_url=audio, pdf_url=pdf, media_urls_expire_at=expire_at)
    return _encode(shown)


def _signed_changes(text: str, links: MediaLinks) -> bytes:
    if _STORED not in text:
        return text.encode()
    changes: dict[str, dict[str, Any]] = msgspec.json.decode(text)
    for name in _MEDIA:
        change = changes.get(name)
        if change is not None:
            for side in ("previous", "new"):
                change[side] = links.shown(change[side], None)[0]
    return _encode(changes)
