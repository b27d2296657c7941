"""`relance debts list|get|update|delete|batch`: a company's debts through the Python client,
with a client's credentials (RELANCE_BASE_URL, RELANCE_CLIENT_ID, RELANCE_CLIENT_SECRET), as
`relance followups` reads the followups; the same tables, --json and exit codes."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from relance.cli.followups import EXIT_API, EXIT_USAGE, ID_WIDTH, BaseUrl, api_calls
from relance.cli.output import JsonFlag, err, fail, out, print_json

if TYPE_CHECKING:
    from relance.client import Debt, DebtBatchResult, DebtStatus, DebtStatusName

debts_app = typer.Typer(
    no_args_is_help=True, help="Read and change debts through the API (as an integrator would)."
)

STATUS_PREFIX = "status.default."
# POST /debts/batch takes this many debts at most.
MAX_BATCH = 1000

_MOMENT = "a day (YYYY-MM-DD), an RFC 3339 moment with its offset, or Unix seconds"
Status = Annotated[
    str | None,
    typer.Option(help="Only this status: pending, in_progress, paid... (or status.default.paid)."),
]
InternalId = Annotated[str | None, typer.Option(help="Only the debt of this internal ID.")]
InvoiceReference = Annotated[str | None, typer.Option(help="Only this invoice reference.")]
Currency = Annotated[str | None, typer.Option(help="Only this currency (EUR...).")]
MinAmount = Annotated[str | None, typer.Option(help="Only amounts of at least this (99.50).")]
MaxAmount = Annotated[str | None, typer.Option(help="Only amounts of at most this.")]
CreatedAfter = Annotated[
    str | None, typer.Option(help=f"Only debts created at or after this: {_MOMENT}.")
]
CreatedBefore = Annotated[str | None, typer.Option(help="Only debts created before this.")]
Search = Annotated[
    str | None, typer.Option(help="Only debts whose internal ID or amount holds this text.")
]
DebtId = Annotated[str, typer.Argument(help="The debt's ID.")]


@debts_app.command("list")
def list_debts(
    status: Status = None,
    internal_id: InternalId = None,
    invoice_reference: InvoiceReference = None,
    currency: Currency = None,
    min_amount: MinAmount = None,
    max_amount: MaxAmount = None,
    created_after: CreatedAfter = None,
    created_before: CreatedBefore = None,
    search: Search = None,
    page: Annotated[int, typer.Option(min=1)] = 1,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
    base_url: BaseUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """One page of the debts every filter given keeps, newest first."""
    from rich.table import Table

    with api_calls(base_url) as client:
        found = client.debts.list(
            # Passed on as given: the server's 400 names the values it accepts.
            status=cast("DebtStatus | DebtStatusName | None", status),
            internal_id=internal_id,
            invoice_reference=invoice_reference,
            currency=currency,
            min_amount=min_amount,
            max_amount=max_amount,
            created_after=created_after,
            created_before=created_before,
            search=search,
            page=page,
            limit=limit,
        )
    if as_json:
        print_json(
            {
                "data": [debt.model_dump(mode="json") for debt in found.data],
                "pagination": found.pagination.model_dump(),
            }
        )
        return
    # An ID is copied whole into the next command: it never wraps nor shrinks.
    table = Table(box=None)
    table.add_column("id", no_wrap=True, min_width=ID_WIDTH)
    table.add_column("status", overflow="fold")
    table.add_column("amount", justify="right", no_wrap=True)
    table.add_column("debtor", overflow="fold")
    table.add_column("internal_id", overflow="fold", min_width=len("internal_id"))
    table.add_column("created", no_wrap=True)
    for debt in found.data:
        created = debt.import_date
        table.add_row(
            debt.id,
            _short(debt.status),
            _amount(debt),
            " ".join(name for name in (debt.firstname, debt.lastname) if name),
            debt.internal_id or "",
            # The day in UTC: `get` gives the moment.
            created.astimezone(UTC).strftime("%Y-%m-%d") if created else "",
        )
    out.print(table)
    shown = found.pagination
    out.print(f"page {shown.page} of {shown.pages}, {shown.total} debts", highlight=False)


@debts_app.command("get")
def get_debt(debt_id: DebtId, base_url: BaseUrl = None, as_json: JsonFlag = False) -> None:
    """One debt: its fields that hold a value, or the whole debt as JSON."""
    with api_calls(base_url) as client:
        found = client.debts.get(debt_id)
    if as_json:
        print_json(found.model_dump(mode="json"))
        return
    _print_fields(found.model_dump(mode="json"), None)


@debts_app.command("update")
def update_debt(
    debt_id: DebtId,
    status: Annotated[
        str | None,
        typer.Option(help="paid, in_progress, on_hold, failed or archived (or status.default...)."),
    ] = None,
    amount: Annotated[str | None, typer.Option(help="The amount owed, such as 120.50.")] = None,
    internal_id: Annotated[
        str | None, typer.Option(help='Your own ID of the debt; "" clears it.')
    ] = None,
    email: Annotated[str | None, typer.Option(help='The debtor\'s email; "" clears it.')] = None,
    phone: Annotated[
        str | None, typer.Option(help='The debtor\'s E.164 phone; "" clears it.')
    ] = None,
    metadata: Annotated[
        str | None, typer.Option(help='A JSON object, kept as given; "" clears it.')
    ] = None,
    assignments: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="NAME=VALUE",
            help='Any other field, as text (city=Metz); "NAME=" clears it. Repeat for more.',
        ),
    ] = None,
    base_url: BaseUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Change the fields given, and only those.

    The fields changed are printed as the API then shows them (--json: the whole debt)."""
    changes: dict[str, Any] = {
        **_assigned(assignments or []),
        **_cleared_if_empty({"internal_id": internal_id, "email": email, "phone": phone}),
    }
    if status is not None:
        changes["status"] = status if "." in status else STATUS_PREFIX + status
    if amount is not None:
        changes["amount"] = amount
    if metadata is not None:
        changes["metadata"] = _json_object(metadata)
    if not changes:
        fail("give at least one field to change: --status, --amount, --set NAME=VALUE...", 2)
    with api_calls(base_url) as client:
        changed = client.debts.update(debt_id, **changes)
    if as_json:
        print_json(changed.model_dump(mode="json"))
        return
    out.print(f"debt [bold]{changed.id}[/] updated:", highlight=False)
    _print_fields(changed.model_dump(mode="json"), set(changes))


@debts_app.command("delete")
def delete_debt(
    debt_id: DebtId,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Delete without asking.")] = False,
    base_url: BaseUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Delete a debt with its followups, after asking unless --yes.

    Its followups' recordings and documents go with them; each followup leaves a deletion in
    the changes feed."""
    from relance.client import PermissionDeniedError

    with api_calls(base_url) as client:
        if not yes:
            try:
                what = _described(client.debts.get(debt_id))
            except PermissionDeniedError:  # a client that may delete but not read
                what = f"debt {debt_id}"
            typer.confirm(f"Delete {what}?", abort=True, err=True)
        client.debts.delete(debt_id)
    if as_json:
        print_json({"id": debt_id, "deleted": True})
    else:
        out.print(f"debt [bold]{debt_id}[/] deleted, with its followups", highlight=False)


@debts_app.command("batch")
def batch_debts(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help='A .jsonl file (one debt a line), or a .json array of debts or {"debts": [...]}.',
        ),
    ],
    name: Annotated[str | None, typer.Option("--name", help="The batch's name.")] = None,
    idempotency_key: Annotated[
        str | None,
        typer.Option(help="Sent again with the same key, the batch is answered, not redone."),
    ] = None,
    base_url: BaseUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Create up to 1,000 debts in one request.

    Each debt is checked alone, and those that pass are created together (or none is). Each
    one that failed is named on standard error, by its line, and the command exits 1."""
    debts, places = _read_debts(file)
    if len(debts) > MAX_BATCH:
        fail(f"{file} holds {len(debts)} debts: a batch takes {MAX_BATCH} at most", EXIT_USAGE)
    with api_calls(base_url) as client:
        done = client.debts.batch(debts, batch_name=name, idempotency_key=idempotency_key)
    if as_json:
        print_json(done.model_dump(mode="json"))
    else:
        _print_batch(done, places)
    if done.failed:
        raise typer.Exit(EXIT_API)


def _short(status: str | None) -> str:
    return (status or "").removeprefix(STATUS_PREFIX)


def _amount(debt: Debt) -> str:
    amount = debt.amount_text or ("" if debt.amount is None else f"{debt.amount:.2f}")
    return f"{amount} {debt.currency or ''}".strip()


def _described(debt: Debt) -> str:
    debtor = " ".join(name for name in (debt.firstname, debt.lastname) if name)
    followups = f", and its {debt.followups_count} followups" if debt.followups_count else ""
    return f"debt {debt.id} ({debtor}, {_amount(debt)}){followups}"


def _print_fields(shown: dict[str, Any], only: set[str] | None) -> None:
    """A debt's fields, one a line: those named in `only`, else every one that holds a value."""
    from rich.table import Table

    table = Table(box=None, show_header=False)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    # The amount as its exact text ("120.50"), not the float the API also gives.
    exact = shown.pop("amount_text", None)
    if exact is not None:
        shown["amount"] = exact
    for field, value in shown.items():
        if only is not None and field not in only:
            continue
        if only is None and value in (None, "", [], {}):
            continue
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        table.add_row(field, text)
    out.print(table)


def _cleared_if_empty(given: dict[str, str | None]) -> dict[str, str | None]:
    """The options given; an empty one clears its field (null)."""
    return {field: value or None for field, value in given.items() if value is not None}


def _assigned(assignments: list[str]) -> dict[str, str | None]:
    fields: dict[str, str | None] = {}
    for assignment in assignments:
        field, equals, value = assignment.partition("=")
        if not equals or not field.strip():
            fail(f"--set takes NAME=VALUE, not {assignment!r}", EXIT_USAGE)
        fields[field.strip()] = value or None
    return fields


def _json_object(text: str) -> dict[str, Any] | None:
    if text == "":
        return None
    try:
        found = json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"--metadata must be a JSON object: {exc}", EXIT_USAGE)
    if not isinstance(found, dict):
        fail("--metadata must be a JSON object", EXIT_USAGE)
    return found


def _read_debts(file: Path) -> tuple[list[Any], list[str]]:
    """The items of a JSON Lines file (blank lines skipped) or of a JSON array, and where each
    is in the file (its line, or its place in the array), to name it in a failure."""
    text = file.read_text(encoding="utf-8")
    if file.suffix.lower() == ".json":
        try:
            found = json.loads(text)
        except json.JSONDecodeError as exc:
            fail(f"{file} is not JSON: {exc}", EXIT_USAGE)
        # An array of debts, or a whole POST /debts/batch body.
        items = found.get("debts") if isinstance(found, dict) else found
        if not isinstance(items, list) or not items:
            fail(f"{file} must hold a JSON array of debts, or an object of them", EXIT_USAGE)
        return items, [f"item {index}" for index in range(len(items))]
    debts: list[Any] = []
    places: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            debts.append(json.loads(line))
        except json.JSONDecodeError as exc:
            fail(f"{file}, line {number}: not JSON: {exc}", EXIT_USAGE)
        places.append(f"line {number}")
    if not debts:
        fail(f"{file} holds no debt", EXIT_USAGE)
    return debts, places


def _print_batch(done: DebtBatchResult, places: list[str]) -> None:
    for failure in done.failed:
        problems = "; ".join(f"{k}: {', '.join(v)}" for k, v in failure.errors.items())
        err.print(f"{places[failure.index]}: {problems}", highlight=False, soft_wrap=True)
    for skipped in done.skipped:
        err.print(f"{places[skipped.index]}: skipped, {skipped.reason}", highlight=False)
    counts = done.summary
    out.print(
        f"batch {done.batch_name} ({done.import_id}): {counts.created} created,"
        f" {counts.failed} failed, {counts.skipped} skipped",
        highlight=False,
        soft_wrap=True,
    )
