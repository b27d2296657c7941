"""Sliding-window logs in Redis, shared by every process: one script call per request.

Each key is a sorted set of admitted requests scored by Redis's own clock, so processes on
machines whose clocks disagree still count one window. The script prunes, counts, admits and
reports in one atomic step: concurrent requests cannot both take the last unit of budget.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from redis.asyncio.connection import AbstractConnection as Connection
from redis.asyncio.connection import ConnectionPool
from redis.exceptions import NoScriptError

from relance.ratelimit.policy import Tally

# KEYS[1]: the log. ARGV: limit, window in microseconds, a member name unique to this request.
# Returns: admitted (0/1), entries now in the window, oldest entry's score, now (microseconds).
_HIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local used = redis.call('ZCARD', KEYS[1])
local admitted = 0
if used < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  used = used + 1
  admitted = 1
end
local oldest = now
if used > 0 then
  oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
end
redis.call('PEXPIRE', KEYS[1], math.floor(window / 1000) + 1)
return {admitted, used, oldest, now}
"""

_MICRO = 1_000_000
_SHA = hashlib.sha1(_HIT.encode()).hexdigest()  # noqa: S324 - Redis names scripts by SHA-1
# Idle connections kept for reuse; more may open under a burst, and close after it.
_IDLE_KEPT = 16


class RedisLogs:
    """redis-py's connections, borrowed from a plain list rather than its client and pool:
    measured on loopback, the client's pool, retry and timeout layers tripled the CPU time of
    each call (bench/RESULTS.md), and this call runs on every request."""

    def __init__(self, url: str, window_seconds: int, timeout: float) -> None:
        # The pool only turns the URL into connection settings (TLS, Unix socket, password,
        # database); connections are made and kept here.
        settings = ConnectionPool.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._connect: Callable[[], Connection] = partial(
            settings.connection_class, **settings.connection_kwargs
        )
        self._idle: list[Connection] = []
        self._window_us = window_seconds * _MICRO
        self._member_prefix = secrets.token_hex(8)
        self._serial = itertools.count()

    async def hit(self, key: str, limit: int) -> Tally:
        member = f"{self._member_prefix}:{next(self._serial)}"
        admitted, used, oldest, now = await self._script(key, limit, self._window_us, member)
        return Tally(
            bool(admitted),
            int(used),
            (int(oldest) + self._window_us) / _MICRO,
            int(now) / _MICRO,
        )

    async def ping(self) -> None:
        """Raises unless Redis answers (readiness)."""
        await self._on_connection(lambda conn: _call(conn, "PING"))

    async def _script(self, *args: Any) -> Any:
        async def run(conn: Connection) -> Any:
            try:
                return await _call(conn, "EVALSHA", _SHA, 1, *args)
            except NoScriptError:  # a restarted Redis has forgotten the script
                return await _call(conn, "EVAL", _HIT, 1, *args)

        return await self._on_connection(run)

    async def _on_connection(self, work: Callable[[Connection], Awaitable[Any]]) -> Any:
        conn = self._idle.pop() if self._idle else self._connect()
        try:
            reply = await work(conn)
        except BaseException:
            await conn.disconnect()
            raise
        if len(self._idle) < _IDLE_KEPT:
            self._idle.append(conn)
        else:
            await conn.disconnect()
        return reply

    async def close(self) -> None:
        while self._idle:
            await self._idle.pop().disconnect()


async def _call(conn: Connection, *args: Any) -> Any:
    await conn.send_command(*args)
    return await conn.read_response()
