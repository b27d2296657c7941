"""Importing followups from a file: each row checked as POST /followups checks a body, rows
written in batches, a row with an `external_id` already imported updated instead of duplicated,
and the counts and the debts' tallies moved in each batch's transaction."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from relance.changes import repository as changes
from relance.db import Connection
from relance.debts import repository as debts
from relance.events.records import NewEvent, now_us
from relance.followups import events
from relance.followups.bodies import FollowupBody, record_of
from relance.followups.records import StoredFollowup
from relance.followups.repository import bulk
from relance.followups.service import unsigned_by_key
from relance.imports import Details, ImportReport, ValidRow, validated
from relance.kit.fields import Label, Short
from relance.kit.rows import SourceRow
from relance.kit.time import utc_now
from relance.media.kinds import MediaKind
from relance.media.service import CheckedFile, check_file, new_key, store_as
from relance.media.stores import PREFIX
from relance.resources import Resource
from relance.runtime import Deployment


class FollowupImportRow(FollowupBody):
    # The caller's own reference: importing it again updates the followup it made.
    external_id: Short | None = None
    # The debt may be named by its Relance ID (`debt_id`) or by its `internal_id`.
    debt_internal_id: Short | None = None
    # A recording or a document to store with the followup: a file's path, relative to the
    # import file's folder (instead of an audio_url or pdf_url given as a URL).
    audio_file: Label | None = None
    pdf_file: Label | None = None


COLUMNS = frozenset(FollowupImportRow.model_fields)
_DEBT_REFS = ("debt_id", "debt_internal_id")


@dataclass(frozen=True, slots=True)
class CheckedFollowup:
    """A good row: how it names its debt and itself, and its values as they will be staged."""

    debt_id: str | None
    debt_internal_id: str | None
    external_id: str | None
    written: tuple[Any, ...]
    # Files to store, under their new keys, before the row is written.
    files: tuple[tuple[str, CheckedFile], ...] = ()


_FILES = {"audio_file": MediaKind.AUDIO, "pdf_file": MediaKind.PDF}


def checker(folder: Path, max_bytes: int) -> Callable[[SourceRow], CheckedFollowup | Details]:
    """The check of a row of a file in `folder`: its fields as POST /followups checks them,
    and the media files it names, each of the right kind and size."""

    def check(row: SourceRow) -> CheckedFollowup | Details:
        body = validated(FollowupImportRow, row)
        if isinstance(body, dict):
            return body
        problems: Details = {}
        if "type" not in body.model_fields_set:
            problems["type"] = ["is required"]
        if sum(name in body.model_fields_set for name in _DEBT_REFS) != 1:
            problems["debt_id"] = ["name the debt by debt_id or by debt_internal_id (one of them)"]
        files = _media_files(body, folder, max_bytes, problems)
        if problems:
            return problems
        record = record_of(body)
        for kind, (key, _) in files.items():
            setattr(record, kind.column, PREFIX + key)
        written = bulk.written(record, body.external_id)
        return CheckedFollowup(
            body.debt_id, body.debt_internal_id, body.external_id, written, tuple(files.values())
        )

    return check


# The same for a file that is missing, outside the folder, or not a file, so that a row's
# author cannot learn from the report what exists elsewhere on the machine.
NO_SUCH_FILE = "must name a file inside the import file's folder, by a path relative to it"


def file_inside(folder: Path, name: str) -> Path | None:
    """The regular file `name` names inside `folder` (resolved), or None: an absolute path,
    `..`, or a symbolic link leading out of the folder names nothing. `folder` is resolved."""
    relative = Path(name)
    if relative.is_absolute() or ".." in relative.parts:
        return None
    try:
        found = (folder / relative).resolve()
        if found.is_relative_to(folder) and found.is_file() and os.access(found, os.R_OK):
            return found
    except (OSError, RuntimeError):  # a loop of symbolic links; a name the system refuses
        pass
    return None


def _media_files(
    body: FollowupImportRow, folder: Path, max_bytes: int, problems: Details
) -> dict[MediaKind, tuple[str, CheckedFile]]:
    """The files a row names, each under the key it will be stored at (its audio_url or
    pdf_url); what is wrong with them goes to `problems`."""
    files = {}
    for column, kind in _FILES.items():
        name = getattr(body, column)
        if name is None:
            continue
        path = file_inside(folder, name)
        checked = NO_SUCH_FILE if path is None else check_file(path, kind, max_bytes)
        if isinstance(checked, str):
            problems[column] = [checked]
        elif kind.column in body.model_fields_set:
            problems[column] = [f"give {column} or {kind.column}, not both"]
        else:
            files[kind] = (new_key(checked), checked)
    return files


class FollowupBatch:
    """Writes batches of one company's followup rows."""

    def __init__(self, deployment: Deployment, company_id: int) -> None:
        self._deployment = deployment
        self._company_id = company_id

    async def __call__(
        self, conn: Connection, batch: list[ValidRow[CheckedFollowup]], report: ImportReport
    ) -> None:
        batch = _last_of_each_external_id(batch, report)
        debt_of = await self._debts(conn, batch, report)
        named = [r.body.external_id for r in batch if r.body.external_id and r.line in debt_of]
        existing = await bulk.existing_by_external_id(conn, self._company_id, named)
        now = utc_now()
        staged: list[tuple[Any, ...]] = []
        uploads: list[tuple[str, CheckedFile]] = []
        for row in batch:
            debt_id = debt_of.get(row.line)
            if debt_id is None:
                continue
            current = existing.get(row.body.external_id or "")
            if current is not None and current.debt_id != debt_id:
                report.fail(row.line, {"debt_id": ["cannot change for an imported followup"]})
                continue
            staged.append(bulk.staged_row(self._company_id, debt_id, current, row.body.written))
            uploads.extend(row.body.files)
            if current is None:
                report.created += 1
            else:
                report.updated += 1
        for key, checked in uploads:
            await store_as(self._deployment.media, key, checked)
        written = await bulk.write_batch(conn, staged, now)
        updated = {current.id: current for current in existing.values()}
        await self._record_events(conn, written, updated)
        await changes.record(conn, self._company_id, written.changed, now_us())

    async def _record_events(
        self, conn: Connection, written: bulk.Written, updated: dict[int, StoredFollowup]
    ) -> None:
        """The batch's events, recorded with it: its rows read back as the API shows them."""
        log = self._deployment.events
        if not log.enabled:
            return
        keys = [*written.inserted, *updated]
        found: list[NewEvent] = []
        for key, view in await unsigned_by_key(conn, self._deployment.ids, self._company_id, keys):
            current = updated.get(key)
            if current is None:
                found += events.created(view)
            else:
                before = events.view_before(current, view)
                first = key in written.first_completed
                found += events.updated(before, view, first_completion=first)
        await log.record(conn, self._company_id, found)

    async def _debts(
        self, conn: Connection, batch: list[ValidRow[CheckedFollowup]], report: ImportReport
    ) -> dict[int, int]:
        """Each row's debt key, by line; rows whose debt is not the company's are failed."""
        ids = self._deployment.ids
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
