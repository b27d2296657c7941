"""The `relance` command: thin wrappers over the services."""

from __future__ import annotations

import contextlib
import errno
import os
import shlex
import socket
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from relance.cli.common import (
    JsonFlag,
    announce_deployment,
    company_key,
    ensure_secret_key,
    err,
    fail,
    in_one_write,
    out,
    print_json,
    settings,
    with_runtime,
)
from relance.cli.config import config_app
from relance.cli.followups import followups_app
from relance.cli.imports import import_app
from relance.cli.media import media_app

# The server's modules are imported inside the commands that use them: `relance --help` and
# the client-side commands then start in a fraction of the time, without the server installed.
if TYPE_CHECKING:
    from relance.config import Settings
    from relance.demo.service import DemoAccess
    from relance.runtime import Runtime
    from relance.units import UnitOfWork

# relance.config.MAX_RATE_LIMIT, which this module cannot import without pydantic-settings;
# tests/cli keeps the two equal.
MAX_RATE_LIMIT = 1_000_000

app = typer.Typer(
    no_args_is_help=True, help="Relance: a self-hostable, GetBill-compatible followups API."
)
db_app = typer.Typer(no_args_is_help=True, help="The database schema.")
companies_app = typer.Typer(no_args_is_help=True, help="Companies (tenants).")
clients_app = typer.Typer(no_args_is_help=True, help="OAuth clients of a company.")
app.add_typer(db_app, name="db")
app.add_typer(companies_app, name="companies")
keys_app = typer.Typer(no_args_is_help=True, help="The token signing keys.")
app.add_typer(import_app, name="import")
app.add_typer(clients_app, name="clients")
app.add_typer(keys_app, name="keys")
app.add_typer(media_app, name="media")
app.add_typer(followups_app, name="followups")
app.add_typer(config_app, name="config")

ReadLimit = Annotated[
    int | None,
    typer.Option(
        min=1,
        max=MAX_RATE_LIMIT,
        help="Reads (GET) allowed per rate-limit window; default RELANCE_RATE_LIMIT_READS.",
    ),
]
WriteLimit = Annotated[
    int | None,
    typer.Option(
        min=1,
        max=MAX_RATE_LIMIT,
        help="Writes allowed per rate-limit window; default RELANCE_RATE_LIMIT_WRITES.",
    ),
]


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    from relance.schema import upgrade

    config = settings()
    announce_deployment(config)
    upgrade(config.database)
    # The key every ID and client secret hangs on is made with the database it goes with, so
    # that later commands find a whole deployment here.
    ensure_secret_key(config)
    err.print("database schema is up to date")


@db_app.command("recount")
def db_recount() -> None:
    """Rebuild the followup count tables from the followups (after a bulk load or a repair)."""
    from relance.followups.counts import rebuild

    async def work(runtime: Runtime, unit: UnitOfWork) -> None:
        await rebuild(unit.conn)

    in_one_write(work)
    err.print("followup counts rebuilt")


@companies_app.command("create")
def companies_create(name: str, as_json: JsonFlag = False) -> None:
    """Create a company and print it, with its ID."""
    from relance.companies.service import InvalidCompanyName, create_company
    from relance.kit.ids import Resource

    async def work(runtime: Runtime, unit: UnitOfWork) -> dict[str, str]:
        company_id = await create_company(unit.conn, name)
        return {"id": runtime.ids.encode(Resource.COMPANY, company_id), "name": name.strip()}

    try:
        company = in_one_write(work)
    except InvalidCompanyName as exc:
        fail(str(exc), 2)
    if as_json:
        print_json(company)
    else:
        out.print(f"company [bold]{company['name']}[/] created: id {company['id']}")


@clients_app.command("create")
def clients_create(
    company: Annotated[str, typer.Option(help="The company's ID.")],
    scopes: Annotated[str, typer.Option(help='Space-separated, e.g. "followups:read".')],
    name: Annotated[str | None, typer.Option(help="A label for people.")] = None,
    read_limit: ReadLimit = None,
    write_limit: WriteLimit = None,
    as_json: JsonFlag = False,
) -> None:
    """Create an OAuth client; its secret is shown this once."""
    from relance.auth.scopes import UnknownScopes, parse_scopes
    from relance.auth.service import NewClient, create_client
    from relance.companies.repository import company_exists

    try:
        granted = parse_scopes(scopes)
    except UnknownScopes as exc:
        fail(str(exc), 2)
    if not granted:
        fail("give at least one scope with --scopes", 2)

    async def work(runtime: Runtime, unit: UnitOfWork) -> tuple[str, NewClient]:
        company_id = company_key(runtime, company)
        if not await company_exists(unit.conn, company_id):
            fail(f"no company with ID {company}", 2)
        return company, await create_client(
            unit.conn,
            runtime,
            company_id,
            granted,
            name,
            read_limit=read_limit,
            write_limit=write_limit,
        )

    company_public_id, client = in_one_write(work)
    document = {
        "client_id": client.client_id,
        "client_secret": client.client_secret,
        "company_id": company_public_id,
        "scopes": " ".join(client.scopes),
        "read_limit": read_limit,
        "write_limit": write_limit,
    }
    if as_json:
        print_json(document)
        return
    out.print(f"client_id      {client.client_id}", highlight=False)
    out.print(f"client_secret  {client.client_secret}", highlight=False)
    out.print(f"scopes         {document['scopes']}", highlight=False)
    err.print("[yellow]Store the secret now: it is shown only this once.[/]")


@clients_app.command("list")
def clients_list(
    company: Annotated[str | None, typer.Option(help="Only this company's clients.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List OAuth clients (never their secrets)."""
    from relance.auth.repository import list_clients
    from relance.kit.ids import Resource

    async def work(runtime: Runtime) -> list[dict[str, Any]]:
        company_id = None if company is None else company_key(runtime, company)
        clients = await list_clients(runtime.db, company_id)
        return [
            {
                "client_id": c.client_id,
                "company_id": runtime.ids.encode(Resource.COMPANY, c.company_id),
                "name": c.name,
                "scopes": c.scopes,
                "created_at": str(c.created_at),
                "revoked_at": None if c.revoked_at is None else str(c.revoked_at),
                "read_limit": c.read_limit,
                "write_limit": c.write_limit,
            }
            for c in clients
        ]

    listing = with_runtime(work)
    if as_json:
        print_json(listing)
        return
    for client in listing:
        state = f"revoked {client['revoked_at']}" if client["revoked_at"] else "active"
        limits = f"reads {client['read_limit'] or 'default'}"
        limits += f", writes {client['write_limit'] or 'default'}"
        out.print(
            f"{client['client_id']}  company {client['company_id']}  {state}  {limits}"
            f"  {client['scopes']}",
            highlight=False,
        )


@clients_app.command("revoke")
def clients_revoke(client_id: str) -> None:
    """Revoke a client: no new token, and its tokens stop working within
    RELANCE_AUTH_CACHE_SECONDS on every API process."""
    from relance.auth.service import revoke_client

    async def work(runtime: Runtime, unit: UnitOfWork) -> bool:
        return await revoke_client(unit.conn, client_id)

    if not in_one_write(work):
        fail(f"no client with ID {client_id}", 2)
    err.print(f"client {client_id} revoked")


@clients_app.command("set-limits")
def clients_set_limits(
    client_id: str,
    read_limit: ReadLimit = None,
    write_limit: WriteLimit = None,
    reset: Annotated[
        bool, typer.Option("--reset", help="Put both limits back on the deployment's defaults.")
    ] = False,
) -> None:
    """Set a client's own rate limits (a limit not given keeps its value); every API process
    applies them within RELANCE_AUTH_CACHE_SECONDS."""
    from relance.auth.repository import client_standing
    from relance.auth.service import set_limits

    if reset and (read_limit or write_limit):
        fail("give --reset alone, or the limits to set", 2)
    if not reset and read_limit is None and write_limit is None:
        fail("give --read-limit, --write-limit or --reset", 2)

    async def work(runtime: Runtime, unit: UnitOfWork) -> bool:
        standing = await client_standing(unit.conn, client_id)
        if standing is None:
            return False
        reads = None if reset else read_limit or standing.read_limit
        writes = None if reset else write_limit or standing.write_limit
        return await set_limits(unit.conn, client_id, reads, writes)

    if not in_one_write(work):
        fail(f"no client with ID {client_id}", 2)
    err.print(f"client {client_id}: limits set")


@clients_app.command("rotate-secret")
def clients_rotate_secret(client_id: str, as_json: JsonFlag = False) -> None:
    """Give a client a new secret; the old one, and tokens issued before, stop working."""
    from relance.auth.service import rotate_secret

    async def work(runtime: Runtime, unit: UnitOfWork) -> str | None:
        return await rotate_secret(unit.conn, runtime, client_id)

    secret = in_one_write(work)
    if secret is None:
        fail(f"no active client with ID {client_id}", 2)
    if as_json:
        print_json({"client_id": client_id, "client_secret": secret})
        return
    out.print(f"client_secret  {secret}", highlight=False)
    err.print("[yellow]Store the secret now: it is shown only this once.[/]")


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Sign new tokens with a new key; tokens signed before keep working until they expire."""
    from relance.auth.service import rotate_signing_key

    async def work(runtime: Runtime, unit: UnitOfWork) -> int:
        return await rotate_signing_key(unit.conn)

    version = in_one_write(work)
    err.print(
        f"token signing key version {version} is current; every API process signs with it "
        f"within RELANCE_AUTH_CACHE_SECONDS ({settings().auth_cache_seconds} s)"
    )


HostOption = Annotated[str, typer.Option(help="Address to listen on.")]
PortOption = Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)]


@app.command()
def serve(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1, max=64)] = 1,
) -> None:
    """Serve the API (creating the deployment, in RELANCE_DATA_DIR, if there is none)."""
    config = settings()
    announce_deployment(config)
    prepare_schema()
    if workers > 1 and config.rate_limit_enabled and config.redis_url is None:
        err.print(
            f"[yellow]warning:[/] without RELANCE_REDIS_URL each of the {workers} workers keeps"
            " its own rate-limit count, so a client may get up to that many times its budget",
            highlight=False,
        )
    run_server(host, port, workers)


@app.command()
def demo(
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Load the data and stop.")] = False,
    as_json: JsonFlag = False,
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
) -> None:
    """Migrate, load the demo book, print ready-to-paste commands and serve."""
    from relance.demo.service import DemoConflict, load_demo

    announce_deployment(settings())
    if not no_serve:
        ensure_port_free(host, port)
    try:
        companies: list[DemoAccess] = with_runtime(load_demo, create=True)
    except DemoConflict as exc:
        fail(str(exc))
    if as_json:
        print_json({"companies": [asdict(c) for c in companies]})
    else:
        print_demo_guide(companies, host, port)
    if not no_serve:
        run_server(host, port, 1)


# The followups the demo's printed commands ask for: a status every demo company has rows in.
DEMO_QUERY = {"status": "deal_found", "limit": "5"}


def print_demo_guide(companies: list[DemoAccess], host: str, port: int) -> None:
    base = base_url(host, port)
    out.print("[bold]Demo companies[/] (each client holds every scope):")
    for company in companies:
        out.print(f"  {company.name}", highlight=False)
        out.print(f"    client_id      {company.client_id}", highlight=False)
        out.print(f"    client_secret  {company.client_secret}", highlight=False)
    first = companies[0]
    out.print(f"\n[bold]API reference[/] {base}/docs", highlight=False)
    out.print("\n[bold]Try it[/] in another terminal, with the relance CLI or the Python client:\n")
    variables = {
        "RELANCE_BASE_URL": base,
        "RELANCE_CLIENT_ID": first.client_id,
        "RELANCE_CLIENT_SECRET": first.client_secret,
    }
    query = DEMO_QUERY
    out.print(
        "export " + " ".join(f"{name}={shlex.quote(value)}" for name, value in variables.items()),
        highlight=False,
        soft_wrap=True,
    )
    out.print(
        f"relance followups list --status {query['status']} --limit {query['limit']}\n",
        highlight=False,
        soft_wrap=True,
    )
    out.print("or with curl:\n")
    out.print(
        f"TOKEN=$(curl -s -X POST {base}/token -d grant_type=client_credentials \\\n"
        f"  -d client_id={first.client_id} \\\n"
        f"  -d client_secret={first.client_secret} \\\n"
        "  | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')\n\n"
        f'curl -s "{base}/external-api/v1/followups?status={query["status"]}'
        f'&limit={query["limit"]}" \\\n'
        '  -H "Authorization: Bearer $TOKEN"\n',
        highlight=False,
        soft_wrap=True,
    )


def base_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def prepare_schema() -> None:
    """Migrate or check the schema (see with_runtime), and make the secret key of a new
    deployment, before serving, which opens no runtime of its own here."""

    async def nothing(runtime: Runtime) -> None:
        return None

    with_runtime(nothing, create=True)


def ensure_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                fail(f"port {port} on {host} is already in use; choose another with --port")
            fail(f"cannot listen on {host}:{port}: {exc.strerror}")


def run_server(host: str, port: int, workers: int) -> None:
    from relance.observability.logs import logging_config
    from relance.serving import serve_workers

    config = settings()
    ensure_port_free(host, port)
    if config.metrics_port is not None:
        ensure_port_free(host, config.metrics_port)
    with _metrics_shared_by(workers):
        if config.metrics_port is not None:
            from relance.observability.exposition import serve_metrics_port

            serve_metrics_port(host, config.metrics_port)
        err.print(
            f"Relance listening on {base_url(host, port)} ({workers} worker(s)); Ctrl+C stops it"
        )
        serve_workers(
            host,
            port,
            workers,
            log_config=logging_config(log_format(config), config.log_level),
            timeout_graceful_shutdown=config.shutdown_timeout_seconds,
        )


def log_format(config: Settings) -> Literal["json", "text"]:
    """RELANCE_LOG_FORMAT when set; else text for a person at a terminal, and JSON, one object
    a line, for whatever reads a pipe or a file (a supervisor, a log shipper)."""
    if "log_format" in config.model_fields_set:
        return config.log_format
    return "text" if sys.stdout.isatty() else "json"


@contextlib.contextmanager
def _metrics_shared_by(workers: int) -> Iterator[None]:
    """With several workers, a fresh directory where each counts its metrics (prometheus-client's
    multiprocess mode), read by whichever process answers a scrape. Set before any worker
    starts: the workers import prometheus-client knowing it."""
    if workers == 1:
        yield
        return
    from relance.observability.exposition import MULTIPROC_DIR

    # In memory where the system offers it, as prometheus-client advises: every request writes to
    # these mapped files.
    shared_memory = Path("/dev/shm")  # noqa: S108 - a private directory (0700) is made in it
    where = str(shared_memory) if os.access(shared_memory, os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="relance-metrics-", dir=where) as directory:
        os.environ[MULTIPROC_DIR] = directory
        yield


def main() -> None:
    app()
