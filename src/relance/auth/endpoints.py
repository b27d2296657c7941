"""POST /token: the OAuth 2.0 client credentials grant (RFC 6749 §4.4)."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import parse_qsl, unquote

from litestar import Request

from relance.auth import audit
from relance.auth.authority import Authority, TokenThrottles
from relance.auth.credentials import looks_like_client_id
from relance.auth.service import exchange_client_credentials
from relance.auth.tokens import IssuedToken
from relance.context import runtime_of
from relance.db import Connection
from relance.errors import OAuthError, ServiceUnavailable
from relance.kit.responses import JsonAnswer
from relance.operations import Answer, Body, Operation, header_ref, json_content, ref

FORM = "application/x-www-form-urlencoded"


def _refusal(status: int, meaning: str, *headers: str) -> Answer:
    """A failure answered as RFC 6749 §5.2 says, not in the API's envelope."""
    named = {name: header_ref(name) for name in headers}
    return Answer(status, json_content(ref("OAuthError")), meaning, named)


@Operation(
    method="POST",
    path="/token",
    summary="Exchange client credentials for an access token",
    operation_id="issueToken",
    tag="Authentication",
    security=({}, {"clientBasic": []}),
    body=Body("TokenRequest", FORM),
    answers=(
        Answer(200, json_content(ref("Token")), "A Bearer token"),
        _refusal(400, "invalid_request, unsupported_grant_type or invalid_scope"),
        _refusal(401, "invalid_client: unknown client, wrong secret or revoked client"),
        _refusal(
            429,
            "temporarily_unavailable: too many failed authentications; see Retry-After",
            "Retry-After",
        ),
    ),
    errors=(ServiceUnavailable,),
)
async def issue_token(request: Request[Any, Any, Any]) -> JsonAnswer:
    """OAuth 2.0 client credentials grant (RFC 6749 §4.4). The client authenticates with
    `client_id` and `client_secret` form fields or with HTTP Basic, not both. The token is valid
    for `expires_in` seconds."""
    runtime = runtime_of(request.scope)
    address = request.client.host if request.client else "unknown"
    claimed: str | None = None
    try:
        form = _parse_form(request.headers.get("content-type"), await request.body())
        claimed = form.get("client_id")
        client_id, secret, basic = _client_credentials(request.headers.get("authorization"), form)
        claimed = client_id
        issued, scopes = await _grant(runtime.db, runtime.authority, form, client_id, secret, basic)
    except OAuthError as refusal:
        answer = _counted(runtime.authority.throttles, refusal, address, claimed)
        audit.token_refused(claimed, address, answer.error)
        raise answer from None
    audit.token_issued(client_id, address, scopes)
    body = {
        "access_token": issued.token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "scope": " ".join(scopes),
    }
    return JsonAnswer(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def _counted(
    throttles: TokenThrottles, refusal: OAuthError, address: str, claimed: str | None
) -> OAuthError:
    """A failed client authentication, counted against its address and client ID; once either
    has failed too often, the answer is 429 rather than 401.

    Only failures are throttled, after the secret was checked: a correct secret is answered
    whoever else failed, or a known client ID would let anyone lock its owner out, and 20
    failures from a proxy's address would lock out every company behind it. The check costs a
    keyed SHA-256 and a lookup by unique key, as any failure does."""
    if refusal.error != "invalid_client" or claimed is None:
        return refusal
    # Only a client ID of the shape Relance makes names a client; any other is not kept.
    client_key = claimed if looks_like_client_id(claimed) else None
    wait = throttles.by_address.retry_after(address)
    if client_key is not None:
        wait = wait or throttles.by_client.retry_after(client_key)
        throttles.by_client.fail(client_key)
    throttles.by_address.fail(address)
    if wait is None:
        return refusal
    return OAuthError(
        "temporarily_unavailable",
        f"too many failed authentications; try again in {wait} s",
        status=429,
        headers={"Retry-After": str(wait)},
    )


async def _grant(
    db: Connection,
    authority: Authority,
    form: dict[str, str],
    client_id: str,
    secret: str,
    basic: bool,
) -> tuple[IssuedToken, tuple[str, ...]]:
    if form.get("grant_type") is None:
        raise OAuthError("invalid_request", "grant_type is required")
    if form["grant_type"] != "client_credentials":
        raise OAuthError(
            "unsupported_grant_type", "only grant_type=client_credentials is supported"
        )
    return await exchange_client_credentials(
        db, authority, client_id, secret, form.get("scope"), basic=basic
    )


def _parse_form(content_type: str | None, body: bytes) -> dict[str, str]:
    if (content_type or "").split(";")[0].strip().lower() != FORM:
        raise OAuthError("invalid_request", f"the request body must be {FORM}")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise OAuthError("invalid_request", "the request body is not valid UTF-8") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            # RFC 6749 §3.2: parameters must not be repeated.
            raise OAuthError("invalid_request", f"parameter {name} is given more than once")
        form[name] = value
    return form


def _client_credentials(authorization: str | None, form: dict[str, str]) -> tuple[str, str, bool]:
    in_form = "client_id" in form or "client_secret" in form
    if authorization:
        if in_form:
            raise OAuthError(
                "invalid_request", "authenticate with HTTP Basic or form fields, not both"
            )
        client_id, secret = _basic_credentials(authorization)
        return client_id, secret, True
    if not form.get("client_id") or not form.get("client_secret"):
        raise OAuthError("invalid_request", "client_id and client_secret are required")
    return form["client_id"], form["client_secret"], False


def _basic_credentials(authorization: str) -> tuple[str, str]:
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        raise OAuthError("invalid_request", "the Authorization header must use the Basic scheme")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError("invalid_request", "the Basic credentials are not valid base64") from None
    client_id, colon, secret = decoded.partition(":")
    if not colon or not client_id:
        raise OAuthError("invalid_request", "the Basic credentials must be client_id:client_secret")
    # RFC 6749 §2.3.1: both parts are form-urlencoded before being joined.
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))
