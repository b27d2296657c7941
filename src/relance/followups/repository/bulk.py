"""The statements of a followup import: batches of rows created or updated by external ID.

A batch is staged in a temporary table, then written, and its counts moved, by one statement
each: on PostgreSQL, row-at-a-time statements, each planned and sent on its own, made a
100,000-row import take minutes; arrays of values (`unnest`) cost more to encode than to store.
"""

# Statements assembled from fixed fragments and $n placeholders, never caller text (as in
# every *repository.py, which pyproject.toml's per-file ignores name).

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from operator import attrgetter, itemgetter
from typing import Any

from relance.db import Connection
from relance.db.bulk import staged
from relance.db.statements import placeholders
from relance.followups import counts
from relance.followups.enums import ANSWERED, COMPLETED, REMINDED, FollowupStatus
from relance.followups.records import RECORD_FIELDS, FollowupRecord, StoredFollowup
from relance.followups.repository.writes import LOCKED, locked_columns, read_locked, stored

# The fields staged for a followup, then written with processed_at, the write's moment. A null
# activity_at stands for that moment too (activity_at: call_date, scheduled_at, processed_at).
_FIELDS = tuple(name for name in RECORD_FIELDS if name != "processed_at")
_staged_values = attrgetter(*_FIELDS)
_STAGED = (*_FIELDS, "activity_at", "external_id")
_NAMES = ", ".join(_STAGED)
# A batch is staged, one row per followup: its company and debt, for an update the followup's
# ID and the fields it was counted under, then the written values (see `staged_row`).
_STAGE = "import_followups"
_STAGE_SHAPE = (
    "SELECT company_id, debt_id, id AS followup_id, status AS old_status, type AS old_type,"
    f" activity_at AS old_activity_at, {_NAMES} FROM followups"
)
_VALUES = ", ".join((*_FIELDS, "coalesce(activity_at, $1)", "external_id"))
_COMPLETED = ", ".join(f"'{status.value}'" for status in sorted(COMPLETED))
_INSERT = (
    f"INSERT INTO followups (company_id, debt_id, {_NAMES}, processed_at, completed_at,"
    " created_at, updated_at)"
    f" SELECT company_id, debt_id, {_VALUES}, $1,"
    f" CASE WHEN status IN ({_COMPLETED}) THEN $1 END, $1, $1 FROM {_STAGE}"
    " WHERE followup_id IS NULL RETURNING id, debt_id"
)
_UPDATE = (
    "UPDATE followups SET "
    + ", ".join(f"{name} = s.{name}" for name in _FIELDS)
    + ", activity_at = coalesce(s.activity_at, $1), external_id = s.external_id,"
    f" processed_at = $1, updated_at = $1 FROM {_STAGE} AS s WHERE followups.id = s.followup_id"
)
# The updated followups whose status entered a completed one for the first time.
_FIRST_COMPLETED = (
    f"UPDATE followups SET completed_at = $1 WHERE id IN (SELECT followup_id FROM {_STAGE}"
    f" WHERE status <> old_status) AND completed_at IS NULL AND status IN ({_COMPLETED})"
    " RETURNING id"
)


def _one_if_in(column: str, statuses: frozenset[FollowupStatus]) -> str:
    listed = ", ".join(f"'{status.value}'" for status in sorted(statuses))
    return f"CASE WHEN {column} IN ({listed}) THEN 1 ELSE 0 END"


# The debts' tallies (enums.tallies) moved by the staged rows: each new followup, and each
# status that starts or stops being a reminder or an answer.
_TALLIES = (
    "UPDATE debts SET followups_count = followups_count + t.added,"
    " nb_reminders = nb_reminders + t.reminded, nb_answered = nb_answered + t.answered"
    " FROM (SELECT debt_id, sum(CASE WHEN followup_id IS NULL THEN 1 ELSE 0 END) AS added,"
    f" sum({_one_if_in('status', REMINDED)} - {_one_if_in('old_status', REMINDED)}) AS reminded,"
    f" sum({_one_if_in('status', ANSWERED)} - {_one_if_in('old_status', ANSWERED)}) AS answered"
    f" FROM {_STAGE} GROUP BY debt_id) AS t"
    " WHERE debts.id = t.debt_id AND (t.added <> 0 OR t.reminded <> 0 OR t.answered <> 0)"
)
# Each staged row counted under its new fields, and an update uncounted under its old ones.
_MOVED = (
    f"SELECT company_id, status, type, coalesce(activity_at, $1) AS activity_at, 1 AS n"
    f" FROM {_STAGE} UNION ALL"
    f" SELECT company_id, old_status, old_type, old_activity_at, -1 FROM {_STAGE}"
    " WHERE followup_id IS NOT NULL"
)


_FOUND = (*LOCKED, "external_id")
_external_id_of = itemgetter(_FOUND.index("external_id"))


async def existing_by_external_id(
    conn: Connection, company_id: int, external_ids: Sequence[str]
) -> dict[str, StoredFollowup]:
    """The company's followups already imported under these external IDs, locked."""
    if not external_ids:
        return {}
    columns = f"{locked_columns('f')}, f.external_id"
    if conn.dialect == "postgresql":
        rows = await conn.fetch(
            f"SELECT {columns} FROM unnest($2::text[]) AS w(external_id) JOIN followups AS f"
            " ON f.company_id = $1 AND f.external_id = w.external_id FOR UPDATE OF f",
            company_id,
            list(external_ids),
        )
    else:
        rows = await conn.fetch(
            f"SELECT {columns} FROM followups AS f WHERE f.company_id = $1"
            f" AND f.external_id IN ({placeholders(2, len(external_ids))})",
            company_id,
            *external_ids,
        )
    found = read_locked(rows)
    return {_external_id_of(row): followup for row, followup in zip(rows, found, strict=True)}


def written(record: FollowupRecord, external_id: str | None) -> tuple[Any, ...]:
    """A followup's values as staged: every field of its record but processed_at."""
    record = stored(replace(record, processed_at=None))
    activity = record.call_date or record.scheduled_at
    return (*_staged_values(record), activity, external_id)


def staged_row(
    company_id: int, debt_id: int, current: StoredFollowup | None, written: tuple[Any, ...]
) -> tuple[Any, ...]:
    """A followup to write: new (`current` None) or the update of `current`."""
    old = (
        (None, None, None, None)
        if current is None
        else (current.id, current.status, current.type, current.activity_at)
    )
    return (company_id, debt_id, *old, *written)


@dataclass(frozen=True, slots=True)
class Written:
    """A batch's followups: those it made, among those it updated the ones whose status
    entered a completed one for the first time (each sends followup.completed), and every
    one it wrote with its debt's key."""

    inserted: list[int]
    first_completed: frozenset[int]
    changed: list[tuple[int, int]]


async def write_batch(conn: Connection, rows: Sequence[tuple[Any, ...]], now: datetime) -> Written:
    """Insert and update the staged rows, and move the counts and the debts' tallies, in a few
    statements however many rows there are: a thousand rows written one by one took a thousand
    round trips and plans."""
    if not rows:
        return Written([], frozenset(), [])
    async with staged(conn, _STAGE, _STAGE_SHAPE, rows):
        # Locks in the API's order: the followups updated (locked when they were looked up),
        # then the counts, then the debts; the rows inserted conflict with no one.
        await counts.add_moved(conn, _MOVED, now)
        await conn.execute(_TALLIES)
        made = [(int(row[0]), int(row[1])) for row in await conn.fetch(_INSERT, now)]
        await conn.execute(_UPDATE, now)
        completed = frozenset(row[0] for row in await conn.fetch(_FIRST_COMPLETED, now))
    updated = [(row[2], row[1]) for row in rows if row[2] is not None]
    return Written([key for key, _ in made], completed, made + updated)
