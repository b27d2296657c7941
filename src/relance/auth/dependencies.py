"""The Litestar dependency that puts the authenticated principal in handlers."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide

from relance.auth.service import authenticate, require_scope
from relance.auth.tokens import Principal
from relance.context import runtime_of, state_of
from relance.operations import Token
from relance.ratelimit.service import charge


def Authenticator(scope: str) -> Token:  # noqa: N802 - reads as a declaration at use sites
    """The Bearer token an operation takes: its dependency yields the caller's Principal,
    charged to its client's rate limit (so a missing scope costs a request too, as any
    authenticated answer does), refusing tokens without `scope`."""

    async def principal(request: Request[Any, Any, Any]) -> Principal:
        runtime = runtime_of(request.scope)
        authority = runtime.authority
        state = state_of(request.scope)
        found = state.principal = await authenticate(
            runtime.db, authority, request.headers.get("authorization")
        )
        if runtime.limiter is not None:
            standing = await authority.standings.of(runtime.db, found.client_id)
            own = (None, None) if standing is None else (standing.read_limit, standing.write_limit)
            await charge(runtime.limiter, state, request.method, found.client_id, own)
        require_scope(found, scope)
        return found

    return Token(scope, Provide(principal))


# The handler parameter type that names its dependency explicitly.
PrincipalParam = NamedDependency[Principal]
