"""The `relance` command: thin wrappers over the services, one module per group of commands."""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated

import typer

from relance.cli.common import (
    JsonFlag,
    announce_deployment,
    err,
    fail,
    in_one_write,
    out,
    print_json,
    settings,
    upgrade_deployment,
)
from relance.cli.config import config_app
from relance.cli.creditors import creditors_app
from relance.cli.debts import debts_app
from relance.cli.followups import followups_app
from relance.cli.imports import import_app
from relance.cli.media import media_app
from relance.cli.serving import (
    base_url,
    ensure_port_free,
    metrics_shared_by,
    prepare_schema,
    run_server,
)
from relance.cli.tenants import clients_app, companies_app, keys_app
from relance.cli.webhooks import webhooks_app, worker_command

# The server's modules are imported inside the commands that use them: `relance --help` and
# the client-side commands then start in a fraction of the time, without the server installed.
if TYPE_CHECKING:
    from relance.demo.service import DemoAccess
    from relance.runtime import Deployment
    from relance.units import UnitOfWork

app = typer.Typer(
    no_args_is_help=True, help="Relance: a self-hostable, GetBill-compatible followups API."
)
db_app = typer.Typer(no_args_is_help=True, help="The database schema.")
app.add_typer(db_app, name="db")
app.add_typer(companies_app, name="companies")
app.add_typer(creditors_app, name="creditors")
app.add_typer(import_app, name="import")
app.add_typer(clients_app, name="clients")
app.add_typer(keys_app, name="keys")
app.add_typer(media_app, name="media")
app.add_typer(followups_app, name="followups")
app.add_typer(debts_app, name="debts")
app.add_typer(config_app, name="config")
app.add_typer(webhooks_app, name="webhooks")
app.command("worker")(worker_command)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    config = settings()
    announce_deployment(config)
    upgrade_deployment(config)
    err.print("database schema is up to date")


@db_app.command("recount")
def db_recount() -> None:
    """Rebuild the followup count tables from the followups (after a bulk load or a repair)."""
    from relance.followups.counts import rebuild

    async def work(deployment: Deployment, unit: UnitOfWork) -> None:
        await rebuild(unit.conn)

    in_one_write(work)
    err.print("followup counts rebuilt")


HostOption = Annotated[str, typer.Option(help="Address to listen on.")]
PortOption = Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)]


@app.command()
def serve(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1, max=64)] = 1,
    no_deliver: Annotated[
        bool,
        typer.Option(
            "--no-deliver", help="Deliver no webhooks here (run `relance worker` elsewhere)."
        ),
    ] = False,
) -> None:
    """Serve the API (creating the deployment, in RELANCE_DATA_DIR, if there is none), and
    deliver its webhooks from one process beside it unless --no-deliver."""
    config = settings()
    deliver = config.webhooks_enabled and not no_deliver
    # First of all: prometheus-client takes its mode when it is first imported.
    with metrics_shared_by(workers + int(deliver)):
        announce_deployment(config)
        prepare_schema()
        if workers > 1 and config.rate_limit_enabled and config.redis_url is None:
            err.print(
                f"[yellow]warning:[/] without RELANCE_REDIS_URL each of the {workers} workers"
                " keeps its own rate-limit count, so a client may get up to that many times its"
                " budget",
                highlight=False,
            )
        run_server(host, port, workers, deliver=deliver)


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
        companies: list[DemoAccess] = in_one_write(load_demo, create=True)
    except DemoConflict as exc:
        fail(str(exc))
    if as_json:
        print_json({"companies": [asdict(c) for c in companies]})
    else:
        print_demo_guide(companies, host, port)
    if not no_serve:
        # Served by a fresh `relance serve`, whose metrics are set up before anything else.
        sys.stdout.flush()
        command = [sys.executable, "-m", "relance", "serve", "--host", host, "--port", str(port)]
        os.execv(sys.executable, command)  # noqa: S606


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
    print_webhooks_hint()


def print_webhooks_hint() -> None:
    """How to see the demo's events pushed to this machine: `listen` follows them through the
    API; an endpoint on a loopback or private address needs the deployment to allow it."""
    out.print("[bold]Webhooks[/]: forward the company's events to a receiver on this machine:\n")
    out.print("relance webhooks listen --forward-to http://127.0.0.1:3000/hooks", highlight=False)
    if not settings().webhooks_allow_private_networks:
        out.print(
            "\n(an endpoint of your own at http://127.0.0.1:... needs this server restarted"
            " with RELANCE_WEBHOOKS_ALLOW_PRIVATE_NETWORKS=true)\n",
            highlight=False,
            soft_wrap=True,
        )


def main() -> None:
    app()
