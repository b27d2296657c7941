"""bench/run.py end to end on a small book: it loads the book, serves it with every server it
compares (Relance, Relance without the total, the least app, the statement alone, the floor),
drives each with wrk and prints one JSON document. Only that the run works is asserted here; its
figures are read in bench/RESULTS.md, never checked by a test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ("status", "debt_id")


def test_the_benchmark_runs_every_server_and_reports_json(tmp_path: Path) -> None:
    command = [sys.executable, str(ROOT / "bench" / "run.py"), "--database", "sqlite"]
    command += ["--url", f"sqlite:///{tmp_path / 'book.sqlite3'}", "--rows", "3000"]
    command += ["--seconds", "1", "--connections", "2", "--scenarios", ",".join(SCENARIOS)]
    finished = subprocess.run(  # noqa: S603 - our own script, our own arguments
        [*command, "--json"], cwd=tmp_path, capture_output=True, timeout=300, check=False
    )
    assert finished.returncode == 0, finished.stderr.decode()[-2000:]

    document = orjson.loads(finished.stdout)
    assert document["command"].startswith("python bench/run.py --database sqlite")
    measured = {(m["server"], m["scenario"]) for m in document["measures"]}
    assert measured == {
        *((server, scenario) for server in ("relance", "no total") for scenario in SCENARIOS),
        ("least", "status"),
        ("statement", "status"),
        ("floor", "floor"),
    }
    for measure in document["measures"]:
        assert measure["connections"] == 2
        assert measure["requests_per_second"] > 0, measure
        assert measure["errors"] == 0, measure
