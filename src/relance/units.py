"""One owner for every write's transaction: the unit of work.

Every write, whatever starts it (an HTTP request, a CLI command, an import's batch, the demo's
load), runs as

    async with unit_of_work(db) as work:
        await some_service.change(work.conn, ...)
        work.after_commit(wake_the_workers)

Services take `work.conn` and never begin or commit: the block is the transaction, so one
write's every statement (and, later, the change events recorded with it) commits or rolls back
together, and what must only follow a committed change runs once it has.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from relance.db import Connection, Database

log = logging.getLogger(__name__)

AfterCommit = Callable[[], Awaitable[None]]


@dataclass(slots=True)
class UnitOfWork:
    conn: Connection
    _after: list[AfterCommit] = field(default_factory=list)

    def after_commit(self, action: AfterCommit) -> None:
        """Run `action` once the transaction has committed; never if it rolls back."""
        self._after.append(action)


@asynccontextmanager
async def unit_of_work(db: Database) -> AsyncIterator[UnitOfWork]:
    """A transaction on `db`, committed when the block ends, rolled back if it raises; then
    the block's after-commit actions, in order."""
    async with db.transaction() as conn:
        work = UnitOfWork(conn)
        yield work
    for action in work._after:
        try:
            await action()
        except Exception:
            # The write has committed and its caller is owed its answer: an action that
            # fails is logged, never turned into a failure of the write.
            log.exception("an action after a commit failed")
