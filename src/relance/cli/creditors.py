"""`relance creditors create|list`: a company's creditors (the clients it collects for),
administered on the deployment's database. GetBill's API makes none: a debt's `company` does,
and this command."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from relance.cli.common import (
    JsonFlag,
    company_key,
    fail,
    in_one_write,
    out,
    print_json,
    with_deployment,
)

if TYPE_CHECKING:
    from relance.creditors.schemas import CreditorView
    from relance.db import Connection
    from relance.runtime import Deployment
    from relance.units import UnitOfWork

creditors_app = typer.Typer(no_args_is_help=True, help="Creditors of a company.")

CompanyOption = Annotated[str, typer.Option("--company", help="The company's ID.")]
# A creditor's fields but its name, as options, by GetBill's names in the API's bodies.
_OPTIONS = {
    "email": "--email",
    "phone": "--phone",
    "address": "--address",
    "city": "--city",
    "postalCode": "--postal-code",
    "country": "--country",
    "registrationNumber": "--registration-number",
    "taxNumber": "--tax-number",
    "contactPerson": "--contact-person",
}
# The check's words for a name of nothing but spaces, once they are stripped.
_BLANK = {"must be at least 1 characters": "must not be blank"}
# The creditors read at a time by `list`.
_PAGE = 500


def _option(help_text: str) -> Any:
    return typer.Option(help=help_text)


@creditors_app.command("create")
def creditors_create(
    company: CompanyOption,
    name: Annotated[str, typer.Argument(help="Its name, as debts' `company` names it.")],
    email: Annotated[str | None, _option("How it is reached.")] = None,
    phone: Annotated[str | None, _option("Its phone, in E.164 form (+33123456789).")] = None,
    address: Annotated[str | None, _option("Its street address.")] = None,
    city: Annotated[str | None, _option("Its city.")] = None,
    postal_code: Annotated[str | None, _option("Its postal code.")] = None,
    country: Annotated[str | None, _option('Its country, as text ("France").')] = None,
    registration_number: Annotated[str | None, _option("Its company number (SIREN).")] = None,
    tax_number: Annotated[str | None, _option("Its VAT number.")] = None,
    contact_person: Annotated[str | None, _option("Whom to ask for there.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a creditor of a company and print it, with its ID."""
    given = {
        "name": name,
        "email": email,
        "phone": phone,
        "address": address,
        "city": city,
        "postalCode": postal_code,
        "country": country,
        "registrationNumber": registration_number,
        "taxNumber": tax_number,
        "contactPerson": contact_person,
    }
    values = _checked_fields({field: value for field, value in given.items() if value is not None})

    async def work(deployment: Deployment, unit: UnitOfWork) -> dict[str, Any]:
        from relance.creditors.service import CreditorNameTaken, create_creditor, get_creditor

        company_id = await _company_id(deployment, unit.conn, company)
        try:
            made = await create_creditor(unit.conn, deployment.ids, company_id, values)
        except CreditorNameTaken as exc:
            # Its name is another's, compared in any case with spaces collapsed.
            taken = "; ".join((exc.details or {}).get("name", []))
            fail(f"the name {name.strip()!r} {taken}", 2)
        return _shown(await get_creditor(unit.conn, deployment.ids, company_id, made))

    creditor = in_one_write(work)
    if as_json:
        print_json(creditor)
    else:
        out.print(f"creditor [bold]{creditor['name']}[/] created: id {creditor['id']}")


@creditors_app.command("list")
def creditors_list(company: CompanyOption, as_json: JsonFlag = False) -> None:
    """List a company's creditors, by name (a table of their ID, name, email, phone and city)."""
    from rich.table import Table

    listing = with_deployment(lambda deployment: _every_creditor(deployment, company))
    if as_json:
        print_json(listing)
        return
    # An ID is copied whole into the next command: it never wraps nor shrinks. The columns
    # fit 80 characters; --json has every field.
    columns = ("name", "email", "phone", "city")
    table = Table(box=None)
    table.add_column("id", no_wrap=True, min_width=22)
    for column in columns:
        table.add_column(column, overflow="fold")
    for creditor in listing:
        table.add_row(creditor["id"], *(creditor[field] or "" for field in columns))
    out.print(table)
    out.print(f"{len(listing)} creditors", highlight=False)


def _checked_fields(given: dict[str, str]) -> dict[str, Any]:
    """The creditor's stored values, checked as PUT /creditors/{id} checks a body; a field
    refused exits 2, naming each option at fault."""
    from pydantic import ValidationError

    from relance.creditors.schemas import CreditorPut, values_of
    from relance.kit.bodies import details_of

    try:
        body = CreditorPut.model_validate(given)
    except ValidationError as exc:
        problems = [
            f"{_OPTIONS.get(field, 'the name')} {_BLANK.get(problem, problem)}"
            for field, found in details_of(exc).items()
            for problem in found
        ]
        fail("; ".join(problems), 2)
    return values_of(body, whole=True)


async def _company_id(deployment: Deployment, conn: Connection, company: str) -> int:
    """The key of the company of this ID; exit 2 if there is none."""
    from relance.companies.repository import company_exists

    company_id = company_key(deployment, company)
    if not await company_exists(conn, company_id):
        fail(f"no company with ID {company}", 2)
    return company_id


async def _every_creditor(deployment: Deployment, company: str) -> list[dict[str, Any]]:
    """Every creditor of the company, page after page, as GET /creditors lists them."""
    from relance.creditors.service import list_creditors
    from relance.kit.pagination import PageRequest

    company_id = await _company_id(deployment, deployment.db, company)
    listing: list[dict[str, Any]] = []
    number = 1
    while True:
        page = PageRequest(number, _PAGE)
        found, total = await list_creditors(deployment.db, deployment.ids, company_id, page)
        listing.extend(_shown(creditor) for creditor in found)
        if not found or len(listing) >= total:
            return listing
        number += 1


def _shown(creditor: CreditorView) -> dict[str, Any]:
    """The creditor as GET /creditors lists it, by GetBill's names (without a detail's
    totals)."""
    import msgspec

    from relance.creditors.schemas import CreditorView

    fields = {name: getattr(creditor, name) for name in CreditorView.__struct_fields__}
    shown: dict[str, Any] = msgspec.to_builtins(CreditorView(**fields))
    return shown
