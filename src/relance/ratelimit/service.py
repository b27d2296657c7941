"""Charging a request to its client's budget."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.types import Scope

from relance.auth.tokens import Principal
from relance.errors import RateLimited
from relance.ratelimit.policy import Decision, Kind, kind_of
from relance.runtime import Runtime

# Where the decision waits, in the request's scope, for the headers middleware.
DECISION = "relance.ratelimit"


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
    decision = await limiter.decide(principal.client_id, kind, own)
    request.scope.setdefault("state", {})[DECISION] = decision
    if not decision.allowed:
        raise RateLimited(decision.retry_after, decision.limit, decision.reset_time)


def decision_of(scope: Scope) -> Decision | None:
    decision: Decision | None = scope.get("state", {}).get(DECISION)
    return decision
