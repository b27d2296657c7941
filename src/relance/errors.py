"""One error hierarchy: every failure a caller can meet, with its status and message (SPEC.md §3).
`relance.handler` renders them; this module stays free of the web framework, so that the command
line, which raises some of them, starts without loading it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Details = Mapping[str, Any]


class AppError(Exception):
    status = 500
    message = "Internal server error"

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int | None = None,
        details: Details | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status or type(self).status
        self.message = message or type(self).message
        self.details = details
        self.headers = dict(headers or {})
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": True, "message": self.message, "code": self.status}
        if self.details is not None:
            body["details"] = self.details
        return body


class ValidationFailed(AppError):
    status = 400
    message = "Validation failed"

    def __init__(self, details: Mapping[str, list[str]]) -> None:
        super().__init__(details=details)


class Unauthenticated(AppError):
    status = 401
    message = "Authentication credentials are missing or invalid"

    def __init__(self, *, token_given: bool) -> None:
        # RFC 6750 §3.1: name the error only when a token was presented.
        challenge = 'Bearer error="invalid_token"' if token_given else "Bearer"
        super().__init__(headers={"WWW-Authenticate": challenge})


class MissingScope(AppError):
    status = 403

    def __init__(self, scope: str) -> None:
        super().__init__(f'Required scope "{scope}" not found in token')


class Forbidden(AppError):
    status = 403
    message = "Forbidden"


class RangeNotSatisfiable(AppError):
    status = 416

    def __init__(self, size: int, message: str | None = None) -> None:
        super().__init__(
            message or f"The Range asked for starts beyond the end of the file ({size} bytes)",
            headers={"Content-Range": f"bytes */{size}"},
        )


class NotFound(AppError):
    status = 404
    message = "Not found"


class MethodNotAllowed(AppError):
    status = 405
    message = "Method not allowed"


class PayloadTooLarge(AppError):
    status = 413
    message = "Request body too large"


class QueryTooLong(AppError):
    status = 414


class RequestLineTooLong(AppError):
    status = 414

    def __init__(self, limit: int) -> None:
        super().__init__(f"The request line is too long: at most {limit} bytes")


class HeadTooLarge(AppError):
    status = 431

    def __init__(self, limit: int, lines: int) -> None:
        super().__init__(
            f"The request's headers are too large: at most {limit} bytes in all, "
            f"in at most {lines} header lines"
        )


class RequestTimeout(AppError):
    status = 408


class MalformedRequest(AppError):
    status = 400
    message = "Malformed HTTP request: it could not be parsed"


class Conflict(AppError):
    status = 409
    message = "Conflict"


class UnsupportedMediaType(AppError):
    status = 415
    message = "Unsupported media type"


class RateLimited(AppError):
    status = 429
    message = "Rate limit exceeded. Please try again later."

    def __init__(self, retry_after: int, limit: int, reset_time: str) -> None:
        super().__init__(
            details={"retry_after": retry_after, "limit": limit, "reset_time": reset_time},
            headers={"Retry-After": str(retry_after)},
        )


class ServiceUnavailable(AppError):
    status = 503
    message = "Service temporarily unavailable, please retry shortly"

    def __init__(self, retry_after: int = 5, message: str | None = None) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})


class OAuthError(AppError):
    """Errors of POST /token, shaped by RFC 6749 §5.2 rather than by the API envelope."""

    def __init__(self, error: str, description: str, *, status: int = 400, **kw: Any) -> None:
        self.error = error
        super().__init__(description, status=status, **kw)
        self.headers.setdefault("Cache-Control", "no-store")

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "error_description": self.message}
