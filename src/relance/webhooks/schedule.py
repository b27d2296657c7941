"""What a delivery becomes after an attempt: succeeded on any 2xx, else retried on the
schedule (RELANCE_WEBHOOKS_RETRY_SCHEDULE, with jitter, or when the receiver's Retry-After
says on a 429 or 5xx) until it runs out, and failed at once on 410 Gone."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from relance.webhooks.records import DeliveryStatus

# Retries are spread by up to a tenth of their delay either way, so that the deliveries one
# outage failed together do not all come back in the same instant.
JITTER = 0.1
# A receiver may ask for a pause (Retry-After) of at most a day, the schedule's longest.
MAX_RETRY_AFTER = 86_400.0
_US = 1_000_000


@dataclass(frozen=True, slots=True)
class Step:
    status: DeliveryStatus
    next_attempt_us: int | None = None


def after_attempt(
    *,
    succeeded: bool,
    gone: bool,
    retry_after: float | None,
    attempts: int,
    delays: Sequence[float],
    now_us: int,
    rng: random.Random,
) -> Step:
    """The delivery's next step once it has made `attempts` attempts, this one included."""
    if succeeded:
        return Step(DeliveryStatus.SUCCEEDED)
    if gone or attempts > len(delays):
        return Step(DeliveryStatus.FAILED)
    if retry_after is not None:
        delay = min(max(retry_after, 0.0), MAX_RETRY_AFTER)
    else:
        delay = delays[attempts - 1] * rng.uniform(1 - JITTER, 1 + JITTER)
    return Step(DeliveryStatus.PENDING, now_us + int(delay * _US))
