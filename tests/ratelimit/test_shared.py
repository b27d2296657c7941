"""Several `relance serve` processes on one PostgreSQL and one Redis are one deployment: a
client's budget is let through exactly once across all of them, whatever the concurrency."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.commands import ok_json, relance, report, serving
from tests.postgres import scratch_database
from tests.redis_server import PrivateRedis

URL = "/external-api/v1/followups"
BUDGETS = {"small": 17, "large": 41}
REQUESTS_PER_CLIENT = 90
WRITE_BUDGET = 13
WRITES = 40
DEBT = {"firstname": "A", "lastname": "B", "amount": 1, "currency": "EUR", "email": "a@b.fr"}


@pytest.fixture
def deployment(tmp_path: Path, shared_redis: PrivateRedis) -> Iterator[tuple[Path, dict[str, str]]]:
    with scratch_database("relance_shared") as url:
        env = {"RELANCE_DATABASE_URL": url, "RELANCE_REDIS_URL": shared_redis.url}
        upgraded = relance("db", "upgrade", data_dir=tmp_path, env=env)
        assert upgraded.returncode == 0, report(upgraded)
        yield tmp_path, env


def new_client(data_dir: Path, env: dict[str, str], *limits: str) -> dict[str, Any]:
    company = ok_json(relance("companies", "create", "Co", "--json", data_dir=data_dir, env=env))
    made = relance(
        "clients",
        "create",
        *("--company", company["id"], "--scopes", "followups:read debts:read debts:write"),
        *limits,
        "--json",
        data_dir=data_dir,
        env=env,
    )
    client: dict[str, Any] = ok_json(made)
    return client


async def token(http: httpx.AsyncClient, base: str, client: dict[str, Any]) -> str:
    form = {"grant_type": "client_credentials"} | {
        key: client[key] for key in ("client_id", "client_secret")
    }
    response = await http.post(f"{base}/token", data=form)
    assert response.status_code == 200, response.text
    value: str = response.json()["access_token"]
    return value


async def storm(bases: list[str], clients: dict[str, dict[str, Any]]) -> dict[str, Counter[int]]:
    """Every client's requests at once, spread over every process in turn."""
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        tokens = {name: await token(http, bases[0], client) for name, client in clients.items()}
        turns = itertools.cycle(bases)
        jobs = [
            (name, http.get(f"{next(turns)}{URL}", headers={"Authorization": f"Bearer {tok}"}))
            for name, tok in tokens.items()
            for _ in range(REQUESTS_PER_CLIENT)
        ]
        responses = await asyncio.gather(*(job for _, job in jobs))
    statuses: dict[str, Counter[int]] = {name: Counter() for name in clients}
    for (name, _), response in zip(jobs, responses, strict=True):
        statuses[name][response.status_code] += 1
    return statuses


def test_processes_share_each_clients_budget_exactly(
    deployment: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    data_dir, env = deployment
    clients = {
        name: new_client(data_dir, env, "--read-limit", str(limit))
        for name, limit in BUDGETS.items()
    }
    writer = new_client(data_dir, env, "--write-limit", str(WRITE_BUDGET))

    with (
        serving(data_dir, tmp_path, env, workers=2) as first,
        serving(data_dir, tmp_path, env) as second,
    ):
        statuses = asyncio.run(storm([first, second], clients))
        written, debts = asyncio.run(write_storm([first, second], writer))

    for name, budget in BUDGETS.items():
        assert statuses[name] == Counter({200: budget, 429: REQUESTS_PER_CLIENT - budget}), name
    assert written == Counter({201: WRITE_BUDGET, 429: WRITES - WRITE_BUDGET})
    assert debts == WRITE_BUDGET, "a refused write wrote nothing"


async def write_storm(bases: list[str], client: dict[str, Any]) -> tuple[Counter[int], int]:
    """The writer's POSTs at once over every process, then how many debts exist."""
    async with httpx.AsyncClient(timeout=30) as http:
        headers = {"Authorization": f"Bearer {await token(http, bases[0], client)}"}
        turns = itertools.cycle(bases)
        posts = [
            http.post(f"{next(turns)}/external-api/v1/debts", json=DEBT, headers=headers)
            for _ in range(WRITES)
        ]
        written = Counter(response.status_code for response in await asyncio.gather(*posts))
        listed = await http.get(f"{bases[0]}/external-api/v1/debts", headers=headers)
    return written, int(listed.json()["pagination"]["total"])
