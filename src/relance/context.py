"""What a request carries besides its HTTP parts: the app's runtime, and what the request learns
on its way through (who the caller is, its rate-limit decision), in one typed object that the
authenticator, the rate limiter and the request log share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

    from relance.auth.tokens import Principal
    from relance.ratelimit.policy import Decision
    from relance.runtime import Runtime

# The one key of the ASGI scope's "state" that Relance uses.
_STATE = "relance"


@dataclass(slots=True)
class RequestState:
    principal: Principal | None = None
    decision: Decision | None = None
    # A read's decision still on its way from Redis, while the read runs (ratelimit.service).
    pending: asyncio.Future[Decision] | None = None


def state_of(scope: Any) -> RequestState:
    """The request's state, made on first use."""
    state = scope.setdefault("state", {})
    found: RequestState | None = state.get(_STATE)
    if found is None:
        found = state[_STATE] = RequestState()
    return found


def runtime_of(scope: Any) -> Runtime:
    """The runtime of the app serving the request (`request.scope`, or an ASGI scope)."""
    runtime: Runtime = scope["app"].state.runtime
    return runtime
