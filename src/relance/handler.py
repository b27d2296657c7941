"""The one handler that renders every failure as SPEC.md §3 says, and the one function that
makes an error's answer: the handler's, the request observer's and the rate limiter's."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request
from litestar.exceptions import HTTPException, ValidationException

from relance.db import is_unavailable
from relance.errors import (
    AppError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    ValidationFailed,
)
from relance.kit.bodies import MAX_BODY_BYTES
from relance.kit.responses import JsonAnswer

log = logging.getLogger("relance.errors")


class BodyTooLarge(PayloadTooLarge):
    """The framework's refusal of a body past the limit the app gives it (relance.app)."""

    description = f"The body is larger than {MAX_BODY_BYTES} bytes"


def error_answer(error: AppError) -> JsonAnswer:
    return JsonAnswer(error.body(), error.status, error.headers)


def render(request: Request[Any, Any, Any], exc: Exception) -> JsonAnswer:
    return error_answer(as_app_error(request, exc))


def as_app_error(request: Request[Any, Any, Any], exc: Exception) -> AppError:
    if isinstance(exc, AppError):
        return exc
    if isinstance(exc, ValidationException):
        return ValidationFailed(_framework_details(exc.extra))
    if isinstance(exc, HTTPException):
        return _from_framework(request, exc)
    if is_unavailable(exc):
        log.warning("database unavailable: %s", type(exc).__name__)
        return ServiceUnavailable()
    log.exception("unhandled error on %s %s", request.method, request.scope["path"])
    return AppError()


def _from_framework(request: Request[Any, Any, Any], exc: HTTPException) -> AppError:
    method, path = request.method, request.scope["path"]
    if exc.status_code == 404:
        return NotFound(f"No route matches {method} {path}")
    if exc.status_code == 405:
        headers = {name.lower(): value for name, value in (exc.headers or {}).items()}
        allowed = headers.get("allow", "")
        return MethodNotAllowed(
            f"Method {method} is not allowed on {path}; allowed: {allowed}",
            headers={"Allow": allowed},
        )
    if exc.status_code == 413:
        return BodyTooLarge()
    if exc.status_code >= 500:
        log.error("framework error on %s %s: %s", method, path, exc.detail)
        return AppError()
    return AppError(exc.detail or "Request failed", status=exc.status_code, headers=exc.headers)


def _framework_details(extra: Any) -> dict[str, list[str]]:
    details: dict[str, list[str]] = {}
    for item in extra if isinstance(extra, list) else []:
        if isinstance(item, dict):
            details.setdefault(str(item.get("key") or "request"), []).append(
                str(item.get("message", "is invalid"))
            )
    return details or {"request": ["is invalid"]}


EXCEPTION_HANDLERS = {Exception: render}
