"""Mounts every domain's routes under the paths GetBill uses."""

from __future__ import annotations

from litestar import Router
from litestar.types import ControllerRouterHandler

from relance.auth.endpoints import issue_token
from relance.debts.endpoints import ROUTES as DEBT_ROUTES
from relance.followups.endpoints import ROUTES as FOLLOWUP_ROUTES
from relance.health.endpoints import ROUTES as HEALTH_ROUTES
from relance.media.endpoints import serve_media
from relance.openapi.endpoints import ROUTES as OPENAPI_ROUTES
from relance.ratelimit.headers import rate_limit_headers

API_PREFIX = "/external-api/v1"

external_api = Router(
    path=API_PREFIX,
    route_handlers=[*FOLLOWUP_ROUTES, *DEBT_ROUTES],
    middleware=[rate_limit_headers],
)
# GetBill serves the token endpoint at the root, outside the versioned prefix; media URLs carry
# their own signature instead of a token; the probes and the docs need none.
ROUTE_HANDLERS: list[ControllerRouterHandler] = [
    issue_token,
    external_api,
    serve_media,
    *HEALTH_ROUTES,
    *OPENAPI_ROUTES,
]
