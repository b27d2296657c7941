"""`relance followups list|get|export` against a real server, through the SDK: tables and JSON,
exports in CSV and JSON Lines that appear only complete, an export resumed after it stopped
half-way through a page, and each kind of failure with its own exit code."""

from __future__ import annotations

import csv
import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from relance.cli.export import PAGE_SIZE
from tests.cli.test_lazy_imports import SERVER_PACKAGES
from tests.client.media import comparable
from tests.commands import COMMAND, cli_env, ok_json, relance, report, serving

Demo = tuple[str, dict[str, Any]]


def run(demo: Demo, tmp_path: Path, *args: str, secret: str | None = None) -> Any:
    base, company = demo
    env = {
        "RELANCE_BASE_URL": base,
        "RELANCE_CLIENT_ID": company["client_id"],
        "RELANCE_CLIENT_SECRET": secret or company["client_secret"],
    }
    return relance("followups", *args, data_dir=tmp_path, env=env)


def test_list_prints_a_table_or_json_and_get_one_followup(demo: Demo, tmp_path: Path) -> None:
    page = ok_json(run(demo, tmp_path, "list", "--status", "no_answer", "--limit", "5", "--json"))
    assert len(page["data"]) == 5
    assert {row["status"] for row in page["data"]} == {"no_answer"}
    table = run(demo, tmp_path, "list", "--type", "email")
    assert table.returncode == 0, report(table)
    assert f"page 1 of {page['pagination']['pages']}" not in table.stdout  # other filter
    assert "page 1 of" in table.stdout
    one = ok_json(run(demo, tmp_path, "get", page["data"][0]["id"]))
    assert comparable(one) == comparable(page["data"][0])


def test_exports_are_complete_files(demo: Demo, tmp_path: Path) -> None:
    total = ok_json(run(demo, tmp_path, "list", "--type", "call", "--json"))["pagination"]["total"]
    assert total > PAGE_SIZE * 2
    as_csv, as_jsonl = tmp_path / "calls.csv", tmp_path / "calls.jsonl"
    exported = run(demo, tmp_path, "export", "--type", "call", "--output", str(as_csv))
    assert exported.returncode == 0, report(exported)
    with as_csv.open() as source:
        rows = list(csv.DictReader(source))
    assert len(rows) == total
    assert len({row["id"] for row in rows}) == total
    assert {row["type"] for row in rows} == {"call"}
    exported = run(
        demo, tmp_path, "export", "--type", "call", "--format", "jsonl", "--output", str(as_jsonl)
    )
    assert exported.returncode == 0, report(exported)
    lines = [json.loads(line) for line in as_jsonl.read_text().splitlines()]
    assert [line["id"] for line in lines] == [row["id"] for row in rows]
    as_parquet = tmp_path / "calls.parquet"
    parquet = ("--format", "parquet", "--output", str(as_parquet))
    exported = run(demo, tmp_path, "export", "--type", "call", *parquet)
    assert exported.returncode == 0, report(exported)
    table = pq.read_table(as_parquet)
    assert table.column("id").to_pylist() == [row["id"] for row in rows]
    assert str(table.schema.field("call_date").type) == "timestamp[ms, tz=UTC]"
    assert str(table.schema.field("duration_ms").type) == "int64"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".calls")) == []


def test_an_export_stopped_half_way_resumes_without_duplicates(demo: Demo, tmp_path: Path) -> None:
    reference = tmp_path / "reference.csv"
    assert run(demo, tmp_path, "export", "--output", str(reference)).returncode == 0
    lines = reference.read_bytes().splitlines(keepends=True)
    # As an export stopped while writing its third page: two pages on disk, then half a row.
    done = b"".join(lines[: 1 + 2 * PAGE_SIZE])
    output = tmp_path / "followups.csv"
    partial = tmp_path / ".followups.csv.partial"
    partial.write_bytes(done + lines[1 + 2 * PAGE_SIZE][:40])
    state = {
        "key": {
            "format": "csv",
            "filters": dict.fromkeys(("status", "type", "date_from", "date_to", "debt_id")),
            "client_id": demo[1]["client_id"],
            "raw": False,
            "server": demo[0],
        },
        "next_page": 3,
        "written": 2 * PAGE_SIZE,
        "bytes": len(done),
    }
    (tmp_path / ".followups.csv.state").write_text(json.dumps(state))

    resumed = run(demo, tmp_path, "export", "--output", str(output))
    assert resumed.returncode == 0, report(resumed)
    # Row for row the same followups (their signed media URLs differ: signed later).
    assert ids_of(output) == ids_of(reference)
    assert output.read_bytes().startswith(done)
    assert not partial.exists()


def ids_of(path: Path) -> list[str]:
    with path.open() as source:
        return [row["id"] for row in csv.DictReader(source)]


def test_each_failure_has_its_exit_code(demo: Demo, tmp_path: Path) -> None:
    refused = run(demo, tmp_path, "list", secret="relance_sk_wrong")
    assert refused.returncode == 3, report(refused)
    assert "RELANCE_CLIENT_SECRET" in refused.stderr
    bad_day = run(demo, tmp_path, "list", "--date-from", "yesterday")
    assert bad_day.returncode == 2, report(bad_day)
    bad_filter = run(demo, tmp_path, "list", "--status", "lost")
    assert bad_filter.returncode == 1, report(bad_filter)
    assert "status" in bad_filter.stderr
    missing = run(demo, tmp_path, "get", "0" * 22)
    assert missing.returncode == 1, report(missing)
    company = demo[1]
    unreachable = relance(
        "followups",
        "list",
        data_dir=tmp_path,
        env={
            "RELANCE_BASE_URL": "http://127.0.0.1:9",
            "RELANCE_CLIENT_ID": company["client_id"],
            "RELANCE_CLIENT_SECRET": company["client_secret"],
        },
    )
    assert unreachable.returncode == 5, report(unreachable)
    output = tmp_path / "never.csv"
    stopped = run(demo, tmp_path, "export", "--output", str(output), secret="relance_sk_wrong")
    assert stopped.returncode == 3
    assert not output.exists()


def test_an_export_outlives_its_token(tmp_path: Path) -> None:
    """Tokens of 10 s and a budget of 4 reads per 4 s: the export of the biggest demo company
    (11 pages and more) takes several tokens and several waits, and writes every row once."""
    home = tmp_path / "home"
    company = ok_json(relance("demo", "--no-serve", "--json", data_dir=home))["companies"][0]
    env = {
        "RELANCE_TOKEN_TTL_SECONDS": "10",
        "RELANCE_RATE_LIMIT_READS": "4",
        "RELANCE_RATE_LIMIT_WINDOW_SECONDS": "4",
    }
    with serving(home, tmp_path, env=env) as base:
        demo = (base, company)
        total = ok_json(run(demo, tmp_path, "list", "--json"))["pagination"]["total"]
        assert total > 1000  # 11 pages and more
        output = tmp_path / "all.csv"
        exported = run(demo, tmp_path, "export", "--output", str(output))
        assert exported.returncode == 0, report(exported)
    assert len(set(ids_of(output))) == len(ids_of(output)) == total
    logs = "".join(log.read_text() for log in tmp_path.glob("serve-*.log"))
    issued = logs.count("token issued")
    assert issued >= 3, "the export should have needed fresh tokens"


def test_ids_stay_whole_at_80_columns(demo: Demo, tmp_path: Path) -> None:
    base, company = demo
    env = {
        "RELANCE_BASE_URL": base,
        "RELANCE_CLIENT_ID": company["client_id"],
        "RELANCE_CLIENT_SECRET": company["client_secret"],
    }
    wanted = ok_json(run(demo, tmp_path, "list", "--status", "deal_found", "--json"))["data"]
    for columns in ("80", "60"):
        table = relance(
            "followups",
            "list",
            "--status",
            "deal_found",
            data_dir=tmp_path,
            env={**env, "COLUMNS": columns},
        )
        assert table.returncode == 0, report(table)
        assert max(len(line) for line in table.stdout.splitlines()) <= int(columns)
        for row in wanted:
            assert f" {row['id']} " in table.stdout, table.stdout
        assert "…" not in table.stdout


def test_an_export_to_standard_output(demo: Demo, tmp_path: Path) -> None:
    reference = tmp_path / "deals.csv"
    filters = ("--status", "deal_found")
    assert run(demo, tmp_path, "export", *filters, "--output", str(reference)).returncode == 0

    streamed = run(demo, tmp_path, "export", *filters, "--output", "-")

    assert streamed.returncode == 0, report(streamed)
    assert ids_of_text(streamed.stdout) == ids_of(reference)
    assert not (tmp_path / "-").exists()
    assert not list(tmp_path.glob(".-*"))
    assert "written to standard output" in streamed.stderr


def ids_of_text(text: str) -> list[str]:
    return [row["id"] for row in csv.DictReader(text.splitlines())]


def test_parquet_to_standard_output_is_a_parquet_file(demo: Demo, tmp_path: Path) -> None:
    base, company = demo
    env = {
        "RELANCE_BASE_URL": base,
        "RELANCE_CLIENT_ID": company["client_id"],
        "RELANCE_CLIENT_SECRET": company["client_secret"],
    }
    target = tmp_path / "deals.parquet"
    with target.open("wb") as sink:
        done = subprocess.run(  # noqa: S603
            [
                *COMMAND,
                "followups",
                "export",
                "--status",
                "deal_found",
                "--format",
                "parquet",
                "--output",
                "-",
            ],
            stdout=sink,
            stderr=subprocess.PIPE,
            env=cli_env(tmp_path, env),
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    reference = tmp_path / "deals.csv"
    exported = run(demo, tmp_path, "export", "--status", "deal_found", "--output", str(reference))
    assert exported.returncode == 0, report(exported)
    assert pq.read_table(target).column("id").to_pylist() == ids_of(reference)


def test_an_export_that_fails_before_a_page_leaves_nothing(demo: Demo, tmp_path: Path) -> None:
    output = tmp_path / "never.csv"

    stopped = run(demo, tmp_path, "export", "--output", str(output), secret="relance_sk_wrong")

    assert stopped.returncode == 3, report(stopped)
    assert sorted(p.name for p in tmp_path.iterdir() if "never" in p.name) == []
    assert "resume" not in stopped.stderr


def test_an_export_that_fails_half_way_says_how_to_resume(tmp_path: Path) -> None:
    """A client allowed three reads an hour stops after three pages: the pages are kept, the
    command to resume is printed, and once the client's limit is lifted that very command
    finishes the export, every followup once."""
    home = tmp_path / "home"
    company = ok_json(relance("demo", "--no-serve", "--json", data_dir=home))["companies"][0]
    client_id = company["client_id"]
    limited = relance("clients", "set-limits", client_id, "--read-limit", "3", data_dir=home)
    assert limited.returncode == 0, report(limited)
    with serving(home, tmp_path, env={"RELANCE_AUTH_CACHE_SECONDS": "0"}) as base:
        demo = (base, company)
        output = tmp_path / "all.csv"

        stopped = run(demo, tmp_path, "export", "--output", str(output))

        assert stopped.returncode == 4, report(stopped)
        said = " ".join(stopped.stderr.split())
        assert f"kept in {tmp_path / '.all.csv.partial'}" in said, report(stopped)
        resume = stopped.stderr.split("run the same command again: ", 1)[1].splitlines()[0]
        assert shlex.split(resume)[1:] == ["followups", "export", "--output", str(output)]
        assert not output.exists()
        assert (tmp_path / ".all.csv.state").exists()
        lifted = relance("clients", "set-limits", client_id, "--reset", data_dir=home)
        assert lifted.returncode == 0, report(lifted)

        resumed = run(demo, tmp_path, *shlex.split(resume)[2:])

        assert resumed.returncode == 0, report(resumed)
        total = ok_json(run(demo, tmp_path, "list", "--json"))["pagination"]["total"]
    assert len(set(ids_of(output))) == len(ids_of(output)) == total
    assert not list(tmp_path.glob(".all.csv*"))


# As in an install of the client alone: importing any of these fails.
WITHOUT_SERVER = """
import sys
for name in {blocked!r}:
    sys.modules[name] = None
sys.argv = ["relance", *sys.argv[1:]]
from relance.cli.main import main
main()
"""


def test_the_client_commands_run_without_the_server_packages(demo: Demo, tmp_path: Path) -> None:
    base, company = demo
    env = {
        "RELANCE_BASE_URL": base,
        "RELANCE_CLIENT_ID": company["client_id"],
        "RELANCE_CLIENT_SECRET": company["client_secret"],
    }
    script = WITHOUT_SERVER.format(blocked=SERVER_PACKAGES)

    def without_server(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603
            [sys.executable, "-c", script, "followups", *args],
            capture_output=True,
            text=True,
            env=cli_env(tmp_path, env),
            timeout=120,
            check=False,
        )

    page = ok_json(without_server("list", "--status", "deal_found", "--json"))
    assert page["data"], page
    one = ok_json(without_server("get", page["data"][0]["id"]))
    assert comparable(one) == comparable(page["data"][0])
    exported = without_server("export", "--status", "deal_found", "--output", "-")
    assert exported.returncode == 0, report(exported)
    assert len(ids_of_text(exported.stdout)) == page["pagination"]["total"]
