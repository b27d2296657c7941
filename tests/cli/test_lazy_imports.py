"""`relance --help` and the client-side commands load none of the server's packages: they
start quickly, and run where only the client is installed."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from relance.cli import tenants
from relance.config import MAX_RATE_LIMIT

# What `relance[server]` brings, by the names they are imported as.
SERVER_PACKAGES = (
    "litestar",
    "uvicorn",
    "asyncpg",
    "orjson",
    "sqlalchemy",
    "alembic",
    "pydantic_settings",
    "jwt",
    "cryptography",
    "redis",
    "boto3",
    "botocore",
    "msgspec",
    "prometheus_client",
)

LOADED_AFTER = """
import json, sys
sys.argv = ["relance", *{args!r}]
from relance.cli.main import main
try:
    main()
except SystemExit:
    pass
server = {server!r}
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}} & set(server))))
"""


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("followups", "--help"),
        ("followups", "list", "--help"),
        ("followups", "export", "--help"),
        ("debts", "--help"),
        ("debts", "update", "--help"),
        ("creditors", "--help"),
    ],
    ids=" ".join,
)
def test_help_loads_no_server_package(args: tuple[str, ...]) -> None:
    script = LOADED_AFTER.format(args=list(args), server=SERVER_PACKAGES)

    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )

    assert "Usage" in done.stdout, done.stdout
    assert json.loads(done.stdout.splitlines()[-1]) == [], done.stdout


def test_the_rate_limit_bound_of_the_cli_is_the_settings_one() -> None:
    assert tenants.MAX_RATE_LIMIT == MAX_RATE_LIMIT
