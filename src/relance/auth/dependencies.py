"""The Litestar dependencies that put the runtime and the authenticated principal in
handlers."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide

from relance.auth.service import authenticate, require_scope
from relance.auth.tokens import Principal
from relance.context import runtime_of, state_of
from relance.ratelimit.service import charge
from relance.runtime import Runtime


def Authenticator(scope: str) -> Provide:  # noqa: N802 - reads as a declaration at use sites
    """A dependency yielding the caller's Principal, charged to its client's rate limit (so a
    missing scope costs a request too, as any authenticated answer does), refusing tokens
    without `scope`."""

    async def principal(request: Request[Any, Any, Any]) -> Principal:
        runtime = runtime_of(request.scope)
        authority = runtime.authority
        state = state_of(request.scope)
        found = state.principal = await authenticate(
            runtime.db, authority, request.headers.get("authorization")
        )
        if runtime.limiter is not None:
            await charge(
                runtime.limiter, authority.standings, runtime.db, state, request.method, found
            )
        require_scope(found, scope)
        return found

    return Provide(principal)


def _runtime(request: Request[Any, Any, Any]) -> Runtime:
    return runtime_of(request.scope)


RuntimeDep = Provide(_runtime, sync_to_thread=False)
# Handler parameter types that name their dependency explicitly.
RuntimeParam = NamedDependency[Runtime]
PrincipalParam = NamedDependency[Principal]
