"""/openapi.json describes what the app serves, and /docs renders it from local files only.
What the live server answers is held to the document by tests/openapi/test_fuzz.py."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar import Litestar
from litestar.routes import ASGIRoute, HTTPRoute
from litestar.testing import AsyncTestClient
from openapi_spec_validator import validate

from relance.api import API_ROUTES
from relance.app import create_app
from relance.config import Settings
from relance.errors import AppError, NotFound
from relance.media.endpoints import MEDIA_PATH
from relance.openapi.document import build_document
from relance.openapi.paths import documented, errors_of, paths
from relance.operations import Answer, Operation, declared, text_content
from relance.runtime import Runtime
from tests.factories import new_tenant_headers

Client = AsyncTestClient[Litestar]
METHODS = {"get", "put", "post", "delete", "patch", "head"}
_PARAMETER = re.compile(r"\{[^}]*\}")


async def document_of(client: Client) -> dict[str, Any]:
    answer = await client.get("/openapi.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    shown: dict[str, Any] = answer.json()
    return shown


def served_operations(app: Litestar) -> set[tuple[str, str]]:
    """Each (path, method) the app routes, path parameters unnamed; OPTIONS, which the
    framework answers on every path, left out."""
    operations = set()
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            path = _PARAMETER.sub("{}", route.path)
            operations |= {(path, m.lower()) for m in route.methods if m != "OPTIONS"}
        elif isinstance(route, ASGIRoute) and route.path == MEDIA_PATH:
            # The media mount answers GET and HEAD under it, 405 to anything else.
            operations |= {(f"{MEDIA_PATH}/{{}}", "get"), (f"{MEDIA_PATH}/{{}}", "head")}
        else:
            raise AssertionError(f"a route of an unknown kind: {route.path}")
    return operations


def documented_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (_PARAMETER.sub("{}", path), method)
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }


async def test_the_document_is_valid_openapi_3_1(client: Client) -> None:
    document = await document_of(client)
    assert document["openapi"] == "3.1.0"
    validate(document)  # raises on any departure from the OpenAPI 3.1 schema


async def test_every_route_is_documented_and_nothing_else(client: Client) -> None:
    document = await document_of(client)
    assert documented_operations(document) == served_operations(client.app)


async def test_every_operation_is_described_with_its_errors(client: Client) -> None:
    document = await document_of(client)
    operation_ids = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            operation_ids.append(operation["operationId"])
            assert operation["summary"], (method, path)
            assert "security" in operation, (method, path)
            if path.startswith("/external-api/v1"):
                responses = set(operation["responses"])
                # A token, a scope, a rate limit and the database: every API call can meet these.
                assert {"401", "403", "429", "503"} <= responses, (method, path)
                assert responses & {"200", "201", "202"}, (method, path)
    assert len(operation_ids) == len(set(operation_ids))


async def test_the_followup_schema_is_the_served_object(client: Client) -> None:
    document = await document_of(client)
    followup = document["components"]["schemas"]["Followup"]
    # The 24 fields of GetBill's document, all required, no other.
    assert len(followup["properties"]) == 24
    assert set(followup["required"]) == set(followup["properties"])
    assert followup["additionalProperties"] is False
    parameters = document["paths"]["/external-api/v1/followups"]["get"]["parameters"]
    assert [p["name"] for p in parameters] == [
        "page", "limit", "status", "type", "date_from", "date_to", "debt_id"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("overrides", "metrics", "rate_headers"),
    [
        ({}, True, True),
        ({"metrics_port": 9464, "rate_limit_enabled": False}, False, False),
    ],
)
def test_the_document_follows_the_deployment(
    settings: Settings, overrides: dict[str, Any], metrics: bool, rate_headers: bool
) -> None:
    """Metrics on a port of their own, or rate limits turned off: the document says so."""
    shape = settings.model_copy(update=overrides)
    app, document = create_app(shape), build_document(shape)
    assert ("/metrics" in document["paths"]) is metrics
    answer = document["paths"]["/external-api/v1/followups"]["get"]["responses"]["200"]
    assert ("X-RateLimit-Remaining" in answer.get("headers", {})) is rate_headers
    assert documented_operations(document) == served_operations(app)


async def test_the_docs_page_renders_from_local_files_only(client: Client) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    # The browser may load scripts, styles and data from this server only.
    for directive in ("script-src 'self'", "connect-src 'self'", "default-src 'none'"):
        assert directive in policy
    assert "http" not in policy
    referenced = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sorted(referenced) == [
        "docs/docs.js", "docs/swagger-ui-bundle.js", "docs/swagger-ui.css"
    ]  # fmt: skip
    for name in referenced:
        asset = await client.get(f"/{name}")
        assert asset.status_code == 200, name
        kind = "text/css" if name.endswith(".css") else "text/javascript"
        assert asset.headers["content-type"].startswith(kind)
    script = (await client.get("/docs/docs.js")).text
    assert 'url: "openapi.json"' in script
    assert "validatorUrl: null" in script  # no copy of the document sent to swagger.io
    bundle = (await client.get("/docs/swagger-ui-bundle.js")).text
    assert "SwaggerUIBundle" in bundle


async def test_only_the_docs_assets_are_served(client: Client) -> None:
    for name in ("docs.html", "swagger-ui.LICENSE", "..%2F..%2Fconfig.py", "nothing.js"):
        answer = await client.get(f"/docs/{name}")
        assert answer.status_code == 404, name
        assert answer.json()["error"] is True


async def test_every_secured_operation_refuses_a_missing_token_or_scope(
    client: Client, runtime: Runtime
) -> None:
    """What schemathesis cannot check with an OAuth 2.0 scheme: each operation the document
    secures answers 401 without a valid token and 403 with a token that lacks its scope."""
    document = await document_of(client)
    _, other_scope = await new_tenant_headers(runtime, client, scopes=("reports:read",))
    secured = [
        (method, path, operation["security"][0]["oauth2"][0])
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if operation["security"] and "oauth2" in operation["security"][0]
    ]
    # Every operation under the API's base path, and only those, takes a token.
    methods = [m for handler in API_ROUTES for m in getattr(handler, "http_methods", ())]
    assert len(secured) == len(methods)
    for method, path, scope in secured:
        url = re.sub(r"\{[^}]*\}", "3kTMd9pYqZ1bXw7LrN2vHc", path)
        json_body: dict[str, Any] | None = {} if method in ("post", "put", "patch") else None
        for headers in ({}, {"Authorization": "Bearer not-a-token"}):
            answer = await client.request(method, url, headers=headers, json=json_body)
            assert answer.status_code == 401, (method, path, headers)
            assert answer.headers["www-authenticate"].startswith("Bearer")
        answer = await client.request(method, url, headers=other_scope, json=json_body)
        assert answer.status_code == 403, (method, path)
        assert answer.json()["message"] == f'Required scope "{scope}" not found in token'


def references(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [ref for key, value in node.items()
                for ref in ([value] if key == "$ref" else references(value))]  # fmt: skip
    if isinstance(node, list):
        return [ref for item in node for ref in references(item)]
    return []


def test_every_reference_resolves(settings: Settings) -> None:
    document = build_document(settings)
    found = references(document)
    assert "#/components/responses/NotFound" in found
    for ref in found:
        target: Any = document
        for part in ref.removeprefix("#/").split("/"):
            assert part in target, ref
            target = target[part]


def test_each_error_is_documented_as_its_class_says(settings: Settings) -> None:
    """Every error an operation can answer, its own and its machinery's, is documented under
    its status by the answer its class describes."""
    document = build_document(settings)
    components = document["components"]["responses"]
    for path, op in documented(settings):
        responses = document["paths"][path][op.method.lower()]["responses"]
        for error in errors_of(op):
            if "$ref" not in responses[str(error.status)]:  # POST /token's own answers
                continue
            assert responses[str(error.status)]["$ref"].endswith(f"/{error.title}"), path
            assert components[error.title]["description"] == error.description
            assert set(components[error.title].get("headers", {})) == set(error.header_names)
    creating = document["paths"]["/external-api/v1/followups"]["post"]["responses"]
    assert set(creating) == {"201", "400", "401", "403", "409", "413", "414", "415", "429", "503"}


def test_a_status_answered_two_ways_is_refused() -> None:
    class Gone(AppError):
        status = 404
        title = "Gone"

    def handler() -> None:
        """Answers nothing."""

    gone = Operation(
        method="GET",
        path="/gone",
        summary="Gone",
        tag="Service",
        answers=(Answer(200, text_content("text/plain")),),
        errors=(NotFound, Gone),
    )
    with pytest.raises(ValueError, match="404"):
        paths([("/gone", declared(gone(handler))[0])], rate_limited=False)


def test_an_operation_is_described_by_its_handler_docstring() -> None:
    listing = Operation(
        method="GET",
        path="/things/{name}",
        summary="List Things by Name",
        tag="Service",
        answers=(Answer(200, text_content("text/plain")),),
    )

    def undocumented() -> None:
        pass

    def things(name: str) -> None:
        """The things of that name,
        newest first."""

    with pytest.raises(TypeError, match="docstring"):
        listing(undocumented)
    route = listing(things)
    assert route.paths == {"/things/{name:str}"}
    (shown,) = declared(route)
    assert shown.description == "The things of that name, newest first."
    assert shown.operation_id == "listThingsByName"
