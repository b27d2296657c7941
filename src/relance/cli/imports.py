"""`relance import debts|followups FILE`: bulk loads in batches, with a progress bar."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from relance.cli.common import (
    JsonFlag,
    company_key,
    err,
    fail,
    out,
    print_json,
    settings,
    with_deployment,
)

if TYPE_CHECKING:
    from relance.imports import ImportReport
    from relance.runtime import Deployment

import_app = typer.Typer(
    no_args_is_help=True,
    help="Load debts or followups from a CSV or JSON Lines file. A row that cannot be read (a"
    " JSON Line or CSV record longer than 1 MiB, a carriage return outside quotes, a quote never"
    " closed) is a bad row named by its line; the rows around it are imported.",
)

ImportFile = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="A .csv or .jsonl file.")
]
ImportCompany = Annotated[str, typer.Option(help="The company whose rows these are.")]
FormatOption = Annotated[
    str | None, typer.Option("--format", help="csv or jsonl (default: from the file's name).")
]
StrictOption = Annotated[
    bool, typer.Option("--strict", help="Write nothing if any row is bad (default: keep the good).")
]
# Bigger batches merge more count updates (an import of 100,000 followups took 2 s less at
# 10,000 than at 5,000), but each holds the company's counts for longer: API writes to that
# company wait for the batch in progress to commit (under a second at 10,000).
BATCH_SIZE = 10_000
BatchOption = Annotated[int, typer.Option(min=1, max=50_000, help="Rows per transaction.")]


@import_app.command("debts")
def import_debts(
    file: ImportFile,
    company: ImportCompany,
    fmt: FormatOption = None,
    strict: StrictOption = False,
    batch_size: BatchOption = BATCH_SIZE,
    as_json: JsonFlag = False,
) -> None:
    """Import debts; a row with an external_id imported before updates its debt."""
    from relance.debts.imports import COLUMNS, DebtBatch, check

    run_import_command(file, company, fmt, strict, batch_size, as_json, COLUMNS, check, DebtBatch)


@import_app.command("followups")
def import_followups(
    file: ImportFile,
    company: ImportCompany,
    fmt: FormatOption = None,
    strict: StrictOption = False,
    batch_size: BatchOption = BATCH_SIZE,
    as_json: JsonFlag = False,
) -> None:
    """Import followups, each naming its debt by debt_id or debt_internal_id; a row with an
    external_id imported before updates its followup. An audio_file or pdf_file column names a
    file inside the import file's folder, by a path relative to it (no absolute path, no ..,
    no link leading out)."""
    from relance.followups.imports import COLUMNS, FollowupBatch, checker

    check = checker(file.resolve().parent, settings().media_max_bytes)
    run_import_command(
        file, company, fmt, strict, batch_size, as_json, COLUMNS, check, FollowupBatch
    )


def run_import_command(
    file: Path,
    company: str,
    fmt: str | None,
    strict: bool,
    batch_size: int,
    as_json: bool,
    columns: frozenset[str],
    check: Callable[[Any], Any],
    writer: Callable[[Deployment, int], Any],
) -> None:
    from rich.progress import Progress

    from relance.companies.repository import company_exists
    from relance.imports import run_import
    from relance.kit.rows import UnreadableFile, format_of, read_rows

    try:
        source_format = format_of(file, fmt)
    except UnreadableFile as exc:
        fail(str(exc), 2)

    size = file.stat().st_size

    async def work(deployment: Deployment) -> ImportReport:
        company_id = company_key(deployment, company)
        if not await company_exists(deployment.db, company_id):
            fail(f"no company with ID {company}", 2)
        with file.open("rb") as source, Progress(console=err, disable=as_json) as bar:
            task = bar.add_task(f"importing {file.name}", total=size)
            rows = read_rows(source, source_format, columns, Advance(bar, task))
            return await run_import(
                deployment.db,
                rows,
                check,
                writer(deployment, company_id),
                strict=strict,
                batch_size=batch_size,
            )

    try:
        report = with_deployment(work)
    except UnreadableFile as exc:
        fail(str(exc), 2)
    print_import_report(report, as_json)
    if report.failed:
        raise typer.Exit(1)


class Advance:
    """Moves the progress bar every 256 KiB read: once a line cost more than the line."""

    def __init__(self, bar: Any, task: Any) -> None:
        self._bar, self._task, self._pending = bar, task, 0

    def __call__(self, read: int) -> None:
        self._pending += read
        if self._pending >= 256 * 1024:
            self._bar.advance(self._task, self._pending)
            self._pending = 0


def print_import_report(report: ImportReport, as_json: bool) -> None:
    if as_json:
        print_json(asdict(report))
        return
    for error in report.errors:
        problems = "; ".join(f"{k}: {', '.join(v)}" for k, v in error["errors"].items())
        err.print(f"line {error['line']}: {problems}", highlight=False, soft_wrap=True)
    if report.failed > len(report.errors):
        err.print(f"... and {report.failed - len(report.errors)} more bad rows")
    outcome = (
        "nothing written (--strict)"
        if report.rolled_back
        else (f"{report.created} created, {report.updated} updated")
    )
    out.print(f"{outcome}, {report.failed} bad row(s)", highlight=False)
