"""Revoked clients and rotated secrets: their tokens stop working on the API."""

from __future__ import annotations

import pytest

from relance.auth.service import NewClient, revoke_client, rotate_secret
from relance.runtime import Runtime
from tests.factories import Client, bearer, create_client, create_company, token_for

URL = "/external-api/v1/followups"


@pytest.fixture
def auth_cache_seconds() -> int:
    return 0  # every request reads the client's standing


@pytest.fixture
async def credentials(runtime: Runtime, client: Client) -> NewClient:
    return await create_client(runtime, await create_company(runtime))


def form(client_id: str, secret: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}


async def test_a_revoked_clients_tokens_and_secret_stop_working(
    runtime: Runtime, client: Client, credentials: NewClient
) -> None:
    token = await token_for(client, credentials)
    assert (await client.get(URL, headers=bearer(token))).status_code == 200

    async with runtime.db.transaction() as conn:
        assert await revoke_client(conn, credentials.client_id)

    refused = await client.get(URL, headers=bearer(token))
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    again = await client.post("/token", data=form(credentials.client_id, credentials.client_secret))
    assert again.status_code == 401
    assert again.json()["error"] == "invalid_client"


async def test_a_rotated_secret_replaces_the_old_one_and_its_tokens(
    runtime: Runtime, client: Client, credentials: NewClient
) -> None:
    old_token = await token_for(client, credentials)
    async with runtime.db.transaction() as conn:
        new_secret = await rotate_secret(conn, runtime.keys, credentials.client_id)
    assert new_secret is not None
    assert new_secret != credentials.client_secret

    assert (await client.get(URL, headers=bearer(old_token))).status_code == 401
    old = await client.post("/token", data=form(credentials.client_id, credentials.client_secret))
    assert old.json()["error"] == "invalid_client"
    fresh = await client.post("/token", data=form(credentials.client_id, new_secret))
    assert fresh.status_code == 200
    listed = await client.get(URL, headers=bearer(fresh.json()["access_token"]))
    assert listed.status_code == 200


async def test_a_revoked_client_cannot_be_given_a_new_secret(
    runtime: Runtime, credentials: NewClient
) -> None:
    async with runtime.db.transaction() as conn:
        await revoke_client(conn, credentials.client_id)
        assert await rotate_secret(conn, runtime.keys, credentials.client_id) is None
        assert not await revoke_client(conn, "rlc_unknown")


async def test_other_clients_of_the_company_keep_working(
    runtime: Runtime, client: Client, credentials: NewClient
) -> None:
    company = await create_company(runtime, "Second SAS")
    kept = await create_client(runtime, company)
    kept_token = await token_for(client, kept)
    async with runtime.db.transaction() as conn:
        await revoke_client(conn, credentials.client_id)
    assert (await client.get(URL, headers=bearer(kept_token))).status_code == 200
