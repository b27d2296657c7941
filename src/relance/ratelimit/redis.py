"""Sliding-window logs in Redis, shared by every process: one script call per request.

Each key is a sorted set of admitted requests scored by Redis's own clock, so processes on
machines whose clocks disagree still count one window. The script prunes, counts, admits and
reports in one atomic step: concurrent requests cannot both take the last unit of budget.
"""

from __future__ import annotations

import itertools
import secrets

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

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


class RedisLogs:
    def __init__(self, url: str, window_seconds: int, timeout: float) -> None:
        # One quick retry picks up a fresh connection after Redis restarts; more would only
        # hold the request while the limiter could already fall back.
        self._redis = Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 1),
        )
        self._hit = self._redis.register_script(_HIT)
        self._window_us = window_seconds * _MICRO
        self._member_prefix = secrets.token_hex(8)
        self._serial = itertools.count()

    async def hit(self, key: str, limit: int) -> Tally:
        member = f"{self._member_prefix}:{next(self._serial)}"
        admitted, used, oldest, now = await self._hit(
            keys=[key], args=[limit, self._window_us, member]
        )
        return Tally(
            bool(admitted),
            int(used),
            (int(oldest) + self._window_us) / _MICRO,
            int(now) / _MICRO,
        )

    async def ping(self) -> bool:
        return bool(await self._redis.ping())

    async def close(self) -> None:
        await self._redis.aclose()
