"""The incremental sync benchmark (issue 22, docs/sync.md), on PostgreSQL:

- mirror: on the bench book (bench/generate.py, 1,000,000 followups by default), `relance
  followups sync --into mirror.sqlite` of the biggest company, then of every company (the
  whole book), from scratch; against the paged list at the default budget, computed;
- depth: a page of 1,000 of the feed at a depth of 900,000 against its first page, on a copy
  of the book where one company holds every followup: wrk, requests/s and latency;
- latency: 50 writes a second (`POST /followups`) while a client long-polls the feed
  (`wait=30`): p50 and p99 from each change's `changed_at` to its arrival;
- writes: what keeping the sequence adds to `POST` and `PUT /followups` (wrk) and to an import
  of 100,000 followups, against the commit before it (a git worktree, its own database);
- design: the other design, PostgreSQL's `pg_snapshot_xmin` horizon, measured on a table of
  its own: how long a change committed beside a long transaction stays invisible to it;
- record: the same writes in one process, through the services (8 concurrent writers on one
  company), with the change recorded and with its statement replaced by a plain one: what
  recording costs, measured apart from the HTTP server and from one database against another.

    python bench/sync.py [--parts mirror,depth,latency,writes,design] [--rows 1000000]
        [--compare LABEL=REV,...] [--seconds 10] [--record]

(--parts takes also `record`.)

Prints each part's table and the command that produced it (appended to bench/RESULTS.md with
--record).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import create_database, default_url, load  # noqa: E402
from bench.imports import write_files  # noqa: E402
from bench.run import provenance, publish  # noqa: E402
from bench.webhooks import DEBTS, _ms, new_debt, post_load, run, serving  # noqa: E402
from relance.auth.scopes import ALL_SCOPES  # noqa: E402
from relance.auth.service import create_client  # noqa: E402
from relance.changes import repository as changes  # noqa: E402
from relance.config import Settings  # noqa: E402
from relance.resources import Resource  # noqa: E402
from relance.runtime import open_deployment  # noqa: E402

RELANCE = str(Path(sys.executable).with_name("relance"))
SOCKET = "host=/var/run/postgresql"
SECRET = "bench-sync-secret-key-0123456789abcdef-xyz"
API = "/external-api/v1"
DEFAULT_PAGE, DEFAULT_BUDGET = 100, 1000


def main() -> None:
    args = parse_args()
    parts = args.parts.split(",")
    with tempfile.TemporaryDirectory() as work:
        home = Path(work)
        if "mirror" in parts:
            publish(mirror(args, home), args.record)
        if "depth" in parts:
            publish(depth(args, home), args.record)
        if "latency" in parts:
            publish(latency(args, home), args.record)
        if "writes" in parts:
            publish(write_cost(args, home), args.record)
        if "design" in parts:
            publish(asyncio.run(design()), args.record)
        if "record" in parts:
            publish(asyncio.run(record_cost(args, home)), args.record)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default="mirror,depth,latency,writes,design,record")
    parser.add_argument("--rows", type=int, default=1_000_000, help="followups of the book")
    parser.add_argument(
        "--compare",
        default="before=8bb7667,numbered in the write=fafa76e",
        help="LABEL=REV,...: commits to measure the writes of beside this tree (the first is"
        " the baseline)",
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--rate", type=int, default=50, help="writes per second (latency)")
    parser.add_argument("--record", action="store_true", help="append the tables to RESULTS.md")
    return parser.parse_args()


def env_of(home: Path, url: str, **extra: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("RELANCE_")},
        "RELANCE_DATA_DIR": str(home / "data"),
        "RELANCE_DATABASE_URL": url,
        "RELANCE_SECRET_KEY": SECRET,
        "RELANCE_RATE_LIMIT_ENABLED": "false",
        "RELANCE_LOG_LEVEL": "warning",
        **extra,
    }


async def clients_of(env: dict[str, str], company_ids: list[int]) -> list[tuple[str, str, str]]:
    """An API client for each company: (company public ID, client ID, secret)."""
    settings = Settings(
        data_dir=Path(env["RELANCE_DATA_DIR"]),
        database_url=env["RELANCE_DATABASE_URL"],
        secret_key=SECRET,
    )
    deployment = await open_deployment(settings)
    try:
        made = []
        for company in company_ids:
            client = await create_client(deployment.db, deployment.keys, company, ALL_SCOPES)
            public = deployment.ids.encode(Resource.COMPANY, company)
            made.append((public, client.client_id, client.client_secret))
        return made
    finally:
        await deployment.close()


def token(base: str, client_id: str, secret: str) -> str:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    found: str = httpx.post(f"{base}/token", data=form).json()["access_token"]
    return found


# --- mirror ------------------------------------------------------------------------------------


async def company_sizes(url: str) -> list[tuple[int, int]]:
    conn = await asyncpg.connect(Settings(database_url=url).database.driver_dsn)
    try:
        rows = await conn.fetch(
            "SELECT company_id, count(*) FROM followups GROUP BY company_id ORDER BY 2 DESC"
        )
        return [(int(row[0]), int(row[1])) for row in rows]
    finally:
        await conn.close()


def sync_into(env: dict[str, str], base: str, client: tuple[str, str, str], target: Path) -> float:
    _, client_id, secret = client
    synced = {
        **env,
        "RELANCE_BASE_URL": base,
        "RELANCE_CLIENT_ID": client_id,
        "RELANCE_CLIENT_SECRET": secret,
    }
    started = time.monotonic()
    summary = run(synced, "followups", "sync", "--into", str(target), "--json")
    seconds = time.monotonic() - started
    print(f"  sync: {summary} in {seconds:.1f} s", file=sys.stderr)
    return seconds


def mirror(args: argparse.Namespace, home: Path) -> list[str]:
    url = default_url("postgresql", args.rows)
    asyncio.run(load(Settings(database_url=url).database, args.rows, 7))
    env = env_of(home, url)
    sizes = asyncio.run(company_sizes(url))
    clients = asyncio.run(clients_of(env, [company for company, _ in sizes]))
    rows = []
    with serving(env, workers=2) as base:
        biggest = sync_into(env, base, clients[0], home / "biggest.sqlite")
        rows.append(("the biggest company", sizes[0][1], biggest))
        for parallel in (1, 2):
            started = time.monotonic()
            with ThreadPoolExecutor(parallel) as pool:
                targets = [home / f"book-{parallel}-{n}.sqlite" for n in range(len(clients))]
                list(pool.map(lambda c, t: sync_into(env, base, c, t), clients, targets))
            how = "one after the other" if parallel == 1 else f"{parallel} at a time"
            rows.append((f"the whole book ({len(clients)} companies, {how})", args.rows,
                         time.monotonic() - started))  # fmt: skip
    paged_hours = args.rows / DEFAULT_PAGE / DEFAULT_BUDGET
    return [
        f"### Incremental sync: mirroring from scratch, PostgreSQL, {args.rows:,} followups",
        "",
        f"{provenance('sync.py')}: `relance followups sync --into mirror.sqlite` (a new SQLite"
        " file each time) against `relance serve --workers 2` on the same machine (2 cores"
        " shared by server, database and client), rate limits off; the export gzip-encoded,"
        " with media URLs. The paged list at the default budget (pages of 100, 1,000 reads an"
        f" hour) would take {paged_hours:,.0f} hours for the whole book. Each run is a new"
        " process (start-up, token) per company: the whole book is 100 runs.",
        "",
        "| mirror of | followups | seconds | followups/s |",
        "|---|---|---|---|",
        *(f"| {label} | {n:,} | {s:.1f} | {n / s:,.0f} |" for label, n, s in rows),
    ]


# --- depth -------------------------------------------------------------------------------------


FEED_SCRIPT = """
wrk.headers["Authorization"] = "Bearer {token}"
"""


def depth(args: argparse.Namespace, home: Path) -> list[str]:
    """The feed's page at depth on a copy of the book in which company 1 holds every
    followup, numbered 1 to N in key order."""
    source = default_url("postgresql", args.rows)
    asyncio.run(load(Settings(database_url=source).database, args.rows, 7))
    url = "postgresql://postgres@/relance_bench_sync_depth?" + SOCKET
    asyncio.run(copy_of(source, url))
    env = env_of(home, url)
    ((_, client_id, secret),) = asyncio.run(clients_of(env, [1]))
    cursors = cursors_at([0, args.rows * 9 // 10])
    rows = []
    with serving(env, workers=2) as base:
        bearer = token(base, client_id, secret)
        for label, cursor in zip(
            ("first page", f"depth {args.rows * 9 // 10:,}"), cursors, strict=True
        ):
            query = "limit=1000&include_media=false" + (f"&cursor={cursor}" if cursor else "")
            figures = wrk(f"{base}{API}/followups/changes?{query}", bearer, 4, args.seconds)
            rows.append((label, *figures))
            print(label, figures, file=sys.stderr)
    return [
        f"### Incremental sync: the feed's page of 1,000 at depth, PostgreSQL, {args.rows:,}"
        " changes in one company",
        "",
        f"{provenance('sync.py')}: wrk, 4 connections, {args.seconds} s, `GET"
        " /followups/changes?limit=1000&include_media=false` from the beginning and from a cursor"
        " 90 % of the way, against `relance serve --workers 2`; a copy of the book in which one"
        " company holds every followup.",
        "",
        "| page | req/s | p50 ms | p99 ms | followups/s |",
        "|---|---|---|---|---|",
        *(
            f"| {label} | {rps:,.1f} | {p50:.1f} | {p99:.1f} | {rps * 1000:,.0f} |"
            for label, rps, p50, p99 in rows
        ),
    ]


async def copy_of(source: str, url: str) -> None:
    """A copy of the database at `source` (made from it as a template) at `url`, in which
    company 1 holds every followup, numbered in key order."""
    target = Settings(database_url=url).database
    source_name = urlsplit(Settings(database_url=source).database.driver_dsn).path.lstrip("/")
    parts = urlsplit(target.driver_dsn)
    name = parts.path.lstrip("/")
    admin = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source_name}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(target.driver_dsn)
    try:
        # A bench copy: its followups' composite key to their debts is dropped, not kept.
        await conn.execute(
            "ALTER TABLE followups DROP CONSTRAINT fk_followups_debt_id_company_id_debts"
        )
        await conn.execute("UPDATE debts SET company_id = 1")
        await conn.execute("UPDATE followups SET company_id = 1")
        async with conn.transaction():
            await changes.rebuild(conn, time.time_ns() // 1000)
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


def cursors_at(positions: list[int]) -> list[str | None]:
    from relance.followups.changes import change_cursors
    from relance.keys import DeploymentKeys

    keys = DeploymentKeys.derive(SECRET.encode())
    cursors = change_cursors(keys.change_cursors)
    return [cursors.seal(1, n) if n else None for n in positions]


def wrk(url: str, bearer: str, connections: int, seconds: int) -> tuple[float, float, float]:
    import re

    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(FEED_SCRIPT.format(token=bearer))
    try:
        command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency",
                   "-s", script.name, url]  # fmt: skip
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    if "Non-2xx" in output:
        sys.exit(f"wrk saw errors: {output}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])  # type: ignore[index]
    return rps, _ms(output, "50%"), _ms(output, "99%")


# --- latency -----------------------------------------------------------------------------------


def latency(args: argparse.Namespace, home: Path) -> list[str]:
    url = "postgresql://postgres@/relance_bench_sync?" + SOCKET
    asyncio.run(create_database(Settings(database_url=url).database, fresh=True))
    env = env_of(home, url)
    run(env, "db", "upgrade")
    company = run(env, "companies", "create", "Latency", "--json")["id"]
    client = run(env, "clients", "create", "--company", company, "--scopes",
                 "followups:read followups:write debts:write", "--json")  # fmt: skip
    delays: list[float] = []
    expected = args.rate * args.seconds
    with serving(env, workers=2) as base:
        auth = {
            "Authorization": f"Bearer {token(base, client['client_id'], client['client_secret'])}"
        }
        debt = new_debt(base, auth)
        cursor = httpx.get(f"{base}{API}/followups/changes?cursor=now", headers=auth).json()[
            "next_cursor"
        ]
        done = threading.Event()

        def follow() -> None:
            nonlocal cursor
            with httpx.Client(headers=auth, timeout=40) as http:
                while not done.is_set():
                    page = http.get(
                        f"{base}{API}/followups/changes",
                        params={"cursor": cursor, "wait": 30, "limit": 1000},
                    ).json()
                    arrived = time.time()
                    for entry in page["data"]:
                        made = datetime.fromisoformat(entry["changed_at"].replace("Z", "+00:00"))
                        delays.append(arrived - made.timestamp())
                    cursor = page["next_cursor"]
                    if len(delays) >= expected:
                        return

        reader = threading.Thread(target=follow, daemon=True)
        reader.start()
        body = {"debt_id": debt, "type": "call", "status": "deal_found"}
        with httpx.Client(headers=auth) as http:
            start = time.monotonic()
            for n in range(expected):
                time.sleep(max(0.0, start + n / args.rate - time.monotonic()))
                assert http.post(f"{base}{API}/followups", json=body).status_code == 201
        reader.join(15)
        done.set()
    seen = sorted(delays)
    p50, p99 = (seen[int(len(seen) * q) - 1] * 1000 for q in (0.5, 0.99))
    return [
        "### Incremental sync: commit to a long-polling client, PostgreSQL",
        "",
        f"{provenance('sync.py')}: {args.rate} `POST /followups` a second for {args.seconds} s"
        " through `relance serve --workers 2`, while one client follows the feed with `wait=30`"
        " (RELANCE_CHANGES_POLL_SECONDS 0.1); each change's delay from its `changed_at` (taken"
        " as its write begins, before the commit) to the answer that carried it.",
        "",
        "| changes | arrived | p50 ms | p99 ms | max ms |",
        "|---|---|---|---|---|",
        f"| {expected:,} | {len(seen):,} | {p50:.0f} | {p99:.0f} | {seen[-1] * 1000:.0f} |",
    ]


# --- writes ------------------------------------------------------------------------------------


PUT_SCRIPT = """
wrk.method = "PUT"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
local ids = {{{ids}}}
local n = 0
request = function()
  n = n + 1
  local id = ids[math.random(#ids)]
  return wrk.format(nil, "{path}/" .. id, nil, '{{"notes":"call back ' .. n .. '"}}')
end
"""
ROUNDS = 3


@contextmanager
def baseline_tree(revision: str) -> Iterator[Path]:
    """The source of `revision` in a worktree of its own, run by this venv through PYTHONPATH."""
    path = Path(tempfile.mkdtemp(prefix="relance-baseline-"))
    git = shutil.which("git") or "git"
    subprocess.run([git, "-C", str(ROOT), "worktree", "add", "--detach", str(path), revision],
                   check=True, capture_output=True)  # fmt: skip
    try:
        yield path / "src"
    finally:
        subprocess.run([git, "-C", str(ROOT), "worktree", "remove", "--force", str(path)],
                       check=False, capture_output=True)  # fmt: skip
        shutil.rmtree(path, ignore_errors=True)


def variant_env(home: Path, name: str, source: Path | None) -> dict[str, str]:
    url = f"postgresql://postgres@/relance_bench_sync_{name}?" + SOCKET
    asyncio.run(create_database(Settings(database_url=url).database, fresh=True))
    env = env_of(home / name, url)
    if source is not None:
        env["PYTHONPATH"] = str(source)
    run(env, "db", "upgrade")
    return env


def write_cost(args: argparse.Namespace, home: Path) -> list[str]:
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: install Debian's package with `apt-get install -y wrk`")
    debts_csv, followups_csv = write_files(home, args.import_rows, 11)
    figures: dict[str, dict[str, list[float]]] = {}
    compared = dict(item.split("=", 1) for item in args.compare.split(","))
    with ExitStack() as trees:
        variants = {
            label: variant_env(home, f"v{n}", trees.enter_context(baseline_tree(revision)))
            for n, (label, revision) in enumerate(compared.items())
        }
        variants["this tree"] = variant_env(home, "this", None)
        prepared: dict[str, tuple[dict[str, Any], list[str], list[str]]] = {}
        for name, env in variants.items():
            company = run(env, "companies", "create", f"Writes {name}", "--json")["id"]
            client = run(env, "clients", "create", "--company", company, "--scopes",
                         "followups:write debts:write followups:read", "--json")  # fmt: skip
            prepared[name] = (client, [], [])
        # Alternated, round after round and in turn first, so that none has always the later
        # (fuller) tables or follows the same one's checkpoint.
        for round_number in range(ROUNDS):
            order = list(variants.items())
            for name, env in order if round_number % 2 == 0 else reversed(order):
                client, debts, followups = prepared[name]
                found = figures.setdefault(name, {})
                with serving(env) as base:
                    bearer = token(base, client["client_id"], client["client_secret"])
                    auth = {"Authorization": f"Bearer {bearer}"}
                    if not debts:
                        debts.extend(new_debt(base, auth) for _ in range(DEBTS))
                        body = {"debt_id": debts[0], "type": "email", "status": "sent"}
                        for _ in range(DEBTS):
                            made = httpx.post(f"{base}{API}/followups", json=body, headers=auth)
                            followups.append(made.json()["data"]["id"])
                    url = f"{base}{API}/followups"
                    found.setdefault("POST", []).append(
                        post_load(url, bearer, debts, args.seconds)[0]
                    )
                    found.setdefault("PUT", []).append(
                        put_load(url, bearer, followups, args.seconds)
                    )
                company = run(env, "companies", "create", f"Import {round_number}", "--json")["id"]
                run(env, "import", "debts", str(debts_csv), "--company", company, "--json")
                started = time.monotonic()
                run(env, "import", "followups", str(followups_csv), "--company", company,
                    "--batch-size", "10000", "--json")  # fmt: skip
                rate = args.import_rows / (time.monotonic() - started)
                found.setdefault("import", []).append(rate)
                print(name, found, file=sys.stderr)
    labels = list(variants)
    first = figures[labels[0]]
    measures = (
        ("POST /followups", "POST"),
        ("PUT /followups/{id}", "PUT"),
        (f"import of {args.import_rows:,} followups (rows)", "import"),
    )
    commits = ", ".join(f"{label}: `{revision}`" for label, revision in compared.items())
    return [
        "### Incremental sync: what keeping the sequence costs writes, PostgreSQL",
        "",
        f"{provenance('sync.py')}: the same measures at each commit compared ({commits}; each"
        " from a git worktree, on a database of its own) and at this tree, alternated over"
        f" {ROUNDS} rounds, the best of each: wrk, 8 connections, {args.seconds} s, against"
        " `relance serve --no-deliver` (one worker, webhooks on with no endpoint), all in one"
        f" company: `POST /followups` on one of {DEBTS} debts drawn at random, `PUT"
        f" /followups/{{id}}` of one of {DEBTS} followups drawn at random; then `relance import"
        f" followups` of {args.import_rows:,} rows (batches of 10,000) into a new company. Per"
        f" second; the cost against {labels[0]}.",
        "",
        "| write | " + " | ".join(labels) + " |",
        "|---|" + "---|" * len(labels),
        *(
            f"| {name} | "
            + " | ".join(
                f"{max(figures[label][key]):,.0f}"
                + (
                    ""
                    if n == 0
                    else f" ({(max(first[key]) / max(figures[label][key]) - 1) * 100:+.1f} %)"
                )
                for n, label in enumerate(labels)
            )
            + " |"
            for name, key in measures
        ),
    ]


def put_load(url: str, bearer: str, followups: list[str], seconds: int) -> float:
    import re

    listed = ", ".join(f'"{followup}"' for followup in followups)
    path = "/" + url.split("/", 3)[3]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(PUT_SCRIPT.format(token=bearer, ids=listed, path=path))
    try:
        command = ["wrk", "-t", "2", "-c", "8", "-d", f"{seconds}s", "-s", script.name, url]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    if "Non-2xx" in output:
        sys.exit(f"wrk saw errors: {output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])  # type: ignore[index]


# --- design ------------------------------------------------------------------------------------


async def design() -> list[str]:
    """The xmin design on a table of its own: a writer commits a row every 10 ms while, from
    the second second, an unrelated transaction stays open for 3 s; a reader polls for the rows
    below pg_snapshot_xmin. How long each committed row stayed invisible."""
    url = "postgresql://postgres@/relance_bench_sync_design?" + SOCKET
    target = Settings(database_url=url).database
    await create_database(target, fresh=True)
    setup = await asyncpg.connect(target.driver_dsn)
    await setup.execute(
        "CREATE TABLE xmin_changes (id bigserial PRIMARY KEY, xid xid8 NOT NULL"
        " DEFAULT pg_current_xact_id(), committed_at double precision)"
    )
    await setup.close()
    writer, reader, other = [await asyncpg.connect(target.driver_dsn) for _ in range(3)]
    committed: dict[int, float] = {}
    seen: dict[int, float] = {}
    stop = asyncio.Event()

    async def write() -> None:
        for _ in range(600):
            async with writer.transaction():
                key = await writer.fetchval("INSERT INTO xmin_changes DEFAULT VALUES RETURNING id")
            committed[key] = time.monotonic()
            await asyncio.sleep(0.01)
        stop.set()

    async def read() -> None:
        while not stop.is_set() or len(seen) < len(committed):
            rows = await reader.fetch(
                "SELECT id FROM xmin_changes WHERE xid < pg_snapshot_xmin(pg_current_snapshot())"
            )
            now = time.monotonic()
            for (key,) in rows:
                seen.setdefault(key, now)
            await asyncio.sleep(0.01)

    async def hold() -> None:
        await asyncio.sleep(2)
        async with other.transaction():
            await other.fetchval("SELECT pg_current_xact_id()")  # a transaction that writes
            await asyncio.sleep(3)

    await asyncio.gather(write(), read(), hold())
    delays = sorted(seen[key] - committed[key] for key in committed)
    for conn in (writer, reader, other):
        await conn.close()
    p50, p99, worst = (statistics.median(delays), delays[int(len(delays) * 0.99) - 1], delays[-1])
    return [
        "### Incremental sync: the other design, PostgreSQL's xmin horizon",
        "",
        f"{provenance('sync.py')}: a row committed every 10 ms for 6 s, each stamped with its"
        " transaction's ID; a reader polling every 10 ms for the rows below"
        " `pg_snapshot_xmin(pg_current_snapshot())`; from the second second, one unrelated"
        " transaction (any session of the database) open for 3 s. How long each committed row"
        " stayed invisible to the reader. The counter (the design Relance keeps) is measured by"
        " the latency and write-cost tables.",
        "",
        "| rows | p50 ms | p99 ms | max ms |",
        "|---|---|---|---|",
        f"| {len(delays)} | {p50 * 1000:.0f} | {p99 * 1000:.0f} | {worst * 1000:.0f} |",
    ]


# --- record ------------------------------------------------------------------------------------


WRITERS = 8


async def record_cost(args: argparse.Namespace, home: Path) -> list[str]:
    """Creates and updates through the services, WRITERS at once on one company, alternated
    rounds with the change recorded and with the same statement less the recording."""
    from decimal import Decimal

    from relance.companies.repository import insert_company
    from relance.debts.records import DebtRecord
    from relance.debts.repository import insert_debt
    from relance.followups import service
    from relance.followups.bodies import FollowupBody
    from relance.followups.enums import FollowupStatus, FollowupType
    from relance.followups.repository import writes
    from relance.kit.time import utc_now
    from relance.media.links import MediaLinks
    from relance.runtime import open_runtime
    from relance.units import unit_of_work

    url = "postgresql://postgres@/relance_bench_sync_record?" + SOCKET
    target = Settings(database_url=url).database
    await create_database(target, fresh=True)
    env = env_of(home, url)
    await asyncio.to_thread(run, env, "db", "upgrade")
    settings = Settings(data_dir=home / "record", database_url=url, secret_key=SECRET)
    runtime = await open_runtime(settings)
    links = MediaLinks(runtime.media, "http://127.0.0.1", 3600, time.time())
    async with unit_of_work(runtime.db) as unit:
        company = await insert_company(unit.conn, "Record cost", utc_now())
        debts = []
        for _ in range(DEBTS):
            debt = DebtRecord(firstname="A", lastname="B", amount=Decimal(10), currency="EUR",
                              phone="+33612345678", status="status.default.pending")  # fmt: skip
            debts.append(await insert_debt(unit.conn, company, debt, utc_now()))
    debt_ids = [runtime.ids.encode(Resource.DEBT, key) for key in debts]
    recorded_insert, recorded_with = writes._PG_INSERT, changes.recorded_with
    parameter = f"${len(writes.INSERTED) + 5}"
    plain_insert = (
        f"WITH w AS ({writes._INSERT} RETURNING id) SELECT id FROM w WHERE {parameter}::bigint > 0"
    )

    def plain_with(write: str, changed_us: str) -> str:
        return f"WITH w AS ({write}) SELECT id FROM w WHERE {changed_us}::bigint > 0"

    followups: list[str] = []

    async def create(n: int) -> None:
        body = FollowupBody(debt_id=debt_ids[n % DEBTS], type=FollowupType.CALL,
                            status=FollowupStatus.DEAL_FOUND)  # fmt: skip
        async with unit_of_work(runtime.db) as unit:
            made = await service.create_followup(
                unit.conn, runtime.ids, company, body, links, runtime.events
            )
        if len(followups) < DEBTS:
            followups.append(made.id)

    async def update(n: int) -> None:
        body = FollowupBody(notes=f"call back {n}")
        async with unit_of_work(runtime.db) as unit:
            await service.update_followup(
                unit.conn, runtime.ids, company, followups[n % len(followups)], body, links,
                runtime.events,
            )  # fmt: skip

    async def rate(write: Any) -> float:
        stop = time.monotonic() + args.seconds

        async def writer(offset: int) -> int:
            n = 0
            while time.monotonic() < stop:
                await write(offset + n * WRITERS)
                n += 1
            return n

        done = await asyncio.gather(*(writer(k) for k in range(WRITERS)))
        return float(sum(done)) / float(args.seconds)

    figures: dict[tuple[str, str], list[float]] = {}
    try:
        for round_number in range(4):
            order = ["recorded", "plain"] if round_number % 2 == 0 else ["plain", "recorded"]
            for how in order:
                writes._PG_INSERT = recorded_insert if how == "recorded" else plain_insert
                changes.recorded_with = recorded_with if how == "recorded" else plain_with
                for name, write in (("create", create), ("update", update)):
                    figures.setdefault((name, how), []).append(await rate(write))
                print(round_number, how, figures, file=sys.stderr)
    finally:
        writes._PG_INSERT, changes.recorded_with = recorded_insert, recorded_with
        await runtime.close()
    rows = []
    for name in ("create", "update"):
        with_it, without = max(figures[(name, "recorded")]), max(figures[(name, "plain")])
        rows.append(
            f"| {name} | {without:,.0f} | {with_it:,.0f} | {(without / with_it - 1) * 100:+.1f} % |"
        )
    return [
        "### Incremental sync: what recording the change costs a write, PostgreSQL, in process",
        "",
        f"{provenance('sync.py')}: `followups.service.create_followup` and `update_followup` in"
        f" units of work, {WRITERS} at once in one process for {args.seconds} s on one company"
        f" ({DEBTS} debts; updates of the first {DEBTS} followups made), four rounds alternated,"
        " the best of each; the same code with the statement that writes the followup and"
        " records its change replaced by the same write alone (a plain statement of the same"
        " parameters). Writes per second.",
        "",
        "| write | without recording | with recording | cost |",
        "|---|---|---|---|",
        *rows,
    ]


if __name__ == "__main__":
    main()
