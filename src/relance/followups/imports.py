"""Importing followups from a file: each row checked as POST /followups checks a body, rows
written in batches, a row with an `external_id` already imported updated instead of duplicated,
and the counts and the debts' tallies moved in each batch's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from relance.db import Connection
from relance.debts import repository as debts
from relance.followups import import_repository as rows_sql
from relance.followups.bodies import FollowupBody, new_values, sent_fields
from relance.kit.fields import Short
from relance.kit.ids import Resource
from relance.kit.imports import Details, ImportReport, ValidRow, validated
from relance.kit.rows import SourceRow
from relance.kit.time import utc_now
from relance.runtime import Runtime


class FollowupImportRow(FollowupBody):
    # The caller's own reference: importing it again updates the followup it made.
    external_id: Short | None = None
    # The debt may be named by its Relance ID (`debt_id`) or by its `internal_id`.
    debt_internal_id: Short | None = None


COLUMNS = frozenset(FollowupImportRow.model_fields)
_DEBT_REFS = ("debt_id", "debt_internal_id")


@dataclass(frozen=True, slots=True)
class CheckedFollowup:
    """A good row: how it names its debt and itself, and its values as they will be staged."""

    debt_id: str | None
    debt_internal_id: str | None
    external_id: str | None
    written: tuple[Any, ...]


def check(row: SourceRow) -> CheckedFollowup | Details:
    body = validated(FollowupImportRow, row)
    if isinstance(body, dict):
        return body
    problems: Details = {}
    if "type" not in body.model_fields_set:
        problems["type"] = ["is required"]
    if sum(name in body.model_fields_set for name in _DEBT_REFS) != 1:
        problems["debt_id"] = ["name the debt by debt_id or by debt_internal_id (one of them)"]
    if problems:
        return problems
    sent = sent_fields(body)
    for name in (*_DEBT_REFS, "external_id"):
        sent.pop(name, None)
    written = rows_sql.written(new_values(sent), body.external_id)
    return CheckedFollowup(body.debt_id, body.debt_internal_id, body.external_id, written)


class FollowupBatch:
    """Writes batches of one company's followup rows."""

    def __init__(self, runtime: Runtime, company_id: int) -> None:
        self._runtime = runtime
        self._company_id = company_id

    async def __call__(
        self, conn: Connection, batch: list[ValidRow[CheckedFollowup]], report: ImportReport
    ) -> None:
        batch = _last_of_each_external_id(batch, report)
        debt_of = await self._debts(conn, batch, report)
        named = [r.body.external_id for r in batch if r.body.external_id and r.line in debt_of]
        existing = await rows_sql.existing_by_external_id(conn, self._company_id, named)
        now = utc_now()
        staged: list[tuple[Any, ...]] = []
        for row in batch:
            debt_id = debt_of.get(row.line)
            if debt_id is None:
                continue
            current = existing.get(row.body.external_id or "")
            if current is not None and current["debt_id"] != debt_id:
                report.fail(row.line, {"debt_id": ["cannot change for an imported followup"]})
                continue
            staged.append(rows_sql.staged_row(self._company_id, debt_id, current, row.body.written))
            if current is None:
                report.created += 1
            else:
                report.updated += 1
        await rows_sql.write_batch(conn, staged, now)

    async def _debts(
        self, conn: Connection, batch: list[ValidRow[CheckedFollowup]], report: ImportReport
    ) -> dict[int, int]:
        """Each row's debt key, by line; rows whose debt is not the company's are failed."""
        ids = self._runtime.ids
        wanted = {r.line: ids.find(Resource.DEBT, r.body.debt_id) for r in batch if r.body.debt_id}
        keys = [key for key in wanted.values() if key is not None]
        found_ids = await debts.existing_ids(conn, self._company_id, keys)
        internal = {r.line: r.body.debt_internal_id for r in batch if r.body.debt_internal_id}
        references = sorted(set(internal.values()))
        by_internal = await debts.ids_by_internal_id(conn, self._company_id, references)
        debt_of: dict[int, int] = {}
        for row in batch:
            if row.line in wanted:
                key = wanted[row.line]
                if key is None or key not in found_ids:
                    report.fail(row.line, {"debt_id": ["Debt not found"]})
                else:
                    debt_of[row.line] = key
                continue
            matches = by_internal.get(internal[row.line], [])
            if len(matches) == 1:
                debt_of[row.line] = matches[0]
            else:
                problem = (
                    f"names {len(matches)} debts; use debt_id" if matches else "Debt not found"
                )
                report.fail(row.line, {"debt_internal_id": [problem]})
        return debt_of


def _last_of_each_external_id(
    batch: list[ValidRow[CheckedFollowup]], report: ImportReport
) -> list[ValidRow[CheckedFollowup]]:
    """A file may name one external ID twice: its last row wins, the earlier ones count as
    updates it overwrote."""
    last: dict[str, int] = {}
    for index, row in enumerate(batch):
        if row.body.external_id:
            last[row.body.external_id] = index
    kept = [
        row
        for index, row in enumerate(batch)
        if not row.body.external_id or last[row.body.external_id] == index
    ]
    report.updated += len(batch) - len(kept)
    return kept
