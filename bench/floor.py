"""The floor: a bare Starlette + orjson app that encodes the same page, held in memory, on every
request, with no database, no auth and no validation. Nothing serving this page can be faster
on the same worker count; Relance's figures are read against it."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PAGE_FILE = "RELANCE_BENCH_FLOOR_PAGE"


def create_app() -> Starlette:
    page = orjson.loads(Path(os.environ[PAGE_FILE]).read_bytes())

    async def followups(request: Request) -> Response:
        body = {"error": False, "data": page["data"], "pagination": page["pagination"]}
        return Response(orjson.dumps(body), media_type="application/json")

    return Starlette(routes=[Route("/external-api/v1/followups", followups)])
