"""The media URLs of one response: every stored object signed for the configured lifetime from
the moment of the response, all expiring together at `media_urls_expire_at`
(docs/contract.md §5)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cached_property

from relance.media.stores import PREFIX, MediaStore


class MediaLinks:
    """Made for every response that shows followups, most of which sign nothing: all but the
    expiry's Unix time is worked out on the first URL signed."""

    def __init__(self, store: MediaStore, base_url: str, ttl: int, now: float) -> None:
        self._store = store
        self._base_url = base_url.rstrip("/")
        self._ttl = ttl
        self._expires = int(now) + ttl

    @cached_property
    def expires_at(self) -> str:
        return datetime.fromtimestamp(self._expires, UTC).isoformat()

    def shown(
        self, audio: str | None, pdf: str | None
    ) -> tuple[str | None, str | None, str | None]:
        """A followup's (audio_url, pdf_url, media_urls_expire_at) as the API shows them: stored
        objects as signed URLs, URLs given by clients as they were given, and an expiry only
        when something was signed."""
        signed = False
        if audio is not None and audio.startswith(PREFIX):
            audio, signed = self._url(audio), True
        if pdf is not None and pdf.startswith(PREFIX):
            pdf, signed = self._url(pdf), True
        return audio, pdf, self.expires_at if signed else None

    def _url(self, stored: str) -> str:
        key = stored[len(PREFIX) :]
        return self._store.url(key, self._expires, self._ttl, self._base_url)
