"""Sliding-window logs held in this process: exact for one process, shared by none."""

from __future__ import annotations

import time
from collections import deque

from relance.ratelimit.policy import Tally

_KEYS_KEPT = 100_000


class SlidingLogs:
    """One log of admission times per key; an entry counts while it is younger than the window."""

    def __init__(self, window_seconds: float) -> None:
        self._window = window_seconds
        self._logs: dict[str, deque[float]] = {}

    def hit(self, key: str, limit: int) -> Tally:
        """Admit one more entry under `key` if the window holds fewer than `limit`."""
        now = time.time()
        log = self._log(key, now)
        admitted = len(log) < limit
        if admitted:
            log.append(now)
        return self._tally(admitted, log, now)

    def peek(self, key: str) -> Tally:
        """Where `key` stands, admitting nothing."""
        now = time.time()
        return self._tally(True, self._log(key, now), now)

    def add(self, key: str) -> None:
        """Record an entry whatever the count (failures are recorded, never refused)."""
        now = time.time()
        self._log(key, now).append(now)

    def _tally(self, admitted: bool, log: deque[float], now: float) -> Tally:
        return Tally(admitted, len(log), (log[0] if log else now) + self._window, now)

    def _log(self, key: str, now: float) -> deque[float]:
        log = self._logs.get(key)
        if log is None:
            if len(self._logs) >= _KEYS_KEPT:
                self._forget_quiet_keys(now)
            log = self._logs[key] = deque()
        horizon = now - self._window
        while log and log[0] <= horizon:
            log.popleft()
        return log

    def _forget_quiet_keys(self, now: float) -> None:
        horizon = now - self._window
        for key, log in list(self._logs.items()):
            if not log or log[-1] <= horizon:
                del self._logs[key]
