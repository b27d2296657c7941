"""Throttling of failed client authentications at POST /token, per address and per client ID.

Only failures count, over a short sliding window, so an attacker is slowed down at once and the
genuine client is free again a minute after the attack stops. Secrets carry 256 bits, so this
guards the service's time more than the secrets: a caller whose secret is right is never
refused because of it (POST /token checks the secret first). Counted in each process.

The callers choose the keys, so what is kept is bounded: a key is at most 64 characters (a
longer one is kept as its hash), a key holds at most `limit` failures (more would change
nothing), and a process holds at most `max_keys` keys, forgetting those whose failures have all
left the window.
"""

from __future__ import annotations

import hashlib
import math

from relance.ratelimit.memory import SlidingLogs

_KEY_CHARS = 64
# Far more than the distinct addresses or client IDs that fail within a minute in normal use;
# a flood of made-up ones stops here (a few MiB per throttle) instead of growing.
_KEYS_KEPT = 10_000


class FailureThrottle:
    def __init__(self, limit: int, window_seconds: float, max_keys: int = _KEYS_KEPT) -> None:
        self._limit = limit
        self._failures = SlidingLogs(window_seconds, max_keys)

    def __len__(self) -> int:
        return len(self._failures)

    def retry_after(self, key: str) -> int | None:
        """Seconds until `key` may fail again without being refused, or None if it may now."""
        standing = self._failures.peek(_bounded(key))
        if standing.used < self._limit:
            return None
        return max(1, math.ceil(standing.frees_at - standing.now))

    def fail(self, key: str) -> None:
        self._failures.hit(_bounded(key), self._limit)


def _bounded(key: str) -> str:
    if len(key) <= _KEY_CHARS:
        return key
    return "#" + hashlib.blake2b(key.encode(errors="replace"), digest_size=16).hexdigest()
