"""A process's rate limiter: Redis when configured, this process's own logs otherwise, and
while Redis is unreachable either those logs (fail open) or a 503 (fail closed)."""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from redis.exceptions import RedisError

from relance.config import Settings
from relance.errors import ServiceUnavailable
from relance.ratelimit.memory import SlidingLogs
from relance.ratelimit.policy import Decision, Kind, Tally
from relance.ratelimit.redis import RedisLogs

log = logging.getLogger("relance.ratelimit")

# While Redis is down, it is tried again at most this often; requests in between do not wait.
_RETRY_SECONDS = 1.0
_REFUSALS_KEPT = 10_000


class RateLimiter:
    def __init__(
        self,
        window_seconds: int,
        defaults: dict[Kind, int],
        shared: RedisLogs | None = None,
        *,
        fail_closed: bool = False,
    ) -> None:
        self.window = window_seconds
        self._defaults = defaults
        self._local = SlidingLogs(window_seconds)
        self._shared = shared
        self._fail_closed = fail_closed
        self._outage_since: float | None = None
        self._next_try = 0.0
        # Refusals remembered until the window frees a unit: no request can be admitted before
        # then, in any process, so these need no Redis call (and a client hammering past its
        # budget costs neither Redis nor the database).
        self._refused: dict[str, Decision] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter:
        shared = None
        if settings.redis_url is not None:
            shared = RedisLogs(
                settings.redis_url.get_secret_value(),
                settings.rate_limit_window_seconds,
                settings.redis_timeout_seconds,
            )
        return cls(
            settings.rate_limit_window_seconds,
            {Kind.READ: settings.rate_limit_reads, Kind.WRITE: settings.rate_limit_writes},
            shared,
            fail_closed=settings.rate_limit_fail == "closed",
        )

    @property
    def shared(self) -> bool:
        return self._shared is not None

    def limit_of(self, kind: Kind, own_limit: int | None) -> int:
        return own_limit or self._defaults[kind]

    def known_refusal(self, client_id: str, kind: Kind, limit: int) -> Decision | None:
        """A refusal still in force for this client and limit, restated as of now."""
        refused = self._refused.get(f"{client_id}:{kind}")
        if refused is None or refused.limit != limit:
            return None
        now = time.time()
        if now >= refused.tally.frees_at:
            return None
        return Decision(kind, limit, self.window, replace(refused.tally, now=now))

    async def decide(self, client_id: str, kind: Kind, limit: int) -> Decision:
        key = f"{client_id}:{kind}"
        decision = Decision(kind, limit, self.window, await self._hit(f"relance:rl:{key}", limit))
        if decision.allowed:
            self._refused.pop(key, None)
        else:
            if len(self._refused) >= _REFUSALS_KEPT:
                self._refused.clear()
            self._refused[key] = decision
        return decision

    async def _hit(self, key: str, limit: int) -> Tally:
        if self._shared is None:
            return self._local.hit(key, limit)
        if self._outage_since is not None and time.monotonic() < self._next_try:
            return self._without_redis(key, limit)
        try:
            tally = await self._shared.hit(key, limit)
        except (RedisError, OSError) as exc:
            self._note_outage(exc)
            return self._without_redis(key, limit)
        if self._outage_since is not None:
            log.warning(
                "Redis answers again after %.0f s; rate limits are shared again",
                time.monotonic() - self._outage_since,
            )
            self._outage_since = None
        return tally

    def _without_redis(self, key: str, limit: int) -> Tally:
        if self._fail_closed:
            raise ServiceUnavailable(retry_after=int(_RETRY_SECONDS))
        return self._local.hit(key, limit)

    def _note_outage(self, exc: Exception) -> None:
        now = time.monotonic()
        self._next_try = now + _RETRY_SECONDS
        if self._outage_since is None:
            self._outage_since = now
            fallback = "answering 503" if self._fail_closed else "counting in this process"
            log.warning(
                "Redis is unreachable (%s); %s until it returns", type(exc).__name__, fallback
            )

    async def ping_shared(self) -> None:
        """Raises unless the shared store (Redis) answers; nothing to check without one."""
        if self._shared is not None:
            await self._shared.ping()

    async def close(self) -> None:
        if self._shared is not None:
            await self._shared.close()
