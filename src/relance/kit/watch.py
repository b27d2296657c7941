"""Requests that wait for a counter to move, served by one poll per process: however many wait,
the process reads the counters they wait on once per interval, and only while any wait."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)
Read = Callable[[list[int]], Awaitable[dict[int, int]]]


class Watch:
    def __init__(self, read: Read, interval: float) -> None:
        self._read = read
        self._interval = interval
        # Per counter, each waiter's last value seen and what wakes it.
        self._waiting: dict[int, dict[asyncio.Future[None], int]] = {}
        self._poll: asyncio.Task[None] | None = None

    async def wait_past(self, key: int, seen: int, seconds: float) -> bool:
        """Whether counter `key` went past `seen` within so many seconds."""
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, {})[woken] = seen
        if self._poll is None or self._poll.done():
            self._poll = asyncio.create_task(self._polling())
        try:
            await asyncio.wait_for(asyncio.shield(woken), seconds)
        except TimeoutError:
            return False
        finally:
            waiters = self._waiting.get(key, {})
            waiters.pop(woken, None)
            if not waiters:
                self._waiting.pop(key, None)
        return True

    async def _polling(self) -> None:
        while self._waiting:
            await asyncio.sleep(self._interval)
            keys = list(self._waiting)
            if not keys:
                return
            try:
                values = await self._read(keys)
            except Exception:
                # The database may be away for a moment: the waiters' own timeouts bound
                # their wait, and the next poll tries again.
                log.warning("a poll of the watched counters failed", exc_info=True)
                continue
            for key, value in values.items():
                for woken, seen in self._waiting.get(key, {}).items():
                    if value > seen and not woken.done():
                        woken.set_result(None)

    async def close(self) -> None:
        if self._poll is not None:
            self._poll.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poll
