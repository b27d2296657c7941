"""schemathesis against `relance serve` on the demo book, with a token holding every scope:
every operation of /openapi.json, with valid and invalid input of every kind the document
allows, must answer without a 5xx and as the document says (status, content type, headers,
body). The figures of a run are in docs/reliability.md, "Fuzzing".

RELANCE_FUZZ_EXAMPLES and RELANCE_FUZZ_SEED make a run longer or different (a failure prints
the seed and a `curl` that reproduces each case)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.commands import demo_on, served, token_of
from tests.postgres import scratch_database

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
EXAMPLES = int(os.environ.get("RELANCE_FUZZ_EXAMPLES", "30"))
SEED = int(os.environ.get("RELANCE_FUZZ_SEED", "20261128"))
API = "^/external-api/"
LISTS = ["GET /external-api/v1/followups", "GET /external-api/v1/followups/debt/{debtId}",
         "GET /external-api/v1/followups/export"]  # fmt: skip
# What a schema cannot say, and so where input that is valid by the document may still be a
# 400: a date, amount or moment range that ends before it starts, or a moment written in none
# of the forms taken (lists), a debt_id that is not one of the company's debts (a new
# followup), an IBAN whose check digits do not hold (a new or changed debt), and client
# credentials sent neither in the form nor in a Basic header (a token), a webhook URL whose
# host is on a private network or is not a host at all (a new or changed endpoint), a
# `starting_after` of the right shape that no ID of this deployment has (the cursor lists), a
# `cursor` that this deployment did not seal for the company (the changes feed).
REFUSED_THOUGH_WELL_FORMED = [*LISTS, "POST /external-api/v1/followups",
                              "POST /external-api/v1/debts", "PUT /external-api/v1/debts/{id}",
                              "GET /external-api/v1/debts",
                              "GET /external-api/v1/debts/by-debtor/{debtorId}",
                              "GET /external-api/v1/debts/by-creditor/{creditorId}",
                              "POST /token",
                              "POST /external-api/v1/webhook-endpoints",
                              "PATCH /external-api/v1/webhook-endpoints/{id}",
                              "GET /external-api/v1/events",
                              "GET /external-api/v1/followups/changes",
                              "GET /external-api/v1/webhook-endpoints",
                              "GET /external-api/v1/webhook-endpoints/{id}/deliveries"]  # fmt: skip
ACCEPTED = ["2xx", "401", "403", "404", "409", "429"]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_env(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    if request.param == "sqlite":
        yield {}
        return
    with scratch_database("relance_fuzz") as url:
        yield {"RELANCE_DATABASE_URL": url}


def test_every_operation_answers_as_documented(
    tmp_path: Path, database_env: dict[str, str]
) -> None:
    home = tmp_path / "home"
    company = demo_on(home, database_env)[0]
    # Budgets far past what the run sends, so that every case reaches its handler.
    env = {**database_env, "RELANCE_RATE_LIMIT_READS": "1000000",
           "RELANCE_RATE_LIMIT_WRITES": "1000000"}  # fmt: skip
    # No delivery: the endpoints the run makes point at hosts that are not there.
    with served(home, env, tmp_path / "serve.log", 1, "--no-deliver") as (_, base):
        token = token_of(base, company)
        paths = httpx.get(f"{base}/openapi.json").json()["paths"]
        report = run_schemathesis(base, token, tmp_path)
        assert httpx.get(f"{base}/readyz").status_code == 200

    operations = report["operations"]
    # Every operation but GET /openapi.json, the document schemathesis was loaded from.
    documented = sum(len(item) for item in paths.values()) - 1
    assert operations["tested"] == operations["total"] == documented, operations
    assert report["test_cases"]["generated"] >= EXAMPLES * documented
    assert not report["errors"], report["errors"]
    assert not report["failures"], json.dumps(report["failures"], indent=1)[:4000]
    log = (tmp_path / "serve.log").read_text()
    assert '"status":500' not in log


def run_schemathesis(base: str, token: str, tmp_path: Path) -> dict[str, Any]:
    config = tmp_path / "schemathesis.toml"
    config.write_text(config_for(token))
    report_path = tmp_path / "schemathesis.json"
    command = [
        str(SCHEMATHESIS), "--config-file", str(config), "run", f"{base}/openapi.json",
        "--checks", "all", "--phases", "examples,coverage,fuzzing,stateful",
        "--max-examples", str(EXAMPLES), "--seed", str(SEED), "--workers", "2",
        "--report", "json", "--report-json-path", str(report_path), "--no-color",
    ]  # fmt: skip
    # In tmp_path, where it keeps its cache too.
    finished = subprocess.run(  # noqa: S603
        command, cwd=tmp_path, capture_output=True, text=True, timeout=900, check=False
    )
    if not report_path.exists():
        pytest.fail(f"schemathesis wrote no report:\n{finished.stdout[-4000:]}{finished.stderr}")
    report: dict[str, Any] = json.loads(report_path.read_text())
    # The figures of the README's "Reliability" section (`pytest -s` shows them).
    print(f"schemathesis: {report['operations']['tested']} operations, "
          f"{report['test_cases']['generated']} cases, seed {SEED}")  # fmt: skip
    if finished.returncode != 0:
        print(finished.stdout[-20000:])  # pytest shows it with the failure
    return report


def config_for(token: str) -> str:
    """The token on the API's operations only: POST /token authenticates clients otherwise,
    and the media URLs carry their own signature."""
    names = ", ".join(f'"{name}"' for name in REFUSED_THOUGH_WELL_FORMED)
    accepted = ", ".join(f'"{status}"' for status in [*ACCEPTED, "400"])
    return f"""
[[operations]]
include-path-regex = "{API}"
headers = {{ Authorization = "Bearer {token}" }}

[[operations]]
include-name = [{names}]
checks.positive_data_acceptance.expected-statuses = [{accepted}]
"""
