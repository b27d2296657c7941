"""The statements of the change sequence (models/change.py): a write's changes recorded,
unnumbered, in its own transaction; the numbering of a company's committed changes; its
position in its sequence; the tombstone purge.

A write takes no lock another write waits for: it upserts its followups' rows with no number.
Numbers are given by a numbering transaction, which first locks the company's counter row (so
numberings of a company follow one another), then numbers the changes committed by then (a
change still being written is skipped, locked or unseen, and numbered by a later numbering).
Each numbering's numbers follow the last one's, and a snapshot that sees a numbering sees every
earlier one: a reader never finds a committed change numbered below one it has passed, and a
change rolled back is never numbered."""

# Statements assembled from fixed fragments and $n placeholders, never caller text (as in
# every *repository.py, which pyproject.toml's per-file ignores name).

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from relance.db import Connection
from relance.db.statements import placeholders, rows_changed
from relance.kit.watch import Watch

_COLUMNS = "followup_id, company_id, seq, debt_id, deleted, changed_us"
# Each followup once, keyed by its ID: a changed followup's earlier row loses its number, to be
# numbered again.
_UPSERT = (
    " ON CONFLICT (followup_id) DO UPDATE SET company_id = excluded.company_id, seq = NULL,"
    " debt_id = excluded.debt_id, deleted = excluded.deleted, changed_us = excluded.changed_us"
)
_PG_RECORD = (
    f"INSERT INTO followup_changes ({_COLUMNS})"
    " SELECT x.f, $1, NULL, x.d, $4, $5 FROM unnest($2::bigint[], $3::bigint[]) AS x(f, d)"
    + _UPSERT
)
_SQLITE_RECORD = (
    f"INSERT INTO followup_changes ({_COLUMNS}) VALUES ($1, $2, NULL, $3, $4, $5)" + _UPSERT
)


async def record(
    conn: Connection,
    company_id: int,
    changed: Sequence[tuple[int, int]],
    changed_us: int,
    *,
    deleted: bool = False,
) -> None:
    """Record the changes of these followups (key, debt key), each once, to be numbered once
    committed: upserted, or deleted (a tombstone)."""
    pairs = list(dict(changed).items())
    if not pairs:
        return
    if conn.dialect == "postgresql":
        followups, debts = zip(*pairs, strict=True)
        await conn.execute(
            _PG_RECORD, company_id, list(followups), list(debts), deleted, changed_us
        )
        return
    rows = [(f, company_id, d, deleted, changed_us) for f, d in pairs]
    await conn.executemany(_SQLITE_RECORD, rows)


def recorded_with(write: str, changed_us: str) -> str:
    """On PostgreSQL, a write of one followup (`... RETURNING id, company_id, debt_id`) that
    also records its change, in the same statement; it answers the followup's key. `changed_us`
    is the write's placeholder for the change's moment."""
    return (
        f"WITH w AS ({write}), c AS (INSERT INTO followup_changes ({_COLUMNS})"
        f" SELECT id, company_id, NULL, debt_id, FALSE, {changed_us} FROM w{_UPSERT})"
        " SELECT id FROM w"
    )


async def record_all(conn: Connection, company_id: int, changed_us: int) -> None:
    """Record every followup of the company as changed (a book loaded whole, as the demo's)."""
    rows = await conn.fetch(
        "SELECT id, debt_id FROM followups WHERE company_id = $1 ORDER BY id", company_id
    )
    await record(conn, company_id, [(int(row[0]), int(row[1])) for row in rows], changed_us)


async def rebuild(conn: Connection, changed_us: int) -> None:
    """Number every followup anew, each company's from 1 in the order of their keys (a book
    loaded in bulk, as the benchmarks load theirs)."""
    await conn.execute("DELETE FROM followup_changes")
    await conn.execute("DELETE FROM change_sequences")
    await conn.execute(
        f"INSERT INTO followup_changes ({_COLUMNS}) SELECT id, company_id,"
        " row_number() OVER (PARTITION BY company_id ORDER BY id), debt_id, FALSE, $1"
        " FROM followups",
        changed_us,
    )
    await conn.execute(
        "INSERT INTO change_sequences (company_id, last_seq, horizon_seq)"
        " SELECT company_id, count(*), 0 FROM followups GROUP BY company_id"
    )


async def has_unnumbered(conn: Connection, company_id: int) -> bool:
    found = await conn.fetchval(
        "SELECT 1 FROM followup_changes WHERE company_id = $1 AND seq IS NULL LIMIT 1",
        company_id,
    )
    return found is not None


# Tombstones forgotten at most per numbering: a backlog goes over the next ones.
_PURGED_AT_ONCE = 10_000
# The counter row, made on first use, locked until the numbering commits; its last number.
_LOCK_COUNTER = (
    "INSERT INTO change_sequences AS c (company_id, last_seq, horizon_seq) VALUES ($1, 0, 0)"
    " ON CONFLICT (company_id) DO UPDATE SET last_seq = c.last_seq RETURNING last_seq"
)
# The company's committed changes without a number, oldest first, numbered after $2. On
# PostgreSQL a row that a write in progress has locked is skipped: that write will leave it
# unnumbered again when it commits, for the next numbering.
_PENDING = (
    "SELECT followup_id, changed_us FROM followup_changes WHERE company_id = $1 AND seq IS NULL"
)
# A statement that starts with UPDATE: Python's sqlite3 counts the rows changed only by one.
_NUMBER = (
    "UPDATE followup_changes SET seq = $2 + n.k FROM (SELECT followup_id,"
    " row_number() OVER (ORDER BY changed_us, followup_id) AS k FROM ({pending}) AS p) AS n"
    " WHERE followup_changes.followup_id = n.followup_id"
)
_NUMBERING = {
    "postgresql": _NUMBER.format(pending=f"{_PENDING} LIMIT $3 FOR UPDATE SKIP LOCKED"),
    "sqlite": _NUMBER.format(pending=f"{_PENDING} LIMIT $3"),
}


async def number(conn: Connection, company_id: int, limit: int, forget_before_us: int) -> int:
    """Number up to `limit` of the company's committed changes, after its last number, then
    forget its tombstones older than `forget_before_us`, in the caller's transaction; how
    many were numbered. Writes never lock the counter row: numbering alone does, and waits
    for no row a write holds."""
    last = int(await conn.fetchval(_LOCK_COUNTER, company_id))
    numbered = rows_changed(await conn.execute(_NUMBERING[conn.dialect], company_id, last, limit))
    if numbered:
        await conn.execute(
            "UPDATE change_sequences SET last_seq = $2 WHERE company_id = $1",
            company_id,
            last + numbered,
        )
    await _purge_tombstones(conn, company_id, forget_before_us, _PURGED_AT_ONCE)
    return numbered


@dataclass(frozen=True, slots=True)
class Position:
    """Where a company's sequence stands: its last number, and the horizon below which a
    deletion may have been forgotten."""

    last_seq: int
    horizon_seq: int


async def position(conn: Connection, company_id: int) -> Position:
    row = await conn.fetchrow(
        "SELECT last_seq, horizon_seq FROM change_sequences WHERE company_id = $1", company_id
    )
    return Position(0, 0) if row is None else Position(int(row[0]), int(row[1]))


# What a waiting reader is woken by: a number after the one it has seen, or a change waiting
# for one (which its numbering will give).
UNNUMBERED = 2**62


async def last_numbers(conn: Connection, company_ids: Sequence[int]) -> dict[int, int]:
    """The last number of each of these companies' sequences (those with one); UNNUMBERED for
    a company with committed changes not yet numbered."""
    listed = placeholders(1, len(company_ids))
    rows = await conn.fetch(
        f"SELECT company_id, last_seq FROM change_sequences WHERE company_id IN ({listed})",
        *company_ids,
    )
    found = {int(row[0]): int(row[1]) for row in rows}
    waiting = await conn.fetch(
        "SELECT DISTINCT company_id FROM followup_changes"
        f" WHERE seq IS NULL AND company_id IN ({listed})",
        *company_ids,
    )
    for row in waiting:
        found[int(row[0])] = UNNUMBERED
    return found


def change_watch(db: Connection, interval: float) -> Watch:
    """A watch on the companies' last numbers, read from `db` every `interval` seconds while
    a request waits for one to move."""
    return Watch(lambda company_ids: last_numbers(db, company_ids), interval)


async def _purge_tombstones(conn: Connection, company_id: int, before_us: int, limit: int) -> int:
    """Forget up to `limit` of the company's oldest tombstones older than `before_us`, and move
    its horizon past them: a cursor older than that may have missed a deletion. How many
    went."""
    oldest = (
        "SELECT seq FROM followup_changes WHERE company_id = $1 AND deleted AND changed_us < $2"
        " AND seq IS NOT NULL"
        f" ORDER BY changed_us LIMIT {int(limit)}"
    )
    horizon = await conn.fetchval(f"SELECT max(seq) FROM ({oldest}) AS o", company_id, before_us)
    if horizon is None:
        return 0
    await conn.execute(
        "UPDATE change_sequences SET horizon_seq = $2 WHERE company_id = $1 AND horizon_seq < $2",
        company_id,
        int(horizon),
    )
    return rows_changed(
        await conn.execute(
            "DELETE FROM followup_changes WHERE company_id = $1 AND deleted AND changed_us < $2"
            " AND seq <= $3",
            company_id,
            before_us,
            int(horizon),
        )
    )
