"""`relance companies|clients|keys`: the tenants, their OAuth clients and the token signing
keys, administered on the deployment's database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from relance.cli.common import (
    JsonFlag,
    company_key,
    err,
    fail,
    in_one_write,
    out,
    print_json,
    settings,
    with_deployment,
)

if TYPE_CHECKING:
    from relance.companies.records import StoredCompany
    from relance.runtime import Deployment
    from relance.units import UnitOfWork

T = TypeVar("T")

# relance.config.MAX_RATE_LIMIT, which this module cannot import without pydantic-settings;
# tests/cli keeps the two equal.
MAX_RATE_LIMIT = 1_000_000

companies_app = typer.Typer(no_args_is_help=True, help="Companies (tenants).")
clients_app = typer.Typer(no_args_is_help=True, help="OAuth clients of a company.")
keys_app = typer.Typer(no_args_is_help=True, help="The token signing keys.")

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


EmailOption = Annotated[
    str | None, typer.Option(help="How the company is reached, as GetBill's profile shows it.")
]
PhoneOption = Annotated[
    str | None, typer.Option(help="Its phone number, in E.164 form such as +33123456789.")
]
# The options by the fields they set, to name the one at fault in a refusal.
_OPTION_OF = {"name": "the name", "email": "--email", "phone": "--phone"}


@companies_app.command("create")
def companies_create(
    name: str, email: EmailOption = None, phone: PhoneOption = None, as_json: JsonFlag = False
) -> None:
    """Create a company and print it, with its ID."""
    from relance.companies.service import create_company

    async def work(deployment: Deployment, unit: UnitOfWork) -> dict[str, Any]:
        made = await create_company(unit.conn, name, email=email, phone=phone)
        return _shown_company(deployment, made)

    company = _checked(work)
    if as_json:
        print_json(company)
    else:
        out.print(f"company [bold]{company['name']}[/] created: id {company['id']}")


@companies_app.command("list")
def companies_list(as_json: JsonFlag = False) -> None:
    """List the deployment's companies, oldest first."""
    from rich.table import Table

    from relance.companies.repository import every_company

    async def work(deployment: Deployment) -> list[dict[str, Any]]:
        return [_shown_company(deployment, c) for c in await every_company(deployment.db)]

    listing = with_deployment(work)
    if as_json:
        print_json(listing)
        return
    # An ID is copied whole into the next command: it never wraps nor shrinks.
    table = Table(box=None)
    table.add_column("id", no_wrap=True, min_width=22)
    for column in ("name", "email", "phone", "created (UTC)"):
        table.add_column(column, overflow="fold")
    for company in listing:
        created = company["created_at"][:16].replace("T", " ")
        table.add_row(
            company["id"], company["name"], company["email"] or "", company["phone"] or "", created
        )
    out.print(table)
    out.print(f"{len(listing)} companies", highlight=False)


@companies_app.command("update")
def companies_update(
    company: Annotated[str, typer.Argument(help="The company's ID.")],
    name: Annotated[str | None, typer.Option(help="Its new name.")] = None,
    email: Annotated[str | None, typer.Option(help='Its new email; "" clears it.')] = None,
    phone: Annotated[str | None, typer.Option(help='Its new E.164 phone; "" clears it.')] = None,
    as_json: JsonFlag = False,
) -> None:
    """Change a company's name, email or phone (an option not given keeps its value)."""
    from relance.companies.service import update_company

    given = {"name": name, "email": email, "phone": phone}
    # An empty email or phone clears it; a name cannot be empty, which the check says.
    changes = {
        field: None if value == "" and field != "name" else value
        for field, value in given.items()
        if value is not None
    }
    if not changes:
        fail("give --name, --email or --phone", 2)

    async def work(deployment: Deployment, unit: UnitOfWork) -> dict[str, Any] | None:
        changed = await update_company(unit.conn, company_key(deployment, company), changes)
        return None if changed is None else _shown_company(deployment, changed)

    shown = _checked(work)
    if shown is None:
        fail(f"no company with ID {company}", 2)
    if as_json:
        print_json(shown)
    else:
        out.print(f"company [bold]{shown['name']}[/] updated: id {shown['id']}")


def _shown_company(deployment: Deployment, company: StoredCompany) -> dict[str, Any]:
    """The company as GET /company/profile shows it to its own tokens."""
    import msgspec

    from relance.companies.schemas import company_view
    from relance.resources import Resource

    view = company_view(company, deployment.ids.encoder(Resource.COMPANY))
    shown: dict[str, Any] = msgspec.structs.asdict(view)
    return shown


def _checked(work: Callable[[Deployment, UnitOfWork], Awaitable[T]]) -> T:
    """The write's result; a field refused exits 2, naming the option at fault."""
    from relance.errors import ValidationFailed

    try:
        return in_one_write(work)
    except ValidationFailed as exc:
        problems = [
            f"{_OPTION_OF.get(field, field)} {problem}"
            for field, found in (exc.details or {}).items()
            for problem in found
        ]
        fail("; ".join(problems), 2)


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

    async def work(deployment: Deployment, unit: UnitOfWork) -> tuple[str, NewClient]:
        company_id = company_key(deployment, company)
        if not await company_exists(unit.conn, company_id):
            fail(f"no company with ID {company}", 2)
        return company, await create_client(
            unit.conn,
            deployment.keys,
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
    from relance.resources import Resource

    async def work(deployment: Deployment) -> list[dict[str, Any]]:
        company_id = None if company is None else company_key(deployment, company)
        clients = await list_clients(deployment.db, company_id)
        return [
            {
                "client_id": c.client_id,
                "company_id": deployment.ids.encode(Resource.COMPANY, c.company_id),
                "name": c.name,
                "scopes": c.scopes,
                "created_at": str(c.created_at),
                "revoked_at": None if c.revoked_at is None else str(c.revoked_at),
                "read_limit": c.read_limit,
                "write_limit": c.write_limit,
            }
            for c in clients
        ]

    listing = with_deployment(work)
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

    async def work(deployment: Deployment, unit: UnitOfWork) -> bool:
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

    async def work(deployment: Deployment, unit: UnitOfWork) -> bool:
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

    async def work(deployment: Deployment, unit: UnitOfWork) -> str | None:
        return await rotate_secret(unit.conn, deployment.keys, client_id)

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

    async def work(deployment: Deployment, unit: UnitOfWork) -> int:
        return await rotate_signing_key(unit.conn)

    version = in_one_write(work)
    err.print(
        f"token signing key version {version} is current; every API process signs with it "
        f"within RELANCE_AUTH_CACHE_SECONDS ({settings().auth_cache_seconds} s)"
    )
