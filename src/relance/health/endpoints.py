"""GET /healthz (the process answers) and GET /readyz (its database, and Redis when configured,
answer too). Neither needs a token nor counts against a rate limit."""

from __future__ import annotations

from typing import Any

from litestar import Request

from relance.context import runtime_of
from relance.errors import ServiceUnavailable
from relance.health.service import readiness
from relance.kit.responses import JsonAnswer
from relance.operations import Answer, Operation, json_content, ref


class NotReady(ServiceUnavailable):
    def __init__(self, problems: dict[str, str]) -> None:
        down = ", ".join(sorted(problems))
        super().__init__(message=f"Not ready: {down} down")
        self.details = {name: [problem] for name, problem in problems.items()}
        self.headers["Cache-Control"] = "no-store"


@Operation(
    method="GET",
    path="/healthz",
    summary="Liveness",
    tag="Service",
    answers=(Answer(200, json_content(ref("Health"))),),
)
async def healthz() -> JsonAnswer:
    """The process answers."""
    return JsonAnswer({"status": "ok"}, headers={"Cache-Control": "no-store"})


@Operation(
    method="GET",
    path="/readyz",
    summary="Readiness",
    tag="Service",
    answers=(Answer(200, json_content(ref("Readiness"))),),
    errors=(NotReady,),
)
async def readyz(request: Request[Any, Any, Any]) -> JsonAnswer:
    """The database, and Redis when configured, answer within 2 s; else a 503 naming what is
    down in `details`."""
    runtime = runtime_of(request.scope)
    checks = await readiness(runtime.db, runtime.limiter)
    problems = {name: problem for name, problem in checks.items() if problem is not None}
    if problems:
        raise NotReady(problems)
    body = {"status": "ready", "checks": dict.fromkeys(checks, "ok")}
    return JsonAnswer(body, headers={"Cache-Control": "no-store"})


ROUTES = [healthz, readyz]
