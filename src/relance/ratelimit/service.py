"""Charging a request to its client's budget.

A write is charged before it runs. A read with the limits in Redis runs while Redis answers,
and its answer is replaced by the 429 if the budget turns out spent (see headers.py): the
read's latency then hides the round trip, and a refused read writes nothing.
"""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request

from relance.auth.tokens import Principal
from relance.errors import AppError, RateLimited
from relance.ratelimit.policy import Decision, Kind, kind_of
from relance.runtime import Runtime

# Where the decision, or the read's decision still on its way, waits in the request's scope.
DECISION = "relance.ratelimit"
PENDING = "relance.ratelimit.pending"


async def charge(runtime: Runtime, request: Request[Any, Any, Any], principal: Principal) -> None:
    """Count the request against its client's budget; 429 once the budget is spent."""
    limiter = runtime.limiter
    if limiter is None:
        return
    kind = kind_of(request.method)
    standing = await runtime.standings.of(runtime.db, principal.client_id)
    own = None
    if standing is not None:
        own = standing.read_limit if kind is Kind.READ else standing.write_limit
    limit = limiter.limit_of(kind, own)
    state = request.scope.setdefault("state", {})
    known = limiter.known_refusal(principal.client_id, kind, limit)
    if known is not None:
        state[DECISION] = known
        raise refusal(known)
    decision = limiter.decide(principal.client_id, kind, limit)
    if kind is Kind.READ and limiter.shared:
        state[PENDING] = asyncio.ensure_future(decision)
        return
    state[DECISION] = settled = await decision
    if not settled.allowed:
        raise refusal(settled)


def refusal(decision: Decision) -> RateLimited:
    return RateLimited(decision.retry_after, decision.limit, decision.reset_time)


async def settle(state: dict[str, Any]) -> AppError | None:
    """Wait for a read's decision, if one is on its way; the error to answer instead, if any."""
    pending: asyncio.Future[Decision] | None = state.pop(PENDING, None)
    if pending is None:
        return None
    try:
        decision = state[DECISION] = await pending
    except AppError as error:  # Redis away and limits failing closed
        return error
    return None if decision.allowed else refusal(decision)


def decision_of(state: dict[str, Any]) -> Decision | None:
    decision: Decision | None = state.get(DECISION)
    return decision
