"""A file for the media store: its content checked against the kind it claims to be, then stored
under a new key (relance.followups.attachments points a followup at it)."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from pathlib import Path

from relance.media.kinds import HEAD_BYTES, Format, MediaKind, sniff
from relance.media.stores import PREFIX, MediaStore


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
