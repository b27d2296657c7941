"""What a rate-limit decision says, and how it is written into response headers.

`X-RateLimit-Reset` is the Unix time at which a request will next be allowed once the budget is
spent: the moment the oldest request still in the window leaves it. While budget remains, it
tells a client how long it would wait if it spent the rest at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum


class Kind(StrEnum):
    READ = "reads"
    WRITE = "writes"


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def kind_of(method: str) -> Kind:
    return Kind.READ if method in READ_METHODS else Kind.WRITE


@dataclass(frozen=True, slots=True)
class Tally:
    """A window's answer to one request: admitted or not, how many it now holds, and when
    its oldest entry leaves (Unix seconds, by the window's clock)."""

    admitted: bool
    used: int
    frees_at: float
    now: float


@dataclass(frozen=True, slots=True)
class Decision:
    kind: Kind
    limit: int
    window: int
    tally: Tally

    @property
    def allowed(self) -> bool:
        return self.tally.admitted

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.tally.used)

    @property
    def reset(self) -> int:
        return math.ceil(self.tally.frees_at)

    @property
    def retry_after(self) -> int:
        """Whole seconds to wait; at least 1, so a client never retries at once."""
        return max(1, math.ceil(self.tally.frees_at - self.tally.now))

    @property
    def reset_time(self) -> str:
        return datetime.fromtimestamp(self.reset, UTC).isoformat()

    def headers(self) -> list[tuple[bytes, bytes]]:
        seconds_to_reset = max(0, math.ceil(self.tally.frees_at - self.tally.now))
        fields = [
            ("x-ratelimit-limit", str(self.limit)),
            ("x-ratelimit-remaining", str(self.remaining)),
            ("x-ratelimit-reset", str(self.reset)),
            ("x-ratelimit-window", str(self.window)),
            # draft-ietf-httpapi-ratelimit-headers: the policy, then where the client stands.
            ("ratelimit-policy", f'"{self.kind}";q={self.limit};w={self.window}'),
            ("ratelimit", f'"{self.kind}";r={self.remaining};t={seconds_to_reset}'),
        ]
        return [(name.encode(), value.encode()) for name, value in fields]
