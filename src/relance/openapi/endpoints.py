"""GET /openapi.json, the document of the API as served, and GET /docs, that document rendered
by the Swagger UI shipped in the package."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.params import FromPath

from relance.errors import NotFound
from relance.kit.responses import JsonAnswer
from relance.openapi.assets import ASSETS, asset
from relance.operations import Answer, Operation, json_content, text_content

# The docs page runs the bundled scripts and talks to this server only (the document, and
# /token when a reader authorizes); Swagger UI sets inline styles and draws data: images.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# Neither the document nor the page holds personal data; both change only with a new release.
_REVALIDATE = {"Cache-Control": "no-cache"}


@Operation(
    method="GET",
    path="/openapi.json",
    summary="OpenAPI document",
    tag="Service",
    answers=(Answer(200, json_content({"type": "object"})),),
)
async def openapi_document(request: Request[Any, Any, Any]) -> JsonAnswer:
    """This document."""
    # The app's factory left the way to this deployment's document (relance.app).
    document: bytes = request.app.state.openapi_document()
    return JsonAnswer.encoded(document, 200, _REVALIDATE)


@Operation(
    method="GET",
    path="/docs",
    summary="API docs",
    tag="Service",
    answers=(Answer(200, text_content("text/html")),),
)
def docs() -> Response[bytes]:
    """This document, rendered; needs no network."""
    headers = {**_REVALIDATE, "Content-Security-Policy": DOCS_POLICY}
    return Response(asset("docs.html"), media_type="text/html; charset=utf-8", headers=headers)


@Operation(
    method="GET",
    path="/docs/{name}",
    summary="API docs asset",
    tag="Service",
    parameters=(
        {
            "name": "name",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "enum": list(ASSETS)},
        },
    ),
    answers=(Answer(200, text_content("text/javascript", "text/css")),),
    errors=(NotFound,),
)
def docs_asset(name: FromPath[str]) -> Response[bytes]:
    """A script or style sheet of the docs page."""
    content_type = ASSETS.get(name)
    if content_type is None:
        raise NotFound(f"No docs asset is named {name}")
    return Response(asset(name), media_type=content_type, headers=_REVALIDATE)


ROUTES = [openapi_document, docs, docs_asset]
