"""The OpenAPI 3.1 document of the API as this deployment serves it.

Built by Relance rather than by the framework: the handlers answer with encoded bytes, so the
framework cannot see what they send. The paths come from the operations declared on the route
handlers (relance.operations, relance.openapi.paths); the objects from the types that shape the
answers (the views those operations answer with) and the models that check the bodies
(FollowupBody, DebtBody); the error answers from the error classes the operations raise. So the
document cannot drift from the code, and a test holds it to the routes and to what the live
server answers (tests/openapi).
"""

from __future__ import annotations

from typing import Any

import msgspec
from pydantic import BaseModel

from relance.api import API_PREFIX
from relance.auth.scopes import (
    COMPANY_READ,
    CREDITORS_READ,
    CREDITORS_WRITE,
    DEBTORS_READ,
    DEBTORS_WRITE,
    DEBTS_READ,
    DEBTS_WRITE,
    FOLLOWUPS_READ,
    FOLLOWUPS_WRITE,
    USERS_READ,
    WEBHOOKS_READ,
    WEBHOOKS_WRITE,
)
from relance.config import Settings
from relance.debts.schemas import DebtBody
from relance.errors import AppError, OAuthError
from relance.followups.bodies import FollowupBody
from relance.kit.bodies import MAX_BODY_BYTES
from relance.kit.responses import encode_json
from relance.kit.views import PublicId
from relance.observability.requests import MAX_QUERY_BYTES
from relance.openapi.paths import TAGS, documented, error_response, errors_of, paths
from relance.operations import REF, Envelope, Operation, Schema, ref

DESCRIPTION = f"""\
GetBill's external API for followups, served by Relance: a client written for GetBill works
against Relance by changing only its base URL.

Every call under `{API_PREFIX}` carries `Authorization: Bearer <token>`, a token from
`POST /token` (OAuth 2.0 client credentials). Every error is the envelope
`{{"error": true, "message", "code"}}`, with `details` where there is more to say; `POST /token`
answers errors as RFC 6749 says. Query strings are limited to {MAX_QUERY_BYTES} bytes (414) and
bodies to {MAX_BODY_BYTES} bytes (413); a parameter given twice is a 400; unknown query
parameters are ignored. Every path also answers `OPTIONS` with the methods it allows.
"""


def encoded_document(settings: Settings) -> bytes:
    return encode_json(build_document(settings))


def build_document(settings: Settings) -> Schema:
    served = documented(settings)
    operations = [op for _, op in served]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Relance: GetBill-compatible followups API",
            "version": "1",
            "description": DESCRIPTION,
        },
        "servers": [{"url": settings.public_url or "/"}],
        "tags": [{"name": name} for name in TAGS],
        "paths": paths(served, settings.rate_limit_enabled),
        "components": {
            "schemas": _schemas(operations),
            "securitySchemes": _security_schemes(),
            "responses": _error_responses(operations),
            "headers": _headers(),
        },
    }


# --- components ----------------------------------------------------------------------------


def _schemas(operations: list[Operation]) -> Schema:
    envelopes = _envelopes(operations)
    items = {envelope.view: envelope.item for envelope in envelopes}
    _, views = msgspec.json.schema_components(items, ref_template=REF)
    for view, name in items.items():
        views[name] = {
            **views.pop(view.__name__),
            "description": _DESCRIPTIONS.get(name) or " ".join((view.__doc__ or "").split()),
            "additionalProperties": False,
        }
    # A view within another (a change's followup) is named after the struct; name it as the
    # view is named.
    renamed = {
        REF.format(name=view.__name__): REF.format(name=name) for view, name in items.items()
    }
    views = _with_refs(views, renamed)
    schemas: Schema = {
        **views,
        "Id": msgspec.json.schema(PublicId),
        **_body_schemas(),
        **_declared_bodies(operations),
        "Pagination": _object(
            {
                name: {"type": "integer", "minimum": 0}
                for name in ("total", "page", "limit", "pages")
            }
        ),
        "CursorPagination": _object(
            {
                "limit": {"type": "integer", "minimum": 1},
                "has_more": {"type": "boolean", "description": "Whether older items follow"},
                "next_starting_after": {
                    "type": ["string", "null"],
                    "description": "The `starting_after` of the next page (its last item's "
                    "ID), null on the last page",
                },
            }
        ),
        **{envelope.name: _enveloped(envelope) for envelope in envelopes},
        "Error": AppError.schema(),
        "OAuthError": OAuthError.schema(),
        "TokenRequest": _token_request_schema(),
        "Token": _object(
            {
                "access_token": {"type": "string"},
                "token_type": {"const": "Bearer"},
                "expires_in": {"type": "integer", "minimum": 1},
                "scope": {"type": "string", "description": "The granted scopes, space-separated"},
            }
        ),
        "Health": _object({"status": {"const": "ok"}}),
        "Readiness": _object(
            {
                "status": {"const": "ready"},
                "checks": {"type": "object", "additionalProperties": {"const": "ok"}},
            }
        ),
    }
    return schemas


def _with_refs(schema: Any, renamed: dict[str, str]) -> Any:
    if isinstance(schema, dict):
        return {
            key: renamed.get(value, value) if key == "$ref" else _with_refs(value, renamed)
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [_with_refs(item, renamed) for item in schema]
    return schema


def _envelopes(operations: list[Operation]) -> list[Envelope]:
    """The views in the envelope that the operations answer with, each once, in their order."""
    answers = (answer.content for op in operations for answer in op.answers)
    return list(dict.fromkeys(answer for answer in answers if isinstance(answer, Envelope)))


_DESCRIPTIONS = {
    "Followup": "One collection attempt on a debt. Every field is always present, null where "
    "unknown. `audio_url` and `pdf_url` of stored media are signed URLs that expire at "
    "`media_urls_expire_at`.",
    "Debt": "A debt of the company, the parent of its followups.",
}


def _body_schemas() -> Schema:
    """The write bodies, from the models that check them, with their enums beside them. One
    model checks both followup bodies; a create needs `debt_id` and `type`, an update cannot
    move a followup to another debt."""
    followup, debt = _model_schema(FollowupBody), _model_schema(DebtBody)
    schemas: Schema = {**followup.pop("$defs", {}), **debt.pop("$defs", {}), "DebtBody": debt}
    update = {**followup, "properties": dict(followup["properties"])}
    del update["properties"]["debt_id"]
    create = {**followup, "properties": {**followup["properties"], "debt_id": ref("Id")}}
    schemas["FollowupCreate"] = {**create, "required": ["debt_id", "type"]}
    schemas["FollowupUpdate"] = update
    return schemas


def _declared_bodies(operations: list[Operation]) -> Schema:
    """The bodies whose operations name their model."""
    schemas: Schema = {}
    for op in operations:
        if op.body is not None and op.body.model is not None:
            schema = _model_schema(op.body.model)
            schemas |= schema.pop("$defs", {})
            schemas[op.body.schema] = schema
    return schemas


def _model_schema(model: type[BaseModel]) -> Schema:
    """A body's schema, less what pydantic adds that means nothing to a caller: titles made
    from field names, and `default: null` on fields that are simply optional."""
    schema = model.model_json_schema(ref_template=REF.replace("{name}", "{model}"))
    schema.pop("title", None)
    for field in schema["properties"].values():
        field.pop("title", None)
        if field.get("default", 0) is None:
            del field["default"]
    return schema


def _object(properties: Schema) -> Schema:
    return {
        "type": "object",
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
    }


def _enveloped(envelope: Envelope) -> Schema:
    if envelope.feed:
        return _object(
            {
                "error": {"const": False},
                "data": {"type": "array", "items": ref(envelope.item)},
                "next_cursor": {
                    "type": "string",
                    "description": "Where the next request continues from: send it as "
                    "`cursor`, whether or not `has_more`",
                },
                "has_more": {"type": "boolean", "description": "Whether more changes follow"},
            }
        )
    if envelope.cursor:
        data = {"type": "array", "items": ref(envelope.item)}
        pagination = ref("CursorPagination")
        return _object({"error": {"const": False}, "data": data, "pagination": pagination})
    if envelope.paged:
        data = {"type": "array", "items": ref(envelope.item)}
        return _object({"error": {"const": False}, "data": data, "pagination": ref("Pagination")})
    if envelope.nested:
        inner: Schema = {"data": ref(envelope.item)}
        if envelope.inner_message:
            inner["message"] = {"const": envelope.inner_message}
        return _object(
            {"error": {"const": False}, "message": {"type": "string"}, "data": _object(inner)}
        )
    if envelope.listed:
        data = {"type": "array", "items": ref(envelope.item)}
        return _object({"error": {"const": False}, "message": {"type": "string"}, "data": data})
    return _object(
        {"error": {"const": False}, "message": {"type": "string"}, "data": ref(envelope.item)}
    )


def _token_request_schema() -> Schema:
    return {
        "type": "object",
        "required": ["grant_type"],
        "properties": {
            "grant_type": {"const": "client_credentials"},
            "client_id": {"type": "string", "description": "Unless HTTP Basic is used"},
            "client_secret": {"type": "string", "description": "Unless HTTP Basic is used"},
            "scope": {
                "type": "string",
                "description": "Space-separated, a subset of the client's; default all of them",
            },
        },
    }


def _security_schemes() -> Schema:
    scopes = {
        FOLLOWUPS_READ: "Read followups",
        FOLLOWUPS_WRITE: "Log and update followups",
        DEBTS_READ: "Read debts",
        DEBTS_WRITE: "Register, change and delete debts",
        DEBTORS_READ: "Read the debtors",
        DEBTORS_WRITE: "Change a debtor's details",
        CREDITORS_READ: "Read the creditors",
        CREDITORS_WRITE: "Change a creditor's details",
        COMPANY_READ: "Read the company's profile and credits",
        USERS_READ: "Read the company's users",
        WEBHOOKS_READ: "Read change events, webhook endpoints and their deliveries",
        WEBHOOKS_WRITE: "Manage webhook endpoints: create, change, rotate, retry, recover",
    }
    return {
        "oauth2": {
            "type": "oauth2",
            "description": "A Bearer token from POST /token",
            "flows": {"clientCredentials": {"tokenUrl": "/token", "scopes": scopes}},
        },
        "clientBasic": {
            "type": "http",
            "scheme": "basic",
            "description": "client_id and client_secret, for POST /token only",
        },
    }


def _error_responses(operations: list[Operation]) -> Schema:
    """An answer for each error some operation can answer, in the order of their statuses."""
    errors = sorted({error for op in operations for error in errors_of(op)}, key=_by_status)
    responses: Schema = {}
    for error in errors:
        response = responses.setdefault(error.title, error_response(error))
        if response != error_response(error):
            raise ValueError(f"{error.__name__} differs from another error titled {error.title}")
    return responses


def _by_status(error: type[AppError]) -> tuple[int, str]:
    return error.status, error.title


def _headers() -> Schema:
    """The headers the answers carry, each under its own name."""
    integer = {"type": "integer", "minimum": 0}
    return {
        "WWW-Authenticate": _header("The Bearer challenge", {"type": "string"}),
        "Content-Range": _header("bytes */<size>", {"type": "string"}),
        "Retry-After": _header("Seconds to wait before retrying", integer),
        "X-RateLimit-Limit": _header("Requests the client may make in the window", integer),
        "X-RateLimit-Remaining": _header("Requests left in the window", integer),
        "X-RateLimit-Reset": _header("Unix time at which the window frees a request", integer),
        "X-RateLimit-Window": _header("The window, in seconds", integer),
    }


def _header(description: str, schema: Schema) -> Schema:
    return {"description": description, "required": True, "schema": schema}
