"""What a sync writes into, whatever it is: the followups' columns, a batch of changes to apply
at once, the media files recorded, and the protocol each kind of target implements.

TARGET names the kind: `postgresql://...` (or `postgres://`) a PostgreSQL database, a path
ending in `.jsonl` a JSON Lines file, any other path a SQLite file."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from relance.client import Followup, FollowupChange, FollowupDeletion

# The followup's 24 fields, in the API's order: the mirror's columns.
COLUMNS: tuple[str, ...] = tuple(Followup.model_fields)
TIMESTAMPS = frozenset(
    {"call_date", "scheduled_at", "processed_at", "email_first_opened_at", "media_urls_expire_at"}
)
INTEGERS = frozenset({"duration_ms", "email_open_count", "email_click_count"})
BOOLEANS = frozenset({"is_retry", "triggered_payment", "email_opened", "email_clicked"})
# The columns that are never empty.
REQUIRED = frozenset(
    {"id", "debt_id", "status", "type", "email_open_count", "email_click_count", *BOOLEANS}
)
MEDIA_FIELDS = ("audio_url", "pdf_url")
# A followup as the API's JSON shows it (the export's lines are decoded, not validated: a
# snapshot of a million rows spends its time on what it writes).
Row = dict[str, Any]


class TargetError(Exception):
    """The target cannot be synced into as it is (another mirror's, not ours, held by another
    sync): the message says why and what to do."""


@dataclass(frozen=True)
class Origin:
    """What a mirror copies: the API's address, and the client whose credentials made it."""

    server: str
    client_id: str


@dataclass(frozen=True)
class MediaFile:
    """A recording or document downloaded for a followup's `field`, stored as `file` (its
    SHA-256 and extension) in the media folder; `source` is its URL without the signature."""

    followup_id: str
    field: str
    sha256: str
    file: str
    source: str


MediaKey = tuple[str, str]  # (followup ID, field)


@dataclass
class Batch:
    """What one transaction applies: followups to insert or replace, followups deleted, the
    feed's entries as they came (none for a snapshot's rows), media files recorded and media
    records dropped (the followup no longer has that field, or is deleted)."""

    upserts: list[Row] = field(default_factory=list)
    deletions: list[FollowupDeletion] = field(default_factory=list)
    entries: list[FollowupChange] = field(default_factory=list)
    media: list[MediaFile] = field(default_factory=list)
    media_dropped: list[MediaKey] = field(default_factory=list)


@dataclass(frozen=True)
class Stored:
    """Where a target's mirror stands: who it copies and the cursor it continues from."""

    origin: Origin
    cursor: str


class Target(Protocol):
    name: str

    def open(self, origin: Origin) -> Stored | None:
        """Ready the target; where its mirror stands, or None if it holds no whole snapshot."""

    def media_index(self) -> dict[MediaKey, MediaFile]:
        """The media files the mirror records."""

    def snapshot(
        self,
        origin: Origin,
        batches: Iterable[Batch],
        cursor: Callable[[], str],
        previous: str | None,
    ) -> int:
        """Replace the whole mirror by the batches' followups and store `cursor()` (asked once
        they are all read), at once: a stop half-way leaves the mirror as it was. `previous`
        is the cursor the mirror had (None: none), refused if another sync moved it. The
        number of followups written."""

    def apply(self, batch: Batch, previous: str, cursor: str) -> None:
        """Apply one page of the feed read from `previous` and store `cursor`, at once."""

    def close(self) -> None: ...


def open_target(spec: str) -> Target:
    if spec.startswith(("postgresql://", "postgres://")):
        from relance.cli.sync.postgres import PostgresTarget

        return PostgresTarget(spec)
    path = Path(spec)
    if path.suffix == ".jsonl":
        from relance.cli.sync.jsonl import JsonlTarget

        return JsonlTarget(path)
    from relance.cli.sync.sqlite import SqliteTarget

    return SqliteTarget(path)


def moment_text(value: datetime | None) -> str | None:
    """A moment as ISO 8601 text in UTC, as the API writes it (`+00:00`)."""
    return None if value is None else value.astimezone(UTC).isoformat()


def row_of(followup: Followup) -> Row:
    """A followup of the feed (typed) as the export shows it: its 24 fields, moments as text."""
    return {
        name: moment_text(getattr(followup, name))
        if name in TIMESTAMPS
        else getattr(followup, name)
        for name in COLUMNS
    }


def now_text() -> str:
    return datetime.now(UTC).isoformat()


def refused_origin(name: str, stored: Origin, origin: Origin) -> TargetError:
    return TargetError(
        f"{name} mirrors {stored.server}, not {origin.server}: sync it from there, or choose"
        " another target"
    )
