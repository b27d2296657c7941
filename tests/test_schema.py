"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command

from relance.config import Settings
from relance.runtime import open_runtime
from relance.schema import SchemaBehind, alembic_config, ensure_current
from tests.conftest import SECRET


@pytest.mark.parametrize("database", ["migrated_sqlite", "migrated_postgresql"])
def test_models_and_migrations_agree(request: pytest.FixtureRequest, database: str) -> None:
    url: str = request.getfixturevalue(database)
    # Raises when autogenerate would find anything to change.
    command.check(alembic_config(Settings(database_url=url).database))


async def test_a_database_behind_the_code_is_refused(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/empty.sqlite3", secret_key=SECRET)
    runtime = await open_runtime(settings)
    try:
        with pytest.raises(SchemaBehind, match="relance db upgrade"):
            await ensure_current(runtime.db, settings.database)
    finally:
        await runtime.close()
