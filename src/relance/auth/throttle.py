"""Throttling of failed client authentications at POST /token, per address and per client ID.

Only failures count, over a short sliding window, so an attacker is slowed down at once and the
genuine client is free again a minute after the attack stops. Secrets carry 256 bits, so this
guards the service's time more than the secrets. Counted in each process (the Redis-backed
limiter of the rate-limit issue can share it across processes).
"""

from __future__ import annotations

import math
import time
from collections import deque


class FailureThrottle:
    def __init__(self, limit: int, window_seconds: float) -> None:
        self._limit = limit
        self._window = window_seconds
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, key: str) -> int | None:
        """Seconds until `key` may try again, or None if it may now."""
        failures = self._recent(key)
        if failures is None or len(failures) < self._limit:
            return None
        return max(1, math.ceil(failures[0] + self._window - time.monotonic()))

    def fail(self, key: str) -> None:
        failures = self._recent(key)
        if failures is None:
            if len(self._failures) >= _KEYS_KEPT:
                self._forget_quiet_keys()
            failures = self._failures[key] = deque()
        failures.append(time.monotonic())

    def _recent(self, key: str) -> deque[float] | None:
        failures = self._failures.get(key)
        if failures is None:
            return None
        horizon = time.monotonic() - self._window
        while failures and failures[0] <= horizon:
            failures.popleft()
        return failures

    def _forget_quiet_keys(self) -> None:
        for key in list(self._failures):
            if not self._recent(key):
                del self._failures[key]


_KEYS_KEPT = 100_000
