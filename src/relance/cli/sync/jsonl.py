"""A mirror as a JSON Lines file, only ever appended to: replaying its lines in order gives the
mirror. One JSON object a line, its `action` first:

    {"action": "mirror", "format": 1, "server": URL, "client_id": ID}   the first line
    {"action": "upsert", "seq": 12, "changed_at": ..., "followup": {24 fields}}
    {"action": "delete", "seq": 13, "changed_at": ..., "id": ID, "debt_id": ID}
    {"action": "media", "followup_id": ID, "field": "audio_url", "sha256": HEX, "file": NAME,
     "source": URL}                     (sha256, file and source null: the file is dropped)
    {"action": "reset"}                 a new snapshot follows: forget every followup before
    {"action": "cursor", "cursor": C, "server": URL, "client_id": ID, "at": MOMENT}

A snapshot's rows are upserts whose `seq` and `changed_at` are null; each page of the feed is
its entries in commit order. Only what a cursor line closes is applied: the snapshot's rows and
each page are followed by one, flushed to disk (fsync) before the sync goes on. On start, the
sync finds the last cursor line and cuts off anything after it (a page or a snapshot half
written when it stopped), then continues from that cursor. One sync at a time holds the file
(an exclusive flock)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from relance.cli.sync.targets import (
    COLUMNS,
    Batch,
    MediaFile,
    MediaKey,
    Origin,
    Row,
    Stored,
    TargetError,
    moment_text,
    now_text,
    refused_origin,
    row_of,
)
from relance.client import FollowupChange, FollowupDeletion, FollowupUpsert

FORMAT = 1
HEADER = b'{"action": "mirror"'
CURSOR = b'{"action": "cursor"'
BLOCK = 1 << 16


def fields_of(row: Row) -> Row:
    """The followup's 24 fields, as the API shows them."""
    return {name: row.get(name) for name in COLUMNS}


def line(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode() + b"\n"


def entry_line(entry: FollowupChange) -> bytes:
    if isinstance(entry, FollowupUpsert):
        moment = moment_text(entry.changed_at)
        found = row_of(entry.followup)
        return line({"action": "upsert", "seq": entry.seq, "changed_at": moment, "followup": found})
    if isinstance(entry, FollowupDeletion):
        return line(
            {
                "action": "delete",
                "seq": entry.seq,
                "changed_at": moment_text(entry.changed_at),
                "id": entry.id,
                "debt_id": entry.debt_id,
            }
        )
    return line({"action": entry.action, **entry.model_dump(mode="json", exclude={"action"})})


def media_line(followup_id: str, field: str, media: MediaFile | None) -> bytes:
    return line(
        {
            "action": "media",
            "followup_id": followup_id,
            "field": field,
            "sha256": media.sha256 if media else None,
            "file": media.file if media else None,
            "source": media.source if media else None,
        }
    )


def last_cursor(file: IO[bytes], block: int = BLOCK) -> tuple[int, bytes | None]:
    """Where the last complete cursor line ends, and that line; (0, None) without one. Read
    from the end back, a block at a time, so that a long mirror starts at once."""
    pos = file.seek(0, os.SEEK_END)
    pending = b""  # the start of the buffer's first line, whose newline is known
    complete = False  # whether a newline was seen: the bytes after the last one are cut off
    while pos > 0:
        start = max(0, pos - block)
        file.seek(start)
        buffer = file.read(pos - start) + pending
        cut = len(buffer)  # buffer[cut] is a newline, or the file's end while not complete
        while (newline := buffer.rfind(b"\n", 0, cut)) >= 0:
            if complete and buffer.startswith(CURSOR, newline + 1):
                return start + cut + 1, buffer[newline + 1 : cut]
            complete = True
            cut = newline
        pending = buffer[:cut]
        pos = start
    if complete and pending.startswith(CURSOR):
        return len(pending) + 1, pending
    return 0, None


class JsonlTarget:
    def __init__(self, path: Path) -> None:
        self.name = str(path)
        self._path = path
        self._file: IO[bytes] | None = None
        self._origin = Origin("", "")

    @property
    def _out(self) -> IO[bytes]:
        assert self._file is not None, "open() first"
        return self._file

    def open(self, origin: Origin) -> Stored | None:
        if self._path.is_dir():
            raise TargetError(f"{self.name} is a folder, not a file")
        self._file = self._path.open("a+b")
        self._origin = origin
        self._lock()
        self._out.seek(0)
        first = self._out.readline()
        # A header cut short as it was first written is one still.
        if not (first.startswith(HEADER) or HEADER.startswith(first)):
            raise TargetError(
                f"{self.name} is not a mirror written by relance followups sync (its first line"
                " is not one): choose another file"
            )
        end, found = last_cursor(self._out)
        if found is None:
            # No snapshot was finished: keep nothing but the header, made anew.
            self._cut(0)
            self._append(line({"action": "mirror", "format": FORMAT, **_origin(origin)}))
            self._durable()
            return None
        self._cut(end)
        cursor = json.loads(found)
        stored = Stored(Origin(cursor["server"], cursor["client_id"]), cursor["cursor"])
        if stored.origin.server != origin.server:
            raise refused_origin(self.name, stored.origin, origin)
        return stored

    def _lock(self) -> None:
        try:
            import fcntl
        except ImportError:  # not POSIX: one sync at a time is then the user's to keep
            return
        try:
            fcntl.flock(self._out.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise TargetError(f"another sync is writing {self.name}") from None

    def _cut(self, end: int) -> None:
        if self._out.seek(0, os.SEEK_END) > end:
            self._out.truncate(end)
            self._durable()

    def media_index(self) -> dict[MediaKey, MediaFile]:
        found: dict[MediaKey, MediaFile] = {}
        for document in self._documents():
            action = document.get("action")
            if action == "reset":
                found.clear()
            elif action == "delete":
                for key in [key for key in found if key[0] == document["id"]]:
                    del found[key]
            elif action == "media":
                key = (document["followup_id"], document["field"])
                if document["sha256"] is None:
                    found.pop(key, None)
                else:
                    found[key] = MediaFile(
                        *key, *(document[k] for k in ("sha256", "file", "source"))
                    )
        return found

    def _documents(self) -> Iterator[dict[str, Any]]:
        self._out.seek(0)
        for text in self._out:
            if text.startswith(
                (b'{"action": "media"', b'{"action": "reset"', b'{"action": "delete"')
            ):
                yield json.loads(text)

    def snapshot(
        self,
        origin: Origin,
        batches: Iterable[Batch],
        cursor: Callable[[], str],
        previous: str | None,
    ) -> int:
        written = 0
        if previous is not None:
            self._append(line({"action": "reset"}))
        for batch in batches:
            self._append(b"".join(self._snapshot_lines(batch)))
            written += len(batch.upserts)
        self._close_page(origin, cursor())
        return written

    @staticmethod
    def _snapshot_lines(batch: Batch) -> Iterator[bytes]:
        for followup in batch.upserts:
            shown = fields_of(followup)
            yield line({"action": "upsert", "seq": None, "changed_at": None, "followup": shown})
        for media in batch.media:
            yield media_line(media.followup_id, media.field, media)

    def apply(self, batch: Batch, previous: str, cursor: str) -> None:
        lines = [entry_line(entry) for entry in batch.entries]
        lines += [media_line(*key, None) for key in batch.media_dropped]
        lines += [media_line(m.followup_id, m.field, m) for m in batch.media]
        self._append(b"".join(lines))
        self._close_page(self._origin, cursor)

    def _close_page(self, origin: Origin, cursor: str) -> None:
        document = {"action": "cursor", "cursor": cursor, **_origin(origin), "at": now_text()}
        self._append(line(document))
        self._durable()

    def _append(self, data: bytes) -> None:
        self._out.seek(0, os.SEEK_END)
        self._out.write(data)

    def _durable(self) -> None:
        self._out.flush()
        os.fsync(self._out.fileno())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _origin(origin: Origin) -> dict[str, str]:
    return {"server": origin.server, "client_id": origin.client_id}
