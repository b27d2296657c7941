"""The document's paths, one entry per operation declared on a route handler (relance.operations),
with what the machinery it declares adds: the token's check (its errors, the rate limit's
headers), a JSON body's parsing (its errors), an idempotent POST's key, and the query
string's length, which every request meets."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from litestar.handlers import BaseRouteHandler

from relance.api import API_PREFIX, API_ROUTES, ROOT_ROUTES
from relance.config import Settings
from relance.errors import (
    AppError,
    Conflict,
    MissingScope,
    RateLimited,
    ServiceUnavailable,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
)
from relance.handler import BodyTooLarge
from relance.idempotency.service import HEADER as IDEMPOTENCY_HEADER
from relance.observability.endpoints import metrics
from relance.observability.requests import QueryTooLong
from relance.openapi.endpoints import ROUTES as OPENAPI_ROUTES
from relance.operations import (
    JSON,
    Answer,
    Envelope,
    Operation,
    PathId,
    Schema,
    Token,
    declared,
    header_ref,
    json_content,
    ref,
)

TAGS = (
    "Authentication",
    "Followups",
    "Debts",
    "Debtors",
    "Creditors",
    "Company",
    "Events",
    "Webhooks",
    "Service",
)
# What the machinery an operation declares can answer, beside what its handler raises.
EVERY_REQUEST: tuple[type[AppError], ...] = (QueryTooLong,)
TOKEN_CHECK: tuple[type[AppError], ...] = (
    Unauthenticated,
    MissingScope,
    RateLimited,
    ServiceUnavailable,
)
JSON_BODY: tuple[type[AppError], ...] = (ValidationFailed, BodyTooLarge, UnsupportedMediaType)
IDEMPOTENCY: tuple[type[AppError], ...] = (Conflict,)
RATE_LIMIT_HEADERS = (
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "X-RateLimit-Window",
)


def documented(settings: Settings) -> list[tuple[str, Operation]]:
    """Every operation the deployment serves, with its full path, in the order of the tags."""
    root = [*ROOT_ROUTES, *OPENAPI_ROUTES]
    handlers: list[tuple[str, BaseRouteHandler]] = [("", handler) for handler in root]
    handlers += [(API_PREFIX, handler) for handler in API_ROUTES]
    if settings.metrics_port is None:  # else the metrics have a port of their own
        handlers.append(("", metrics))
    operations = [(prefix + op.path, op) for prefix, h in handlers for op in declared(h)]
    return sorted(operations, key=lambda served: TAGS.index(served[1].tag))


def paths(operations: Iterable[tuple[str, Operation]], rate_limited: bool) -> Schema:
    items: Schema = {}
    for path, declared_operation in operations:
        entry = _entry(declared_operation, rate_limited)
        items.setdefault(path, {})[declared_operation.method.lower()] = entry
    return items


def errors_of(op: Operation) -> Iterator[type[AppError]]:
    """Every error the operation can answer: its handler's and its machinery's."""
    yield from op.errors
    yield from EVERY_REQUEST
    if op.token is not None:
        yield from TOKEN_CHECK
    if op.body is not None and op.body.media_type == JSON:
        yield from JSON_BODY
    if op.idempotent:
        yield from IDEMPOTENCY


def error_response(error: type[AppError]) -> Schema:
    """The document's answer for `error`, among its components."""
    content = json_content(ref("Error"))
    response: Schema = {"description": error.description, "content": content}
    if error.header_names:
        response["headers"] = {name: header_ref(name) for name in error.header_names}
    return response


def _entry(op: Operation, rate_limited: bool) -> Schema:
    entry: Schema = {
        "tags": [op.tag],
        "summary": op.summary,
        "description": op.description,
        "operationId": op.operation_id,
        "security": list(op.security or _security(op.token)),
    }
    parameters = [p.schema() if isinstance(p, PathId) else p for p in op.parameters]
    parameters += [_idempotency_key()] if op.idempotent else []
    if parameters:
        entry["parameters"] = parameters
    if op.body is not None:
        content = {op.body.media_type: {"schema": ref(op.body.schema)}}
        entry["requestBody"] = {"required": op.body.required, "content": content}
    entry["responses"] = _responses(op, rate_limited)
    return entry


def _security(token: Token | None) -> list[Schema]:
    return [] if token is None else [{"oauth2": [token.scope]}]


def _responses(op: Operation, rate_limited: bool) -> Schema:
    responses: dict[int, Schema] = {
        answer.status: _answer(op, answer, rate_limited) for answer in op.answers
    }
    by_status: dict[int, type[AppError]] = {}
    for error in errors_of(op):
        known = by_status.setdefault(error.status, error)
        if known.title != error.title:
            raise ValueError(
                f"{op.method} {op.path}: {known.__name__} and {error.__name__} answer "
                f"{error.status} differently; a status has one documented answer"
            )
    for status, error in by_status.items():
        responses.setdefault(status, {"$ref": f"#/components/responses/{error.title}"})
    return {str(status): responses[status] for status in sorted(responses)}


def _answer(op: Operation, answer: Answer, rate_limited: bool) -> Schema:
    content = answer.content
    if isinstance(content, Envelope):
        content = json_content(ref(content.name))
    shown: Schema = {"description": answer.description or op.summary, "content": content}
    headers = dict(answer.headers)
    if 200 <= answer.status < 300:
        if op.token is not None and rate_limited:
            headers |= {name: header_ref(name) for name in RATE_LIMIT_HEADERS}
        if op.idempotent:
            headers |= _replayed_header()
    if headers:
        shown["headers"] = headers
    return shown


def _idempotency_key() -> Schema:
    return {
        "name": IDEMPOTENCY_HEADER,
        "in": "header",
        "description": "Makes the POST safe to retry: the same key and body within 24 hours "
        "replay the first answer (`Idempotent-Replayed: true`); the same key with another body "
        "is a 409",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^[!-~]+$"},
    }


def _replayed_header() -> Schema:
    return {
        "Idempotent-Replayed": {
            "description": "true when this is the replay of an earlier request's answer",
            "schema": {"const": "true"},
        }
    }
