"""Rate-limit tests run on each limiter: this process's own logs and a real (private) Redis."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.redis_server import PrivateRedis, private_redis

READS = 3
WRITES = 2


@pytest.fixture(scope="session")
def shared_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRedis]:
    with private_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(params=["memory", "redis"])
def limiter(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def window_seconds() -> int:
    return 3600


@pytest.fixture
def settings_overrides(
    request: pytest.FixtureRequest, limiter: str, window_seconds: int
) -> dict[str, Any]:
    overrides: dict[str, Any] = {
        "rate_limit_reads": READS,
        "rate_limit_writes": WRITES,
        "rate_limit_window_seconds": window_seconds,
    }
    if limiter == "redis":
        overrides["redis_url"] = request.getfixturevalue("shared_redis").url
    return overrides
