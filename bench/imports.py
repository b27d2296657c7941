"""The bulk import benchmark: `relance import` run as a user would, on a fresh database, for a
deterministic file of debts and then of followups naming their debts by internal ID, first as
new rows and then again (every row an update by external ID).

    python bench/imports.py [--rows 100000] [--database postgresql|sqlite] [--record]

Prints the seconds and rows per second of each step, and the command that produced them.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import TYPE_MIX, create_database  # noqa: E402
from bench.run import provenance, publish  # noqa: E402
from relance.config import Settings  # noqa: E402
from relance.followups.enums import FollowupStatus  # noqa: E402

RELANCE = str(Path(sys.executable).with_name("relance"))
START = datetime(2025, 1, 1, tzinfo=UTC)


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory() as work:
        home = Path(work)
        url = args.url or default_url(args.database, home)
        asyncio.run(create_database(Settings(database_url=url).database, fresh=True))
        env = {**os.environ, "RELANCE_DATA_DIR": str(home / "data")}
        env["RELANCE_DATABASE_URL"] = url
        relance(env, "db", "upgrade")
        company = orjson.loads(relance(env, "companies", "create", "Import bench", "--json"))["id"]
        debts, followups = write_files(home, args.rows, args.seed)
        steps = [
            ("debts", debts, args.rows // 5),
            ("followups", followups, args.rows),
            ("followups again (updates)", followups, args.rows),
        ]
        batch = str(args.batch_size)
        timings = [
            (name, n, timed(env, kind_of(name), path, company, batch)) for name, path, n in steps
        ]
    report(args, timings)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="followups (debts: a fifth)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--url", help="a database to empty and use (default: a bench database)")
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--record", action="store_true", help="append the table to RESULTS.md")
    return parser.parse_args()


def default_url(database: str, home: Path) -> str:
    if database == "postgresql":
        return "postgresql://postgres@/relance_bench_import?host=/var/run/postgresql"
    return f"sqlite:///{home / 'import.sqlite3'}"


def write_files(home: Path, rows: int, seed: int) -> tuple[Path, Path]:
    rng = random.Random(seed)
    debts, followups = home / "debts.csv", home / "followups.csv"
    with debts.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["external_id", "internal_id", "firstname", "lastname", "phone", "amount", "currency"]
        )
        for n in range(rows // 5):
            amount = f"{rng.randint(2_000, 500_000) / 100:.2f}"
            writer.writerow(
                [f"D{n}", f"INV-{n}", "Camille", f"Durand{n}", "+33612345678", amount, "EUR"]
            )
    statuses = [s.value for s in FollowupStatus]
    kinds = [k.value for k in TYPE_MIX]
    weights = list(TYPE_MIX.values())
    with followups.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            [
                "external_id",
                "debt_internal_id",
                "type",
                "status",
                "call_date",
                "summary",
                "duration_ms",
            ]
        )
        for n in range(rows):
            when = START + timedelta(minutes=rng.randint(0, 600_000))
            writer.writerow(
                [
                    f"F{n}",
                    f"INV-{rng.randrange(rows // 5)}",
                    rng.choices(kinds, weights)[0],
                    rng.choice(statuses),
                    when.isoformat(),
                    "Imported from the previous platform",
                    rng.randint(0, 300_000),
                ]
            )
    return debts, followups


def kind_of(step: str) -> str:
    return step.split()[0]


def relance(env: dict[str, str], *args: str) -> bytes:
    done = subprocess.run([RELANCE, *args], env=env, check=False, capture_output=True)
    if done.returncode not in (0, 1) or ("--json" in args and not done.stdout):
        sys.exit(f"relance {' '.join(args[:2])} failed: {done.stderr.decode()[-2000:]}")
    return done.stdout


def timed(env: dict[str, str], kind: str, path: Path, company: str, batch: str) -> float:
    started = time.monotonic()
    command = ("import", kind, str(path), "--company", company, "--batch-size", batch, "--json")
    summary = orjson.loads(relance(env, *command))
    seconds = time.monotonic() - started
    if summary["failed"]:
        sys.exit(f"{kind}: {summary['failed']} rows failed: {summary['errors'][:3]}")
    print(f"  {kind}: {summary} in {seconds:.1f} s", file=sys.stderr)
    return seconds


def report(args: argparse.Namespace, timings: list[tuple[str, int, float]]) -> None:
    lines = [
        f"### Bulk import: {args.database}, {args.rows:,} followups",
        "",
        f"{provenance('imports.py')}: `relance import`"
        " as a subprocess (start-up and migrations check included), CSV,"
        f" batches of {args.batch_size:,}.",
        "",
        "| step | rows | seconds | rows/s |",
        "|---|---|---|---|",
        *(f"| {name} | {n:,} | {s:.1f} | {n / s:,.0f} |" for name, n, s in timings),
    ]
    publish(lines, args.record)


if __name__ == "__main__":
    main()
