"""The List Followups benchmark: Relance served as a user would (`relance serve`, several
workers), driven by wrk from this machine over a fixed set of scenarios, beside the same app with
the total left out, the least app that can serve the `status` page from the same database
(bench/variants.py: no framework, token or rate limit), the statement alone (the page's statement
run on each request, its rows ignored, a page held in memory answered) and the floor
(bench/floor.py, no database at all), all on the same worker count.

    python bench/run.py [--rows N] [--database postgresql|sqlite] [--seconds S] [--json]
    python bench/run.py --limiter-cost [--redis-url URL]

Loads the book first when the database does not hold it yet (bench/generate.py). Prints, for each
scenario and connection count, req/s, p50 and p99 latency and any non-2xx answer.

Relance runs with its rate limiter on, as deployed (`--limiter`: memory by default); the bench
clients get a budget no run can spend. `--limiter-cost` instead serves the `status` scenario with
the limiter off, in memory and in Redis, and prints what each adds to the median latency.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.floor import PAGE_FILE  # noqa: E402
from bench.generate import COMPANIES, default_url, load  # noqa: E402
from relance.auth.scopes import ALL_SCOPES  # noqa: E402
from relance.auth.service import create_client  # noqa: E402
from relance.config import MAX_RATE_LIMIT, Settings  # noqa: E402
from relance.observability.logs import logging_config  # noqa: E402
from relance.resources import Resource  # noqa: E402
from relance.runtime import open_runtime  # noqa: E402

SECRET = "relance-bench-secret-never-used-in-production"
URL = "/external-api/v1/followups"
# With the largest budget a client may have, a minute's window is more than any run can spend.
RATE_LIMIT_WINDOW_SECONDS = "60"


@dataclass(frozen=True)
class Scenario:
    name: str
    tenant: str  # "biggest" or "small"
    query: str


SCENARIOS = (
    Scenario("no filter", "biggest", "limit=50"),
    Scenario("status", "biggest", "status=delivered&limit=50"),
    Scenario(
        "status+type+month",
        "biggest",
        "status=no_answer&type=call&date_from=2026-09-01&date_to=2026-09-30&limit=50",
    ),
    Scenario("debt_id", "biggest", "debt_id={debt}&limit=50"),
    Scenario("page 2000", "biggest", "limit=50&page=2000"),
    # Beyond the list: a deep page under a filter, where the seek reads filtered counts.
    Scenario("status page 1000", "biggest", "status=delivered&limit=50&page=1000"),
    Scenario("small tenant", "small", "limit=50"),
)


@dataclass
class Measure:
    server: str
    scenario: str
    connections: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def main() -> None:
    args = parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: install Debian's package with `apt-get install -y wrk`")
    warn_of_autogroup()
    url = args.url or default_url(args.database, args.rows)
    settings = Settings(database_url=url, secret_key=SECRET)
    asyncio.run(load(settings.database, args.rows, args.seed))
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "RELANCE_DATABASE_URL": url, "RELANCE_SECRET_KEY": SECRET}
        env |= {"RELANCE_DATA_DIR": home, "PYTHONPATH": str(ROOT)}
        env |= {"RELANCE_RATE_LIMIT_WINDOW_SECONDS": RATE_LIMIT_WINDOW_SECONDS}
        fixtures = asyncio.run(prepare(settings))
        if args.limiter_cost:
            measures = limiter_cost(args, env, fixtures)
        else:
            measures = run_all(
                args, limiter_env(env, args.limiter, args.redis_url), fixtures, Path(home)
            )
    report(args, measures)


AUTOGROUP = Path("/proc/sys/kernel/sched_autogroup_enabled")


def warn_of_autogroup() -> None:
    """Linux's autogroup schedules each session's processes as one group. PostgreSQL runs in a
    session of its own, and with both cores busy one of its backends was seen waiting seconds
    for a core: every server that queries the database then shows p99s of hundreds of
    milliseconds (bench/RESULTS.md, "the statement is the ceiling")."""
    with contextlib.suppress(OSError):
        if AUTOGROUP.read_text().strip() == "1":
            print(
                "note: kernel.sched_autogroup_enabled is 1; p99 latencies will reflect the"
                " scheduler (`sysctl kernel.sched_autogroup_enabled=0` for the runs)",
                file=sys.stderr,
            )


def limiter_env(env: dict[str, str], limiter: str, redis_url: str) -> dict[str, str]:
    if limiter == "off":
        return {**env, "RELANCE_RATE_LIMIT_ENABLED": "false"}
    if limiter == "redis":
        return {**env, "RELANCE_REDIS_URL": redis_url}
    return env


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--url", help="database URL (default: the bench database of --database)")
    parser.add_argument("--seconds", type=int, default=5, help="per scenario and connection count")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per measurement; the median run is kept"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", default="1,8,32", help="comma-separated")
    parser.add_argument("--scenarios", default="", help="comma-separated names (default: all)")
    parser.add_argument("--limiter", choices=LIMITERS, default="memory")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--limiter-cost", action="store_true", help="measure the limiter instead (see above)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--record", action="store_true", help="append the table to RESULTS.md")
    return parser.parse_args()


async def prepare(settings: Settings) -> dict[str, str]:
    """A client for the biggest and the smallest company, and the biggest one's busiest debt."""
    runtime = await open_runtime(settings)
    try:
        fixtures: dict[str, str] = {}
        for tenant, company_id in (("biggest", 1), ("small", COMPANIES)):
            async with runtime.db.transaction() as conn:
                client = await create_client(
                    conn, runtime.keys, company_id, ALL_SCOPES, "bench", read_limit=MAX_RATE_LIMIT
                )
            fixtures[f"{tenant}_id"] = client.client_id
            fixtures[f"{tenant}_secret"] = client.client_secret
        debt = await runtime.db.fetchval(
            "SELECT debt_id FROM followups WHERE company_id = 1"
            " GROUP BY debt_id ORDER BY count(*) DESC, debt_id LIMIT 1"
        )
        fixtures["debt"] = runtime.ids.encode(Resource.DEBT, int(debt))
        return fixtures
    finally:
        await runtime.close()


def relance_command(args: argparse.Namespace) -> list[str]:
    return [str(Path(sys.executable).with_name("relance")), "serve", "--workers", str(args.workers)]


def run_all(
    args: argparse.Namespace, env: dict[str, str], fixtures: dict[str, str], home: Path
) -> list[Measure]:
    connections = [int(c) for c in args.connections.split(",")]
    chosen = [s for s in SCENARIOS if not args.scenarios or s.name in args.scenarios.split(",")]
    relance = relance_command(args)
    uvicorn = [sys.executable, "-m", "uvicorn", "--factory", "--workers", str(args.workers)]
    uvicorn += ["--log-level", "warning", "--host", "127.0.0.1"]
    measures: list[Measure] = []
    with server(relance, env, "--port") as base:
        tokens = {t: token(base, fixtures, t) for t in ("biggest", "small")}
        page = httpx.get(f"{base}{URL}?limit=50", headers=bearer(tokens["biggest"])).content
        (home / "page.json").write_bytes(page)
        measures += drive("relance", base, chosen, connections, tokens, fixtures, args)
    # The same logging as `relance serve` sets up, so that only the total differs.
    logging = home / "logging.json"
    logging.write_bytes(orjson.dumps(logging_config("json", "info")))
    variant = [*uvicorn, "--log-config", str(logging), "bench.variants:create_app_without_total"]
    with server(variant, env, "--port") as base:
        measures += drive("no total", base, chosen, connections, tokens, fixtures, args)
    floor_env = {**env, PAGE_FILE: str(home / "page.json")}
    status = [s for s in chosen if s.name == "status"]
    if status:
        with server([*uvicorn, "bench.variants:create_least_app"], env, "--port") as base:
            measures += drive("least", base, status, connections, tokens, fixtures, args)
        statement = [*uvicorn, "bench.variants:create_statement_app"]
        with server(statement, floor_env, "--port") as base:
            measures += drive("statement", base, status, connections, tokens, fixtures, args)
    with server([*uvicorn, "bench.floor:create_app"], floor_env, "--port") as base:
        floor = Scenario("floor", "biggest", "limit=50")
        measures += drive("floor", base, [floor], connections, tokens, fixtures, args)
    return measures


def limiter_cost(
    args: argparse.Namespace, env: dict[str, str], fixtures: dict[str, str]
) -> list[Measure]:
    connections = [int(c) for c in args.connections.split(",")]
    status = [s for s in SCENARIOS if s.name == "status"]
    measures: list[Measure] = []
    for limiter in LIMITERS:
        with server(
            relance_command(args), limiter_env(env, limiter, args.redis_url), "--port"
        ) as base:
            tokens = {t: token(base, fixtures, t) for t in ("biggest", "small")}
            measures += drive(
                f"limiter {limiter}", base, status, connections, tokens, fixtures, args
            )
    return measures


@contextlib.contextmanager
def server(command: list[str], env: dict[str, str], port_flag: str) -> Iterator[str]:
    port = free_port()
    # Relance's log, a JSON line per request, goes to a file, as a deployment's would.
    log = (Path(env["RELANCE_DATA_DIR"]) / "server.log").open("ab")
    process = subprocess.Popen([*command, port_flag, str(port)], env=env, stdout=log)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_up(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the server exited with status {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(f"{base}/", timeout=1)
            return
        time.sleep(0.2)
    sys.exit(f"no answer from {base} within 60 s")


def token(base: str, fixtures: dict[str, str], tenant: str) -> str:
    form = {
        "grant_type": "client_credentials",
        "client_id": fixtures[f"{tenant}_id"],
        "client_secret": fixtures[f"{tenant}_secret"],
    }
    response = httpx.post(f"{base}/token", data=form)
    response.raise_for_status()
    value: str = response.json()["access_token"]
    return value


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def drive(
    server_name: str,
    base: str,
    scenarios: list[Scenario],
    connections: list[int],
    tokens: dict[str, str],
    fixtures: dict[str, str],
    args: argparse.Namespace,
) -> list[Measure]:
    measures = []
    for scenario in scenarios:
        url = f"{base}{URL}?{scenario.query.format(**fixtures)}"
        check = httpx.get(url, headers=bearer(tokens[scenario.tenant]))
        if check.status_code != 200:
            sys.exit(f"{server_name} {scenario.name}: {check.status_code} {check.text[:200]}")
        # Unrecorded: every worker opens its connections and prepares its statements first.
        wrk(url, tokens[scenario.tenant], max(connections), 1)
        for count in connections:
            runs = [
                wrk(url, tokens[scenario.tenant], count, args.seconds) for _ in range(args.repeat)
            ]
            stats = sorted(runs, key=lambda run: run["requests_per_second"])[len(runs) // 2]
            measures.append(Measure(server_name, scenario.name, count, **stats))
            print(f"  {server_name:9} {scenario.name:18} c={count:<3} {stats}", file=sys.stderr)
    return measures


def wrk(url: str, bearer_token: str, connections: int, seconds: int) -> dict[str, Any]:
    command = ["wrk", "-t", str(min(2, connections)), "-c", str(connections)]
    command += ["-d", f"{seconds}s", "--latency", "-H", f"Authorization: Bearer {bearer_token}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    return {
        "requests_per_second": float(_find(r"Requests/sec:\s+([\d.]+)", output)),
        "p50_ms": _latency(_find(r"\s50%\s+([\d.]+\w+)", output)),
        "p99_ms": _latency(_find(r"\s99%\s+([\d.]+\w+)", output)),
        "errors": int(_find(r"Non-2xx or 3xx responses: (\d+)", output, "0"))
        + sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output)),
    }


def _find(pattern: str, text: str, default: str | None = None) -> str:
    match = re.search(pattern, text)
    if match is None:
        if default is None:
            raise RuntimeError(f"unexpected wrk output: {text}")
        return default
    return match.group(1)


def _latency(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


LIMITERS = ("off", "memory", "redis")


def describe_commit() -> str:
    """The commit a result was measured at, `-dirty` when the tree had changes."""
    return subprocess.run(
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()


def report(args: argparse.Namespace, measures: list[Measure]) -> None:
    command = "python bench/run.py " + " ".join(sys.argv[1:])
    commit = describe_commit()
    if args.json:
        document = {"command": command, "commit": commit, "measures": [asdict(m) for m in measures]}
        sys.stdout.write(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n")
    render = limiter_markdown if args.limiter_cost else markdown
    table = render(args, measures, command, commit)
    if not args.json:
        print(table)
    if args.record:
        record(table)


def record(table: str) -> None:
    """Append a run's table to bench/RESULTS.md."""
    with (ROOT / "bench" / "RESULTS.md").open("a") as results:
        results.write("\n" + table)


def provenance(script: str) -> str:
    """Which command, at which commit and on which day, produced a table."""
    command = f"python bench/{script} " + " ".join(sys.argv[1:])
    return f"`{command.strip()}` at commit `{describe_commit()}`, {time.strftime('%Y-%m-%d')}"


def publish(lines: list[str], keep: bool) -> None:
    """Print a run's table, and append it to bench/RESULTS.md when asked (--record)."""
    table = "\n".join(lines) + "\n"
    print(table)
    if keep:
        record(table)


def markdown(args: argparse.Namespace, measures: list[Measure], command: str, commit: str) -> str:
    count_free = {(m.scenario, m.connections): m for m in measures if m.server == "no total"}
    floor = {m.connections: m for m in measures if m.server == "floor"}
    lines = [
        f"### {args.database}, {args.rows:,} followups, {args.workers} workers",
        "",
        f"`{command}` at commit `{commit}`, {time.strftime('%Y-%m-%d')}.",
        "",
        "| server | scenario | conns | req/s | p50 ms | p99 ms | errors | vs no total | vs floor |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for m in measures:
        free = count_free.get((m.scenario, m.connections))
        ratio = f"{m.requests_per_second / free.requests_per_second:.0%}" if free else ""
        base = floor.get(m.connections)
        share = f"{m.requests_per_second / base.requests_per_second:.0%}" if base else ""
        lines.append(
            f"| {m.server} | {m.scenario} | {m.connections} | {m.requests_per_second:,.0f} |"
            f" {m.p50_ms:.2f} | {m.p99_ms:.2f} | {m.errors} |"
            f" {ratio if m.server == 'relance' else ''} | {share} |"
        )
    return "\n".join(lines) + "\n"


def limiter_markdown(
    args: argparse.Namespace, measures: list[Measure], command: str, commit: str
) -> str:
    off = {m.connections: m for m in measures if m.server == "limiter off"}
    lines = [
        f"### Rate limiter cost: {args.database}, {args.rows:,} followups, {args.workers} workers,"
        " `status` scenario",
        "",
        f"`{command}` at commit `{commit}`, {time.strftime('%Y-%m-%d')}.",
        "",
        "| limiter | conns | req/s | p50 ms | p99 ms | errors | p50 added |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in measures:
        added = m.p50_ms - off[m.connections].p50_ms
        lines.append(
            f"| {m.server.removeprefix('limiter ')} | {m.connections} |"
            f" {m.requests_per_second:,.0f} | {m.p50_ms:.2f} | {m.p99_ms:.2f} | {m.errors} |"
            f" {added:+.2f} ms |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
