"""An event as a write records it, and as it is read back."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from relance.events.types import EventType


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event a write records: its object as the API shows it (stored media unsigned) and,
    for an update, what changed, both as JSON."""

    type: EventType
    data: bytes
    changes: bytes | None = None


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: int
    company_id: int
    type: str
    created_us: int
    data: str
    changes: str | None


def now_us() -> int:
    """Now, in whole microseconds since the Unix epoch (how events and deliveries keep time)."""
    return time.time_ns() // 1000


def changes_between(before: object, after: object, names: Iterable[str]) -> dict[str, Any]:
    """Each of these fields whose value differs between two views of one object, as an
    update's event shows it: `{"previous": ..., "new": ...}`."""
    changes = {}
    for name in names:
        previous, new = getattr(before, name), getattr(after, name)
        if previous != new:
            changes[name] = {"previous": previous, "new": new}
    return changes
