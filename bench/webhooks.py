"""The webhooks benchmark, on PostgreSQL with receivers on this machine's loopback:

- throughput: a backlog of deliveries (one endpoint per company, each on a port of its own)
  drained by one, then two `relance worker` processes: deliveries per second;
- latency: events committed at a steady rate (one per transaction), the receiver noting when
  each arrives: commit-to-delivery p50 and p99;
- write cost: `POST /followups` driven by wrk against `relance serve --no-deliver` with webhooks
  off, and on with 0, 1 and 5 endpoints subscribed: requests per second and p50 of each;
- import: `relance import followups` of 100,000 rows with webhooks off, and with one endpoint
  subscribed (every row's events recorded in bulk, in its batch's transaction).

    python bench/webhooks.py [--parts throughput,latency,writes,import] [--deliveries 20000]
        [--endpoints 20] [--rate 100] [--seconds 10] [--rows 100000] [--record]

Prints each part's table and the command that produced it (appended to bench/RESULTS.md with
--record).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import create_database  # noqa: E402
from bench.imports import timed, write_files  # noqa: E402
from bench.run import provenance, publish  # noqa: E402
from bench.webhook_clients import free_port, receive, wait_for  # noqa: E402
from relance.config import Settings  # noqa: E402
from relance.events.records import NewEvent  # noqa: E402
from relance.events.types import EventType  # noqa: E402
from relance.runtime import Deployment, open_deployment  # noqa: E402
from relance.units import unit_of_work  # noqa: E402

RELANCE = str(Path(sys.executable).with_name("relance"))
URL = "postgresql://postgres@/relance_bench_webhooks?host=/var/run/postgresql"
SECRET = "bench-webhooks-secret-key-0123456789abcdef"
# A debt.created's data, about the size of a real one.
DATA = orjson.dumps(
    {
        "id": "x" * 22,
        "firstname": "Camille",
        "lastname": "Durand",
        "amount": "250.00",
        "currency": "EUR",
        "metadata": {"n": "y" * 600},
    }
)


def main() -> None:
    args = parse_args()
    parts = args.parts.split(",")
    with tempfile.TemporaryDirectory() as work:
        home = Path(work)
        env = fresh_deployment(home)
        if "throughput" in parts:
            publish(throughput(args, home, env), args.record)
        if "latency" in parts:
            publish(latency(args, home, env), args.record)
        if "writes" in parts:
            publish(write_cost(args, home, env), args.record)
        if "import" in parts:
            publish(import_cost(args, home, env), args.record)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default="throughput,latency,writes,import")
    parser.add_argument("--deliveries", type=int, default=20_000)
    parser.add_argument("--endpoints", type=int, default=20)
    parser.add_argument("--rate", type=int, default=100, help="events per second (latency)")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rows", type=int, default=100_000, help="followups (import)")
    parser.add_argument("--record", action="store_true", help="append the tables to RESULTS.md")
    return parser.parse_args()


def fresh_deployment(home: Path) -> dict[str, str]:
    asyncio.run(create_database(Settings(database_url=URL).database, fresh=True))
    env = {
        **os.environ,
        "RELANCE_DATA_DIR": str(home / "data"),
        "RELANCE_DATABASE_URL": URL,
        "RELANCE_SECRET_KEY": SECRET,
        "RELANCE_WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "true",
        "RELANCE_RATE_LIMIT_ENABLED": "false",
        "RELANCE_LOG_LEVEL": "warning",
    }
    run(env, "db", "upgrade")
    return env


def run(env: dict[str, str], *args: str) -> Any:
    done = subprocess.run([RELANCE, *args], env=env, check=False, capture_output=True)
    if done.returncode != 0:
        sys.exit(f"relance {' '.join(args[:2])} failed: {done.stderr.decode()[-2000:]}")
    return orjson.loads(done.stdout) if "--json" in args else None


def settings_of(env: dict[str, str]) -> Settings:
    return Settings(data_dir=Path(env["RELANCE_DATA_DIR"]), database_url=URL, secret_key=SECRET)


@contextmanager
def receivers(ports: list[int]) -> Iterator[None]:
    """The minimal 204 receiver of bench/webhook_clients.py, in a process of its own."""
    import multiprocessing

    process = multiprocessing.get_context("spawn").Process(
        target=receive, args=(tuple(ports), None), daemon=True
    )
    process.start()
    for port in ports:
        wait_for(port)
    try:
        yield
    finally:
        process.terminate()
        process.join(5)


@contextmanager
def workers(env: dict[str, str], count: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    started = [
        subprocess.Popen([RELANCE, "worker"], env=env, stdout=subprocess.DEVNULL)
        for _ in range(count)
    ]
    try:
        yield started
    finally:
        for process in started:
            process.terminate()
        for process in started:
            process.wait(20)


# --- throughput -------------------------------------------------------------------------------


async def companies_with_endpoints(deployment: Deployment, urls: list[str]) -> list[int]:
    """A company per URL, each with one endpoint subscribed to every event."""
    from relance.companies.repository import insert_company
    from relance.kit.time import utc_now
    from relance.webhooks import service
    from relance.webhooks.schemas import WebhookEndpointBody

    secrets = service.Secrets.of(deployment.keys)
    made = []
    async with unit_of_work(deployment.db) as unit:
        for n, url in enumerate(urls):
            company = await insert_company(unit.conn, f"Bench {n} {time.time_ns()}", utc_now())
            body = WebhookEndpointBody(url=url)
            await service.create_endpoint(unit.conn, deployment.ids, secrets, company, body, True)
            made.append(company)
    return made


async def backlog(env: dict[str, str], urls: list[str], total: int) -> None:
    deployment = await open_deployment(settings_of(env))
    try:
        companies = await companies_with_endpoints(deployment, urls)
        each = total // len(companies)
        event = NewEvent(EventType.DEBT_CREATED, DATA)
        for company in companies:
            async with unit_of_work(deployment.db) as unit:
                await deployment.events.record(unit.conn, company, [event] * each)
    finally:
        await deployment.close()


async def pending(settings: Settings) -> int:
    import asyncpg

    conn = await asyncpg.connect(settings.database.driver_dsn)
    try:
        return int(
            await conn.fetchval("SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'")
        )
    finally:
        await conn.close()


def drain(env: dict[str, str], count: int) -> tuple[int, float]:
    """Start `count` workers on the backlog; the deliveries they made and the seconds from
    the first to the last (their start-up left out)."""
    settings = settings_of(env)
    before = asyncio.run(pending(settings))
    with workers(env, count):
        while (left := asyncio.run(pending(settings))) == before:
            time.sleep(0.02)
        started, first = time.monotonic(), left
        while (left := asyncio.run(pending(settings))) > 0:
            time.sleep(0.05)
        seconds = time.monotonic() - started
    return first, seconds


def throughput(args: argparse.Namespace, home: Path, env: dict[str, str]) -> list[str]:
    ports = [free_port() for _ in range(args.endpoints)]
    rows = []
    with receivers(ports):
        urls = [f"http://127.0.0.1:{port}/hooks" for port in ports]
        for count in (1, 2):
            asyncio.run(backlog(env, urls, args.deliveries))
            delivered, seconds = drain(env, count)
            rows.append(f"| {count} | {delivered:,} | {seconds:.1f} | {delivered / seconds:,.0f} |")
            print(rows[-1], file=sys.stderr)
    return [
        f"### Webhooks: delivery throughput, PostgreSQL, {args.endpoints} endpoints",
        "",
        f"{provenance('webhooks.py')}: a backlog of deliveries (about 1 KiB events, one endpoint"
        " per company, each on a port of its own of one loopback receiver process answering"
        " 204) drained by `relance worker` processes; counted from the first delivery to the"
        " last.",
        "",
        "| workers | deliveries | seconds | deliveries/s |",
        "|---|---|---|---|",
        *rows,
    ]


# --- latency ----------------------------------------------------------------------------------


class LatencyReceiver(asyncio.Protocol):
    """Answers 204 and notes, for each event, the seconds since its timestamp."""

    seen: list[float] = []  # noqa: RUF012 - one list for every connection

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            length = int(re.search(rb"(?i)content-length: *(\d+)", self.buffer[:end])[1])  # type: ignore[index]
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            stamp = json.loads(body)["timestamp"].replace("Z", "+00:00")
            self.seen.append(time.time() - datetime.fromisoformat(stamp).timestamp())
            self.transport.write(b"HTTP/1.1 204 No Content\r\n\r\n")


async def steady_events(env: dict[str, str], url: str, rate: int, seconds: int) -> None:
    deployment = await open_deployment(settings_of(env))
    try:
        (company,) = await companies_with_endpoints(deployment, [url])
        event = NewEvent(EventType.DEBT_CREATED, DATA)
        start = time.monotonic()
        for n in range(rate * seconds):
            await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
            async with unit_of_work(deployment.db) as unit:
                await deployment.events.record(unit.conn, company, [event])
        # The stragglers: ten seconds at most.
        for _ in range(200):
            if len(LatencyReceiver.seen) >= rate * seconds:
                break
            await asyncio.sleep(0.05)
    finally:
        await deployment.close()


def latency(args: argparse.Namespace, home: Path, env: dict[str, str]) -> list[str]:
    port = free_port()

    async def measure() -> None:
        server = await asyncio.get_running_loop().create_server(LatencyReceiver, "127.0.0.1", port)
        async with server:
            await steady_events(env, f"http://127.0.0.1:{port}/hooks", args.rate, args.seconds)

    with workers(env, 1):
        time.sleep(3)  # the worker's start-up
        asyncio.run(measure())
    seen = sorted(LatencyReceiver.seen)
    expected = args.rate * args.seconds
    p50, p99 = (seen[int(len(seen) * q) - 1] * 1000 for q in (0.5, 0.99))
    return [
        "### Webhooks: commit-to-delivery latency, PostgreSQL",
        "",
        f"{provenance('webhooks.py')}: {args.rate} events a second for {args.seconds} s, one per"
        " transaction, to one endpoint; one `relance worker`, woken by LISTEN/NOTIFY; the"
        " receiver (in the bench's process) notes each event's arrival against its timestamp.",
        "",
        "| events | arrived | p50 ms | p99 ms | max ms |",
        "|---|---|---|---|---|",
        f"| {expected:,} | {len(seen):,} | {p50:.1f} | {p99:.1f} | {seen[-1] * 1000:.1f} |",
    ]


# --- the cost of recording events on writes -------------------------------------------------


# Each request a completed followup of one of the debts, drawn at random: writes on one debt
# wait for each other on its row, which a book of many debts seldom does.
POST_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
local debts = {{{debts}}}
request = function()
  local debt = debts[math.random(#debts)]
  return wrk.format(nil, nil, nil, '{{"debt_id":"' .. debt .. '",{fields}}}')
end
"""
FIELDS = '"type":"call","status":"deal_found","summary":"Payment plan agreed"'
DEBTS = 200
ROUNDS = 2


def write_cost(args: argparse.Namespace, home: Path, env: dict[str, str]) -> list[str]:
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: install Debian's package with `apt-get install -y wrk`")
    company = run(env, "companies", "create", f"Writes {time.time_ns()}", "--json")["id"]
    client = run(
        env,
        "clients",
        "create",
        "--company",
        company,
        "--scopes",
        "followups:write debts:write webhooks:read webhooks:write",
        "--json",
    )
    configurations = (
        ("off", "false", 0),
        ("on, 0 endpoints", "true", 0),
        ("on, 1 endpoint", "true", 1),
        ("on, 5 endpoints", "true", 5),
    )
    runs: dict[str, list[tuple[float, float, float]]] = {}
    debts: list[str] = []
    # Alternated, round after round, so that no configuration has the later (fuller) tables.
    for label, enabled, endpoints in configurations * ROUNDS:
        served_env = {**env, "RELANCE_WEBHOOKS_ENABLED": enabled}
        with serving(served_env) as base:
            token = httpx.post(
                f"{base}/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": client["client_id"],
                    "client_secret": client["client_secret"],
                },
            ).json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            for found in httpx.get(
                f"{base}/external-api/v1/webhook-endpoints?limit=100", headers=auth
            ).json()["data"]:
                httpx.delete(
                    f"{base}/external-api/v1/webhook-endpoints/{found['id']}", headers=auth
                )
            for _ in range(endpoints):
                httpx.post(
                    f"{base}/external-api/v1/webhook-endpoints",
                    headers=auth,
                    json={"url": "http://127.0.0.1:9/hooks"},
                )
            if not debts:
                debts = [new_debt(base, auth) for _ in range(DEBTS)]
            figures = post_load(f"{base}/external-api/v1/followups", token, debts, args.seconds)
        runs.setdefault(label, []).append(figures)
        print(label, figures, file=sys.stderr)
    # Each configuration's best round: what disturbs a run only slows it.
    rows = [(label, *max(found)) for label, found in runs.items()]
    off = rows[0][1]
    return [
        "### Webhooks: what recording events costs POST /followups, PostgreSQL",
        "",
        f"{provenance('webhooks.py')}: wrk, 8 connections, {args.seconds} s, against"
        " `relance serve --no-deliver` (one worker), creating a completed followup (two events:"
        f" followup.created, followup.completed) of one of {DEBTS} debts drawn at random; the"
        " endpoints point nowhere, so their deliveries stay pending. The best of"
        f" {ROUNDS} rounds, the configurations alternated.",
        "",
        "| webhooks | req/s | p50 ms | p99 ms | cost vs off |",
        "|---|---|---|---|---|",
        *(
            f"| {label} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {(off / rps - 1) * 100:+.1f} % |"
            for label, rps, p50, p99 in rows
        ),
    ]


@contextmanager
def serving(env: dict[str, str], workers: int = 1) -> Iterator[str]:
    """`relance serve --no-deliver` on a free port until the block ends; its base URL."""
    port = free_port()
    command = [RELANCE, "serve", "--port", str(port), "--workers", str(workers), "--no-deliver"]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                sys.exit("relance serve did not start")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(30)


def new_debt(base: str, auth: dict[str, str]) -> str:
    body = {"firstname": "A", "lastname": "B", "amount": 10, "currency": "EUR",
            "phone": "+33612345678"}  # fmt: skip
    made: str = httpx.post(f"{base}/external-api/v1/debts", headers=auth, json=body).json()["data"][
        "id"
    ]
    return made


def post_load(url: str, token: str, debts: list[str], seconds: int) -> tuple[float, float, float]:
    listed = ", ".join(f'"{debt}"' for debt in debts)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(POST_SCRIPT.format(token=token, debts=listed, fields=FIELDS))
    try:
        command = [
            "wrk",
            "-t",
            "2",
            "-c",
            "8",
            "-d",
            f"{seconds}s",
            "--latency",
            "-s",
            script.name,
            url,
        ]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    if "Non-2xx" in output:
        sys.exit(f"wrk saw errors: {output}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])  # type: ignore[index]
    return rps, _ms(output, "50%"), _ms(output, "99%")


def _ms(output: str, quantile: str) -> float:
    value, unit = re.search(rf"\s{quantile}\s+([\d.]+)(\w+)", output).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


# --- import -----------------------------------------------------------------------------------


def import_cost(args: argparse.Namespace, home: Path, env: dict[str, str]) -> list[str]:
    debts, followups = write_files(home, args.rows, 11)
    rows = []
    for label, enabled in (("off", "false"), ("on, 1 endpoint", "true")):
        imported = {**env, "RELANCE_WEBHOOKS_ENABLED": enabled}
        company = run(env, "companies", "create", f"Import {label} {time.time_ns()}", "--json")
        if enabled == "true":
            run(
                env,
                "webhooks",
                "create",
                "--company",
                company["id"],
                "--url",
                "http://127.0.0.1:9/hooks",
                "--json",
            )
        timed(imported, "debts", debts, company["id"], "10000")
        seconds = timed(imported, "followups", followups, company["id"], "10000")
        rows.append((label, seconds))
    off = rows[0][1]
    return [
        f"### Webhooks: importing {args.rows:,} followups with events, PostgreSQL",
        "",
        f"{provenance('webhooks.py')}: `relance import followups` (batches of 10,000) with"
        " webhooks off, then on with one endpoint subscribed to every event (each row's"
        " followup.created, and followup.completed or .failed where its status says, recorded"
        " in its batch's transaction with the endpoint's deliveries).",
        "",
        "| webhooks | seconds | rows/s | cost vs off |",
        "|---|---|---|---|",
        *(
            f"| {label} | {s:.1f} | {args.rows / s:,.0f} | {(s / off - 1) * 100:+.1f} % |"
            for label, s in rows
        ),
    ]


if __name__ == "__main__":
    main()
