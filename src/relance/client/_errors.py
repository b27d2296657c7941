"""The SDK's exceptions: one class per HTTP status the API answers with, plus the network's."""

from __future__ import annotations

from typing import Any

import httpx


class RelanceError(Exception):
    """Every error the SDK raises."""


class APIConnectionError(RelanceError):
    """The API could not be reached (refused, reset, DNS...)."""


class APITimeoutError(APIConnectionError):
    """The API did not answer in time."""


class IncompleteExportError(APIConnectionError):
    """An export's stream ended (cut, or unreadable) before its final `next_cursor` line: what
    was read of it is not the whole snapshot."""


class APIStatusError(RelanceError):
    """The API answered with an error status; `body` is its JSON error envelope."""

    status_code: int = 0

    def __init__(self, message: str, response: httpx.Response, body: Any) -> None:
        super().__init__(f"{response.status_code}: {message}")
        self.message = message
        self.response = response
        self.status_code = response.status_code
        self.body = body

    @property
    def details(self) -> dict[str, list[str]]:
        """The envelope's `details`, each field named with its problems; {} when it has none."""
        details = self.body.get("details") if isinstance(self.body, dict) else None
        return details if isinstance(details, dict) else {}


class BadRequestError(APIStatusError):
    """400: `details` maps each field to what is wrong with it."""


class AuthenticationError(APIStatusError):
    """401: the credentials or the token were refused."""


class PermissionDeniedError(APIStatusError):
    """403: the token lacks the scope."""


class NotFoundError(APIStatusError):
    """404."""


class ConflictError(APIStatusError):
    """409: an Idempotency-Key reused with another request, or a value that only one object
    may hold held by another: `details` names the field and the holder (a debt's
    `internal_id`: `{"internal_id": ["is already the internal_id of debt <id>"]}`)."""


class GoneError(APIStatusError):
    """410: the changes feed no longer holds what this cursor points after (it is older than
    the deletions the server keeps): start again from an export."""


class RateLimitError(APIStatusError):
    """429: `retry_after` is how many seconds the API asked to wait."""

    @property
    def retry_after(self) -> float | None:
        return retry_after(self.response)


class InternalServerError(APIStatusError):
    """5xx."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    410: GoneError,
    429: RateLimitError,
}


def status_error(response: httpx.Response) -> APIStatusError:
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    message = _message(body) or response.reason_phrase or "request failed"
    kind = _BY_STATUS.get(response.status_code)
    if kind is None:
        kind = InternalServerError if response.status_code >= 500 else APIStatusError
    return kind(message, response, body)


def _message(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    # The API's envelope ({"message": ...}) or OAuth's ({"error_description": ...}).
    found = body.get("message") or body.get("error_description") or body.get("error")
    return str(found) if found else None


def retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait, from Retry-After (seconds) or else X-RateLimit-Reset (Unix time)."""
    import time

    value = response.headers.get("retry-after")
    if value is not None:
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
    reset = response.headers.get("x-ratelimit-reset")
    if reset is not None:
        try:
            return max(0.0, float(reset) - time.time())
        except ValueError:
            pass
    return None
