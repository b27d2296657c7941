"""Every HTTP test runs twice: on the embedded SQLite default and on a real PostgreSQL.

PostgreSQL tests use a database of their own, created for the session in the server named by
RELANCE_TEST_POSTGRES_URL (default: the local server's `test` database), built by running the
migrations, and dropped at the end.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from relance.app import create_app
from relance.config import Settings
from relance.models import TABLES_CHILDREN_FIRST
from relance.runtime import Runtime, open_runtime
from relance.schema import upgrade
from tests.postgres import scratch_database

SECRET = "test-deployment-secret-" + "x" * 16


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with scratch_database("relance_test") as url:
        yield url


@pytest.fixture(scope="session")
def migrated_postgresql(postgres_url: str) -> str:
    upgrade(Settings(database_url=postgres_url).database)
    return postgres_url


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'relance.sqlite3'}"
    upgrade(Settings(database_url=url).database)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def seek_from_offset() -> int:
    """Overridden where a test wants every page to take the deep-page path."""
    default: int = Settings.model_fields["seek_from_offset"].default
    return default


@pytest.fixture
def auth_cache_seconds() -> int:
    """Overridden where a test needs revocations to take effect at once."""
    default: int = Settings.model_fields["auth_cache_seconds"].default
    return default


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Overridden where a test needs other settings (rate limits, Redis) than the defaults."""
    return {}


@pytest.fixture
def settings(
    request: pytest.FixtureRequest,
    backend: str,
    tmp_path: Path,
    seek_from_offset: int,
    auth_cache_seconds: int,
    settings_overrides: dict[str, Any],
) -> Settings:
    url: str = request.getfixturevalue(f"migrated_{backend}")
    return Settings(
        data_dir=tmp_path,
        database_url=url,
        secret_key=SECRET,
        seek_from_offset=seek_from_offset,
        auth_cache_seconds=auth_cache_seconds,
        **settings_overrides,
    )


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    runtime = await open_runtime(settings)
    try:
        await clear(runtime)
        yield runtime
    finally:
        await runtime.close()


async def clear(runtime: Runtime) -> None:
    if runtime.db.dialect == "postgresql":
        await runtime.db.execute(
            f"TRUNCATE {', '.join(TABLES_CHILDREN_FIRST)} RESTART IDENTITY CASCADE"
        )
        return
    for table in TABLES_CHILDREN_FIRST:
        await runtime.db.execute(f"DELETE FROM {table}")


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=create_app(runtime.settings)) as client:
        yield client
