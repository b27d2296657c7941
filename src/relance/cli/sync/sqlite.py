"""A mirror in a SQLite file (the standard library's sqlite3: nothing to install).

The file is in WAL mode, so that other programs read the mirror while a sync writes it; each
write is one `BEGIN IMMEDIATE` transaction, which also keeps a second sync from applying the
same page (it finds the stored cursor moved and stops)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from relance.cli.sync import sql
from relance.cli.sync.targets import (
    COLUMNS,
    Batch,
    MediaFile,
    MediaKey,
    Origin,
    Row,
    Stored,
    TargetError,
    now_text,
    refused_origin,
)


def _mark(_: int) -> str:
    return "?"


INSERT = sql.insert_followups(_mark)
UPSERT = sql.upsert_followups(_mark)
UPSERT_MEDIA = sql.upsert_media(_mark)
INSERT_STATE = sql.insert_state(_mark)


def values_of(row: Row) -> tuple[Any, ...]:
    """The followup's columns as SQLite stores them: moments as the API's text (UTC)."""
    return tuple(map(row.get, COLUMNS))


def media_row(media: MediaFile) -> tuple[str, ...]:
    return (media.followup_id, media.field, media.sha256, media.file, media.source)


class SqliteTarget:
    def __init__(self, path: Path) -> None:
        self.name = str(path)
        self._path = path
        self._connection: sqlite3.Connection | None = None

    @property
    def _db(self) -> sqlite3.Connection:
        assert self._connection is not None, "open() first"
        return self._connection

    def open(self, origin: Origin) -> Stored | None:
        if self._path.is_dir():
            raise TargetError(f"{self.name} is a folder, not a SQLite file")
        try:
            self._connection = sqlite3.connect(self._path, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            # In WAL mode, a commit is atomic at NORMAL; only the last ones may be lost to a
            # power cut, and with them their cursor: the next run fetches them again.
            self._db.execute("PRAGMA synchronous=NORMAL")
            with self._transaction():
                self._require_our_table()
                for statement in sql.schema("TEXT", checked_booleans=True):
                    self._db.execute(statement)
        except sqlite3.DatabaseError as exc:
            raise TargetError(f"{self.name} is not a SQLite database we can write: {exc}") from exc
        return self._stored(origin)

    def _require_our_table(self) -> None:
        columns = tuple(row[1] for row in self._db.execute("PRAGMA table_info(followups)"))
        if columns not in ((), COLUMNS):
            raise TargetError(
                f"{self.name} has a followups table that relance followups sync did not make"
                " (other columns): choose another target"
            )

    def _stored(self, origin: Origin) -> Stored | None:
        found = self._db.execute("SELECT server, client_id, cursor FROM relance_sync_state")
        row = found.fetchone()
        if row is None:
            if self._db.execute("SELECT 1 FROM followups LIMIT 1").fetchone() is not None:
                raise TargetError(
                    f"{self.name} holds followups but no sync state: it is not a mirror made by"
                    " relance followups sync; choose another target"
                )
            return None
        stored = Stored(Origin(row[0], row[1]), row[2])
        if stored.origin.server != origin.server:
            raise refused_origin(self.name, stored.origin, origin)
        return stored

    def media_index(self) -> dict[MediaKey, MediaFile]:
        rows = self._db.execute(f"SELECT {', '.join(sql.MEDIA_COLUMNS)} FROM media")  # noqa: S608
        return {(row[0], row[1]): MediaFile(*row) for row in rows}

    def snapshot(
        self,
        origin: Origin,
        batches: Iterable[Batch],
        cursor: Callable[[], str],
        previous: str | None,
    ) -> int:
        written = 0
        with self._transaction():
            self._require_cursor(previous)
            self._db.execute("DELETE FROM followups")
            self._db.execute("DELETE FROM media")
            for batch in batches:
                self._db.executemany(INSERT, (values_of(f) for f in batch.upserts))
                self._db.executemany(UPSERT_MEDIA, (media_row(m) for m in batch.media))
                written += len(batch.upserts)
            at = now_text()
            self._db.execute("DELETE FROM relance_sync_state")
            self._db.execute(INSERT_STATE, (origin.server, origin.client_id, cursor(), at, at))
        return written

    def apply(self, batch: Batch, previous: str, cursor: str) -> None:
        with self._transaction():
            self._require_cursor(previous)
            self._db.executemany(UPSERT, (values_of(f) for f in batch.upserts))
            gone = [(deleted.id,) for deleted in batch.deletions]
            self._db.executemany("DELETE FROM followups WHERE id = ?", gone)
            self._db.executemany("DELETE FROM media WHERE followup_id = ?", gone)
            dropped = "DELETE FROM media WHERE followup_id = ? AND field = ?"
            self._db.executemany(dropped, batch.media_dropped)
            self._db.executemany(UPSERT_MEDIA, (media_row(m) for m in batch.media))
            self._db.execute(
                "UPDATE relance_sync_state SET cursor = ?, updated_at = ?", (cursor, now_text())
            )

    def _require_cursor(self, expected: str | None) -> None:
        row = self._db.execute("SELECT cursor FROM relance_sync_state").fetchone()
        if (row[0] if row else None) != expected:
            raise TargetError(
                f"another sync wrote {self.name} meanwhile (its cursor moved): run one sync at a"
                " time per target"
            )

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
