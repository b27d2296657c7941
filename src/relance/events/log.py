"""What every write records its events through: the one switch (RELANCE_WEBHOOKS_ENABLED) and
the statement that records them with their deliveries, in the write's own transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from relance.db import Connection
from relance.events import repository
from relance.events.records import NewEvent, now_us


@dataclass(frozen=True, slots=True)
class EventLog:
    enabled: bool = True

    async def record(self, conn: Connection, company_id: int, events: Sequence[NewEvent]) -> None:
        """Record the events on the write's connection: they commit with it, or not at all."""
        if self.enabled and events:
            await repository.record(conn, company_id, events, now_us())
