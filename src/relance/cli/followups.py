"""`relance followups list|get|export|sync`: the API read through the Python client, from any
machine that holds a client's credentials (RELANCE_BASE_URL, RELANCE_CLIENT_ID,
RELANCE_CLIENT_SECRET), against Relance or GetBill alike."""

from __future__ import annotations

import importlib.util
import os
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, cast

import typer

from relance.cli.output import JsonFlag, err, fail, out, print_json

if TYPE_CHECKING:
    from relance.client import FollowupStatus, FollowupType, Relance, RelanceError

followups_app = typer.Typer(
    no_args_is_help=True, help="Read followups through the API (as an integrator would)."
)

# Exit codes, one per kind of failure, so that scripts can tell them apart.
EXIT_API = 1  # the API refused the request (400, 404, 409...)
EXIT_USAGE = 2
EXIT_AUTH = 3  # credentials or scope refused (401, 403)
EXIT_RATE_LIMITED = 4  # still limited after every retry
EXIT_UNAVAILABLE = 5  # unreachable, timed out, or failing (5xx)
ID_WIDTH = 22  # a public ID's length (relance.kit.ids.ID_LENGTH, of the server)

Status = Annotated[str | None, typer.Option(help="Only this status (no_answer, delivered...).")]
Kind = Annotated[str | None, typer.Option("--type", help="Only this type (call, email...).")]
DateFrom = Annotated[str | None, typer.Option(help="From this day (YYYY-MM-DD).")]
DateTo = Annotated[str | None, typer.Option(help="Up to this day (YYYY-MM-DD).")]
DebtId = Annotated[str | None, typer.Option(help="Only this debt's followups.")]
BaseUrl = Annotated[
    str | None, typer.Option(envvar="RELANCE_BASE_URL", help="The API's address.", show_envvar=True)
]


class ExportFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"
    PARQUET = "parquet"


@followups_app.command("list")
def list_followups(
    status: Status = None,
    kind: Kind = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    debt_id: DebtId = None,
    page: Annotated[int, typer.Option(min=1)] = 1,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
    base_url: BaseUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """One page of followups, newest activity first."""
    from rich.table import Table

    with api_calls(base_url) as client:
        found = client.followups.list(
            # Passed on as typed: the server's 400 names the values it accepts.
            status=cast("FollowupStatus | None", status),
            type=cast("FollowupType | None", kind),
            date_from=_day(date_from, "--date-from"),
            date_to=_day(date_to, "--date-to"),
            debt_id=debt_id,
            page=page,
            limit=limit,
        )
    if as_json:
        print_json(
            {
                "data": [f.model_dump(mode="json") for f in found.data],
                "pagination": found.pagination.model_dump(),
            }
        )
        return
    # An ID is copied whole into the next command, so it never wraps nor shrinks: at 80 columns
    # and less, the summary wraps (and the other columns) instead.
    table = Table(box=None)
    table.add_column("id", no_wrap=True, min_width=ID_WIDTH)
    for name in ("type", "status", "when (UTC)", "summary"):
        table.add_column(name, overflow="fold")
    for followup in found.data:
        when = followup.call_date or followup.scheduled_at or followup.processed_at
        table.add_row(
            followup.id,
            str(followup.type),
            str(followup.status),
            when.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if when else "",
            (followup.summary or "")[:60],
        )
    out.print(table)
    shown = found.pagination
    out.print(f"page {shown.page} of {shown.pages}, {shown.total} followups", highlight=False)


@followups_app.command("get")
def get_followup(
    followup_id: Annotated[str, typer.Argument(help="The followup's ID.")],
    base_url: BaseUrl = None,
) -> None:
    """One followup, as JSON."""
    with api_calls(base_url) as client:
        found = client.followups.get(followup_id)
    print_json(found.model_dump(mode="json"))


@followups_app.command("export")
def export(
    output: Annotated[
        Path,
        typer.Option(help="The file to write; - for standard output.", dir_okay=False),
    ],
    export_format: Annotated[ExportFormat, typer.Option("--format")] = ExportFormat.CSV,
    status: Status = None,
    kind: Kind = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    debt_id: DebtId = None,
    base_url: BaseUrl = None,
    raw: Annotated[
        bool,
        typer.Option(
            "--raw",
            help="CSV: write cells as they are. By default a cell starting with =, +, -, @, a"
            " tab or a carriage return gets a ' before it, so that a spreadsheet does not run"
            " it as a formula.",
        ),
    ] = False,
) -> None:
    """Every followup matching the filters into a CSV, JSON Lines or Parquet file. The
    file appears only once complete; an export that stopped resumes where it was when run
    again with the same arguments, server and client (otherwise it starts afresh)."""
    from relance.cli.export import STDOUT, Export

    if export_format is ExportFormat.PARQUET and importlib.util.find_spec("pyarrow") is None:
        fail("Parquet needs pyarrow: pip install 'relance[parquet]'", EXIT_USAGE)
    filters = {
        "status": status,
        "type": kind,
        "date_from": _day(date_from, "--date-from"),
        "date_to": _day(date_to, "--date-to"),
        "debt_id": debt_id,
    }
    # The client the credentials name, as the client reads them (RELANCE_CLIENT_ID).
    client_id = os.environ.get("RELANCE_CLIENT_ID", "")
    job = Export(output, export_format.value, filters, client_id=client_id, raw=raw)
    finished = False
    try:
        with api_calls(base_url) as client:
            written = job.run(client, err)
        finished = True
    finally:
        if not finished and job.resumable:
            err.print(
                f"the pages exported so far are kept in {job.partial}; to resume, run the same"
                f" command again: {shlex.join(['relance', *sys.argv[1:]])}",
                highlight=False,
                soft_wrap=True,
            )
    shown = "standard output" if output == STDOUT else output
    err.print(f"{written} followups written to {shown}", highlight=False)


@followups_app.command("sync")
def sync(
    into: Annotated[
        str,
        typer.Option(
            "--into",
            help="The mirror: a SQLite file, a postgresql:// URL, or a file ending in .jsonl.",
        ),
    ],
    follow: Annotated[
        bool, typer.Option("--follow", help="Keep following the changes until Ctrl+C.")
    ] = False,
    with_media: Annotated[
        Path | None,
        typer.Option(
            "--with-media",
            file_okay=False,
            help="Download each recording and document into this folder, by content hash.",
        ),
    ] = None,
    media_urls: Annotated[
        bool,
        typer.Option(
            "--media-urls/--no-media-urls",
            help="Keep the signed media URLs (they expire) in the mirror, or leave them empty.",
        ),
    ] = True,
    page_size: Annotated[
        int, typer.Option(min=1, max=1000, help="Changes asked for per request.")
    ] = 1000,
    base_url: BaseUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Mirror every followup into a SQLite file, a PostgreSQL database or a JSON Lines file:
    the first run takes an export, later ones apply the changes since the cursor stored in
    the mirror itself, with the rows it covers, so that a crash never loses or doubles one."""
    from relance.cli.sync.command import sync_into

    sync_into(
        into,
        base_url=base_url,
        follow=follow,
        media_dir=with_media,
        include_media=media_urls,
        page_size=page_size,
        as_json=as_json,
    )


@contextmanager
def api_calls(base_url: str | None) -> Iterator[Relance]:
    """A client from the environment, its errors turned into messages and exit codes."""
    from relance.client import Relance, RelanceError

    try:
        with Relance(base_url=base_url) as client:
            yield client
    except RelanceError as exc:
        _failed(exc)


def _failed(exc: RelanceError) -> NoReturn:
    from relance.client import (
        APIConnectionError,
        APIStatusError,
        AuthenticationError,
        BadRequestError,
        InternalServerError,
        PermissionDeniedError,
        RateLimitError,
    )

    if isinstance(exc, BadRequestError) and exc.details:
        problems = "; ".join(f"{k}: {', '.join(v)}" for k, v in exc.details.items())
        fail(f"the API refused the request: {problems}", EXIT_API)
    if isinstance(exc, AuthenticationError | PermissionDeniedError):
        fail(f"{exc} (check RELANCE_CLIENT_ID, RELANCE_CLIENT_SECRET and its scopes)", EXIT_AUTH)
    if isinstance(exc, RateLimitError):
        wait = exc.retry_after
        message = f"still rate limited after every retry; try again in {wait or 60:.0f} s"
        fail(message, EXIT_RATE_LIMITED)
    if isinstance(exc, APIConnectionError | InternalServerError):
        fail(str(exc), EXIT_UNAVAILABLE)
    if isinstance(exc, APIStatusError):
        fail(str(exc), EXIT_API)
    fail(str(exc), EXIT_USAGE)


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} must be a day as YYYY-MM-DD, not {value!r}", EXIT_USAGE)
