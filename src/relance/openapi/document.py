"""The OpenAPI 3.1 document of the API as this deployment serves it.

Written by hand rather than left to the framework: the handlers answer with encoded bytes, so
the framework cannot see what they send. The objects come from the types that shape the answers
(FollowupView, DebtView) and the models that check the bodies (FollowupBody, DebtBody), so the
document cannot drift from them; the operations, parameters and errors are listed here, and a
test holds them to the routes and to what the live server answers (tests/openapi).
"""

from __future__ import annotations

from typing import Any

import msgspec
from pydantic import BaseModel

from relance.api import API_PREFIX
from relance.auth.scopes import DEBTS_READ, DEBTS_WRITE, FOLLOWUPS_READ, FOLLOWUPS_WRITE
from relance.config import Settings
from relance.debts.schemas import DebtBody, DebtStatus, DebtView
from relance.followups.bodies import FollowupBody
from relance.followups.enums import FollowupStatus, FollowupType
from relance.followups.schemas import FollowupView
from relance.idempotency.service import HEADER as IDEMPOTENCY_HEADER
from relance.kit.bodies import MAX_BODY_BYTES
from relance.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, MAX_PAGE
from relance.kit.responses import encode_json
from relance.kit.views import PublicId
from relance.media.endpoints import MEDIA_PATH
from relance.observability.requests import MAX_QUERY_BYTES
from relance.openapi.assets import ASSETS

Schema = dict[str, Any]
REF = "#/components/schemas/{name}"

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
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Relance: GetBill-compatible followups API",
            "version": "1",
            "description": DESCRIPTION,
        },
        "servers": [{"url": settings.public_url or "/"}],
        "tags": [{"name": name} for name in ("Authentication", "Followups", "Debts", "Service")],
        "paths": _paths(settings),
        "components": {
            "schemas": _schemas(),
            "securitySchemes": _security_schemes(),
            "responses": _error_responses(),
            "headers": _headers(),
        },
    }


# --- paths ---------------------------------------------------------------------------------


def _paths(settings: Settings) -> Schema:
    api = _ApiOperations(settings.rate_limit_enabled)
    paths: Schema = {
        "/token": {"post": _token_operation()},
        f"{API_PREFIX}/followups": {
            "get": api.read(
                "List Followups",
                "A page of the company's followups, newest activity first. The dates filter on "
                "the activity time: `call_date`, else `scheduled_at`, else `processed_at`. "
                "Beyond what the parameters' schemas say, a `date_from` after `date_to` and a "
                "`debt_id` that is not an ID this deployment made are 400s.",
                FOLLOWUPS_READ,
                _list_parameters(with_debt_id=True),
                "FollowupList",
            ),
            "post": api.write(
                "Create Followup",
                "Log a followup on one of the company's debts: `debt_id` and `type` are "
                "required; a `debt_id` that is not one of the company's debts is a 400.",
                FOLLOWUPS_WRITE,
                "FollowupCreate",
                "FollowupAnswer",
                created=True,
            ),
        },
        f"{API_PREFIX}/followups/{{id}}": {
            "get": api.read(
                "Get Followup",
                "One followup of the company; another company's is as unknown as none.",
                FOLLOWUPS_READ,
                [_path_id("id", "The followup's ID")],
                "FollowupAnswer",
                found=True,
            ),
            "put": api.write(
                "Update Followup",
                "Change the fields sent; `null` clears a field that may be empty. `debt_id` "
                "cannot change.",
                FOLLOWUPS_WRITE,
                "FollowupUpdate",
                "FollowupAnswer",
                path=[_path_id("id", "The followup's ID")],
            ),
        },
        f"{API_PREFIX}/followups/debt/{{debtId}}": {
            "get": api.read(
                "Get Followups by Debt",
                "A page of one debt's followups, with the list's filters except `debt_id`; a "
                "`date_from` after `date_to` is a 400.",
                FOLLOWUPS_READ,
                [_path_id("debtId", "The debt's ID"), *_list_parameters(with_debt_id=False)],
                "FollowupList",
                found=True,
            ),
        },
        f"{API_PREFIX}/debts": {
            "get": api.read(
                "List Debts",
                "A page of the company's debts, newest first.",
                DEBTS_READ,
                [*_page_parameters(), _choice("status", DebtStatus, "Only debts of this status")],
                "DebtList",
            ),
            "post": api.write(
                "Create Debt",
                "Register a debt of the company, pending. It needs a `phone` or an `email`; an "
                "`iban` whose check digits do not hold is a 400.",
                DEBTS_WRITE,
                "DebtBody",
                "DebtAnswer",
                created=True,
            ),
        },
        f"{API_PREFIX}/debts/{{id}}": {
            "get": api.read(
                "Get Debt",
                "One debt of the company.",
                DEBTS_READ,
                [_path_id("id", "The debt's ID")],
                "DebtAnswer",
                found=True,
            ),
        },
        f"{MEDIA_PATH}/{{key}}": _media_operations(),
        "/healthz": {"get": _service("Liveness", "The process answers.", _json(_ref("Health")))},
        "/readyz": {"get": _readiness()},
        "/openapi.json": {
            "get": _service("OpenAPI document", "This document.", _json({"type": "object"}))
        },
        "/docs": {
            "get": _service(
                "API docs", "This document, rendered; needs no network.", _text("text/html")
            )
        },
        "/docs/{name}": {"get": _asset_operation()},
    }
    if settings.metrics_port is None:  # else the metrics have a port of their own
        metrics = _service("Metrics", "Prometheus metrics of every worker.", _text("text/plain"))
        paths["/metrics"] = {"get": metrics}
    return paths


class _ApiOperations:
    """The operations under the API prefix: a token with a scope, rate-limit headers on the
    answers, and the errors every one of them can meet."""

    def __init__(self, rate_limited: bool) -> None:
        self._rate_limited = rate_limited

    def read(
        self,
        summary: str,
        description: str,
        scope: str,
        parameters: list[Schema],
        answer: str,
        *,
        found: bool = False,
    ) -> Schema:
        errors = ["400", *(["404"] if found else [])]
        return self._operation(summary, description, scope, parameters, "200", answer, errors)

    def write(
        self,
        summary: str,
        description: str,
        scope: str,
        body: str,
        answer: str,
        *,
        created: bool = False,
        path: list[Schema] | None = None,
    ) -> Schema:
        parameters = list(path or [])
        errors = ["400", "413", "415"]
        if created:
            parameters.append(_idempotency_key())
            errors.append("409")
        else:
            errors.append("404")
        operation = self._operation(
            summary, description, scope, parameters, "201" if created else "200", answer, errors
        )
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(body)}},
        }
        return operation

    def _operation(
        self,
        summary: str,
        description: str,
        scope: str,
        parameters: list[Schema],
        status: str,
        answer: str,
        errors: list[str],
    ) -> Schema:
        success: Schema = {"description": summary, "content": _json(_ref(answer))}
        if self._rate_limited:
            success["headers"] = _rate_limit_headers()
        if status == "201":
            success["headers"] = {**success.get("headers", {}), **_replayed_header()}
        responses: Schema = {status: success}
        for code in sorted([*errors, "401", "403", "414", "429", "503"]):
            responses[code] = {"$ref": f"#/components/responses/{_ERROR_NAMES[code]}"}
        return {
            "tags": ["Followups" if scope.startswith("followups") else "Debts"],
            "summary": summary,
            "description": description,
            "operationId": _operation_id(summary),
            "security": [{"oauth2": [scope]}],
            "parameters": parameters,
            "responses": responses,
        }


def _operation_id(summary: str) -> str:
    """ "Get Followups by Debt" -> "getFollowupsByDebt"."""
    first, *rest = summary.split()
    return first.lower() + "".join(word[:1].upper() + word[1:] for word in rest)


def _list_parameters(*, with_debt_id: bool) -> list[Schema]:
    parameters = [
        *_page_parameters(),
        _choice("status", FollowupStatus, "Only followups of this status"),
        _choice("type", FollowupType, "Only followups of this type"),
        _query(
            "date_from",
            {"type": "string", "format": "date", "pattern": _DAY},
            "Only followups whose activity falls on this UTC day or after (YYYY-MM-DD); "
            "not after `date_to`",
        ),
        _query(
            "date_to",
            {"type": "string", "format": "date", "pattern": _DAY},
            "Only followups whose activity falls on this UTC day or before (YYYY-MM-DD)",
        ),
    ]
    if with_debt_id:
        parameters.append(
            _query(
                "debt_id",
                _ref("Id"),
                "Only this debt's followups (its encrypted ID); another company's debt gives "
                "an empty page",
            )
        )
    return parameters


# A calendar date from year 0001 on, the range Python's dates cover.
_DAY = r"^(?!0000)[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _page_parameters() -> list[Schema]:
    return [
        _query(
            "page",
            {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
            "The page, from 1; a page past the end is empty, with the true total",
        ),
        _query(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
            f"Items per page, at most {MAX_LIMIT} (a larger value is a 400, not clamped)",
        ),
    ]


def _choice(name: str, values: Any, description: str) -> Schema:
    return _query(name, {"type": "string", "enum": [v.value for v in values]}, description)


def _query(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "query", "description": description, "schema": schema}


def _path_id(name: str, description: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": _ref("Id")}  # fmt: skip


def _idempotency_key() -> Schema:
    return {
        "name": IDEMPOTENCY_HEADER,
        "in": "header",
        "description": "Makes the POST safe to retry: the same key and body within 24 hours "
        "replay the first answer (`Idempotent-Replayed: true`); the same key with another body "
        "is a 409",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^[!-~]+$"},
    }


def _token_operation() -> Schema:
    oauth_errors = {
        status: {"description": meaning, "content": _json(_ref("OAuthError"))}
        for status, meaning in (
            ("400", "invalid_request, unsupported_grant_type or invalid_scope"),
            ("401", "invalid_client: unknown client, wrong secret or revoked client"),
            ("429", "temporarily_unavailable: too many failed authentications; see Retry-After"),
        )
    }
    oauth_errors["429"]["headers"] = {"Retry-After": _header_ref("Retry-After")}
    return {
        "tags": ["Authentication"],
        "summary": "Exchange client credentials for an access token",
        "description": "OAuth 2.0 client credentials grant (RFC 6749 §4.4). The client "
        "authenticates with `client_id` and `client_secret` form fields or with HTTP Basic, "
        "not both. The token is valid for `expires_in` seconds.",
        "operationId": "issueToken",
        "security": [{}, {"clientBasic": []}],
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": _ref("TokenRequest")}},
        },
        "responses": {
            "200": {"description": "A Bearer token", "content": _json(_ref("Token"))},
            **oauth_errors,
            "414": {"$ref": "#/components/responses/UriTooLong"},
            "503": {"$ref": "#/components/responses/ServiceUnavailable"},
        },
    }


def _media_operations() -> Schema:
    parameters = [
        {"name": "key", "in": "path", "required": True, "schema": {"type": "string"},
         "description": "The media's key in the store, as the followup's URL names it"},
        {"name": "expires", "in": "query", "required": True,
         "schema": {"type": "integer", "minimum": 0}, "description": "Unix time"},
        {"name": "signature", "in": "query", "required": True, "schema": {"type": "string"}},
        {"name": "Range", "in": "header", "schema": {"type": "string"},
         "description": "One byte range, such as bytes=0-1023"},
    ]  # fmt: skip
    media = {"content": {"*/*": {"schema": {"type": "string", "contentMediaType": "*/*"}}}}
    responses = {
        "200": {"description": "The whole file", **media},
        "206": {"description": "The byte range asked for", **media},
        "403": {"$ref": "#/components/responses/Forbidden"},
        "404": {"$ref": "#/components/responses/NotFound"},
        "414": {"$ref": "#/components/responses/UriTooLong"},
        "416": {"$ref": "#/components/responses/RangeNotSatisfiable"},
    }

    def operation(method: str) -> Schema:
        return {
            "tags": ["Service"],
            "summary": f"{method} a recording or document",
            "description": "Served from the local media store under the signed, expiring URL "
            "a followup's `audio_url` or `pdf_url` holds; a tampered, expired or unsigned URL "
            "is a 403. With a bucket store, the URLs point at the bucket instead.",
            "operationId": f"{method.lower()}Media",
            "security": [],
            "parameters": parameters,
            "responses": responses,
        }

    return {"get": operation("GET"), "head": operation("HEAD")}


def _service(summary: str, description: str, content: Schema) -> Schema:
    """An operation that needs no token: a probe, the metrics, the docs."""
    return {
        "tags": ["Service"],
        "summary": summary,
        "description": description,
        "operationId": _operation_id(summary),
        "security": [],
        "responses": {
            "200": {"description": summary, "content": content},
            "414": {"$ref": "#/components/responses/UriTooLong"},
        },
    }


def _text(media_type: str) -> Schema:
    return {media_type: {"schema": {"type": "string"}}}


def _readiness() -> Schema:
    operation = _service(
        "Readiness",
        "The database, and Redis when configured, answer within 2 s; else a 503 naming what "
        "is down in `details`.",
        _json(_ref("Readiness")),
    )
    operation["responses"]["503"] = {"$ref": "#/components/responses/ServiceUnavailable"}
    return operation


def _asset_operation() -> Schema:
    operation = _service(
        "API docs asset",
        "A script or style sheet of the docs page.",
        {**_text("text/javascript"), **_text("text/css")},
    )
    operation["parameters"] = [
        {
            "name": "name",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "enum": list(ASSETS)},
        }
    ]
    operation["responses"]["404"] = {"$ref": "#/components/responses/NotFound"}
    return operation


# --- components ----------------------------------------------------------------------------


def _schemas() -> Schema:
    _, views = msgspec.json.schema_components((FollowupView, DebtView), ref_template=REF)
    views["Followup"] = views.pop("FollowupView")
    views["Debt"] = views.pop("DebtView")
    for name, described in _DESCRIPTIONS.items():
        views[name]["description"] = described
    for view in ("Followup", "Debt"):
        views[view]["additionalProperties"] = False
    schemas: Schema = {
        **views,
        "Id": msgspec.json.schema(PublicId),
        **_body_schemas(),
        "Pagination": _object(
            {
                name: {"type": "integer", "minimum": 0}
                for name in ("total", "page", "limit", "pages")
            }
        ),
        "FollowupList": _list_of("Followup"),
        "FollowupAnswer": _answer_of("Followup"),
        "DebtList": _list_of("Debt"),
        "DebtAnswer": _answer_of("Debt"),
        "Error": _error_schema(),
        "OAuthError": _oauth_error_schema(),
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
    create = {**followup, "properties": {**followup["properties"], "debt_id": _ref("Id")}}
    schemas["FollowupCreate"] = {**create, "required": ["debt_id", "type"]}
    schemas["FollowupUpdate"] = update
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


def _list_of(item: str) -> Schema:
    return _object(
        {
            "error": {"const": False},
            "data": {"type": "array", "items": _ref(item)},
            "pagination": _ref("Pagination"),
        }
    )


def _answer_of(item: str) -> Schema:
    return _object({"error": {"const": False}, "message": {"type": "string"}, "data": _ref(item)})


def _error_schema() -> Schema:
    schema = _object(
        {
            "error": {"const": True},
            "message": {"type": "string", "description": "What went wrong, and what to fix"},
            "code": {"type": "integer", "description": "The HTTP status"},
            "details": {
                "type": "object",
                "description": "For a 400, each parameter or field at fault with its problems; "
                "for a 429, `retry_after`, `limit` and `reset_time`",
            },
        }
    )
    schema["required"] = ["error", "message", "code"]
    return schema


def _oauth_error_schema() -> Schema:
    kinds = [
        "invalid_request",
        "invalid_client",
        "invalid_scope",
        "unsupported_grant_type",
        "temporarily_unavailable",
    ]
    return _object({"error": {"enum": kinds}, "error_description": {"type": "string"}})


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
        DEBTS_WRITE: "Register debts",
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


_ERRORS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "400": ("BadRequest", "Validation failed: `details` names each problem", ()),
    "401": ("Unauthorized", "The token is missing, malformed, expired or revoked",
            ("WWW-Authenticate",)),
    "403": ("Forbidden", "The token lacks the scope, or the media URL is not valid", ()),
    "404": ("NotFound", "No such resource for this company", ()),
    "409": ("Conflict", f"The {IDEMPOTENCY_HEADER} was used with another body, or its first "
            "request is still in progress", ()),
    "413": ("PayloadTooLarge", f"The body is larger than {MAX_BODY_BYTES} bytes", ()),
    "414": ("UriTooLong", f"The query string is longer than {MAX_QUERY_BYTES} bytes", ()),
    "415": ("UnsupportedMediaType", "The body is not sent as application/json", ()),
    "416": ("RangeNotSatisfiable", "The Range starts beyond the end of the file",
            ("Content-Range",)),
    "429": ("TooManyRequests", "The client's rate limit is spent; retry after `Retry-After`",
            ("Retry-After",)),
    "503": ("ServiceUnavailable", "The database is unreachable; retry after `Retry-After`",
            ("Retry-After",)),
}  # fmt: skip
_ERROR_NAMES = {status: name for status, (name, _, _) in _ERRORS.items()}


def _error_responses() -> Schema:
    responses: Schema = {}
    for name, description, headers in _ERRORS.values():
        response: Schema = {"description": description, "content": _json(_ref("Error"))}
        if headers:
            response["headers"] = {header: _header_ref(header) for header in headers}
        responses[name] = response
    return responses


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


def _header_ref(name: str) -> Schema:
    return {"$ref": f"#/components/headers/{name}"}


def _header(description: str, schema: Schema) -> Schema:
    return {"description": description, "required": True, "schema": schema}


def _rate_limit_headers() -> Schema:
    names = (
        "X-RateLimit-Limit",
        "X-RateLimit-Remaining",
        "X-RateLimit-Reset",
        "X-RateLimit-Window",
    )
    return {name: _header_ref(name) for name in names}


def _replayed_header() -> Schema:
    return {
        "Idempotent-Replayed": {
            "description": "true when this is the replay of an earlier request's answer",
            "schema": {"const": "true"},
        }
    }


def _json(schema: Schema) -> Schema:
    return {"application/json": {"schema": schema}}


def _ref(name: str) -> Schema:
    return {"$ref": REF.format(name=name)}
