"""Importing debts from a file: each row checked as POST /debts checks a body, rows written in
batches, a row with an `external_id` already imported updated instead of duplicated (its
followup tallies, which its followups own, are left as they are)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson

from relance.db import Connection
from relance.debts import parties, repository
from relance.debts.records import DebtRecord
from relance.debts.schemas import DebtBody, for_create
from relance.debts.service import created_events, internal_id_problems, name_creditor
from relance.errors import ValidationFailed
from relance.imports import Details, ImportReport, ValidRow, validated
from relance.kit.bodies import number_problems
from relance.kit.fields import Short
from relance.kit.rows import SourceRow
from relance.kit.time import utc_now
from relance.runtime import Deployment


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
    if _holds_nul(body.metadata):
        return {"metadata": ["must not contain a NUL character"]}
    try:
        for_create(body)
    except ValidationFailed as exc:
        return {name: list(problems) for name, problems in (exc.details or {}).items()}
    return body


def metadata_of(text: str) -> Any:
    """A metadata cell's JSON, its numbers held to what can be stored as sent, as a body's are
    (a float for a big integer, `Infinity` for 1e400, `null` for NaN are refused, not stored).
    Raises ValueError with what to fix."""
    for problems in number_problems(text).values():
        raise ValueError(problems[0])
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        raise ValueError("must be a JSON object, at most 254 levels deep") from None


def _holds_nul(metadata: dict[str, Any] | None) -> bool:
    pending: list[Any] = [metadata]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str) and "\x00" in value:
            return True
    return False


class DebtBatch:
    """Writes batches of one company's debt rows, with a debt.created event for each debt
    made (debt.updated is reserved: an import's update sends nothing yet)."""

    def __init__(self, deployment: Deployment, company_id: int) -> None:
        self._deployment = deployment
        self._company_id = company_id

    async def __call__(
        self, conn: Connection, batch: list[ValidRow[DebtImportRow]], report: ImportReport
    ) -> None:
        batch = await self._own_internal_ids(conn, batch, report)
        named = sorted({r.body.external_id for r in batch if r.body.external_id})
        known = await repository.external_ids_known(conn, self._company_id, named)
        now = utc_now()
        new: list[DebtRecord] = []
        others: list[DebtRecord] = []
        for row in batch:
            debt = replace(for_create(row.body), external_id=row.body.external_id)
            if not await self._creditor_named(conn, row, debt, report):
                continue
            if row.body.external_id in known:
                others.append(debt)
                report.updated += 1
            else:
                new.append(debt)
                report.created += 1
                if row.body.external_id:
                    known.add(row.body.external_id)
        before = await repository.debtors_of_external_ids(
            conn, self._company_id, [d.external_id for d in others if d.external_id]
        )
        await parties.link(conn, self._company_id, [*new, *others], now)
        inserted = await repository.upsert_debts(conn, self._company_id, new, others, now)
        await parties.release(conn, self._company_id, before)
        await self._record_events(conn, inserted)

    async def _creditor_named(
        self, conn: Connection, row: ValidRow[DebtImportRow], debt: DebtRecord, report: ImportReport
    ) -> bool:
        """Give the row's debt the creditor its `creditor_id` names, if it names one; False,
        with the row failed, when no creditor of the company has that ID."""
        if row.body.creditor_id is None:
            return True
        try:
            await name_creditor(
                conn, self._deployment.ids, self._company_id, debt, row.body.creditor_id
            )
        except ValidationFailed as exc:
            report.fail(row.line, {k: list(v) for k, v in (exc.details or {}).items()})
            return False
        return True

    async def _own_internal_ids(
        self, conn: Connection, batch: list[ValidRow[DebtImportRow]], report: ImportReport
    ) -> list[ValidRow[DebtImportRow]]:
        """The rows whose internal ID no other debt carries: not another of the company's
        debts (the debt a row's external ID updates keeps its own), nor an earlier row."""
        named = [row for row in batch if row.body.internal_id is not None]
        claims = [
            (r.body.internal_id or "", r.body.external_id, f"the row on line {r.line}")
            for r in named
        ]
        problems = await internal_id_problems(conn, self._deployment.ids, self._company_id, claims)
        refused = set()
        for row, problem in zip(named, problems, strict=True):
            if problem is not None:
                report.fail(row.line, {"internal_id": [problem]})
                refused.add(row.line)
        return [row for row in batch if row.line not in refused]

    async def _record_events(self, conn: Connection, inserted: list[int]) -> None:
        log = self._deployment.events
        if not log.enabled or not inserted:
            return
        found = await created_events(conn, self._deployment.ids, self._company_id, inserted)
        await log.record(conn, self._company_id, found)
