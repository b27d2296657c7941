"""Mounts every domain's routes under the paths GetBill uses. Each route handler carries the
operations it serves (relance.operations), from which relance.openapi writes the document."""

from __future__ import annotations

from litestar import Router
from litestar.types import ControllerRouterHandler, RouteHandlerType

from relance.auth.endpoints import issue_token
from relance.companies.endpoints import ROUTES as COMPANY_ROUTES
from relance.creditors.endpoints import ROUTES as CREDITOR_ROUTES
from relance.debtors.endpoints import ROUTES as DEBTOR_ROUTES
from relance.debts.endpoints import ROUTES as DEBT_ROUTES
from relance.deletions.endpoints import ROUTES as DELETION_ROUTES
from relance.events.endpoints import ROUTES as EVENT_ROUTES
from relance.followups.endpoints import ROUTES as FOLLOWUP_ROUTES
from relance.followups.sync_endpoints import ROUTES as SYNC_ROUTES
from relance.health.endpoints import ROUTES as HEALTH_ROUTES
from relance.media.endpoints import serve_media
from relance.ratelimit.headers import rate_limit_headers
from relance.webhooks.endpoints import ROUTES as WEBHOOK_ROUTES

API_PREFIX = "/external-api/v1"

API_ROUTES: list[RouteHandlerType] = [
    *SYNC_ROUTES,
    *FOLLOWUP_ROUTES,
    *DEBT_ROUTES,
    *DELETION_ROUTES,
    *DEBTOR_ROUTES,
    *CREDITOR_ROUTES,
    *COMPANY_ROUTES,
    *EVENT_ROUTES,
    *WEBHOOK_ROUTES,
]
# GetBill serves the token endpoint at the root, outside the versioned prefix; media URLs carry
# their own signature instead of a token; the probes need none. The document and the docs
# page, which describe these routes, are mounted beside them by the app (relance.openapi).
ROOT_ROUTES: list[RouteHandlerType] = [issue_token, serve_media, *HEALTH_ROUTES]

ROUTE_HANDLERS: list[ControllerRouterHandler] = [
    *ROOT_ROUTES,
    Router(path=API_PREFIX, route_handlers=API_ROUTES, middleware=[rate_limit_headers]),
]
