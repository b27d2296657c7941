"""`relance followups sync` where only the client is installed (`pip install relance`, into a
fresh virtual environment): a SQLite and a JSON Lines mirror need nothing more; a PostgreSQL
one says what to install, exit 2, instead of a traceback."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from tests.client.test_install import client_only, command
from tests.commands import report

__all__ = ["client_only"]  # the fixture, used here as test_install defines it

Demo = tuple[str, dict[str, Any]]


def credentials(demo: Demo) -> dict[str, str]:
    base, company = demo
    return {
        "RELANCE_BASE_URL": base,
        "RELANCE_CLIENT_ID": company["client_id"],
        "RELANCE_CLIENT_SECRET": company["client_secret"],
    }


def test_a_client_only_install_mirrors_into_sqlite_and_json_lines(
    client_only: Path, demo: Demo, tmp_path: Path
) -> None:
    env = credentials(demo)
    for target in ("mirror.sqlite", "mirror.jsonl"):
        done = command(
            client_only, "followups", "sync", "--into", target, "--json", cwd=tmp_path, env=env
        )
        assert done.returncode == 0, report(done)
        assert json.loads(done.stdout)["exported"] > 0
    database = sqlite3.connect(tmp_path / "mirror.sqlite")
    try:
        (count,) = database.execute("SELECT count(*) FROM followups").fetchone()
    finally:
        database.close()
    lines = (tmp_path / "mirror.jsonl").read_text().splitlines()
    assert sum(json.loads(line)["action"] == "upsert" for line in lines) == count > 0


def test_a_postgresql_target_says_what_to_install(
    client_only: Path, demo: Demo, tmp_path: Path
) -> None:
    url = "postgresql://postgres@127.0.0.1:5432/never_opened"
    refused = command(
        client_only, "followups", "sync", "--into", url, cwd=tmp_path, env=credentials(demo)
    )
    assert refused.returncode == 2, report(refused)
    assert "pip install asyncpg" in refused.stderr
    assert "Traceback" not in refused.stderr
