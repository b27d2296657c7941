"""`relance followups export` and what it writes: CSV cells that a spreadsheet would run as
formulas neutralised (unless --raw), and a partial export resumed only by the export that
began it (same server, client, format and filters); any other starts afresh and says so."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from relance.auth.scopes import ALL_SCOPES
from relance.cli.export import PAGE_SIZE
from relance.client import Relance
from tests.commands import ok_json, relance, report, serving

# Each starts as OWASP's list of formula starts does: =, +, -, @, tab, carriage return.
SUMMARIES = ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "plain"]
Server = tuple[str, dict[str, str]]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with one company's debt and followups whose summaries look like formulas, and
    more than two pages of others; the company's credentials."""
    home = tmp_path_factory.mktemp("export")
    assert relance("db", "upgrade", data_dir=home).returncode == 0
    company = ok_json(relance("companies", "create", "Exports", "--json", data_dir=home))
    scopes = " ".join(ALL_SCOPES)
    made = relance(
        "clients", "create", "--company", company["id"], "--scopes", scopes, "--json", data_dir=home
    )
    credentials = ok_json(made)
    with serving(home, home) as base:
        with Relance(base, credentials["client_id"], credentials["client_secret"]) as client:
            debt = client.debts.create(
                firstname="Eve",
                lastname="Formula",
                email="eve@example.fr",
                amount="10",
                currency="EUR",
            )
            for summary in SUMMARIES:
                client.followups.create(debt_id=debt.id, type="sms", summary=summary)
            for n in range(2 * PAGE_SIZE + 5):
                client.followups.create(debt_id=debt.id, type="email", summary=f"mail {n}")
        yield base, credentials


def export(server: Server, tmp_path: Path, *args: str, base: str | None = None) -> Any:
    served, credentials = server
    env = {
        "RELANCE_BASE_URL": base or served,
        "RELANCE_CLIENT_ID": credentials["client_id"],
        "RELANCE_CLIENT_SECRET": credentials["client_secret"],
    }
    return relance("followups", "export", *args, data_dir=tmp_path, env=env)


def summaries_of(path: Path) -> dict[str, str]:
    with path.open(newline="") as source:
        return {row["summary"].lstrip("'"): row["summary"] for row in csv.DictReader(source)}


def test_cells_that_start_as_formulas_are_neutralised_unless_raw(
    server: Server, tmp_path: Path
) -> None:
    safe, raw = tmp_path / "safe.csv", tmp_path / "raw.csv"
    exported = export(server, tmp_path, "--type", "sms", "--output", str(safe))
    assert exported.returncode == 0, report(exported)
    as_is = export(server, tmp_path, "--type", "sms", "--raw", "--output", str(raw))
    assert as_is.returncode == 0, report(as_is)

    assert summaries_of(safe) == {s: ("'" + s if s != "plain" else s) for s in SUMMARIES}
    assert summaries_of(raw) == {s: s for s in SUMMARIES}


def test_json_lines_keep_every_value_as_it_is(server: Server, tmp_path: Path) -> None:
    output = tmp_path / "sms.jsonl"
    exported = export(
        server, tmp_path, "--type", "sms", "--format", "jsonl", "--output", str(output)
    )
    assert exported.returncode == 0, report(exported)
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert sorted(row["summary"] for row in rows) == sorted(SUMMARIES)


def stopped_export(tmp_path: Path, key: dict[str, Any]) -> tuple[Path, bytes]:
    """A partial export as one stopped after its first page leaves it, its state naming
    `key`: the output it was for, and the partial file's content."""
    partial = tmp_path / ".emails.csv.partial"
    content = b"id,made,elsewhere\n" + b"x,y,z\n" * PAGE_SIZE
    partial.write_bytes(content)
    state = {"key": key, "next_page": 2, "written": PAGE_SIZE, "bytes": len(content)}
    (tmp_path / ".emails.csv.state").write_text(json.dumps(state))
    return tmp_path / "emails.csv", content


def key_of(server: Server, changed: dict[str, Any] | None = None) -> dict[str, Any]:
    filters = dict.fromkeys(("status", "type", "date_from", "date_to", "debt_id"))
    filters["type"] = "email"
    key = {
        "format": "csv",
        "filters": filters,
        "client_id": server[1]["client_id"],
        "raw": False,
        "server": server[0],
    }
    return key | (changed or {})


def test_a_partial_export_resumes_only_for_the_export_that_began_it(
    server: Server, tmp_path: Path
) -> None:
    output, partial = stopped_export(tmp_path, key_of(server))
    resumed = export(server, tmp_path, "--type", "email", "--output", str(output))
    assert resumed.returncode == 0, report(resumed)
    assert output.read_bytes().startswith(partial)
    assert "afresh" not in resumed.stderr


@pytest.mark.parametrize(
    "changed",
    [
        {"server": "http://another-relance.example"},
        {"client_id": "someone_else"},
        {"raw": True},
        {"filters": {"type": "call"}},
        {"server": None, "client_id": None},  # as an older Relance wrote it
    ],
    ids=["server", "client", "raw", "filters", "unnamed"],
)
def test_a_partial_export_of_another_kind_is_started_afresh(
    server: Server, tmp_path: Path, changed: dict[str, Any]
) -> None:
    key = {k: v for k, v in key_of(server, changed).items() if v is not None}
    output, _ = stopped_export(tmp_path, key)

    fresh = export(server, tmp_path, "--type", "email", "--output", str(output))

    assert fresh.returncode == 0, report(fresh)
    assert "starting afresh" in " ".join(fresh.stderr.split())
    with output.open(newline="") as source:
        rows = list(csv.DictReader(source))
    assert len(rows) == 2 * PAGE_SIZE + 5
    assert all(row["type"] == "email" for row in rows)


def test_a_state_that_promises_more_than_the_partial_file_holds_starts_afresh(
    server: Server, tmp_path: Path
) -> None:
    output, partial = stopped_export(tmp_path, key_of(server))
    (tmp_path / ".emails.csv.partial").write_bytes(partial[:10])

    fresh = export(server, tmp_path, "--type", "email", "--output", str(output))

    assert fresh.returncode == 0, report(fresh)
    assert b"\x00" not in output.read_bytes()
    with output.open(newline="") as source:
        assert len(list(csv.DictReader(source))) == 2 * PAGE_SIZE + 5
