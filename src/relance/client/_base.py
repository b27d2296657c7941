"""What the sync and the async clients share: settings, the retry policy, query parameters."""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Final, TypeVar

import httpx
from pydantic import BaseModel

from relance.client._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    RelanceError,
    retry_after,
    status_error,
)
from relance.client._models import CursorPagination, Pagination

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
DEFAULT_MAX_RETRIES = 2
# Statuses worth trying again: the budget frees up, the server recovers.
RETRYABLE = frozenset({408, 429, 500, 502, 503, 504})
# Backoff without a hint from the server: 0.5 s, 1 s, 2 s... capped, each with jitter.
_FIRST_BACKOFF = 0.5
_MAX_BACKOFF = 8.0
# The longest wait a server's Retry-After may impose on a retry before the error is raised.
MAX_WAIT = 120.0
API = "/external-api/v1"
M = TypeVar("M", bound=BaseModel)
# Query parameters as httpx takes them: a list repeats the parameter (`type=a&type=b`).
Query = Mapping[str, str | Sequence[str]]
# A moment as the API's filters take it: an aware datetime, Unix seconds, or RFC 3339 text.
Moment = datetime | int | str


class NotGiven:
    """An argument left out, told apart from None (which clears a field)."""

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven()


def resolve(
    base_url: str | None, client_id: str | None, client_secret: str | None
) -> tuple[str, str, str]:
    """The arguments, else RELANCE_BASE_URL, RELANCE_CLIENT_ID, RELANCE_CLIENT_SECRET."""
    found = (
        base_url or os.environ.get("RELANCE_BASE_URL"),
        client_id or os.environ.get("RELANCE_CLIENT_ID"),
        client_secret or os.environ.get("RELANCE_CLIENT_SECRET"),
    )
    missing = [
        name
        for name, value in zip(("base_url", "client_id", "client_secret"), found, strict=True)
        if not value
    ]
    if missing:
        names = ", ".join(f"{name} (or RELANCE_{name.upper()})" for name in missing)
        raise RelanceError(f"missing {names}")
    base, client, secret = (str(value) for value in found)
    return base.rstrip("/"), client, secret


def delay(attempt: int, response: httpx.Response | None) -> float | None:
    """How long to wait before retry number `attempt` (0 first), or None if it would be longer
    than MAX_WAIT: the server's Retry-After or X-RateLimit-Reset when it gave one, else an
    exponential backoff with jitter (so that many clients do not retry in step)."""
    hinted = retry_after(response) if response is not None else None
    if hinted is not None:
        return hinted + random.uniform(0, 0.25) if hinted <= MAX_WAIT else None  # noqa: S311
    backoff: float = min(_MAX_BACKOFF, _FIRST_BACKOFF * 2.0**attempt)
    return backoff * random.uniform(0.5, 1.0)  # noqa: S311


def params(**values: Any) -> dict[str, str]:
    """Query parameters: None left out, dates as YYYY-MM-DD, enums as their value."""
    query = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, datetime):
            value = value.date()
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, Enum):
            value = value.value
        query[name] = str(value)
    return query


def body(values: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON body: datetimes in ISO 8601 (the API wants an offset: naive ones are refused by
    the server, as they should be), enums as their value, a Decimal as its digits in a string
    (which the API takes for an amount, exactly, where a float may not be)."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, datetime | date):
            value = value.isoformat()
        elif isinstance(value, Enum):
            value = value.value
        elif isinstance(value, Decimal):
            value = decimal_text(value)
        out[name] = value
    return out


def decimal_text(value: Decimal) -> str:
    """Its digits, never in exponent form (`Decimal("1E+3")` is "1000")."""
    return format(value, "f")


def creation(debt_id: str, kind: str, status: str | None, fields: dict[str, Any]) -> dict[str, Any]:
    """A new followup's fields: its status only when given, so that the server's default
    applies otherwise."""
    given = {} if status is None else {"status": status}
    return {"debt_id": debt_id, "type": kind, **given, **fields}


def request_headers(method: str, idempotency_key: str | None = None) -> dict[str, str]:
    """A POST keeps one Idempotency-Key across its retries, so a retried create creates once:
    the caller's, so that a write sent again later is answered once too, or a new one."""
    if method != "POST":
        return {}
    return {"Idempotency-Key": idempotency_key or str(uuid.uuid4())}


def failure(response: httpx.Response) -> APIStatusError | None:
    """None for a success, else the error of a failure worth retrying; other failures raise.
    A streamed response's body is read first (the error is in it), and the response closed."""
    if response.status_code < 400:
        return None
    response.read()
    response.close()
    return retryable(status_error(response))


async def async_failure(response: httpx.Response) -> APIStatusError | None:
    if response.status_code < 400:
        return None
    await response.aread()
    await response.aclose()
    return retryable(status_error(response))


def retryable(error: APIStatusError) -> APIStatusError:
    """The error, when its status is worth another try; else it is raised at once."""
    if error.status_code not in RETRYABLE:
        raise error
    return error


def transport_error(exc: httpx.TransportError, base_url: str) -> RelanceError:
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"the API did not answer in time: {exc}")
    return APIConnectionError(f"cannot reach the API at {base_url}: {exc}")


def data_of(found: Any, model: type[M]) -> M:
    return model.model_validate(found["data"])


def page_parts(found: Any, model: type[M]) -> tuple[list[M], Pagination]:
    return [model.model_validate(item) for item in found["data"]], Pagination.model_validate(
        found["pagination"]
    )


def cursor_parts(found: Any, model: type[M]) -> tuple[list[M], CursorPagination]:
    return [model.model_validate(item) for item in found["data"]], CursorPagination.model_validate(
        found["pagination"]
    )


def moment(value: Moment | None) -> str | None:
    """A moment for a filter or a body: a datetime in ISO 8601 (a naive one goes as it is, for
    the server to refuse: it cannot be told which zone was meant), Unix seconds as digits."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def cursor_query(
    limit: int | None, starting_after: str | None, **filters: str | Sequence[str] | None
) -> dict[str, str | Sequence[str]]:
    """A cursor list's parameters; a sequence of types repeats the parameter."""
    query: dict[str, str | Sequence[str]] = dict(params(limit=limit, starting_after=starting_after))
    for name, value in filters.items():
        if value is None:
            continue
        query[name] = value if isinstance(value, str) else list(value)
    return query


def given(**values: Any) -> dict[str, Any]:
    """The fields of a PATCH that were passed: NOT_GIVEN left out, None kept (it clears)."""
    return {name: value for name, value in values.items() if value is not NOT_GIVEN}


def endpoint_creation(
    url: str, enabled_events: Sequence[str] | None, description: str | None
) -> dict[str, Any]:
    """A new endpoint's fields: those left out take the server's defaults."""
    sent: dict[str, Any] = {"url": url}
    if enabled_events is not None:
        sent["enabled_events"] = list(enabled_events)
    if description is not None:
        sent["description"] = description
    return sent


def endpoint_patch(
    url: str | NotGiven,
    enabled_events: Sequence[str] | NotGiven,
    description: str | NotGiven | None,
    status: str | NotGiven,
) -> dict[str, Any]:
    events = enabled_events if isinstance(enabled_events, NotGiven) else list(enabled_events)
    return given(url=url, enabled_events=events, description=description, status=status)


def rotation(expire_previous_in_seconds: int | None) -> dict[str, int] | None:
    """A rotate-secret body, or none at all for the server's default."""
    if expire_previous_in_seconds is None:
        return None
    return {"expire_previous_in_seconds": expire_previous_in_seconds}
