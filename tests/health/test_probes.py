"""The probes: /healthz answers while the process runs, /readyz only while its database (and
Redis, when configured) answer; neither needs a token."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from relance.app import create_app
from relance.config import Settings
from relance.schema import upgrade
from tests.commands import free_port
from tests.conftest import SECRET
from tests.postgres import ADMIN_URL, _admin

Client = AsyncTestClient[Litestar]


async def test_liveness_and_readiness_need_no_token(client: Client) -> None:
    alive = await client.get("/healthz")
    assert (alive.status_code, alive.json()) == (200, {"status": "ok"})
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "ok"}}
    assert "x-ratelimit-limit" not in ready.headers


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize(
    "settings_overrides", [{"redis_url": f"redis://127.0.0.1:{free_port()}/0"}]
)
async def test_readiness_names_a_redis_that_does_not_answer(client: Client) -> None:
    answer = await client.get("/readyz")
    assert answer.status_code == 503
    body: dict[str, Any] = answer.json()
    assert body["message"] == "Not ready: redis down"
    assert body["code"] == 503
    assert list(body["details"]) == ["redis"]
    assert (await client.get("/healthz")).status_code == 200


async def test_readiness_names_a_database_that_went_away(tmp_path: Path) -> None:
    name = f"relance_probe_{secrets.token_hex(4)}"
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        url = f"{ADMIN_URL.rpartition('/')[0]}/{name}"
        settings = Settings(data_dir=tmp_path, database_url=url, secret_key=SECRET)
        await asyncio.to_thread(upgrade, settings.database)
        async with AsyncTestClient(app=create_app(settings)) as client:
            assert (await client.get("/readyz")).status_code == 200
            await _admin(f'DROP DATABASE "{name}" WITH (FORCE)')  # as if the server went away
            answer = await client.get("/readyz")
            assert answer.status_code == 503
            assert answer.json()["message"] == "Not ready: database down"
            assert answer.headers["retry-after"] == "5"
            assert (await client.get("/healthz")).status_code == 200
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
