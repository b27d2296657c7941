"""Sliding-window logs held in this process: exact for one process, shared by none.

Their memory is bounded whoever picks the keys: a key whose entries have all left the window is
forgotten (in a sweep at most once per window, so its cost is spread over the requests of a
whole window), and at `max_keys` the longest-held keys are dropped, a tenth of them at a time
(which lets those keys start afresh: size `max_keys` well above the keys a window should see).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence

from relance.ratelimit.policy import Tally

_KEYS_KEPT = 100_000


class SlidingLogs:
    """One log of admission times per key; an entry counts while it is younger than the window."""

    def __init__(self, window_seconds: float, max_keys: int = _KEYS_KEPT) -> None:
        self._window = window_seconds
        self._max_keys = max_keys
        self._logs: dict[str, deque[float]] = {}
        self._next_sweep = time.time() + window_seconds

    def __len__(self) -> int:
        """How many keys are held (for tests and for sizing)."""
        return len(self._logs)

    def hit(self, key: str, limit: int) -> Tally:
        """Admit one more entry under `key` if the window holds fewer than `limit`."""
        now = time.time()
        log = self._log(key, now)
        admitted = len(log) < limit
        if admitted:
            log.append(now)
        return self._tally(admitted, log, now)

    def peek(self, key: str) -> Tally:
        """Where `key` stands, admitting nothing (and storing nothing for an unknown key)."""
        now = time.time()
        log = self._logs.get(key)
        if log is not None:
            self._trim(log, now)
            if not log:
                del self._logs[key]
        return self._tally(True, log or (), now)

    def _tally(self, admitted: bool, log: Sequence[float], now: float) -> Tally:
        return Tally(admitted, len(log), (log[0] if log else now) + self._window, now)

    def _log(self, key: str, now: float) -> deque[float]:
        log = self._logs.get(key)
        if log is None:
            self._make_room(now)
            log = self._logs[key] = deque()
        self._trim(log, now)
        return log

    def _trim(self, log: deque[float], now: float) -> None:
        horizon = now - self._window
        while log and log[0] <= horizon:
            log.popleft()

    def _make_room(self, now: float) -> None:
        full = len(self._logs) >= self._max_keys
        if full or now >= self._next_sweep:
            self._forget_quiet_keys(now)
        excess = len(self._logs) - self._max_keys * 9 // 10
        if full and excess > 0:
            # Too many keys are active: keep the newest nine tenths. Making room for a tenth
            # at once keeps the cost per new key constant, however the keys are chosen.
            self._logs = dict(list(self._logs.items())[excess:])

    def _forget_quiet_keys(self, now: float) -> None:
        horizon = now - self._window
        self._logs = {key: log for key, log in self._logs.items() if log and log[-1] > horizon}
        self._next_sweep = now + self._window
