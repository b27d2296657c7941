"""The statements that write followups one at a time (the API, the demo). Every write keeps the
count tables (`followups.counts`) in step, in the same transaction."""

# Statements assembled from fixed fragments and $n placeholders, never caller text (as in
# every *repository.py, which pyproject.toml's per-file ignores name).

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from operator import attrgetter
from typing import Any

from relance.changes import repository as changes
from relance.db import Connection
from relance.events.records import now_us
from relance.followups import counts
from relance.followups.enums import COMPLETED
from relance.followups.records import (
    RECORD_FIELDS,
    TIMESTAMPS,
    FollowupRecord,
    StoredFollowup,
    activity_of,
)
from relance.followups.repository.reads import Params
from relance.kit.readers import moment_of, row_reader
from relance.kit.time import to_utc_seconds

INSERTED = (*RECORD_FIELDS, "activity_at", "completed_at")
_INSERT = (
    f"INSERT INTO followups (company_id, debt_id, {', '.join(INSERTED)},"
    f" created_at, updated_at) VALUES ("
    + ", ".join(f"${n}" for n in range(1, len(INSERTED) + 5))
    + ")"
)
_values_of = attrgetter(*RECORD_FIELDS)


def stored(record: FollowupRecord) -> FollowupRecord:
    """The record as stored: its timestamps in UTC to the second, on either database."""
    copy = replace(record)
    for name in TIMESTAMPS:
        moment = getattr(copy, name)
        if moment is not None:
            setattr(copy, name, to_utc_seconds(moment))
    return copy


def _insert_row(
    company_id: int, debt_id: int, record: FollowupRecord, now: datetime
) -> tuple[Any, ...]:
    completed_at = now if record.status in COMPLETED else None
    return (company_id, debt_id, *_values_of(record), activity_of(record), completed_at, now, now)


_PG_INSERT = changes.recorded_with(
    _INSERT + " RETURNING id, company_id, debt_id", f"${len(INSERTED) + 5}"
)


async def insert_followup(
    conn: Connection, company_id: int, debt_id: int, record: FollowupRecord, now: datetime
) -> int:
    """The new followup's key, its change recorded (changes.record); its count is the
    caller's to move (count_inserted), last."""
    record = stored(record)
    row = _insert_row(company_id, debt_id, record, now)
    if conn.dialect == "postgresql":
        # One statement: a second, for the change alone, cost a round trip per write.
        return int(await conn.fetchval(_PG_INSERT, *row, now_us()))
    followup_id = int(await conn.fetchval(_INSERT + " RETURNING id", *row))
    await changes.record(conn, company_id, [(followup_id, debt_id)], now_us())
    return followup_id


async def count_inserted(conn: Connection, company_id: int, record: FollowupRecord) -> None:
    """Count a followup inserted (insert_followup). The counts are company-wide rows, locked
    from here to the commit: a write moves them last, so that its company's other writes wait
    for as little as may be."""
    await counts.apply_deltas(conn, [(_count_key(company_id, stored(record)), 1)])


async def insert_followups(
    conn: Connection,
    company_id: int,
    debt_id: int,
    records: Sequence[FollowupRecord],
    now: datetime,
) -> None:
    records = [stored(record) for record in records]
    await conn.executemany(_INSERT, [_insert_row(company_id, debt_id, r, now) for r in records])
    await counts.apply_deltas(conn, [(_count_key(company_id, record), 1) for record in records])


async def mark_completed(conn: Connection, followup_id: int, now: datetime) -> bool:
    """Record that the followup's status has entered a completed one; False when it had
    before (followup.completed is sent only the first time)."""
    marked = await conn.fetchval(
        "UPDATE followups SET completed_at = $2 WHERE id = $1 AND completed_at IS NULL"
        " RETURNING id",
        followup_id,
        now,
    )
    return marked is not None


def _count_key(company_id: int, record: FollowupRecord) -> counts.CountKey:
    return counts.count_key(company_id, record.status, record.type, activity_of(record))


# A followup read back to be changed, its timestamps as datetimes on either database.
LOCKED = ("id", "debt_id", "activity_at", *RECORD_FIELDS)
read_locked = row_reader(
    StoredFollowup,
    LOCKED,
    LOCKED,
    through=dict.fromkeys((*TIMESTAMPS, "activity_at"), moment_of),
    by_keyword=True,
)


def locked_columns(table: str = "") -> str:
    prefix = f"{table}." if table else ""
    return ", ".join(prefix + name for name in LOCKED)


async def locked_followup(
    conn: Connection, company_id: int, followup_id: int
) -> StoredFollowup | None:
    """The company's followup, locked until the transaction ends (SQLite's write lock already
    covers the whole transaction)."""
    lock = " FOR UPDATE" if conn.dialect == "postgresql" else ""
    row = await conn.fetchrow(
        f"SELECT {locked_columns()} FROM followups WHERE id = $1 AND company_id = $2{lock}",
        followup_id,
        company_id,
    )
    return None if row is None else read_locked([row])[0]


async def update_followup(
    conn: Connection,
    company_id: int,
    current: StoredFollowup,
    changed: FollowupRecord,
    names: frozenset[str],
    now: datetime,
) -> list[tuple[counts.CountKey, int]]:
    """Write the fields `names` of the `changed` record, processed_at (now) and the activity
    time, and record the change (changes.record); the moves of the counts that follow, for the
    caller to apply last (counts.apply_deltas; see count_inserted)."""
    changed = stored(replace(changed, processed_at=now))
    written = {name: getattr(changed, name) for name in (*names, "processed_at")}
    written["activity_at"] = activity_of(changed)
    written["updated_at"] = now
    params = Params()
    sets = ", ".join(f"{name} = {params.bind(value)}" for name, value in written.items())
    update = (
        f"UPDATE followups SET {sets} WHERE id = {params.bind(current.id)}"
        f" AND company_id = {params.bind(company_id)}"
    )
    if conn.dialect == "postgresql":
        returning = update + " RETURNING id, company_id, debt_id"
        await conn.execute(changes.recorded_with(returning, params.bind(now_us())), *params.values)
    else:
        await conn.execute(update, *params.values)
        await changes.record(conn, company_id, [(current.id, current.debt_id)], now_us())
    old = counts.count_key(company_id, current.status, current.type, current.activity_at)
    new = counts.count_key(company_id, changed.status, changed.type, written["activity_at"])
    return [(old, -1), (new, 1)]
