"""Charging a request to its client's budget.

A write is charged before it runs. A read with the limits in Redis runs while Redis answers,
and its answer is replaced by the 429 if the budget turns out spent (see headers.py): the
read's latency then hides the round trip, and a refused read writes nothing.
"""

from __future__ import annotations

import asyncio

from relance.context import RequestState
from relance.errors import AppError, RateLimited
from relance.ratelimit.limiter import RateLimiter
from relance.ratelimit.policy import Decision, Kind, kind_of


async def charge(
    limiter: RateLimiter,
    state: RequestState,
    method: str,
    client_id: str,
    own_limits: tuple[int | None, int | None],
) -> None:
    """Count the request against its client's budget (its own limits for reads and writes,
    where it has them); 429 once the budget is spent. The decision is left in the request's
    state, for the headers of its answer."""
    kind = kind_of(method)
    reads, writes = own_limits
    limit = limiter.limit_of(kind, reads if kind is Kind.READ else writes)
    known = limiter.known_refusal(client_id, kind, limit)
    if known is not None:
        state.decision = known
        raise refusal(known)
    decision = limiter.decide(client_id, kind, limit)
    if kind is Kind.READ and limiter.shared:
        state.pending = asyncio.ensure_future(decision)
        return
    state.decision = settled = await decision
    if not settled.allowed:
        raise refusal(settled)


def refusal(decision: Decision) -> RateLimited:
    return RateLimited(decision.retry_after, decision.limit, decision.reset_time)


async def settle(state: RequestState) -> AppError | None:
    """Wait for a read's decision, if one is on its way; the error to answer instead, if any."""
    pending, state.pending = state.pending, None
    if pending is None:
        return None
    try:
        decision = state.decision = await pending
    except AppError as error:  # Redis away and limits failing closed
        return error
    return None if decision.allowed else refusal(decision)
