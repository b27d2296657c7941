"""GET /healthz (the process answers) and GET /readyz (its database, and Redis when configured,
answer too). Neither needs a token nor counts against a rate limit."""

from __future__ import annotations

from typing import Any

from litestar import Request, get

from relance.auth.dependencies import runtime_of
from relance.errors import AppError
from relance.health.service import readiness
from relance.kit.responses import JsonAnswer


class NotReady(AppError):
    status = 503

    def __init__(self, problems: dict[str, str]) -> None:
        down = ", ".join(sorted(problems))
        super().__init__(
            f"Not ready: {down} down",
            details={name: [problem] for name, problem in problems.items()},
            headers={"Retry-After": "5", "Cache-Control": "no-store"},
        )


@get("/healthz", summary="Liveness")
async def healthz() -> JsonAnswer:
    return JsonAnswer({"status": "ok"}, headers={"Cache-Control": "no-store"})


@get("/readyz", summary="Readiness")
async def readyz(request: Request[Any, Any, Any]) -> JsonAnswer:
    checks = await readiness(runtime_of(request))
    problems = {name: problem for name, problem in checks.items() if problem is not None}
    if problems:
        raise NotReady(problems)
    body = {"status": "ready", "checks": dict.fromkeys(checks, "ok")}
    return JsonAnswer(body, headers={"Cache-Control": "no-store"})


ROUTES = [healthz, readyz]
