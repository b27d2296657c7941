"""Importing debts from a file: each row checked as POST /debts checks a body, rows written in
batches, a row with an `external_id` already imported updated instead of duplicated (its
followup tallies, which its followups own, are left as they are)."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

import orjson

from relance.db import Connection
from relance.debts import repository
from relance.debts.schemas import DebtBody, for_create
from relance.errors import ValidationFailed
from relance.kit.fields import Short
from relance.kit.imports import Details, ImportReport, ValidRow, validated
from relance.kit.rows import SourceRow
from relance.kit.time import utc_now


class DebtImportRow(DebtBody):
    # The caller's own reference: importing it again updates the debt it made.
    external_id: Short | None = None


COLUMNS = frozenset(DebtImportRow.model_fields)


def check(row: SourceRow) -> DebtImportRow | Details:
    if row.fields is not None and "metadata" in row.fields:
        # A CSV cell holds the metadata object as JSON text.
        try:
            row.fields["metadata"] = metadata_of(row.fields["metadata"])
        except ValueError as exc:
            return {"metadata": [str(exc)]}
    body = validated(DebtImportRow, row)
    if isinstance(body, dict):
        return body
    problem = _unstorable(body.metadata)
    if problem is not None:
        return {"metadata": [problem]}
    try:
        for_create(body)
    except ValidationFailed as exc:
        return {name: list(problems) for name, problems in (exc.details or {}).items()}
    return body


# The integers a debt's metadata gives back as they came: those that orjson writes and reads
# as integers (beyond them, it reads floats).
_SMALLEST_INT, _BIGGEST_INT = -(2**63), 2**64 - 1


def metadata_of(text: str) -> Any:
    """A metadata cell's JSON, each value kept exactly: a number that would come back changed
    (a float for a big integer, `Infinity` for 1e400, `null` for NaN) is refused, not altered.
    Raises ValueError with what to fix."""
    try:
        value = json.loads(
            text, parse_int=_exact_int, parse_float=_exact_float, parse_constant=_no_constant
        )
    except RecursionError:
        raise ValueError("must be a JSON object nested less deeply") from None
    except json.JSONDecodeError:
        raise ValueError("must be a JSON object") from None
    try:
        orjson.dumps(value)
    except TypeError as exc:  # nested beyond orjson's depth, or a lone UTF-16 surrogate
        raise ValueError(f"must be a JSON object that can be stored: {exc}") from None
    return value


def _exact_int(text: str) -> int:
    number = int(text)
    if not _SMALLEST_INT <= number <= _BIGGEST_INT:
        raise ValueError(
            f"must hold integers from {_SMALLEST_INT} to {_BIGGEST_INT} only;"
            " write a bigger one as a string"
        )
    return number


def _exact_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number) or Decimal(repr(number)) != Decimal(text):
        raise ValueError(
            f"must hold numbers that a 64-bit float keeps exactly, not {text[:40]};"
            " write it as a string"
        )
    return number


def _no_constant(text: str) -> Any:
    raise ValueError(f"must be standard JSON: {text} is not a JSON number")


def _unstorable(metadata: dict[str, Any] | None) -> str | None:
    """Why the metadata cannot be stored as given: a JSON Line's NaN or Infinity (stored, it
    came back null), or a NUL character (which PostgreSQL's JSON refuses)."""
    pending: list[Any] = [metadata]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, float) and not math.isfinite(value):
            return "must hold finite numbers only (not NaN or Infinity)"
        elif isinstance(value, str) and "\x00" in value:
            return "must not contain a NUL character"
    return None


class DebtBatch:
    def __init__(self, company_id: int) -> None:
        self._company_id = company_id

    async def __call__(
        self, conn: Connection, batch: list[ValidRow[DebtImportRow]], report: ImportReport
    ) -> None:
        named = sorted({r.body.external_id for r in batch if r.body.external_id})
        known = await repository.external_ids_known(conn, self._company_id, named)
        now = utc_now()
        rows: list[dict[str, Any]] = []
        for row in batch:
            values = for_create(row.body) | {"external_id": row.body.external_id}
            rows.append(values)
            if row.body.external_id in known:
                report.updated += 1
            else:
                report.created += 1
                if row.body.external_id:
                    known.add(row.body.external_id)
        await repository.upsert_debts(conn, self._company_id, rows, now)
