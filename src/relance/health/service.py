"""Readiness: each dependency asked to answer within a short timeout."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from relance.db import Connection
from relance.ratelimit.limiter import RateLimiter

# A probe answers quickly or says the dependency is down: a load balancer should not wait on it.
CHECK_TIMEOUT_SECONDS = 2.0


async def readiness(db: Connection, limiter: RateLimiter | None) -> dict[str, str | None]:
    """Each dependency and what is wrong with it (None when it answers)."""
    checks: dict[str, Awaitable[object]] = {"database": db.fetchval("SELECT 1")}
    if limiter is not None and limiter.shared:
        checks["redis"] = limiter.ping_shared()
    found = {}
    for name, check in checks.items():
        found[name] = await _problem(check)
    return found


async def _problem(check: Awaitable[object]) -> str | None:
    try:
        await asyncio.wait_for(check, CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        return f"did not answer within {CHECK_TIMEOUT_SECONDS:g} s"
    except Exception as exc:
        return f"unreachable ({type(exc).__name__})"
    return None
