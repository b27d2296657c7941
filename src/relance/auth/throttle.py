"""Throttling of failed client authentications at POST /token, per address and per client ID.

Only failures count, over a short sliding window, so an attacker is slowed down at once and the
genuine client is free again a minute after the attack stops. Secrets carry 256 bits, so this
guards the service's time more than the secrets. Counted in each process.
"""

from __future__ import annotations

import math

from relance.ratelimit.memory import SlidingLogs


class FailureThrottle:
    def __init__(self, limit: int, window_seconds: float) -> None:
        self._limit = limit
        self._failures = SlidingLogs(window_seconds)

    def retry_after(self, key: str) -> int | None:
        """Seconds until `key` may try again, or None if it may now."""
        standing = self._failures.peek(key)
        if standing.used < self._limit:
            return None
        return max(1, math.ceil(standing.frees_at - standing.now))

    def fail(self, key: str) -> None:
        self._failures.add(key)
