"""Redis going away mid-run: no request becomes a 500. Failing open, requests are counted in
the process (one warning per outage); failing closed, they are 503s in the envelope. Either
way the limiter finds Redis again by itself."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from relance.runtime import Runtime
from tests.factories import Client, bearer, create_client, create_company, token_for
from tests.redis_server import PrivateRedis, private_redis

URL = "/external-api/v1/followups"
LIMIT = 10
# The limiter tries a Redis it lost again after a second; wait a little longer than that.
RETRY_WAIT = 1.2


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[PrivateRedis]:
    with private_redis(tmp_path) as server:
        yield server


@pytest.fixture
def fail_mode() -> str:
    return "open"


@pytest.fixture
def settings_overrides(redis_server: PrivateRedis, fail_mode: str) -> dict[str, Any]:
    return {"redis_url": redis_server.url, "rate_limit_reads": LIMIT, "rate_limit_fail": fail_mode}


async def new_token(runtime: Runtime, client: Client) -> str:
    return await token_for(client, await create_client(runtime, await create_company(runtime)))


def remaining(response: Any) -> int:
    return int(response.headers["x-ratelimit-remaining"])


async def test_failing_open_counts_in_the_process_and_comes_back(
    runtime: Runtime, client: Client, redis_server: PrivateRedis, caplog: pytest.LogCaptureFixture
) -> None:
    token = await new_token(runtime, client)
    shared = [await client.get(URL, headers=bearer(token)) for _ in range(3)]
    assert [remaining(r) for r in shared] == [LIMIT - 1, LIMIT - 2, LIMIT - 3]

    redis_server.stop()
    with caplog.at_level(logging.WARNING, logger="relance.ratelimit"):
        alone = [await client.get(URL, headers=bearer(token)) for _ in range(4)]
        await asyncio.sleep(RETRY_WAIT)
        still_alone = await client.get(URL, headers=bearer(token))

    assert [r.status_code for r in [*alone, still_alone]] == [200] * 5
    # Counted by this process from its own start while Redis is away.
    assert [remaining(r) for r in [*alone, still_alone]] == [LIMIT - n for n in range(1, 6)]
    outage = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(outage) == 1, caplog.text

    redis_server.start()  # empty: it keeps nothing on disk
    await asyncio.sleep(RETRY_WAIT)
    with caplog.at_level(logging.WARNING, logger="relance.ratelimit"):
        back = await client.get(URL, headers=bearer(token))

    assert back.status_code == 200
    assert remaining(back) == LIMIT - 1, "counted by the fresh Redis, not by the process"
    assert any("answers again" in r.getMessage() for r in caplog.records), caplog.text


@pytest.mark.parametrize("fail_mode", ["closed"])
async def test_failing_closed_answers_503_until_redis_returns(
    runtime: Runtime, client: Client, redis_server: PrivateRedis, fail_mode: str
) -> None:
    token = await new_token(runtime, client)
    assert (await client.get(URL, headers=bearer(token))).status_code == 200

    redis_server.stop()
    refused = [await client.get(URL, headers=bearer(token)) for _ in range(3)]

    for response in refused:
        assert response.status_code == 503, response.text
        assert response.json() == {
            "error": True,
            "message": "Service temporarily unavailable, please retry shortly",
            "code": 503,
        }
        assert int(response.headers["retry-after"]) >= 1

    redis_server.start()
    await asyncio.sleep(RETRY_WAIT)
    back = await client.get(URL, headers=bearer(token))
    assert back.status_code == 200, back.text
    assert remaining(back) == LIMIT - 1
