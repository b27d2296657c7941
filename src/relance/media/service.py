"""Attaching a file to a followup: its content checked, stored under a new key, and the followup
pointed at it (replacing whatever recording or document it had)."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from pathlib import Path

from relance.db import Connection
from relance.errors import NotFound, ValidationFailed
from relance.followups.schemas import FollowupView
from relance.followups.service import FollowupNotFound, followup_key, shown_followup
from relance.kit.time import utc_now
from relance.media import repository
from relance.media.kinds import HEAD_BYTES, Format, MediaKind, sniff
from relance.media.links import MediaLinks
from relance.media.stores import PREFIX, MediaStore
from relance.runtime import Runtime


@dataclass(frozen=True, slots=True)
class CheckedFile:
    path: Path
    format: Format


def check_file(path: Path, kind: MediaKind, max_bytes: int) -> CheckedFile | str:
    """The file, or what is wrong with it: missing, too big, or not `kind` by its content."""
    try:
        size = path.stat().st_size
        with path.open("rb") as source:
            head = source.read(HEAD_BYTES)
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror or exc}"
    if size > max_bytes:
        limit = f"{max_bytes:,} (RELANCE_MEDIA_MAX_BYTES)"
        return f"{path.name} is {size:,} bytes; the limit is {limit}"
    found = sniff(head)
    if found is None or found.kind is not kind:
        return f"{path.name} is not {kind.accepted}"
    return CheckedFile(path, found)


def new_key(checked: CheckedFile) -> str:
    return f"{checked.format.kind.folder}/{secrets.token_hex(16)}.{checked.format.extension}"


async def store_as(media: MediaStore, key: str, checked: CheckedFile) -> None:
    await asyncio.to_thread(media.put, key, checked.path, checked.format.content_type)


async def store_new(media: MediaStore, checked: CheckedFile) -> str:
    """Store the file under a new key; the value a followup refers to it by (`media:KEY`)."""
    key = new_key(checked)
    await store_as(media, key, checked)
    return PREFIX + key


@dataclass(frozen=True, slots=True)
class StoredMedia:
    """A file stored for a followup, not yet pointed at."""

    followup_id: int
    kind: MediaKind
    reference: str  # media:KEY


async def store_for_followup(
    runtime: Runtime, public_id: str, kind: MediaKind, path: Path
) -> StoredMedia:
    """Check the file and store it for the followup, outside any transaction: an upload may
    take long, and a transaction would hold the embedded database's write lock meanwhile."""
    try:
        followup_id = followup_key(runtime, public_id)
    except FollowupNotFound:
        raise NotFound(f"no followup with ID {public_id}") from None
    checked = check_file(path, kind, runtime.settings.media_max_bytes)
    if isinstance(checked, str):
        raise ValidationFailed({kind.value: [checked]})
    # Looked up first, so that no file is stored for a followup that does not exist.
    if await repository.company_of(runtime.db, followup_id) is None:
        raise NotFound(f"no followup with ID {public_id}")
    return StoredMedia(followup_id, kind, await store_new(runtime.media, checked))


async def point_at(
    conn: Connection, runtime: Runtime, stored: StoredMedia, links: MediaLinks
) -> FollowupView:
    """Make the stored file the followup's recording or document, in the caller's transaction;
    the followup as the API now shows it."""
    now = utc_now()
    company_id = await repository.set_media(
        conn, stored.followup_id, stored.kind, stored.reference, now
    )
    if company_id is None:  # gone meanwhile
        raise NotFound("the followup was deleted while its file was stored")
    return await shown_followup(conn, runtime, company_id, stored.followup_id, links)
