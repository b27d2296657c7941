"""GET /openapi.json, the document of the API as served, and GET /docs, that document rendered
by the Swagger UI shipped in the package."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from relance.errors import NotFound
from relance.kit.responses import JsonAnswer
from relance.openapi.assets import ASSETS, asset

# The docs page runs the bundled scripts and talks to this server only (the document, and
# /token when a reader authorizes); Swagger UI sets inline styles and draws data: images.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# Neither the document nor the page holds personal data; both change only with a new release.
_REVALIDATE = {"Cache-Control": "no-cache"}


@get("/openapi.json", summary="OpenAPI document")
async def openapi_document(request: Request[Any, Any, Any]) -> JsonAnswer:
    # The app's factory left the way to this deployment's document (relance.app).
    document: bytes = request.app.state.openapi_document()
    return JsonAnswer.encoded(document, 200, _REVALIDATE)


@get("/docs", summary="API docs", sync_to_thread=False)
def docs() -> Response[bytes]:
    headers = {**_REVALIDATE, "Content-Security-Policy": DOCS_POLICY}
    return Response(asset("docs.html"), media_type="text/html; charset=utf-8", headers=headers)


@get("/docs/{name:str}", summary="API docs asset", sync_to_thread=False)
def docs_asset(name: FromPath[str]) -> Response[bytes]:
    content_type = ASSETS.get(name)
    if content_type is None:
        raise NotFound(f"No docs asset is named {name}")
    return Response(asset(name), media_type=content_type, headers=_REVALIDATE)


ROUTES = [openapi_document, docs, docs_asset]
