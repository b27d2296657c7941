"""Which token signing keys this process uses: read from the database, so that
`relance keys rotate` reaches every process without a restart."""

from __future__ import annotations

import math
import time

from relance.auth.repository import signing_versions
from relance.auth.tokens import TokenService
from relance.db import Connection


class SigningKeyring:
    def __init__(self, tokens: TokenService, refresh_seconds: int) -> None:
        self._tokens = tokens
        self._refresh_seconds = refresh_seconds
        self._loaded_at = -math.inf
        self._forced_at = -math.inf

    async def refresh_if_stale(self, conn: Connection) -> None:
        """Before signing: sign with the newest key within `refresh_seconds` of a rotation."""
        if time.monotonic() - self._loaded_at >= self._refresh_seconds:
            await self._load(conn)

    async def refresh_for_unknown_key(self, conn: Connection) -> bool:
        """A token names a key this process does not know: reload, at most once a second, so
        that tokens naming made-up keys cannot turn every request into a query."""
        now = time.monotonic()
        if now - self._forced_at < 1:
            return False
        self._forced_at = now
        await self._load(conn)
        return True

    async def _load(self, conn: Connection) -> None:
        self._tokens.use_versions(await signing_versions(conn))
        self._loaded_at = time.monotonic()
