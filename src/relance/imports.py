"""The import loop shared by debts and followups: rows read and validated one by one, written in
batches, each batch one unit of work, each bad row reported with its line; `strict` writes all
in one unit of work, or nothing."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
)
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from relance.db import Connection, Database
from relance.db.bulk import plan_each_statement
from relance.errors import ValidationFailed
from relance.kit.bodies import details_of, parse_json
from relance.kit.rows import SourceRow
from relance.units import unit_of_work

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
    converted (lax mode: "42" to 42); JSON Lines are held to the API's strict JSON types, and
    their numbers to what can be stored as sent, as bodies are."""
    if row.problem is not None:
        return {"row": [row.problem]}
    if row.raw is not None:
        try:
            return parse_json(model, row.raw)
        except ValidationFailed as exc:
            return {name: list(problems) for name, problems in (exc.details or {}).items()}
    try:
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
    batches = _ReadAhead(_batches(rows, check, batch_size), report)
    try:
        if strict:
            await _all_or_nothing(db, batches, write, report)
        else:
            async for batch in batches:
                async with unit_of_work(db) as unit:
                    await plan_each_statement(unit.conn)
                    await write(unit.conn, batch, report)
    finally:
        await batches.close()
    # Rows fail while read (their fields) or while written (their debt): list them in file order.
    report.errors.sort(key=lambda error: int(error["line"]))
    return report


async def _all_or_nothing(
    db: Database,
    batches: AsyncIterable[list[ValidRow[Row]]],
    write: BatchWriter[Row],
    report: ImportReport,
) -> None:
    try:
        async with unit_of_work(db) as unit:
            await plan_each_statement(unit.conn)
            async for batch in batches:
                await write(unit.conn, batch, report)
            if report.failed:
                raise _StrictFailure
    except _StrictFailure:
        report.rolled_back = True
        report.created = report.updated = 0


@dataclass
class _Batch(Generic[Row]):
    valid: list[ValidRow[Row]] = field(default_factory=list)
    # The batch's bad rows: (line, what is wrong).
    bad: list[tuple[int, Details]] = field(default_factory=list)


# How long a thread holding the GIL keeps it while another waits (Python's default: 5 ms).
_SWITCH_INTERVAL = 0.0005


class _ReadAhead(Generic[Row]):
    """The batches, each read and checked in a worker thread while the one before is written:
    reading and checking are Python's work, writing mostly the database's, so they overlap.

    While it runs, the GIL changes hands more often: the event loop needs it back each time the
    database answers, and waited up to Python's 5 ms behind the reading thread at each of a
    batch's round trips, which took back most of what the overlap saved."""

    def __init__(self, batches: Iterator[_Batch[Row]], report: ImportReport) -> None:
        self._batches = batches
        self._report = report
        self._upcoming: asyncio.Future[_Batch[Row] | None] | None = None
        self._switch_interval = sys.getswitchinterval()

    async def __aiter__(self) -> AsyncIterator[list[ValidRow[Row]]]:
        sys.setswitchinterval(_SWITCH_INTERVAL)
        self._upcoming = self._read_next()
        while (batch := await self._upcoming) is not None:
            self._upcoming = self._read_next()
            for line, details in batch.bad:
                self._report.fail(line, details)
            if batch.valid:
                yield batch.valid

    async def close(self) -> None:
        """Wait for a read still running (the import failed or was stopped), so that no thread
        reads the file once the import is over."""
        sys.setswitchinterval(self._switch_interval)
        if self._upcoming is None:
            return
        await asyncio.wait([self._upcoming])
        if not self._upcoming.cancelled():
            # Taken, so that it is not reported as lost: the import failed for its own reason.
            self._upcoming.exception()

    def _read_next(self) -> asyncio.Future[_Batch[Row] | None]:
        return asyncio.ensure_future(asyncio.to_thread(next, self._batches, None))


def _checked(check: Callable[[SourceRow], Row | Details], row: SourceRow) -> Row | Details:
    """The row checked; a value no check foresaw is still this row's fault, and fails it alone:
    raised, it stopped the import with a traceback after earlier batches had been written."""
    try:
        return check(row)
    except (ArithmeticError, ValueError, TypeError, RecursionError) as exc:
        return {"row": [f"cannot be imported: {exc}"]}


def _batches(
    rows: Iterable[SourceRow],
    check: Callable[[SourceRow], Row | Details],
    size: int,
) -> Iterator[_Batch[Row]]:
    batch: _Batch[Row] = _Batch()
    for row in rows:
        result = _checked(check, row)
        if isinstance(result, dict):
            batch.bad.append((row.line, result))
        else:
            batch.valid.append(ValidRow(row.line, result))
        # Bad rows count towards the size too: a file of bad rows is held a batch at a time.
        if len(batch.valid) + len(batch.bad) >= size:
            yield batch
            batch = _Batch()
    if batch.valid or batch.bad:
        yield batch
