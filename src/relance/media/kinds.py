"""What media Relance accepts: call recordings and documents, recognised by their first bytes
(a file's name says what it claims to be; its content says what it is)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class MediaKind(StrEnum):
    AUDIO = "audio"
    PDF = "pdf"

    @property
    def column(self) -> str:
        return "audio_url" if self is MediaKind.AUDIO else "pdf_url"

    @property
    def folder(self) -> str:
        return "recordings" if self is MediaKind.AUDIO else "documents"

    @property
    def accepted(self) -> str:
        return "an mp3, wav, ogg or m4a recording" if self is MediaKind.AUDIO else "a PDF"


@dataclass(frozen=True, slots=True)
class Format:
    extension: str
    content_type: str
    kind: MediaKind


FORMATS = {
    f.extension: f
    for f in (
        Format("mp3", "audio/mpeg", MediaKind.AUDIO),
        Format("wav", "audio/wav", MediaKind.AUDIO),
        Format("ogg", "audio/ogg", MediaKind.AUDIO),
        Format("m4a", "audio/mp4", MediaKind.AUDIO),
        Format("pdf", "application/pdf", MediaKind.PDF),
    )
}
# Enough of a file's start to recognise every format above.
HEAD_BYTES = 16


def sniff(head: bytes) -> Format | None:
    """The format whose signature the file starts with, if any."""
    if head.startswith(b"%PDF-"):
        return FORMATS["pdf"]
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return FORMATS["wav"]
    if head.startswith(b"OggS"):
        return FORMATS["ogg"]
    if head[4:8] == b"ftyp" and head[8:11] in (b"M4A", b"mp4", b"iso"):
        return FORMATS["m4a"]
    # An ID3 tag, or straight into an MPEG audio frame (11 sync bits set).
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return FORMATS["mp3"]
    return None


def content_type_of(key: str) -> str:
    extension = key.rsplit(".", 1)[-1]
    known = FORMATS.get(extension)
    return known.content_type if known else "application/octet-stream"
