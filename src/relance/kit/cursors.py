"""Opaque cursors that name a position in one owner's sequence: sealed with a key, so a cursor
cannot be forged, altered or used by another owner."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import struct

_BODY = struct.Struct("!QQ")
_TAG_BYTES = 16
_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")


class SealedCursors:
    """`prefix` + base64url(owner, position, tag): the tag an HMAC-SHA256 of the rest."""

    def __init__(self, key: bytes, prefix: str) -> None:
        self._key = key
        self.prefix = prefix

    def seal(self, owner: int, position: int) -> str:
        body = _BODY.pack(owner, position)
        token = base64.urlsafe_b64encode(body + self._tag(body)).rstrip(b"=").decode()
        return self.prefix + token

    def open(self, cursor: str, owner: int) -> int | None:
        """The position the cursor names, or None if this key did not seal it for `owner`."""
        token = cursor.removeprefix(self.prefix)
        if token == cursor or not _SHAPE.fullmatch(token):
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            return None
        body, tag = raw[: _BODY.size], raw[_BODY.size :]
        if len(body) != _BODY.size or not hmac.compare_digest(tag, self._tag(body)):
            return None
        sealed_for, position = _BODY.unpack(body)
        return position if sealed_for == owner else None

    def _tag(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()[:_TAG_BYTES]
