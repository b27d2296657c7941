"""The followups feed and export (docs/sync.md): what a client mirrors a company's followups by.

An export streams every followup from one snapshot, then the cursor of that snapshot's place
in the company's change sequence (changes.repository); from that cursor the feed gives every
change committed after it, in commit order, each followup once at its latest state."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from operator import itemgetter

import msgspec

from relance.changes import repository as changes
from relance.db import Connection, Database, Row, Snapshot
from relance.errors import Busy, Gone, ValidationFailed
from relance.events.records import now_us
from relance.events.views import moment_of
from relance.followups.records import FOLLOWUP_FIELDS
from relance.followups.repository import feed, reads
from relance.followups.schemas import (
    FollowupFilters,
    FollowupView,
    read_filters,
    signed,
    unsigned_views,
)
from relance.kit.cursors import SealedCursors
from relance.kit.ids import IdCodec
from relance.kit.query import QueryParams, QueryReader
from relance.kit.views import PublicId
from relance.kit.watch import Watch
from relance.media.links import MediaLinks
from relance.resources import Resource

FEED_DEFAULT, FEED_MAX, WAIT_MAX = 100, 1000, 30
CURSOR_PREFIX = "cur_"
# An export reads and sends its rows this many at a time.
EXPORT_CHUNK = 1000
# Names the one-export-per-client lock among a database's locks.
_EXPORT_LOCK = 0x45 << 56
_BAD_CURSOR = (
    "is not a cursor this deployment gave this company: send a next_cursor exactly as it "
    "was given, or none to start from the beginning"
)
_GONE = (
    "This cursor is older than the deletions Relance keeps ({days} days, "
    "RELANCE_TOMBSTONE_RETENTION_DAYS), or newer than this database: mirror again from "
    "GET /followups/export and follow its next_cursor"
)
_SEQ, _DELETED, _CHANGED_US, _FOLLOWUP_ID, _DEBT_ID = (
    len(FOLLOWUP_FIELDS) + n for n in range(len(feed.CHANGE_COLUMNS))
)
# The followup's own key, null in a change whose followup is gone.
_key_of = itemgetter(0)
_encode = msgspec.json.Encoder().encode


def change_cursors(key: bytes) -> SealedCursors:
    return SealedCursors(key, CURSOR_PREFIX)


class ChangeView(msgspec.Struct, frozen=True, omit_defaults=True):
    """One change of the feed: a followup upserted, with its state now, or deleted, with its
    ID and its debt's."""

    seq: int
    action: str
    changed_at: str
    followup: FollowupView | None = None
    id: PublicId | None = None
    debt_id: PublicId | None = None


@dataclass(frozen=True, slots=True)
class FeedQuery:
    # The number after which to read; None for the present (`cursor=now`).
    after: int | None
    given: bool
    limit: int
    wait: int
    include_media: bool


def parse_feed_query(params: QueryParams, cursors: SealedCursors, company_id: int) -> FeedQuery:
    reader = QueryReader(params)
    limit = reader.integer("limit", 1, FEED_MAX, default=FEED_DEFAULT) or FEED_DEFAULT
    wait = reader.integer("wait", 0, WAIT_MAX, default=0) or 0
    include_media = reader.boolean("include_media", default=True)
    text = reader.text("cursor")
    after: int | None = 0
    if text == "now":
        after = None
    elif text is not None:
        after = cursors.open(text, company_id)
        if after is None:
            reader.fail("cursor", _BAD_CURSOR)
    if reader.errors:
        raise ValidationFailed(reader.errors)
    return FeedQuery(after, text is not None, limit, wait, include_media)


def parse_export_query(params: QueryParams, ids: IdCodec) -> tuple[FollowupFilters, bool]:
    """The export's filters (the list's), and whether it includes media."""
    reader = QueryReader(params)
    filters = read_filters(reader, ids, with_debt_id=True)
    include_media = reader.boolean("include_media", default=True)
    if reader.errors:
        raise ValidationFailed(reader.errors)
    return filters, include_media


@dataclass(frozen=True, slots=True)
class FeedPage:
    data: list[ChangeView]
    next_cursor: str
    has_more: bool


@dataclass(frozen=True, slots=True)
class Shown:
    """How a page shows its followups: IDs, and media signed or left out."""

    ids: IdCodec
    media: MediaLinks
    include_media: bool

    def views(self, rows: Sequence[Row]) -> list[FollowupView]:
        views = unsigned_views(
            rows, self.ids.encoder(Resource.FOLLOWUP), self.ids.encoder(Resource.DEBT)
        )
        if not self.include_media:
            return [_without_media(view) for view in views]
        return [signed(view, self.media) for view in views]


def _without_media(view: FollowupView) -> FollowupView:
    if view.audio_url is None and view.pdf_url is None:
        return view
    return msgspec.structs.replace(view, audio_url=None, pdf_url=None, media_urls_expire_at=None)


# Changes numbered per transaction: an import's hundred thousand take a few.
NUMBERED_AT_ONCE = 20_000
_DAY_US = 86_400 * 1_000_000
CatchUp = Callable[[], Awaitable[None]]


async def unnumbered(db: Connection, company_id: int) -> bool:
    """Whether the company has committed changes still to be numbered."""
    return await changes.has_unnumbered(db, company_id)


async def number_some(conn: Connection, company_id: int, retention_days: int) -> bool:
    """Number a batch of the company's committed changes in the caller's transaction, and
    forget the tombstones older than the retention; whether more may wait."""
    forget_before = now_us() - retention_days * _DAY_US
    numbered = await changes.number(conn, company_id, NUMBERED_AT_ONCE, forget_before)
    return numbered == NUMBERED_AT_ONCE


async def changes_page(
    db: Database,
    cursors: SealedCursors,
    company_id: int,
    query: FeedQuery,
    shown: Shown,
    watch: Watch,
    catch_up: CatchUp,
    retention_days: int,
) -> FeedPage:
    """The changes after the query's cursor, once `catch_up` has numbered those committed;
    with `wait`, an empty page is held until a change is committed or the wait is over."""
    await catch_up()
    position = await changes.position(db, company_id)
    if query.after is None:
        return FeedPage([], cursors.seal(company_id, position.last_seq), False)
    after = query.after
    if query.given and not position.horizon_seq <= after <= position.last_seq:
        raise Gone(_GONE.format(days=retention_days))
    rows = await feed.changes_after(db, company_id, after, query.limit + 1)
    deadline = time.monotonic() + query.wait
    while not rows and (left := deadline - time.monotonic()) > 0:
        if await watch.wait_past(company_id, after, left):
            await catch_up()
            rows = await feed.changes_after(db, company_id, after, query.limit + 1)
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    last = int(rows[-1][_SEQ]) if rows else after
    return FeedPage(_entries(rows, shown), cursors.seal(company_id, last), more)


def _entries(rows: Sequence[Row], shown: Shown) -> list[ChangeView]:
    upserts = iter(shown.views([row for row in rows if not _gone(row)]))
    debt_id = shown.ids.encoder(Resource.DEBT)
    followup_id = shown.ids.encoder(Resource.FOLLOWUP)
    entries = []
    for row in rows:
        seq, changed_at = int(row[_SEQ]), moment_of(int(row[_CHANGED_US]))
        if _gone(row):
            ids = followup_id(int(row[_FOLLOWUP_ID])), debt_id(int(row[_DEBT_ID]))
            entries.append(ChangeView(seq, "delete", changed_at, None, *ids))
        else:
            entries.append(ChangeView(seq, "upsert", changed_at, next(upserts)))
    return entries


def _gone(row: Row) -> bool:
    # A tombstone; or, should a followup ever vanish without one, as good as one.
    return bool(row[_DELETED]) or _key_of(row) is None


@asynccontextmanager
async def export(
    db: Database,
    cursors: SealedCursors,
    client_id: str,
    company_id: int,
    filters: FollowupFilters,
    shown: Shown,
) -> AsyncIterator[AsyncIterator[bytes]]:
    """The export's lines (JSON, each ending in a newline), all from one snapshot: the company's
    followups that pass the filters, in key order, then `{"next_cursor"}`. A followup whose
    latest change is not numbered in the snapshot is left to the feed, which gives it after
    that cursor: nothing is missed, nothing given twice. One export at a time per client: a
    second, while the first runs, is refused."""
    async with db.snapshot() as snapshot:
        if not await snapshot.try_lock(_export_lock(client_id)):
            raise Busy("An export by this client is running: wait for it to end", 5)
        position = await changes.position(snapshot, company_id)
        yield _lines(
            snapshot, company_id, filters, shown, cursors.seal(company_id, position.last_seq)
        )


async def _lines(
    snapshot: Snapshot, company_id: int, filters: FollowupFilters, shown: Shown, cursor: str
) -> AsyncIterator[bytes]:
    sql, args = reads.export_statement(snapshot.dialect, company_id, filters)
    async for rows in snapshot.chunks(sql, *args, size=EXPORT_CHUNK):
        yield b"".join(_encode(view) + b"\n" for view in shown.views(rows))
    yield _encode({"next_cursor": cursor}) + b"\n"


def _export_lock(client_id: str) -> int:
    digest = hashlib.sha256(client_id.encode()).digest()
    return _EXPORT_LOCK | int.from_bytes(digest[:6], "big")
