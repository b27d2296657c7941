"""Litestar dependencies that put the runtime and the authenticated principal in handlers."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide

from relance.auth.service import authenticate, require_scope
from relance.auth.tokens import Principal
from relance.ratelimit.service import charge
from relance.runtime import Runtime

# Where the caller is left in the request's scope state, for the request's log line.
PRINCIPAL = "relance.principal"


def runtime_of(request: Request[Any, Any, Any]) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def Authenticator(scope: str) -> Provide:  # noqa: N802 - reads as a declaration at use sites
    """A dependency yielding the caller's Principal, charged to its client's rate limit (so a
    missing scope costs a request too, as any authenticated answer does), refusing tokens
    without `scope`."""

    async def principal(request: Request[Any, Any, Any]) -> Principal:
        runtime = runtime_of(request)
        found = await authenticate(runtime, request.headers.get("authorization"))
        request.scope.setdefault("state", {})[PRINCIPAL] = found
        await charge(runtime, request, found)
        require_scope(found, scope)
        return found

    return Provide(principal)


RuntimeDep = Provide(runtime_of, sync_to_thread=False)
# Handler parameter types that name their dependency explicitly.
RuntimeParam = NamedDependency[Runtime]
PrincipalParam = NamedDependency[Principal]
