"""Whether a client's tokens still count (revoked clients and rotated secrets stop them), and
the client's own rate limits.

Tokens are checked by signature alone; the client's standing is read from the database at most
once per client per `RELANCE_AUTH_CACHE_SECONDS` in each process, so a revocation or a change of
limits reaches every process within that time without a query on every request.
"""

from __future__ import annotations

import time

from relance.auth.repository import ClientStanding, client_standing
from relance.auth.tokens import Principal
from relance.db import Connection


class ClientStandings:
    def __init__(self, cache_seconds: int) -> None:
        self._cache_seconds = cache_seconds
        self._known: dict[str, tuple[float, ClientStanding | None]] = {}

    async def refuses(self, conn: Connection, principal: Principal) -> bool:
        standing = await self.of(conn, principal.client_id)
        if standing is None or standing.revoked:
            return True
        return principal.secret_version != standing.secret_version

    async def of(self, conn: Connection, client_id: str) -> ClientStanding | None:
        now = time.monotonic()
        known = self._known.get(client_id)
        if known is not None and now - known[0] < self._cache_seconds:
            return known[1]
        standing = await client_standing(conn, client_id)
        self._known[client_id] = (now, standing)
        return standing
