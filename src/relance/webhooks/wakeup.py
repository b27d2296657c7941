"""What wakes a delivery worker as soon as a delivery is committed: on PostgreSQL a LISTEN on
the channel every write that makes a delivery notifies (the notification is sent on commit
only); elsewhere, and whenever the listening connection is down, the worker's poll."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg

from relance.events.repository import CHANNEL

log = logging.getLogger("relance.webhooks")
RECONNECT_SECONDS = 1.0
CHECK_SECONDS = 15.0


class Wakeup:
    """An event the worker waits on, with a timeout (its poll)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    async def wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), seconds)
        self._event.clear()


async def listen(dsn: str, wakeup: Wakeup, stop: asyncio.Event) -> None:
    """Set `wakeup` on each notification until `stop`; reconnect whenever the connection
    drops, waking the worker each time (what was notified meanwhile is due)."""
    while not stop.is_set():
        try:
            conn = await asyncpg.connect(dsn, timeout=10)
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            log.debug("webhook listener cannot connect: %s", type(exc).__name__)
            await _pause(stop)
            continue
        lost = asyncio.Event()
        conn.add_termination_listener(_setter(lost))
        await conn.add_listener(CHANNEL, lambda *_args: wakeup.set())
        wakeup.set()
        try:
            await _while_alive(conn, stop, lost)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 2)
        await _pause(stop)


def _setter(event: asyncio.Event) -> Callable[[object], None]:
    return lambda _conn: event.set()


async def _while_alive(conn: asyncpg.Connection, stop: asyncio.Event, lost: asyncio.Event) -> None:
    """Until `stop`, or the connection is lost: closed (`lost`), or silent, which a query every
    CHECK_SECONDS finds out when the network drops it without a word."""
    while not stop.is_set() and not lost.is_set():
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(lost.wait())]
        done, _ = await asyncio.wait(
            waits, timeout=CHECK_SECONDS, return_when=asyncio.FIRST_COMPLETED
        )
        for wait in waits:
            wait.cancel()
        if not done:
            try:
                await asyncio.wait_for(conn.fetchval("SELECT 1"), CHECK_SECONDS / 3)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
                return


async def _pause(stop: asyncio.Event) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), RECONNECT_SECONDS)
