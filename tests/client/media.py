"""Followups compared across two calls. A stored recording or document is shown as a URL
signed for a lifetime counted from the response, so two calls that straddle a second boundary
sign the same file differently (`expires`, `signature`, `media_urls_expire_at`): such fields
are compared by the file they name and by both being signed, every other field exactly."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel

SIGNED_MEDIA = ("audio_url", "pdf_url")


def comparable(followup: BaseModel | Mapping[str, Any]) -> dict[str, Any]:
    """The followup's fields, its signed media URLs as the file they name."""
    fields = dict(followup.model_dump(mode="json") if isinstance(followup, BaseModel) else followup)
    for name in SIGNED_MEDIA:
        url = fields.get(name)
        if isinstance(url, str) and _signed(url):
            fields[name] = ("signed", url.split("?", 1)[0])
    if fields.get("media_urls_expire_at") is not None:
        fields["media_urls_expire_at"] = "set"
    return fields


def comparables(followups: Iterable[BaseModel | Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [comparable(followup) for followup in followups]


def _signed(url: str) -> bool:
    """A URL Relance signed: the local store's `expires` and `signature`, or S3's presigned
    `X-Amz-Signature`."""
    names = {name.lower() for name in parse_qs(urlsplit(url).query)}
    return "signature" in names or "x-amz-signature" in names
