"""Each operation of the API declared once, beside its handler: its method and path, the token
it takes, its parameters and body, what it answers, the errors its handler raises, and
its docstring, which is its description. Used as the handler's decorator, a declaration makes
the Litestar route handler and stays on it; relance.openapi makes the document's entry of
every declaration it finds there (`declared`).

A declaration names only the errors its own code raises: those of the machinery it declares
(the token's check, the parsing of a JSON body, an idempotent POST's key, the
query's length) are added by the document, from that machinery, once.

This module knows no domain, and no package of the app but `errors` and `kit`: every domain
declares its operations with it, the one that checks tokens included."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

import msgspec
from litestar.di import Provide
from litestar.handlers import ASGIRouteHandler, BaseRouteHandler, HTTPRouteHandler
from litestar.types import Method
from pydantic import BaseModel

from relance.errors import AppError
from relance.kit.pagination import CURSOR_DEFAULT, CURSOR_MAX, DEFAULT_LIMIT, MAX_LIMIT, MAX_PAGE

Schema = dict[str, Any]
Handler = Callable[..., Any]
REF = "#/components/schemas/{name}"
JSON = "application/json"
# Where a route handler keeps the operations it serves.
_DECLARED = "relance.operations"
_PATH_PARAMETER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Envelope:
    """A view in the API's envelope: one (`{"error": false, "message", "data"}`) or a page of
    them (`{"error": false, "data", "pagination"}`). The document names it after the view."""

    view: type[msgspec.Struct]
    paged: bool = False
    # A page by cursor (`{"error": false, "data", "pagination": {"limit", "has_more",
    # "next_starting_after"}}`), newest first, instead of by number.
    cursor: bool = False
    # A feed's page (`{"error": false, "data", "next_cursor", "has_more"}`), oldest first.
    feed: bool = False
    # Every one of them in the object envelope (`{"error": false, "message", "data": [...]}`),
    # unpaged, as GetBill answers a company's users.
    listed: bool = False
    # The view one level deeper (`{"error": false, "message", "data": {"data": ...}}`), as
    # GetBill answers a debtor or a creditor, with `inner_message` beside it if it says one.
    nested: bool = False
    inner_message: str | None = None

    @property
    def item(self) -> str:
        return self.view.__name__.removesuffix("View")

    @property
    def name(self) -> str:
        if self.feed:
            return self.item + "Feed"
        if self.nested:
            return self.item + ("Updated" if self.inner_message else "Answer")
        return self.item + ("List" if self.paged or self.cursor or self.listed else "Answer")


@dataclass(frozen=True)
class Answer:
    """One answer an operation documents: its status, what it holds (by media type, or a view
    in the envelope) and what it means (the operation's summary unless said)."""

    status: int
    content: Mapping[str, Schema] | Envelope
    description: str | None = None
    headers: Mapping[str, Schema] = field(default_factory=dict)


@dataclass(frozen=True)
class PathId:
    """An encrypted ID in the path: `shown` is its name in the document (GetBill's), `name` the
    one the handler takes it by, which the route's template, and so the metrics, show."""

    shown: str
    name: str
    description: str
    # The ID's schema, when it is not a plain encrypted ID (an event's "evt_...").
    id_schema: Schema | None = None

    def schema(self) -> Schema:
        return {"name": self.shown, "in": "path", "required": True,
                "description": self.description,
                "schema": self.id_schema or ref("Id")}  # fmt: skip


@dataclass(frozen=True)
class Token:
    """The Bearer token an operation takes: the scope it must hold, and the dependency that
    checks it and yields the caller (made by relance.auth.dependencies.Authenticator)."""

    scope: str
    check: Provide


@dataclass(frozen=True)
class Body:
    """A request body, by the name of its schema among the document's."""

    schema: str
    media_type: str = JSON
    # The model that checks it, when the document does not know it already (the followup and
    # debt bodies): its schema is the document's, under `schema`.
    model: type[BaseModel] | None = None
    # False where an empty body stands for the model's defaults.
    required: bool = True


@dataclass(frozen=True, kw_only=True)
class Operation:
    """One operation of the API; see the module's text."""

    method: Method
    # Under the router that serves it, each path parameter as {name}, the name GetBill uses.
    path: str
    summary: str
    tag: str
    answers: tuple[Answer, ...]
    # None for an operation that takes no token.
    token: Token | None = None
    # Only where the token does not say it (POST /token authenticates clients).
    security: tuple[Schema, ...] | None = None
    parameters: tuple[Schema | PathId, ...] = ()
    body: Body | None = None
    # The same Idempotency-Key and body replay the first answer.
    idempotent: bool = False
    errors: tuple[type[AppError], ...] = ()
    operation_id: str = ""
    description: str = ""

    def __call__(self, handler: Handler) -> HTTPRouteHandler:
        """Used as the handler's decorator: its route handler, which keeps this declaration,
        with the handler's docstring as description and the token's check."""
        declaration = _described(self, handler)
        dependencies = {} if self.token is None else {"principal": self.token.check}
        return HTTPRouteHandler(
            self._route_path(),
            http_method=self.method,
            status_code=self.answers[0].status,
            dependencies=dependencies,
            opt={_DECLARED: (declaration,)},
            # Every synchronous handler only returns what it holds: none needs a thread.
            sync_to_thread=None if inspect.iscoroutinefunction(handler) else False,
        )(handler)

    def _route_path(self) -> str:
        names = {p.shown: p.name for p in self.parameters if isinstance(p, PathId)}
        return _PATH_PARAMETER.sub(lambda m: f"{{{names.get(m[1], m[1])}:str}}", self.path)


def mounted(*operations: Operation) -> Callable[[ASGIRouteHandler], ASGIRouteHandler]:
    """Decorates an ASGI mount, which serves its methods itself, with the operations it
    serves; they take its docstring as their description."""

    def declare(handler: ASGIRouteHandler) -> ASGIRouteHandler:
        handler.opt[_DECLARED] = tuple(_described(op, handler.fn) for op in operations)
        return handler

    return declare


def declared(handler: BaseRouteHandler) -> tuple[Operation, ...]:
    operations: tuple[Operation, ...] = handler.opt[_DECLARED]
    return operations


def _described(declared: Operation, handler: Handler) -> Operation:
    # The docstring's lines, wrapped for the source, are one paragraph in the document.
    description = " ".join((handler.__doc__ or "").split())
    if not description:
        raise TypeError(f"{handler.__name__} needs a docstring: it is its operation's text")
    return replace(
        declared,
        description=description,
        operation_id=declared.operation_id or _operation_id(declared.summary),
    )


def _operation_id(summary: str) -> str:
    """ "Get Followups by Debt" -> "getFollowupsByDebt"."""
    first, *rest = summary.split()
    return first.lower() + "".join(word[:1].upper() + word[1:] for word in rest)


# --- what declarations are made of ----------------------------------------------------------


def ref(name: str) -> Schema:
    return {"$ref": REF.format(name=name)}


def header_ref(name: str) -> Schema:
    return {"$ref": f"#/components/headers/{name}"}


def json_content(schema: Schema) -> dict[str, Schema]:
    return {JSON: {"schema": schema}}


def text_content(*media_types: str) -> dict[str, Schema]:
    return {media_type: {"schema": {"type": "string"}} for media_type in media_types}


def query(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "query", "description": description, "schema": schema}


def choice(name: str, values: type[Enum], description: str) -> Schema:
    return query(name, {"type": "string", "enum": [v.value for v in values]}, description)


PAGE_PARAMETERS = (
    query(
        "page",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
        "The page, from 1; a page past the end is empty, with the true total",
    ),
    query(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        f"Items per page, at most {MAX_LIMIT} (a larger value is a 400, not clamped)",
    ),
)


def cursor_parameters(item: str, prefix: str) -> tuple[Schema, ...]:
    """`limit` and `starting_after` (an ID starting `prefix`) of a list paged by cursor,
    newest first."""
    return (
        query(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": CURSOR_MAX, "default": CURSOR_DEFAULT},
            f"{item} per page, at most {CURSOR_MAX}",
        ),
        query(
            "starting_after",
            {"type": "string", "pattern": f"^{prefix}[0-9A-Za-z]{{22}}$"},
            f"The ID of the last of the previous page's {item.lower()}: the page continues"
            " with older ones",
        ),
    )
