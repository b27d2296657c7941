"""The import loop shared by debts and followups: rows read and validated one by one, written in
batches, each bad row reported with its line; `strict` writes all or nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from relance.db import Connection, Database, plan_each_statement
from relance.kit.bodies import details_of
from relance.kit.rows import SourceRow

Model = TypeVar("Model", bound=BaseModel)
# A checked row, as its kind's writer takes it.
Row = TypeVar("Row")
Details = dict[str, list[str]]
# Bad rows listed in a report; beyond this they are only counted, so memory stays bounded.
ERRORS_KEPT = 1000


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    # True when --strict found a bad row and wrote nothing.
    rolled_back: bool = False

    def fail(self, line: int, details: Details) -> None:
        self.failed += 1
        if len(self.errors) < ERRORS_KEPT:
            self.errors.append({"line": line, "errors": details})


@dataclass(frozen=True, slots=True)
class ValidRow(Generic[Row]):
    line: int
    body: Row


# Writes one batch of valid rows on the connection, counting and failing rows in the report.
BatchWriter = Callable[[Connection, list[ValidRow[Row]], ImportReport], Awaitable[None]]


def validated(model: type[Model], row: SourceRow) -> Model | Details:
    """The row as its model, or what is wrong with it. CSV cells are text, so their values are
    converted (lax mode: "42" to 42); JSON Lines are held to the API's strict JSON types."""
    if row.problem is not None:
        return {"row": [row.problem]}
    try:
        if row.raw is not None:
            return model.model_validate_json(row.raw)
        return model.model_validate(row.fields, strict=False)
    except ValidationError as exc:
        return details_of(exc)


class _StrictFailure(Exception):
    """Undoes a strict import's single transaction once every row has been checked."""


async def run_import(
    db: Database,
    rows: Iterable[SourceRow],
    check: Callable[[SourceRow], Row | Details],
    write: BatchWriter[Row],
    *,
    strict: bool,
    batch_size: int,
) -> ImportReport:
    report = ImportReport()
    batches = _batches(rows, check, report, batch_size)
    if strict:
        await _all_or_nothing(db, batches, write, report)
    else:
        for batch in batches:
            async with db.transaction() as conn:
                await plan_each_statement(conn)
                await write(conn, batch, report)
    # Rows fail while read (their fields) or while written (their debt): list them in file order.
    report.errors.sort(key=lambda error: int(error["line"]))
    return report


async def _all_or_nothing(
    db: Database,
    batches: Iterable[list[ValidRow[Row]]],
    write: BatchWriter[Row],
    report: ImportReport,
) -> None:
    try:
        async with db.transaction() as conn:
            await plan_each_statement(conn)
            for batch in batches:
                await write(conn, batch, report)
            if report.failed:
                raise _StrictFailure
    except _StrictFailure:
        report.rolled_back = True
        report.created = report.updated = 0


def _batches(
    rows: Iterable[SourceRow],
    check: Callable[[SourceRow], Row | Details],
    report: ImportReport,
    size: int,
) -> Iterator[list[ValidRow[Row]]]:
    batch: list[ValidRow[Row]] = []
    for row in rows:
        result = check(row)
        if isinstance(result, dict):
            report.fail(row.line, result)
            continue
        batch.append(ValidRow(row.line, result))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
