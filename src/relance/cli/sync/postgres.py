"""A mirror in a PostgreSQL database, through asyncpg (which comes with `relance[server]`, or
alone: `pip install asyncpg`), run on an event loop of its own so that the sync stays one
plain loop. A snapshot is copied in with COPY; every write is one transaction that first locks
`relance_sync_state` against other syncs (readers of the mirror are never blocked)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable
from datetime import datetime
from typing import Any, TypeVar

from relance.cli.common import shown_setting
from relance.cli.sync import sql
from relance.cli.sync.targets import (
    COLUMNS,
    TIMESTAMPS,
    Batch,
    MediaFile,
    MediaKey,
    Origin,
    Row,
    Stored,
    TargetError,
    refused_origin,
)

T = TypeVar("T")
UPSERT = sql.upsert_followups(lambda number: f"${number}")
UPSERT_MEDIA = sql.upsert_media(lambda number: f"${number}")
INSERT_STATE = sql.insert_state(lambda number: f"${number}")
# Taken by every write of a sync, which it makes wait for another's; readers take less.
LOCK = "LOCK TABLE relance_sync_state IN SHARE ROW EXCLUSIVE MODE"
COLUMNS_QUERY = (
    "SELECT column_name FROM information_schema.columns"
    " WHERE table_schema = current_schema() AND table_name = 'followups'"
    " ORDER BY ordinal_position"
)


def values_of(row: Row) -> tuple[Any, ...]:
    """The followup's columns as asyncpg takes them: moments as aware datetimes."""
    return tuple(
        _moment(row.get(name)) if name in TIMESTAMPS else row.get(name) for name in COLUMNS
    )


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def media_row(media: MediaFile) -> tuple[str, ...]:
    return (media.followup_id, media.field, media.sha256, media.file, media.source)


class PostgresTarget:
    def __init__(self, url: str) -> None:
        self.name = str(shown_setting(url))
        self._url = url
        self._runner = asyncio.Runner()
        self._connection: Any = None

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        return self._runner.run(work)

    def open(self, origin: Origin) -> Stored | None:
        try:
            import asyncpg
        except ModuleNotFoundError:
            raise TargetError(
                "a PostgreSQL target needs asyncpg: pip install asyncpg (or 'relance[server]')"
            ) from None
        try:
            self._connection = self._run(asyncpg.connect(self._url, timeout=15))
            return self._run(self._opened(origin))
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise TargetError(f"cannot use the database {self.name}: {exc}") from exc

    async def _opened(self, origin: Origin) -> Stored | None:
        db = self._connection
        async with db.transaction():
            # Two syncs making the tables at once would collide in the catalog.
            await db.execute("SELECT pg_advisory_xact_lock(hashtext('relance_sync_schema'))")
            columns = tuple(row[0] for row in await db.fetch(COLUMNS_QUERY))
            if columns not in ((), COLUMNS):
                raise TargetError(
                    f"{self.name} has a followups table that relance followups sync did not"
                    " make (other columns): choose another database or schema"
                )
            for statement in sql.schema("TIMESTAMPTZ", checked_booleans=False):
                await db.execute(statement)
        row = await db.fetchrow("SELECT server, client_id, cursor FROM relance_sync_state")
        if row is None:
            if await db.fetchval("SELECT EXISTS (SELECT 1 FROM followups)"):
                raise TargetError(
                    f"{self.name} holds followups but no sync state: it is not a mirror made by"
                    " relance followups sync; choose another database"
                )
            return None
        stored = Stored(Origin(row["server"], row["client_id"]), row["cursor"])
        if stored.origin.server != origin.server:
            raise refused_origin(self.name, stored.origin, origin)
        return stored

    def media_index(self) -> dict[MediaKey, MediaFile]:
        query = f"SELECT {', '.join(sql.MEDIA_COLUMNS)} FROM media"  # noqa: S608
        rows = self._run(self._connection.fetch(query))
        return {(row[0], row[1]): MediaFile(*row) for row in rows}

    def snapshot(
        self,
        origin: Origin,
        batches: Iterable[Batch],
        cursor: Callable[[], str],
        previous: str | None,
    ) -> int:
        return self._run(self._snapshot(origin, batches, cursor, previous))

    async def _snapshot(
        self,
        origin: Origin,
        batches: Iterable[Batch],
        cursor: Callable[[], str],
        previous: str | None,
    ) -> int:
        db = self._connection
        written = 0
        async with db.transaction():
            await self._require_cursor(previous)
            # DELETE rather than TRUNCATE: readers keep the old mirror until the commit.
            await db.execute("DELETE FROM followups")
            await db.execute("DELETE FROM media")
            for batch in batches:
                records = [values_of(row) for row in batch.upserts]
                await db.copy_records_to_table("followups", records=records, columns=COLUMNS)
                if batch.media:
                    await db.executemany(UPSERT_MEDIA, [media_row(m) for m in batch.media])
                written += len(records)
            await db.execute("DELETE FROM relance_sync_state")
            at = await db.fetchval("SELECT now()")
            await db.execute(INSERT_STATE, origin.server, origin.client_id, cursor(), at, at)
        return written

    def apply(self, batch: Batch, previous: str, cursor: str) -> None:
        self._run(self._apply(batch, previous, cursor))

    async def _apply(self, batch: Batch, previous: str, cursor: str) -> None:
        db = self._connection
        async with db.transaction():
            await self._require_cursor(previous)
            if batch.upserts:
                await db.executemany(UPSERT, [values_of(f) for f in batch.upserts])
            if batch.deletions:
                gone = [[deleted.id] for deleted in batch.deletions]
                await db.executemany("DELETE FROM followups WHERE id = $1", gone)
                await db.executemany("DELETE FROM media WHERE followup_id = $1", gone)
            if batch.media_dropped:
                dropped = "DELETE FROM media WHERE followup_id = $1 AND field = $2"
                await db.executemany(dropped, batch.media_dropped)
            if batch.media:
                await db.executemany(UPSERT_MEDIA, [media_row(m) for m in batch.media])
            await db.execute(
                "UPDATE relance_sync_state SET cursor = $1, updated_at = now()", cursor
            )

    async def _require_cursor(self, expected: str | None) -> None:
        await self._connection.execute(LOCK)
        found = await self._connection.fetchval("SELECT cursor FROM relance_sync_state")
        if found != expected:
            raise TargetError(
                f"another sync wrote {self.name} meanwhile (its cursor moved): run one sync at a"
                " time per target"
            )

    def close(self) -> None:
        connection, self._connection = self._connection, None
        try:
            if connection is not None:
                self._run(connection.close(timeout=5))
        except Exception:
            # Cut short mid-transaction (Ctrl+C): the server rolls back what it held.
            connection.terminate()
        finally:
            self._runner.close()
