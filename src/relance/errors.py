"""One error hierarchy: every failure a caller can meet, with its status and message (SPEC.md §3).
Each class also says how the API's document shows its answers (`title`, `description`,
`header_names`, `schema()`), so that an operation lists the errors it raises and the document
follows (relance.openapi). `relance.handler` renders them; this module stays free of the web
framework, so that the command line, which raises some of them, starts without loading it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

Details = Mapping[str, Any]


class AppError(Exception):
    status = 500
    message = "Internal server error"
    # The document's name for this error's answer, what it tells a caller, and the headers
    # (by their names among the document's headers) that every such answer carries. A
    # subclass is documented as its parent unless it says otherwise.
    title: ClassVar[str] = "InternalServerError"
    description: ClassVar[str] = "An unexpected failure"
    header_names: ClassVar[tuple[str, ...]] = ()

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

    @classmethod
    def schema(cls) -> dict[str, Any]:
        """The JSON schema of what `body()` answers."""
        return {
            "type": "object",
            "required": ["error", "message", "code"],
            "properties": {
                "error": {"const": True},
                "message": {"type": "string", "description": "What went wrong, and what to fix"},
                "code": {"type": "integer", "description": "The HTTP status"},
                "details": {
                    "type": "object",
                    "description": "For a 400, each parameter or field at fault with its "
                    "problems; for a 429, `retry_after`, `limit` and `reset_time`",
                },
            },
            "additionalProperties": False,
        }


class ValidationFailed(AppError):
    status = 400
    message = "Validation failed"
    title = "BadRequest"
    description = "Validation failed: `details` names each problem"

    def __init__(self, details: Mapping[str, list[str]]) -> None:
        super().__init__(details=details)


class Unauthenticated(AppError):
    status = 401
    message = "Authentication credentials are missing or invalid"
    title = "Unauthorized"
    description = "The token is missing, malformed, expired or revoked"
    header_names = ("WWW-Authenticate",)

    def __init__(self, *, token_given: bool) -> None:
        # RFC 6750 §3.1: name the error only when a token was presented.
        challenge = 'Bearer error="invalid_token"' if token_given else "Bearer"
        super().__init__(headers={"WWW-Authenticate": challenge})


class Forbidden(AppError):
    status = 403
    message = "Forbidden"
    title = "Forbidden"
    description = "The token lacks the scope, or the media URL is not valid"


class MissingScope(Forbidden):
    def __init__(self, scope: str) -> None:
        super().__init__(f'Required scope "{scope}" not found in token')


class RangeNotSatisfiable(AppError):
    status = 416
    title = "RangeNotSatisfiable"
    description = "The Range starts beyond the end of the file"
    header_names = ("Content-Range",)

    def __init__(self, size: int, message: str | None = None) -> None:
        super().__init__(
            message or f"The Range asked for starts beyond the end of the file ({size} bytes)",
            headers={"Content-Range": f"bytes */{size}"},
        )


class NotFound(AppError):
    status = 404
    message = "Not found"
    title = "NotFound"
    description = "No such resource for this company"


class MethodNotAllowed(AppError):
    status = 405
    message = "Method not allowed"


class PayloadTooLarge(AppError):
    status = 413
    message = "Request body too large"
    title = "PayloadTooLarge"
    description = "The body is larger than the API accepts"


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
    title = "Conflict"
    # relance.idempotency refuses a key reused or still in use; the debts' internal_id
    # conflict is documented as its own (debts/service.py).
    description = (
        "The Idempotency-Key was used with another body, or its first request is still in progress"
    )


class UnsupportedMediaType(AppError):
    status = 415
    message = "Unsupported media type"
    title = "UnsupportedMediaType"
    description = "The body is not sent as application/json"


class RateLimited(AppError):
    status = 429
    message = "Rate limit exceeded. Please try again later."
    title = "TooManyRequests"
    description = (
        "The client's rate limit is spent, or its export still runs; retry after `Retry-After`"
    )
    header_names = ("Retry-After",)

    def __init__(self, retry_after: int, limit: int, reset_time: str) -> None:
        super().__init__(
            details={"retry_after": retry_after, "limit": limit, "reset_time": reset_time},
            headers={"Retry-After": str(retry_after)},
        )


class Busy(RateLimited):
    """A request that runs once at a time per client, asked for again while it runs."""

    def __init__(self, message: str, retry_after: int) -> None:
        AppError.__init__(self, message, headers={"Retry-After": str(retry_after)})


class Gone(AppError):
    status = 410
    title = "Gone"
    description = "What the request names is no longer kept; start again as the message says"


class ServiceUnavailable(AppError):
    status = 503
    message = "Service temporarily unavailable, please retry shortly"
    title = "ServiceUnavailable"
    description = "The database is unreachable; retry after `Retry-After`"
    header_names = ("Retry-After",)

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

    @classmethod
    def schema(cls) -> dict[str, Any]:
        kinds = [
            "invalid_request",
            "invalid_client",
            "invalid_scope",
            "unsupported_grant_type",
            "temporarily_unavailable",
        ]
        properties = {"error": {"enum": kinds}, "error_description": {"type": "string"}}
        return {
            "type": "object",
            "required": list(properties),
            "properties": properties,
            "additionalProperties": False,
        }
