"""Bearer tokens on the API: anything but a genuine, current token of a live client is a 401."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from relance.auth.service import NewClient
from relance.runtime import Runtime
from tests.factories import Client, bearer, create_client, create_company, token_for

URL = "/external-api/v1/followups"


@pytest.fixture
async def genuine(runtime: Runtime, client: Client) -> tuple[str, dict[str, Any]]:
    credentials: NewClient = await create_client(runtime, await create_company(runtime))
    token = await token_for(client, credentials)
    return token, jwt.decode(token, options={"verify_signature": False})


def signed(runtime: Runtime, genuine: tuple[str, dict[str, Any]], **changes: Any) -> str:
    """The genuine token's claims, changed, signed with the deployment's key under its kid."""
    token, claims = genuine
    header = {"kid": jwt.get_unverified_header(token)["kid"]}
    key = runtime.keys.token_signing(1)
    return jwt.encode({**claims, **changes}, key, algorithm="HS256", headers=header)


async def assert_refused(client: Client, token: str) -> None:
    response = await client.get(URL, headers=bearer(token))
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.json()["message"] == "Authentication credentials are missing or invalid"


async def test_a_genuine_token_is_accepted_as_signed_here(
    runtime: Runtime, client: Client, genuine: tuple[str, dict[str, Any]]
) -> None:
    # Re-signing the same claims with the deployment key must work, or the cases below prove
    # nothing about the claim each one changes.
    assert (await client.get(URL, headers=bearer(signed(runtime, genuine)))).status_code == 200


@pytest.mark.parametrize(
    "changes",
    [
        {"iss": "someone-else"},
        {"exp": int(time.time()) - 10},
        {"nbf": int(time.time()) + 3600},
        {"iat": int(time.time()) + 3600},
        {"company_id": "0000000000000000000000"},
        {"sv": 99},
        {"sub": "rlc_somebody_else"},
    ],
    ids=lambda c: next(iter(c)),
)
async def test_a_token_with_a_wrong_claim_is_refused(
    runtime: Runtime, client: Client, genuine: tuple[str, dict[str, Any]], changes: dict[str, Any]
) -> None:
    await assert_refused(client, signed(runtime, genuine, **changes))


@pytest.mark.parametrize("claim", ["exp", "sv", "sub", "company_id", "scope", "iss"])
async def test_a_token_missing_a_claim_is_refused(
    runtime: Runtime, client: Client, genuine: tuple[str, dict[str, Any]], claim: str
) -> None:
    token, claims = genuine
    kept = {k: v for k, v in claims.items() if k != claim}
    header = {"kid": jwt.get_unverified_header(token)["kid"]}
    key = runtime.keys.token_signing(1)
    await assert_refused(client, jwt.encode(kept, key, algorithm="HS256", headers=header))


async def test_a_tampered_payload_is_refused(
    client: Client, genuine: tuple[str, dict[str, Any]]
) -> None:
    token, _ = genuine
    header, payload, signature = token.split(".")
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    more = raw.replace(b'"scope":"', b'"scope":"debts:write ')
    forged = base64.urlsafe_b64encode(more).rstrip(b"=").decode()
    await assert_refused(client, f"{header}.{forged}.{signature}")


async def test_a_token_naming_no_known_key_is_refused(
    runtime: Runtime, client: Client, genuine: tuple[str, dict[str, Any]]
) -> None:
    _, claims = genuine
    key = runtime.keys.token_signing(1)
    for header in ({}, {"kid": "0123456789abcdef"}):
        await assert_refused(client, jwt.encode(claims, key, algorithm="HS256", headers=header))


async def test_an_rs256_token_is_refused(
    client: Client, genuine: tuple[str, dict[str, Any]]
) -> None:
    _, claims = genuine
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    await assert_refused(client, jwt.encode(claims, pem, algorithm="RS256"))


@pytest.mark.parametrize(
    "changes",
    [
        {"sv": "x"},
        {"sv": {"n": 1}},
        {"sv": [1]},
        {"sv": True},
        {"sv": 2**70},
        {"sv": 1.5},
        {"scope": ["debts:read"]},
        {"scope": 7},
        {"company_id": 3},
        {"company_id": ["x"]},
        {"sub": ["rlc_x"]},
        {"sub": 12},
        {"exp": 10**30},
        {"exp": "soon"},
        {"exp": {"at": 1}},
        {"iat": "x"},
        {"iat": [1]},
        {"nbf": {"n": 1}},
        {"jti": 5},
        {"iss": ["relance"]},
    ],
    ids=lambda c: f"{next(iter(c))}={next(iter(c.values()))!r}",
)
async def test_a_validly_signed_token_with_a_malformed_claim_is_a_401(
    runtime: Runtime, client: Client, genuine: tuple[str, dict[str, Any]], changes: dict[str, Any]
) -> None:
    # Only the deployment's key can sign these, but a bad claim must still read as a bad token,
    # never as a server error. Signed as raw JWS: PyJWT's encoder refuses some of these claims.
    token, claims = genuine
    header = {"kid": jwt.get_unverified_header(token)["kid"]}
    payload = json.dumps({**claims, **changes}).encode()  # orjson stops at 64-bit integers
    key = runtime.keys.token_signing(1)
    forged = jwt.api_jws.PyJWS().encode(payload, key, algorithm="HS256", headers=header)
    await assert_refused(client, forged)
