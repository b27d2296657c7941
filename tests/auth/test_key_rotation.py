"""`relance keys rotate`: new tokens get a new key; tokens signed before keep working; every
process accepts the new key's tokens at once and signs with it once its view is refreshed."""

from __future__ import annotations

import jwt
import pytest
from litestar.testing import AsyncTestClient

from relance.app import create_app
from relance.auth.service import rotate_signing_key
from relance.runtime import Runtime
from tests.factories import Client, bearer, create_client, create_company, token_for

URL = "/external-api/v1/followups"


@pytest.fixture
def auth_cache_seconds() -> int:
    return 3600  # a process that has read the keys does not look again by itself


def kid(token: str) -> str:
    value: str = jwt.get_unverified_header(token)["kid"]
    return value


async def test_tokens_of_both_keys_work_on_every_process(runtime: Runtime, client: Client) -> None:
    credentials = await create_client(runtime, await create_company(runtime))
    before = await token_for(client, credentials)

    async with runtime.db.transaction() as conn:
        assert await rotate_signing_key(conn) == 2

    # A process started after the rotation signs with the new key...
    async with AsyncTestClient(app=create_app(runtime.settings)) as fresh:
        after = await token_for(fresh, credentials)
        assert kid(after) != kid(before)
        # ...and still accepts tokens of the old one.
        assert (await fresh.get(URL, headers=bearer(before))).status_code == 200

    # The older process had read the keys: it still signs with the old key, and accepts the new
    # key's tokens as soon as one arrives.
    assert kid(await token_for(client, credentials)) == kid(before)
    assert (await client.get(URL, headers=bearer(after))).status_code == 200
    assert (await client.get(URL, headers=bearer(before))).status_code == 200
