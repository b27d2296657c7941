"""`--with-media DIR`: each recording and document a followup's signed URL points at, downloaded
while the URL is valid and stored as DIR/<sha256>.<ext>, so that the mirror keeps it after the
link expires. A file is written under a temporary name, flushed to disk and renamed, so a name
in DIR is always a whole file; the same content is stored once. What is already there is not
downloaded again: a followup's field whose URL (without its signature) is the one recorded, or
any URL already downloaded for another followup (a stored object does not change)."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

from relance.cli.sync.targets import MEDIA_FIELDS, MediaFile, MediaKey, Row

if TYPE_CHECKING:
    from relance.client import Relance

DOWNLOADS_AT_ONCE = 8
TIMEOUT = httpx.Timeout(60.0, connect=10.0)
# What a signed URL answers once it expired (or was never valid): ask the API for a fresh one.
REFUSED = frozenset({401, 403, 404, 410})
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,5}")
_BY_TYPE = {
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/ogg": "ogg",
    "audio/mp4": "m4a",
    "audio/x-m4a": "m4a",
    "application/pdf": "pdf",
}


class MediaUnavailable(Exception):
    """A file that could not be downloaded; the sync goes on without it."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.status = status


@dataclass
class MediaPlan:
    """What a batch of followups means for the media: records to write, records to drop."""

    records: list[MediaFile] = field(default_factory=list)
    dropped: list[MediaKey] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def source_of(url: str) -> str:
    """A URL without its query: what it names, whatever it was signed with."""
    return url.split("?", 1)[0]


def extension(url: str, content_type: str | None, field: str) -> str:
    suffix = PurePosixPath(urlsplit(url).path).suffix
    if _EXTENSION.fullmatch(suffix):
        return suffix[1:].lower()
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    return _BY_TYPE.get(kind, "pdf" if field == "pdf_url" else "bin")


class MediaFetcher:
    def __init__(self, folder: Path, client: Relance, known: dict[MediaKey, MediaFile]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.downloaded = 0
        self._client = client
        self._known = known
        self._by_source = {media.source: media for media in known.values()}
        self._http = httpx.Client(timeout=TIMEOUT, follow_redirects=True)
        self._pool = ThreadPoolExecutor(DOWNLOADS_AT_ONCE, thread_name_prefix="media")

    def plan(self, followups: Iterable[Row], *, snapshot: bool) -> MediaPlan:
        """Download what the followups point at and is not here yet. A snapshot records every
        file anew (it replaces the records); a page of the feed only what changed."""
        plan = MediaPlan()
        wanted: dict[str, list[tuple[Row, str]]] = {}  # by source, fetched once each
        for followup in followups:
            for name in MEDIA_FIELDS:
                url: str | None = followup.get(name)
                known = self._known.get((followup["id"], name))
                if url is None:
                    if known is not None and not snapshot:
                        plan.dropped.append((followup["id"], name))
                    continue
                same = self._present(source_of(url))
                if same is None:
                    wanted.setdefault(source_of(url), []).append((followup, name))
                elif snapshot or known is None or known.source != same.source:
                    plan.records.append(_for(followup["id"], name, same))
        fetched = self._pool.map(self._fetch, [places[0] for places in wanted.values()])
        for places, found in zip(wanted.values(), fetched, strict=True):
            if isinstance(found, str):
                plan.failed += [f"{followup['id']} {name}: {found}" for followup, name in places]
                continue
            # Files are named by their content: others may use this one before it is recorded.
            self._by_source[found.source] = found
            self.downloaded += 1
            plan.records += [_for(followup["id"], name, found) for followup, name in places]
        if wanted:
            _sync_folder(self.folder)
        return plan

    def committed(self, plan: MediaPlan, *, snapshot: bool = False) -> None:
        """The plan's records are in the mirror now (a snapshot's: they alone)."""
        if snapshot:
            self._known.clear()
        for key in plan.dropped:
            self._known.pop(key, None)
        for media in plan.records:
            self._known[(media.followup_id, media.field)] = media
            self._by_source[media.source] = media

    def _present(self, source: str) -> MediaFile | None:
        found = self._by_source.get(source)
        return found if found is not None and (self.folder / found.file).exists() else None

    def _fetch(self, wanted: tuple[Row, str]) -> MediaFile | str:
        """The file a followup's field points at, downloaded; else why not."""
        followup, name = wanted
        url: str | None = followup.get(name)
        for attempt in range(2):
            if url is None:
                return "no longer there"
            try:
                sha256, file = self._download(url, name)
            except MediaUnavailable as exc:
                if attempt == 1 or exc.status not in REFUSED:
                    return str(exc)
                # Expired meanwhile: the API signs it anew.
                url = getattr(self._client.followups.get(followup["id"]), name)
                continue
            return MediaFile(followup["id"], name, sha256, file, source_of(url))
        return "unreachable"

    def _download(self, url: str, name: str) -> tuple[str, str]:
        partial = self.folder / f".download-{secrets.token_hex(8)}"
        digest = hashlib.sha256()
        try:
            with self._http.stream("GET", url) as response:
                if response.status_code != 200:
                    raise MediaUnavailable(f"HTTP {response.status_code}", response.status_code)
                suffix = extension(url, response.headers.get("content-type"), name)
                with partial.open("wb") as out:
                    for chunk in response.iter_bytes():
                        digest.update(chunk)
                        out.write(chunk)
                    out.flush()
                    os.fsync(out.fileno())
            file = f"{digest.hexdigest()}.{suffix}"
            os.replace(partial, self.folder / file)
        except httpx.HTTPError as exc:
            raise MediaUnavailable(f"{type(exc).__name__}: {exc}") from exc
        finally:
            partial.unlink(missing_ok=True)
        return digest.hexdigest(), file

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._http.close()


def _for(followup_id: str, name: str, media: MediaFile) -> MediaFile:
    return MediaFile(followup_id, name, media.sha256, media.file, media.source)


def _sync_folder(folder: Path) -> None:
    """The renames made durable before the records that name them are committed."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
